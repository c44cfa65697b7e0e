//! A page of tickets answered without async-graphql's per-object executor.
//!
//! For every object of a list, async-graphql builds a boxed future per
//! selected field, joins them, and looks each field up by name: a page of 50
//! edges with eight fields each is several hundred futures, the largest part
//! of a list request's CPU after the kernel and the allocator
//! (docs/performance.md). A page whose selection is only plain fields of the
//! ticket (the queue's, the benchmark's) is planned once from the document
//! and each row is written straight into the answer. Anything else (a
//! directive, a field that resolves on its own — `timeline`, `asset`… — or a
//! response key selected twice) goes through the executor as before, so the
//! answer is the same either way; a test compares the two.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{enum_value, resolve_list};
use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ScalarType, ServerResult, Value,
};
use chrono::{DateTime, Utc};

use crate::types::{TicketEdge, TicketView};

/// A plain field of `Ticket`: a value of the row, resolved by nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TicketField {
    Typename,
    Id,
    Number,
    Title,
    Description,
    Status,
    Severity,
    Resolution,
    ResolutionSummary,
    DuplicateOf,
    Source,
    SourceIp,
    DestinationIp,
    RuleName,
    Vendor,
    Fingerprint,
    Assignee,
    AssigneeName,
    Tags,
    CommentCount,
    AlertCount,
    FirstSeen,
    LastSeen,
    CreatedAt,
    UpdatedAt,
    AcknowledgedAt,
    ResolvedAt,
    Version,
    Position,
}

impl TicketField {
    fn named(name: &str) -> Option<TicketField> {
        use TicketField::*;
        Some(match name {
            "__typename" => Typename,
            "id" => Id,
            "number" => Number,
            "title" => Title,
            "description" => Description,
            "status" => Status,
            "severity" => Severity,
            "resolution" => Resolution,
            "resolutionSummary" => ResolutionSummary,
            "duplicateOf" => DuplicateOf,
            "source" => Source,
            "sourceIp" => SourceIp,
            "destinationIp" => DestinationIp,
            "ruleName" => RuleName,
            "vendor" => Vendor,
            "fingerprint" => Fingerprint,
            "assignee" => Assignee,
            "assigneeName" => AssigneeName,
            "tags" => Tags,
            "commentCount" => CommentCount,
            "alertCount" => AlertCount,
            "firstSeen" => FirstSeen,
            "lastSeen" => LastSeen,
            "createdAt" => CreatedAt,
            "updatedAt" => UpdatedAt,
            "acknowledgedAt" => AcknowledgedAt,
            "resolvedAt" => ResolvedAt,
            "version" => Version,
            "position" => Position,
            _ => return None,
        })
    }

    fn value(self, t: &TicketView) -> Value {
        use TicketField::*;
        match self {
            Typename => Value::String(TicketView::type_name().into_owned()),
            Id => Value::String(t.uuid.to_string()),
            Number => Value::String(t.number.clone()),
            Title => Value::String(t.title.clone()),
            Description => Value::String(t.description.clone()),
            Status => enum_value(t.status),
            Severity => enum_value(t.severity),
            Resolution => t.resolution.map_or(Value::Null, enum_value),
            ResolutionSummary => text(&t.resolution_summary),
            DuplicateOf => t
                .duplicate_of_uuid
                .map_or(Value::Null, |u| Value::String(u.to_string())),
            Source => enum_value(t.source),
            SourceIp => text(&t.source_ip),
            DestinationIp => text(&t.destination_ip),
            RuleName => text(&t.rule_name),
            Vendor => text(&t.vendor),
            Fingerprint => text(&t.fingerprint),
            Assignee => text(&t.assignee),
            AssigneeName => text(&t.assignee_name),
            Tags => Value::List(t.tags.iter().cloned().map(Value::String).collect()),
            CommentCount => Value::from(t.comment_count),
            AlertCount => Value::from(t.alert_count),
            FirstSeen => time(&t.first_seen),
            LastSeen => time(&t.last_seen),
            CreatedAt => t.created_at.to_value(),
            UpdatedAt => t.updated_at.to_value(),
            AcknowledgedAt => time(&t.acknowledged_at),
            ResolvedAt => time(&t.resolved_at),
            Version => Value::from(t.version),
            Position => t
                .last_position
                .map_or(Value::Null, |p| Value::String(p.cursor())),
        }
    }
}

