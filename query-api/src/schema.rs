//! The GraphQL schema: queries over read models, history and as-of replay
//! from the event store, subscriptions fed by the hub.

use std::sync::Arc;

use async_graphql::{Context, EmptyMutation, Object, Schema, Subscription, ID};
use chrono::{DateTime, Utc};
use domain::Action;
use futures::Stream;
use platform::event_store::TicketStore;
use platform::identity::Identity;
use platform::position::Position;
use uuid::Uuid;

use crate::consistency::{Consistency, MinPosition};
use crate::error::{QueryError, QueryResult};
use crate::events::EventRecord;
use crate::history_cache::HistoryCache;
use crate::hub::Hub;
use crate::store::{Projection, ReadModels, TicketColumns};
use crate::subscriptions;
use crate::types::{
    asset_search, AssetConnection, AssetView, DashboardStats, MeView, TicketConnection,
    TicketEventView, TicketFilter, TicketOrder, TicketView, UserView,
};
use crate::viewer::{viewer, RoleGuard};

pub type AppSchema = Schema<Query, EmptyMutation, Subscription>;

/// Default and largest page size of `tickets` and `assets`.
pub const DEFAULT_FIRST: i32 = 20;
pub const MAX_FIRST: i32 = 100;
/// Largest page of a ticket's stream (`ticketHistory`, `Ticket.history`)
/// and of `Ticket.timeline`.
pub const MAX_HISTORY_FIRST: i32 = 1000;
/// The page of a ticket's stream without `first`.
pub const DEFAULT_HISTORY_FIRST: i32 = 100;
/// Default and largest page of `Ticket.comments`.
pub const DEFAULT_COMMENTS_FIRST: i32 = 500;
pub const MAX_COMMENTS_FIRST: i32 = 1000;
/// `ticketAsOf` folds the ticket's events: this many cost one unit...
pub const EVENTS_PER_REPLAY_COST: usize = 10;
/// ...up to this much (the charge when the length is unknown).
pub const MAX_REPLAY_COST: usize = 500;

/// Limits every operation is checked against before it runs.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_depth: usize,
    /// The cost budget of one HTTP request (`TICKETERA_GRAPHQL_MAX_COST`).
    pub max_complexity: usize,
    pub max_directives: usize,
    /// Operations in one batched HTTP request.
    pub max_batch: usize,
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 10,
            max_complexity: 3_000,
            max_directives: 4,
            max_batch: 10,
            introspection: false,
        }
    }
}

pub struct SchemaData {
    pub read: ReadModels,
    pub history: HistoryCache,
    pub store: TicketStore,
    pub identity: Identity,
    pub hub: Hub,
    pub consistency: Consistency,
}

/// The two schemas a process serves, over the same data and limits.
pub struct Schemas {
    /// Queries over HTTP: async-graphql's own complexity limit, which
    /// costs nothing per field; its refusal is rewritten into ours, with
    /// the cost and the budget (`crate::cost::explain_refusal`). A schema
    /// extension, even one that only validates, wraps the resolution of
    /// every field of every row (type lookups and a boxed future each):
    /// a third of a 50-row list's time.
    pub queries: AppSchema,
    /// Subscriptions, and measuring an operation's cost: the cost limit as
    /// an extension, with its own error (`crate::cost`). A subscription
    /// resolves one event at a time, so the per-field price is small.
    pub streams: AppSchema,
}

pub fn build(limits: &Limits, data: SchemaData) -> Schemas {
    let builder = |cost_extension: bool| {
        let mut builder = Schema::build(Query, EmptyMutation, Subscription)
            .limit_depth(limits.max_depth)
            .limit_directives(limits.max_directives)
            .data(data.read.clone())
            .data(data.history.clone())
            .data(data.store.clone())
            .data(data.identity.clone())
            .data(data.hub.clone())
            .data(data.consistency.clone());
        builder = if cost_extension {
            builder.extension(crate::cost::CostLimit {
                budget: limits.max_complexity,
            })
        } else {
            builder.limit_complexity(limits.max_complexity)
        };
        if !limits.introspection {
            builder = builder.disable_introspection();
        }
        builder.finish()
    };
    Schemas {
        queries: builder(false),
        streams: builder(true),
    }
}

