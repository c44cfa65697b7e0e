//! Shared infrastructure of Ticketera SOC: configuration, Postgres, the event
//! store, identity and tokens, telemetry and HTTP plumbing.

pub mod auth;
pub mod cmdb;
pub mod config;
pub mod db;
pub mod event_metadata;
pub mod event_store;
pub mod feed;
pub mod housekeeping;
pub mod http;
pub mod identity;
pub mod local_pg;
pub mod position;
pub mod saved_views;
pub mod services;
pub mod telemetry;
