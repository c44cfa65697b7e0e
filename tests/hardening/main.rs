//! Issue 10, the hardening: each hole reproduced against the real router
//! on a real socket (each test with its own Postgres database), then closed.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

#[allow(dead_code)]
#[path = "../ingest/process.rs"]
mod process;

mod faults;
mod hashing;
mod housekeeping;
mod log_lines;
mod refresh;
mod restore;
mod throttle;
