//! Identical `ticketEvents` subscriptions share one execution.
//!
//! An async-graphql subscription keeps its parsed document, its execution
//! environment and its resolver streams (about 9 KiB); ten thousand
//! dashboards watching the same feed kept ten thousand copies and ran the
//! same selection, and serialized the same answer, once each per event.
//! Subscriptions with the same operation (query text, operation name,
//! variables) by the same principal (name, kind, roles: all a resolver can
//! see of the connection) now join one *group*: one execution whose
//! answers are serialized once and broadcast; a member holds a receiver.
//!
//! Only `ticketEvents` without `afterPosition` is shared: every such
//! subscription starts "from now", so joining a live group is the same as
//! starting alone. A member keeps the feed position of the last answer it
//! delivered; when it falls behind the group's channel it goes on alone
//! from there (`ResumeAfter`), as a lagging subscription resyncs from the
//! feed: no gap, no duplicate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use async_graphql::parser::types::{
    DocumentOperations, OperationDefinition, OperationType, Selection,
};
use async_graphql::{Data, Request as GqlRequest, Response as GqlResponse, Variables};
use async_graphql_value::{ConstValue, Value as GqlValue};
use futures::stream::BoxStream;
use futures::StreamExt;
use platform::position::Position;
use serde_json::Value;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinHandle;

use crate::http::is_request_error;
use crate::subscriptions::{active_gauge, Progress, ResumeAfter};
use crate::viewer::Viewer;
use crate::QueryApi;

/// What a subscription hands its connection, serialized.
#[derive(Debug, Clone)]
pub(crate) enum Out {
    /// A `next` message's payload (the response as JSON).
    Next(Arc<str>),
    /// Nothing executed (parse, validation, limits): an `error` message's
    /// payload (the errors as JSON), and no `complete`.
    Error(Arc<str>),
    /// The stream ended.
    Complete,
}

pub(crate) type OutStream = BoxStream<'static, Out>;

/// A `subscribe` message's operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub query: String,
    pub operation_name: Option<String>,
    /// A JSON object, when given.
    pub variables: Option<Value>,
}

impl Operation {
    fn request(&self, api: &QueryApi) -> GqlRequest {
        let mut req = GqlRequest::new(self.query.clone());
        if let Some(name) = &self.operation_name {
            req = req.operation_name(name.clone());
        }
        if let Some(v) = &self.variables {
            req = req.variables(Variables::from_json(v.clone()));
        }
        // As over HTTP: read-your-writes reads the primary.
        match &api.inner.primary_read {
            Some(read) if crate::http::asks_min_position(&req) => req.data(read.clone()),
            _ => req,
        }
    }

    /// Whether it is one `ticketEvents` field without `afterPosition` (or
    /// with a null one, as the SPA sends it), nor directives, which could
    /// make it something else.
    fn shareable(&self) -> bool {
        let Ok(doc) = async_graphql::parser::parse_query(&self.query) else {
            return false;
        };
        let operation = match (&doc.operations, &self.operation_name) {
            (DocumentOperations::Single(op), _) => op,
            (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name.as_str()) {
                Some(op) => op,
                None => return false,
            },
            (DocumentOperations::Multiple(_), None) => return false,
        };
        let op = &operation.node;
        if op.ty != OperationType::Subscription || !op.directives.is_empty() {
            return false;
        }
        let [item] = op.selection_set.node.items.as_slice() else {
            return false;
        };
        let Selection::Field(field) = &item.node else {
            return false;
        };
        let field = &field.node;
        field.name.node == "ticketEvents"
            && field.directives.is_empty()
            && field
                .arguments
                .iter()
                .all(|(n, v)| n.node != "afterPosition" || self.is_null(op, &v.node))
    }

    /// Whether an argument's value is null: literally, or a variable
    /// without a value nor a default.
    fn is_null(&self, op: &OperationDefinition, value: &GqlValue) -> bool {
        match value {
            GqlValue::Null => true,
            GqlValue::Variable(name) => {
                let given = self
                    .variables
                    .as_ref()
                    .and_then(|v| v.get(name.as_str()))
                    .is_some_and(|v| !v.is_null());
                let default = op
                    .variable_definitions
                    .iter()
                    .find(|d| d.node.name.node == *name)
                    .and_then(|d| d.node.default_value.as_ref())
                    .is_some_and(|d| !matches!(d.node, ConstValue::Null));
                !given && !default
            }
            _ => false,
        }
    }

