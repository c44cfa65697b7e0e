//! The query API end to end: a real server on a socket, its own database,
//! commands through the event store, read models from the real projector.

mod harness;

mod as_of;
mod assets;
mod comments;
mod dashboard;
mod history;
mod limits_auth;
mod page_rows;
mod pivots;
mod queries;
mod revocation;
mod roles;
mod subscriptions;
mod ticket_indexes;
mod ws_protocol;
