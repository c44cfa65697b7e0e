//! The exact field-level change an event made: the ticket folded with
//! `apply` up to the event before and after it, its visible fields compared.
//!
//! Fields are named and valued as `ticketera replay` prints a ticket (the
//! serde form of [`Ticket`]), so an auditor can check one against the other.
//! Two fields are left out because every event moves them: `version` (the
//! event's sequence says it) and `updated_at` (its time says it). The two
//! append-only lists, `comments` and `alert_samples`, would repeat the whole
//! list twice for one added entry: for them `before` holds the entries that
//! left and `after` those that came.

use serde::Serialize;
use serde_json::Value;

use crate::event::TicketEvent;
use crate::ticket::{Comment, Ticket};

/// The visible fields of a ticket, in the order a ticket page shows them.
pub const FIELDS: &[&str] = &[
    "id",
    "number",
    "title",
    "description",
    "status",
    "severity",
    "resolution",
    "resolution_summary",
    "duplicate_of",
    "source",
    "source_ip",
    "destination_ip",
    "origin",
    "source_asset",
    "destination_asset",
    "assignee",
    "tags",
    "observables",
    "comments",
    "alert_count",
    "first_seen",
    "last_seen",
    "alert_samples",
    "created_at",
    "acknowledged_at",
    "resolved_at",
];

/// Fields every event moves: not reported (see the module's comment).
pub const EVERY_EVENT_MOVES: &[&str] = &["version", "updated_at"];

/// Lists that only grow at one end: only the entries that left and came.
const APPEND_ONLY: &[&str] = &["comments", "alert_samples"];

/// One field an event changed, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub before: Value,
    pub after: Value,
}

/// The visible fields of `ticket` as `ticketera replay` prints them, but
/// for `comments` (see [`Ticket::apply_and_diff`]): serializing a long
/// ticket's thousands of comments twice per event was most of the time of a
/// history page.
fn fields_but_comments(ticket: &mut Ticket) -> serde_json::Map<String, Value> {
    let comments = std::mem::take(&mut ticket.comments);
    let value = serde_json::to_value(&*ticket);
    ticket.comments = comments;
    match value {
        Ok(Value::Object(mut map)) => {
            map.remove("comments");
            map
        }
        // A struct of plain data always serializes to an object.
        _ => serde_json::Map::new(),
    }
}

/// The entries of `a` not in `b`, in `a`'s order.
fn missing_from(a: &Value, b: &Value) -> Value {
    let empty = Vec::new();
    let a = a.as_array().unwrap_or(&empty);
    let b = b.as_array().unwrap_or(&empty);
    Value::Array(a.iter().filter(|x| !b.contains(x)).cloned().collect())
}

impl Ticket {
    /// The ticket after `event`, and what `event` changed in it.
    pub fn applied(&self, event: &TicketEvent) -> (Ticket, Vec<FieldChange>) {
        let mut next = self.clone();
        let changes = next.apply_and_diff(event);
        (next, changes)
    }

    /// Applies `event` in place and says what it changed, field by field in
    /// `FIELDS` order. Comments only grow (`apply` has no event that edits
    /// or removes one), so those that came are the ones past the old count
    /// and none left: a long ticket's comments are neither cloned nor
    /// serialized for it.
    pub fn apply_and_diff(&mut self, event: &TicketEvent) -> Vec<FieldChange> {
        use cqrs_es::Aggregate;
        let before = fields_but_comments(self);
        let comments_before = self.comments.len();
        self.apply(event.clone());
        let after = fields_but_comments(self);
        let came: Vec<&Comment> = self.comments.since(comments_before).collect();
        FIELDS
            .iter()
            .filter_map(|field| {
                if *field == "comments" {
                    if came.is_empty() {
                        return None;
                    }
                    return Some(FieldChange {
                        field,
                        before: Value::Array(vec![]),
                        after: serde_json::to_value(&came).unwrap_or(Value::Null),
                    });
                }
                let old = before.get(*field).unwrap_or(&Value::Null);
                let new = after.get(*field).unwrap_or(&Value::Null);
                if old == new {
                    return None;
                }
                let (old, new) = if APPEND_ONLY.contains(field) {
                    (missing_from(old, new), missing_from(new, old))
                } else {
                    (old.clone(), new.clone())
                };
                Some(FieldChange {
                    field,
                    before: old,
                    after: new,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_serialized_field_is_either_reported_or_named_as_moving() {
        let mut all: Vec<&str> = FIELDS.iter().chain(EVERY_EVENT_MOVES).copied().collect();
        all.sort_unstable();
        let mut keys: Vec<String> = match serde_json::to_value(Ticket::default()) {
            Ok(Value::Object(map)) => map.keys().cloned().collect(),
            other => panic!("a ticket serializes to an object, not {other:?}"),
        };
        keys.sort_unstable();
        assert_eq!(
            all, keys,
            "a new Ticket field must be listed in FIELDS or EVERY_EVENT_MOVES"
        );
    }
}
