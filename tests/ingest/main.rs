//! Ingest end to end: real `ticketera` processes (syslog over UDP and TCP,
//! the webhook), the in-process router for the webhook's refusals, the CMDB
//! and the dead letters; each test with its own Postgres database.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod process;

mod abuse;
mod assets;
mod cmdb;
mod concurrency;
mod dead_letters;
mod envelopes;
mod limits;
mod parse;
mod rules;
mod samples;
mod tls;
mod webhook;