/// The schema without data or limits: enough to print it or measure an
/// operation's cost (`crate::cost::measure`), not to run one.
pub fn bare() -> AppSchema {
    Schema::build(Query, EmptyMutation, Subscription)
        .extension(crate::cost::CostLimit { budget: usize::MAX })
        .finish()
}

/// The schema in SDL, as `build` serves it (data and limits do not change
/// the types).
pub fn sdl() -> String {
    bare().sdl()
}

fn position_arg(name: &str, value: Option<&str>) -> QueryResult<Option<Position>> {
    value
        .map(|v| {
            v.parse::<Position>()
                .map_err(|_| QueryError::bad_input(format!("{name}: not a position cursor")))
        })
        .transpose()
}

/// A connection's `first`: the default when absent, at most `MAX_FIRST`.
fn page_size(first: Option<i32>) -> QueryResult<i32> {
    let first = first.unwrap_or(DEFAULT_FIRST);
    if !(0..=MAX_FIRST).contains(&first) {
        return Err(QueryError::bad_input(format!(
            "first must be between 0 and {MAX_FIRST}"
        )));
    }
    Ok(first)
}

/// Waits until `projection` reached the larger of the argument and the
/// request's `x-min-position`.
async fn wait_for(
    ctx: &Context<'_>,
    projection: Projection,
    min_position: Option<&str>,
) -> QueryResult<()> {
    let arg = position_arg("minPosition", min_position)?;
    let header = ctx.data_opt::<MinPosition>().map(|m| m.0);
    let min = arg.max(header);
    let consistency = ctx
        .data::<Consistency>()
        .map_err(|_| QueryError::Internal("no consistency in context".into()))?;
    consistency.wait(projection, min).await
}

fn data<'a, T: Send + Sync + 'static>(ctx: &'a Context<'_>) -> QueryResult<&'a T> {
    ctx.data::<T>().map_err(|_| {
        QueryError::Internal(format!(
            "{} missing from the schema",
            std::any::type_name::<T>()
        ))
    })
}

/// A ticket reference: its UUID or its number (`SOC-<n>`).
async fn resolve_ticket(ctx: &Context<'_>, id: &ID) -> QueryResult<Option<Uuid>> {
    let store = data::<TicketStore>(ctx)?;
    Ok(store.resolve_reference(id.as_str()).await?)
}

/// The rows a page of a ticket's stream may read: its `first`, or the
/// default page.
pub(crate) fn history_rows(first: Option<i32>) -> usize {
    first.map_or(DEFAULT_HISTORY_FIRST, |f| f.clamp(0, MAX_HISTORY_FIRST)) as usize
}

/// A stream page's `first` (1 to `MAX_HISTORY_FIRST`, default
/// `DEFAULT_HISTORY_FIRST`) and `after` (an event's `cursor`).
pub(crate) fn history_args(
    first: Option<i32>,
    after: Option<&str>,
) -> QueryResult<(i32, Option<u64>)> {
    let first = first.unwrap_or(DEFAULT_HISTORY_FIRST);
    if !(1..=MAX_HISTORY_FIRST).contains(&first) {
        return Err(QueryError::bad_input(format!(
            "first must be between 1 and {MAX_HISTORY_FIRST}"
        )));
    }
    let after = after
        .map(|c| {
            c.trim().parse::<u64>().map_err(|_| {
                QueryError::bad_input("after: not an event cursor of the ticket's history")
            })
        })
        .transpose()?;
    Ok((first, after))
}

