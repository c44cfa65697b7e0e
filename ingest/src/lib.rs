//! Ingest: machine input (syslog, SIEM webhooks) to tickets.
//!
//! `parse` turns bytes into a [`parse::Normalized`] event, whatever the
//! vendor's format; `rules` decides which events are alerts, their severity
//! and correlation fingerprint; `correlate` turns alerts into ticket commands
//! (open, batched correlation, SIEM updates); `listener` receives syslog over
//! UDP and TCP (octet counting or LF framing, optional TLS) into a bounded
//! queue that `pipeline` workers drain, so receiving never waits on the
//! database; `senders` decides who may send syslog and how much; `storm`
//! caps the tickets one rule opens per interval; `http` serves the SIEM
//! webhook, the CMDB and the dead letters; `inspect` shows what ingest makes
//! of a message (`ticketera parse`).

pub mod assets;
pub mod correlate;
pub mod dead_letters;
pub mod http;
pub mod inspect;
pub mod listener;
pub mod metrics;
pub mod parse;
pub mod pipeline;
pub mod rules;
pub mod senders;
pub mod service;
pub mod storm;
pub mod webhook;

pub use service::{Ingest, IngestError, Listeners};

/// How a message reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Webhook,
}

impl Transport {
    pub fn as_str(&self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Webhook => "webhook",
        }
    }
}