    fn key(&self, viewer: &Viewer) -> String {
        let principal = format!("{:?}", (&viewer.name, viewer.kind, &viewer.roles));
        serde_json::json!([self.query, self.operation_name, self.variables, principal]).to_string()
    }
}

/// The live groups, by key.
pub(crate) struct Groups {
    map: Mutex<HashMap<Arc<str>, Entry>>,
    next_id: AtomicU64,
    /// Answers a member may fall behind before it goes on alone.
    capacity: usize,
}

struct Entry {
    id: u64,
    group: Weak<Group>,
}

impl Groups {
    pub(crate) fn new(capacity: usize) -> Self {
        Groups {
            map: Mutex::default(),
            next_id: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets group `id` (not a newer one under the same key).
    fn remove(&self, key: &str, id: u64) {
        let mut map = self.lock();
        if map.get(key).is_some_and(|e| e.id == id) {
            map.remove(key);
        }
    }

    /// Groups running now (for tests and metrics).
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[derive(Debug, Clone)]
enum Item {
    Next {
        payload: Arc<str>,
        /// The feed position of the event answered.
        at: Option<Position>,
    },
    Error(Arc<str>),
    Complete,
}

struct Group {
    id: u64,
    key: Arc<str>,
    groups: Arc<Groups>,
    tx: broadcast::Sender<Item>,
    progress: Progress,
    operation: Operation,
    driver: JoinHandle<()>,
}

impl Drop for Group {
    fn drop(&mut self) {
        // The last member left: the execution stops.
        self.groups.remove(&self.key, self.id);
        self.driver.abort();
        metrics::gauge!("ticketera_subscription_groups").decrement(1.0);
    }
}

/// The subscription of `operation` for a connection of `viewer` whose
/// session data is `data`: a member of a group when it can be shared.
pub(crate) fn subscribe(
    api: &QueryApi,
    operation: Operation,
    viewer: &Viewer,
    data: Arc<Data>,
) -> OutStream {
    if !operation.shareable() {
        return alone(api, &operation, data, None);
    }
    let groups = &api.inner.groups;
    let key: Arc<str> = operation.key(viewer).into();
    let mut map = groups.lock();
    if let Some(group) = map.get(&key).and_then(|e| e.group.upgrade()) {
        // A group that has not subscribed to the hub yet has no position
        // to resume from: this one starts alone instead.
        let Some(at) = group.progress.at() else {
            drop(map);
            return alone(api, &operation, data, None);
        };
        let rx = group.tx.subscribe();
        drop(map);
        metrics::counter!("ticketera_subscriptions_joined_total").increment(1);
        return member(api.clone(), group, rx, Some(at), data);
    }
    let progress = Progress::default();
    let stream = api
        .inner
        .streams
        .execute_stream_with_session_data(
            operation.request(api).data(progress.clone()),
            data.clone(),
        )
        .boxed();
    let (tx, rx) = broadcast::channel(groups.capacity);
    let id = groups.next_id.fetch_add(1, Ordering::Relaxed);
    let driver = tokio::spawn(drive(
        stream,
        tx.clone(),
        progress.clone(),
        groups.clone(),
        key.clone(),
        id,
    ));
    let group = Arc::new(Group {
        id,
        key: key.clone(),
        groups: groups.clone(),
        tx,
        progress,
        operation,
        driver,
    });
    map.insert(
        key,
        Entry {
            id,
            group: Arc::downgrade(&group),
        },
    );
    drop(map);
    metrics::gauge!("ticketera_subscription_groups").increment(1.0);
    // The first member starts where the execution starts.
    member(api.clone(), group, rx, None, data)
}

/// A subscription of its own (not shareable, or a member that fell behind).
fn alone(
    api: &QueryApi,
    operation: &Operation,
    data: Arc<Data>,
    resume: Option<Position>,
) -> OutStream {
    let mut req = operation.request(api);
    if let Some(at) = resume {
        req = req.data(ResumeAfter(at));
    }
    api.inner
        .streams
        .execute_stream_with_session_data(req, data)
        .enumerate()
        .map(|(i, resp)| {
            if i == 0 && is_request_error(&resp) {
                Out::Error(errors_json(&resp))
            } else {
                Out::Next(response_json(&resp))
            }
        })
        .chain(futures::stream::once(async { Out::Complete }))
        .boxed()
}

fn response_json(resp: &GqlResponse) -> Arc<str> {
    serde_json::to_string(resp)
        .unwrap_or_else(|_| "null".into())
        .into()
}

fn errors_json(resp: &GqlResponse) -> Arc<str> {
    serde_json::to_string(&resp.errors)
        .unwrap_or_else(|_| "null".into())
        .into()
}

/// Runs a group's execution, broadcasting each answer serialized once.
async fn drive(
    mut stream: BoxStream<'static, GqlResponse>,
    tx: broadcast::Sender<Item>,
    progress: Progress,
    groups: Arc<Groups>,
    key: Arc<str>,
    id: u64,
) {
    let mut first = true;
    while let Some(resp) = stream.next().await {
        if first && is_request_error(&resp) {
            // Forgotten before the news: whoever subscribes from now on
            // starts a group of its own.
            groups.remove(&key, id);
            let _ = tx.send(Item::Error(errors_json(&resp)));
            return;
        }
        first = false;
        let _ = tx.send(Item::Next {
            payload: response_json(&resp),
            at: progress.at(),
        });
    }
    groups.remove(&key, id);
    let _ = tx.send(Item::Complete);
}

enum MemberState {
    Shared {
        group: Arc<Group>,
        rx: broadcast::Receiver<Item>,
        /// The position of the last answer delivered (or where it joined).
        last: Option<Position>,
        _counted: Counted,
    },
    Alone(OutStream),
    Done,
}

struct Member {
    api: QueryApi,
    data: Arc<Data>,
    state: MemberState,
}

/// Counts a shared member in `ticketera_subscriptions_active`.
struct Counted;

impl Counted {
    fn new() -> Self {
        active_gauge().increment(1.0);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        active_gauge().decrement(1.0);
    }
}

fn member(
    api: QueryApi,
    group: Arc<Group>,
    rx: broadcast::Receiver<Item>,
    last: Option<Position>,
    data: Arc<Data>,
) -> OutStream {
    let m = Member {
        api,
        data,
        state: MemberState::Shared {
            group,
            rx,
            last,
            _counted: Counted::new(),
        },
    };
    futures::stream::unfold(m, |mut m| async move {
        let out = Box::pin(m.next()).await?;
        Some((out, m))
    })
    .boxed()
}

impl Member {
    async fn next(&mut self) -> Option<Out> {
        loop {
            match &mut self.state {
                MemberState::Done => return None,
                MemberState::Alone(stream) => {
                    let out = stream.next().await;
                    if out.is_none() {
                        self.state = MemberState::Done;
                    }
                    return out;
                }
                MemberState::Shared {
                    group, rx, last, ..
                } => match rx.recv().await {
                    Ok(Item::Next { payload, at }) => {
                        if at.is_some() {
                            *last = at;
                        }
                        return Some(Out::Next(payload));
                    }
                    Ok(Item::Error(errors)) => {
                        self.state = MemberState::Done;
                        return Some(Out::Error(errors));
                    }
                    Ok(Item::Complete) | Err(RecvError::Closed) => {
                        self.state = MemberState::Done;
                        return Some(Out::Complete);
                    }
                    Err(RecvError::Lagged(n)) => {
                        metrics::counter!("ticketera_subscription_lagged_total").increment(1);
                        tracing::debug!(
                            skipped = n,
                            "shared subscriber lagged; going on alone from the feed"
                        );
                        let resume = last.or_else(|| group.progress.start());
                        let stream = alone(&self.api, &group.operation, self.data.clone(), resume);
                        self.state = MemberState::Alone(stream);
                    }
                },
            }
        }
    }
}