/// A page of the ticket's stream from the event store; each event's
/// `changes` when the query asks for them.
pub(crate) async fn stream_page(
    ctx: &Context<'_>,
    uuid: Uuid,
    first: i32,
    after: Option<u64>,
    reverse: bool,
) -> QueryResult<Vec<TicketEventView>> {
    let store = data::<TicketStore>(ctx)?;
    let page: Vec<Arc<EventRecord>> = store
        .history_page(uuid, after, i64::from(first), reverse)
        .await?
        .into_iter()
        .map(|e| EventRecord::from_stored(e).map(Arc::new))
        .collect::<QueryResult<_>>()?;
    // The changes need every event up to the page's newest; a page that
    // does not ask for them reads only itself.
    let Some(newest) = page.iter().map(|e| e.sequence).max() else {
        return Ok(vec![]);
    };
    if !ctx.look_ahead().field("changes").exists() {
        return Ok(page
            .into_iter()
            .map(|r| TicketEventView::new(r, None))
            .collect());
    }
    let prefix = data::<HistoryCache>(ctx)?
        .through(store, uuid, Some(newest))
        .await?;
    let through = prefix.len().min(newest as usize);
    Ok(crate::types::with_changes(&prefix[..through], page))
}

/// What folding a ticket's stream for `ticketAsOf` costs: a unit per
/// `EVENTS_PER_REPLAY_COST` events up to `version`, at most
/// `MAX_REPLAY_COST` (also the charge without `version`: the length is
/// unknown before reading).
pub(crate) fn replay_cost(version: Option<i32>) -> usize {
    version.map_or(MAX_REPLAY_COST, |v| {
        (v.max(0) as usize)
            .div_ceil(EVENTS_PER_REPLAY_COST)
            .min(MAX_REPLAY_COST)
    })
}

pub struct Query;

#[Object]
impl Query {
    /// One ticket by id or number, from the read model. `minPosition`: wait
    /// (at most a few seconds) until the read model has applied that position.
    #[graphql(guard = "RoleGuard(Action::Read)", complexity = "5 + child_complexity")]
    async fn ticket(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        number: Option<String>,
        min_position: Option<String>,
    ) -> async_graphql::Result<Option<TicketView>> {
        wait_for(ctx, Projection::Tickets, min_position.as_deref()).await?;
        let read = data::<ReadModels>(ctx)?;
        let row = match (id, number) {
            (Some(id), None) => match Uuid::parse_str(id.as_str()) {
                Ok(uuid) => read.ticket_by_id(uuid).await?,
                Err(_) => read.ticket_by_number(id.as_str()).await?,
            },
            (None, Some(number)) => read.ticket_by_number(&number).await?,
            _ => {
                return Err(QueryError::bad_input("give exactly one of id and number").into());
            }
        };
        Ok(row.as_ref().map(TicketView::from_row).transpose()?)
    }

