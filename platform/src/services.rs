//! Postgres adapter of the domain's `TicketServices` port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::net::IpAddr;

use domain::services::Assignee;
use domain::{Asset, LookupError, TicketServices};
use sqlx::PgPool;

/// Ticket numbers taken from the sequence a block per query: one
/// `nextval` round trip per `TICKETERA_TICKET_NUMBER_BLOCK` opens instead of
/// one per open. What a process took and did not hand out before it stopped
/// is never handed out: numbers may skip (docs/architecture.md, "Ticket
/// numbers").
const NEXT_NUMBERS: &str = "SELECT nextval('ticket_number_seq') FROM generate_series(1, $1)";

pub struct PgTicketServices {
    pool: PgPool,
    /// Numbers taken and not yet handed out, lowest first. A Tokio mutex:
    /// an open that finds it empty refills it while the others wait for
    /// that one query instead of each taking a block of their own.
    numbers: tokio::sync::Mutex<VecDeque<u64>>,
    block: u32,
}

impl PgTicketServices {
    /// One number per query (no gaps but those of failed opens).
    pub fn new(pool: PgPool) -> Self {
        Self::with_number_block(pool, 1)
    }

    /// Takes `block` numbers per query (at least one).
    pub fn with_number_block(pool: PgPool, block: u32) -> Self {
        PgTicketServices {
            pool,
            numbers: tokio::sync::Mutex::new(VecDeque::new()),
            block: block.max(1),
        }
    }
}

#[async_trait]
impl TicketServices for PgTicketServices {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn next_ticket_number(&self) -> Result<u64, LookupError> {
        let mut numbers = self.numbers.lock().await;
        if numbers.is_empty() {
            let mut taken: Vec<i64> = sqlx::query_scalar(NEXT_NUMBERS)
                .bind(i64::from(self.block))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| LookupError(format!("ticket number: {e}")))?;
            // Other processes draw from the sequence too: ours need not be
            // contiguous, but are handed out in order.
            taken.sort_unstable();
            numbers.extend(taken.into_iter().map(|n| n as u64));
        }
        numbers
            .pop_front()
            .ok_or_else(|| LookupError("ticket number: the sequence answered no number".into()))
    }

    async fn assignee(&self, username: &str) -> Result<Option<Assignee>, LookupError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT username, display_name FROM users
              WHERE lower(username) = lower($1) AND enabled AND role IN ('admin', 'lead', 'analyst')",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| LookupError(format!("user directory: {e}")))?;
        Ok(row.map(|(username, display_name)| Assignee {
            username,
            display_name,
        }))
    }

    async fn asset(&self, ip: IpAddr) -> Result<Option<Asset>, LookupError> {
        let row = crate::cmdb::most_specific(&self.pool, ip)
            .await
            .map_err(|e| LookupError(format!("CMDB: {e}")))?;
        row.map(to_asset).transpose()
    }

    /// Both addresses in one query (none when there is no address).
    async fn assets(
        &self,
        source: Option<IpAddr>,
        destination: Option<IpAddr>,
    ) -> Result<(Option<Asset>, Option<Asset>), LookupError> {
        let ips: Vec<IpAddr> = source.into_iter().chain(destination).collect();
        if ips.is_empty() {
            return Ok((None, None));
        }
        let mut found = crate::cmdb::most_specific_each(&self.pool, &ips)
            .await
            .map_err(|e| LookupError(format!("CMDB: {e}")))?
            .into_iter();
        let mut next = |ip: Option<IpAddr>| match ip {
            Some(_) => found.next().flatten().map(to_asset).transpose(),
            None => Ok(None),
        };
        Ok((next(source)?, next(destination)?))
    }
}

fn to_asset(r: crate::cmdb::AssetRow) -> Result<Asset, LookupError> {
    Ok(Asset {
        criticality: r
            .criticality
            .parse()
            .map_err(|e| LookupError(format!("CMDB: {e}")))?,
        network: r.network,
        hostname: r.hostname,
        owner: r.owner,
        business_unit: r.business_unit,
    })
}
