//! Postgres adapter of the domain's `TicketServices` port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::net::IpAddr;

use domain::services::Assignee;
use domain::{Asset, LookupError, TicketServices};
use sqlx::PgPool;

pub struct PgTicketServices {
    pool: PgPool,
}

impl PgTicketServices {
    pub fn new(pool: PgPool) -> Self {
        PgTicketServices { pool }
    }
}

#[async_trait]
impl TicketServices for PgTicketServices {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn next_ticket_number(&self) -> Result<u64, LookupError> {
        let n: i64 = sqlx::query_scalar("SELECT nextval('ticket_number_seq')")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| LookupError(format!("ticket number: {e}")))?;
        Ok(n as u64)
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
        row.map(|r| {
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
        })
        .transpose()
    }
}