fn text(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

fn time(t: &Option<DateTime<Utc>>) -> Value {
    t.as_ref().map_or(Value::Null, ScalarType::to_value)
}

/// The response keys of a selection of plain `Ticket` fields, in order.
type TicketPlan = Vec<(Name, TicketField)>;

#[derive(Debug)]
enum EdgeField {
    Typename,
    Cursor,
    Node(TicketPlan),
}

/// The fields of `selection` on an object of type `type_name`, fragments
/// spread in: `None` when any of them needs the executor (a directive, a
/// fragment on another type, a response key twice: merging those is the
/// executor's).
fn flatten<'a>(
    ctx: &ContextSelectionSet<'a>,
    selection: &'a SelectionSet,
    type_name: &str,
    fields: &mut Vec<&'a Field>,
) -> Option<()> {
    for item in &selection.items {
        match &item.node {
            Selection::Field(f) => {
                if !f.node.directives.is_empty() {
                    return None;
                }
                let key = f.node.response_key();
                if fields.iter().any(|g| g.response_key().node == key.node) {
                    return None;
                }
                fields.push(&f.node);
            }
            Selection::FragmentSpread(spread) => {
                let fragment = ctx
                    .query_env
                    .fragments
                    .get(&spread.node.fragment_name.node)?;
                if !spread.node.directives.is_empty()
                    || !fragment.node.directives.is_empty()
                    || fragment.node.type_condition.node.on.node != type_name
                {
                    return None;
                }
                flatten(ctx, &fragment.node.selection_set.node, type_name, fields)?;
            }
            Selection::InlineFragment(inline) => {
                if !inline.node.directives.is_empty()
                    || inline
                        .node
                        .type_condition
                        .as_ref()
                        .is_some_and(|c| c.node.on.node != type_name)
                {
                    return None;
                }
                flatten(ctx, &inline.node.selection_set.node, type_name, fields)?;
            }
        }
    }
    Some(())
}

fn ticket_plan<'a>(
    ctx: &ContextSelectionSet<'a>,
    selection: &'a SelectionSet,
) -> Option<TicketPlan> {
    let mut fields = Vec::new();
    flatten(ctx, selection, &TicketView::type_name(), &mut fields)?;
    fields
        .into_iter()
        .map(|f| {
            if !f.arguments.is_empty() || !f.selection_set.node.items.is_empty() {
                return None;
            }
            Some((
                f.response_key().node.clone(),
                TicketField::named(&f.name.node)?,
            ))
        })
        .collect()
}

fn edge_plan<'a>(
    ctx: &ContextSelectionSet<'a>,
    selection: &'a SelectionSet,
) -> Option<Vec<(Name, EdgeField)>> {
    let mut fields = Vec::new();
    flatten(ctx, selection, &TicketEdge::type_name(), &mut fields)?;
    fields
        .into_iter()
        .map(|f| {
            if !f.arguments.is_empty() {
                return None;
            }
            let field = match f.name.node.as_str() {
                "__typename" => EdgeField::Typename,
                "cursor" => EdgeField::Cursor,
                "node" => EdgeField::Node(ticket_plan(ctx, &f.selection_set.node)?),
                _ => return None,
            };
            Some((f.response_key().node.clone(), field))
        })
        .collect()
}

fn ticket_value(plan: &TicketPlan, t: &TicketView) -> Value {
    let mut object = IndexMap::with_capacity(plan.len());
    for (key, field) in plan {
        object.insert(key.clone(), field.value(t));
    }
    Value::Object(object)
}

/// The schema sees the list type a page replaces: the same name, the
/// same introspection, the same SDL.
macro_rules! registered_as {
    ($list:ty) => {
        fn type_name() -> Cow<'static, str> {
            <$list as OutputType>::type_name()
        }

        fn qualified_type_name() -> String {
            <$list as OutputType>::qualified_type_name()
        }

        fn create_type_info(registry: &mut Registry) -> String {
            <$list as OutputType>::create_type_info(registry)
        }
    };
}

/// `Ticket.edges`: `[TicketEdge!]!`, as a `Vec<TicketEdge>` would be.
pub struct TicketEdges(pub(crate) Vec<TicketEdge>);

impl OutputType for TicketEdges {
    registered_as!(Vec<TicketEdge>);

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(plan) = edge_plan(ctx, &ctx.item.node) else {
            return resolve_list(ctx, field, &self.0, Some(self.0.len())).await;
        };
        let typename = Value::String(TicketEdge::type_name().into_owned());
        Ok(Value::List(
            self.0
                .iter()
                .map(|edge| {
                    let mut object = IndexMap::with_capacity(plan.len());
                    for (key, field) in &plan {
                        let value = match field {
                            EdgeField::Typename => typename.clone(),
                            EdgeField::Cursor => Value::String(edge.cursor_text()),
                            EdgeField::Node(node) => ticket_value(node, edge.ticket()),
                        };
                        object.insert(key.clone(), value);
                    }
                    Value::Object(object)
                })
                .collect(),
        ))
    }
}

/// `Ticket.nodes`: `[Ticket!]!`, as a `Vec<Ticket>` would be.
pub struct TicketNodes(pub(crate) Vec<Arc<TicketView>>);

impl OutputType for TicketNodes {
    registered_as!(Vec<TicketView>);

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(plan) = ticket_plan(ctx, &ctx.item.node) else {
            let views = self.0.iter().map(Arc::as_ref);
            return resolve_list(ctx, field, views, Some(self.0.len())).await;
        };
        Ok(Value::List(
            self.0.iter().map(|t| ticket_value(&plan, t)).collect(),
        ))
    }
}
