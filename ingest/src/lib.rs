//! Ingest: machine input (syslog, SIEM webhooks) to normalized alerts.
//!
//! `parse` turns bytes into a [`parse::Normalized`] event, whatever the
//! vendor's format; `rules` decides which events are alerts, their severity
//! and correlation fingerprint.

pub mod parse;
pub mod rules;
