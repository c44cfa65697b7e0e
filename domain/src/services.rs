//! What the aggregate needs from outside, as a port. Adapters live in `platform`.

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::values::Asset;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct LookupError(pub String);

/// A user as the ticket records it when assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub username: String,
    pub display_name: String,
}

#[async_trait]
pub trait TicketServices: Send + Sync {
    /// The instant recorded in the events a command produces.
    fn now(&self) -> DateTime<Utc>;
    /// The next `SOC-<n>` number; never reused.
    async fn next_ticket_number(&self) -> Result<u64, LookupError>;
    /// An enabled user who may be given tickets, or `None`.
    async fn assignee(&self, username: &str) -> Result<Option<Assignee>, LookupError>;
    /// The CMDB asset covering `ip` (the most specific network), or `None`.
    async fn asset(&self, ip: IpAddr) -> Result<Option<Asset>, LookupError>;
    /// The assets of a ticket's source and destination, each as `asset`
    /// finds it: one call, so an adapter can answer both in one lookup.
    async fn assets(
        &self,
        source: Option<IpAddr>,
        destination: Option<IpAddr>,
    ) -> Result<(Option<Asset>, Option<Asset>), LookupError> {
        let source = match source {
            Some(ip) => self.asset(ip).await?,
            None => None,
        };
        let destination = match destination {
            Some(ip) => self.asset(ip).await?,
            None => None,
        };
        Ok((source, destination))
    }
}
