//! Black-box tests of the HTTP surface: the real router on a real socket,
//! each test with its own Postgres database.

mod helpers;

mod auth;
mod bad_input;
mod clients;
mod event_store;
mod graphql_limits;
mod history_export;
mod openapi;
mod replica;
mod roles;
mod session;
mod spa;
mod tickets;
mod views;
