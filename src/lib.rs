//! Ticketera SOC: composes the services into one binary.

pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod openapi;
pub mod parse_cmd;