    /// Tickets, a page at a time (Relay connection; `after` is an opaque
    /// cursor of this ordering). Default order: newest first.
    #[graphql(
        guard = "RoleGuard(Action::Read)",
        complexity = "10 + (first.unwrap_or(DEFAULT_FIRST).clamp(0, MAX_FIRST) as usize) * child_complexity"
    )]
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<TicketFilter>,
        order_by: Option<TicketOrder>,
        min_position: Option<String>,
    ) -> async_graphql::Result<TicketConnection> {
        let first = page_size(first)?;
        let filter = filter.unwrap_or_default().spec()?;
        let order = order_by.unwrap_or_default().spec();
        let keyset = after
            .as_deref()
            .map(|c| order.parse_cursor(c))
            .transpose()?;
        wait_for(ctx, Projection::Tickets, min_position.as_deref()).await?;
        // Only the columns the selected fields read (fragments included;
        // a field under `@skip` still counts: fetching too much is safe).
        let look = ctx.look_ahead();
        let (edge_nodes, nodes) = (look.field("edges").field("node"), look.field("nodes"));
        let columns = TicketColumns::read_by(|field| {
            edge_nodes.field(field).exists() || nodes.field(field).exists()
        });
        let read = data::<ReadModels>(ctx)?;
        let mut rows = read
            .ticket_page(&filter, order, keyset, i64::from(first), columns)
            .await?;
        let has_next = rows.len() > first as usize;
        rows.truncate(first as usize);
        Ok(TicketConnection::new(
            rows,
            has_next,
            keyset.is_some(),
            order,
            filter,
        )?)
    }

    /// The position the tickets read model has applied, as the queries of
    /// this moment read it: what is answered after this call reflects at
    /// least it. A client that reads this first, then its lists, then
    /// subscribes with `ticketEvents(afterPosition:)` set to it, hears every
    /// event its lists do not show, however late its subscription starts
    /// (an event may come twice, never zero times).
    #[graphql(guard = "RoleGuard(Action::Read)")]
    async fn live_position(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let read = data::<ReadModels>(ctx)?;
        Ok(read.checkpoint(Projection::Tickets).await?.cursor())
    }

    /// The events of a ticket from the event store, oldest first (`reverse`:
    /// newest first), a page of at most `first` (1 to 1000; without it, the
    /// first 100) events: pass the `cursor` of the page's last event as
    /// `after` for the next one. Each event's `changes` are folded with the
    /// domain's `apply`.
    #[graphql(
        guard = "RoleGuard(Action::Read)",
        complexity = "10 + history_rows(first) * child_complexity"
    )]
    async fn ticket_history(
        &self,
        ctx: &Context<'_>,
        id: ID,
        first: Option<i32>,
        after: Option<String>,
        reverse: Option<bool>,
    ) -> async_graphql::Result<Vec<TicketEventView>> {
        let (first, after) = history_args(first, after.as_deref())?;
        let Some(uuid) = resolve_ticket(ctx, &id).await? else {
            return Ok(vec![]);
        };
        Ok(stream_page(ctx, uuid, first, after, reverse.unwrap_or(false)).await?)
    }

    /// The ticket as it was after `version` events, or after its last event
    /// recorded at or before `at` (both: whichever is earlier); neither: now.
    /// Folded from its own events with the domain's `apply`.
    #[graphql(
        guard = "RoleGuard(Action::Read)",
        complexity = "10 + replay_cost(version) + child_complexity"
    )]
    async fn ticket_as_of(
        &self,
        ctx: &Context<'_>,
        id: ID,
        at: Option<DateTime<Utc>>,
        version: Option<i32>,
    ) -> async_graphql::Result<Option<TicketView>> {
        if version.is_some_and(|v| v < 0) {
            return Err(QueryError::bad_input("version must not be negative").into());
        }
        let Some(uuid) = resolve_ticket(ctx, &id).await? else {
            return Ok(None);
        };
        let version = version.map(|v| v as u64);
        let events = data::<HistoryCache>(ctx)?
            .through(data::<TicketStore>(ctx)?, uuid, version)
            .await?;
        // Sequences are 1, 2, 3… and recorded in that order: both bounds cut
        // a prefix.
        let mut len = version.map_or(events.len(), |v| events.len().min(v as usize));
        if let Some(t) = at {
            len = events[..len]
                .iter()
                .take_while(|e| e.recorded_at <= t)
                .count();
        }
        Ok(TicketView::folded(events, len))
    }

    /// CMDB assets by network, a page at a time (Relay connection; `after`
    /// is an opaque cursor). `search`: a case-insensitive part of the
    /// network, hostname, owner or business unit.
    #[graphql(
        guard = "RoleGuard(Action::Read)",
        complexity = "10 + (first.unwrap_or(DEFAULT_FIRST).clamp(0, MAX_FIRST) as usize) * child_complexity"
    )]
    async fn assets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
    ) -> async_graphql::Result<AssetConnection> {
        let first = page_size(first)?;
        let after = after
            .as_deref()
            .map(crate::store::parse_asset_cursor)
            .transpose()?;
        let search = asset_search(search.as_deref())?;
        let read = data::<ReadModels>(ctx)?;
        let mut rows = read
            .asset_page(after.as_deref(), search.as_deref(), i64::from(first))
            .await?;
        let has_next = rows.len() > first as usize;
        rows.truncate(first as usize);
        Ok(AssetConnection {
            items: rows
                .into_iter()
                .map(AssetView::from_row)
                .collect::<QueryResult<_>>()?,
            has_next,
            has_previous: after.is_some(),
            search,
        })
    }

    /// The CMDB asset of an address: the most specific network holding it
    /// (the entry a ticket for that destination would be enriched with);
    /// null when none does.
    #[graphql(guard = "RoleGuard(Action::Read)", complexity = "5 + child_complexity")]
    async fn asset_for(
        &self,
        ctx: &Context<'_>,
        ip: String,
    ) -> async_graphql::Result<Option<AssetView>> {
        let ip: std::net::IpAddr = ip.trim().parse().map_err(|_| {
            QueryError::bad_input(format!("ip: '{}' is not an IP address", ip.trim()))
        })?;
        let read = data::<ReadModels>(ctx)?;
        Ok(read
            .asset_for(ip)
            .await?
            .map(AssetView::from_row)
            .transpose()?)
    }

    /// Dashboard figures.
    #[graphql(guard = "RoleGuard(Action::Read)", complexity = "5 + child_complexity")]
    async fn stats(
        &self,
        ctx: &Context<'_>,
        min_position: Option<String>,
    ) -> async_graphql::Result<DashboardStats> {
        wait_for(ctx, Projection::Stats, min_position.as_deref()).await?;
        Ok(DashboardStats::load(data::<ReadModels>(ctx)?).await?)
    }

    /// Enabled users, for assignee pickers. `assignable`: only those who may
    /// be assigned tickets.
    #[graphql(
        guard = "RoleGuard(Action::Read)",
        complexity = "5 + child_complexity * 10"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] assignable: bool,
    ) -> async_graphql::Result<Vec<UserView>> {
        let identity = data::<Identity>(ctx)?;
        Ok(identity
            .list_users()
            .await
            .map_err(QueryError::from)?
            .into_iter()
            .filter(|u| u.enabled)
            .filter(|u| !assignable || domain::permits(u.role, Action::WorkTicket))
            .map(|u| UserView {
                username: u.username,
                display_name: u.display_name,
                role: u.role.into(),
            })
            .collect())
    }

    /// The caller.
    #[graphql(guard = "RoleGuard(Action::Read)")]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<MeView> {
        let v = viewer(ctx)?;
        let display_name = match v.kind {
            domain::ActorKind::User => data::<Identity>(ctx)?
                .get_user(&v.name)
                .await
                .map_err(QueryError::from)?
                .map(|u| u.display_name),
            _ => None,
        };
        Ok(MeView {
            name: v.name.clone(),
            kind: v.kind.into(),
            roles: v.roles.iter().map(|r| (*r).into()).collect(),
            display_name,
            token_expires_at: v.expires_at,
        })
    }
}

pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Every ticket event, in the global order. With `afterPosition` (a
    /// `position` seen before), first the events after it, then live: no gap,
    /// no duplicate, across reconnects. `filter` matches the ticket as the
    /// read model has it when the event is delivered.
    #[graphql(guard = "RoleGuard(Action::Read)")]
    async fn ticket_events(
        &self,
        ctx: &Context<'_>,
        after_position: Option<String>,
        filter: Option<TicketFilter>,
    ) -> async_graphql::Result<impl Stream<Item = TicketEventView>> {
        // A shared subscriber that fell behind goes on alone from where it was.
        let after = position_arg("afterPosition", after_position.as_deref())?
            .or_else(|| ctx.data_opt::<subscriptions::ResumeAfter>().map(|r| r.0));
        let filter = filter.map(|f| f.spec()).transpose()?;
        let hub = data::<Hub>(ctx)?.clone();
        let progress = ctx.data_opt::<subscriptions::Progress>().cloned();
        Ok(subscriptions::ticket_events_with(hub, after, filter, progress).await?)
    }

    /// The ticket each time its read model changes. With `afterVersion`, the
    /// current state first when it is newer than that.
    #[graphql(guard = "RoleGuard(Action::Read)")]
    async fn ticket_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
        after_version: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = TicketView>> {
        let Some(uuid) = resolve_ticket(ctx, &id).await? else {
            return Err(QueryError::bad_input("no such ticket").into());
        };
        let hub = data::<Hub>(ctx)?.clone();
        Ok(subscriptions::ticket_updated(hub, uuid, after_version).await?)
    }
}
