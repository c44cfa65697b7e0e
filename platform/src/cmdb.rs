//! The CMDB's `assets` table as the services read it: one row type, and the
//! one lookup rule (the most specific network holding an address) shared by
//! ticket enrichment, the admin REST routes and the GraphQL query.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use uuid::Uuid;

/// A row of `assets` (the network as text: no extra sqlx features).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AssetRow {
    pub id: Uuid,
    pub network: String,
    pub hostname: Option<String>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub criticality: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns `AssetRow` reads, for `SELECT` and `RETURNING` lists.
pub const ASSET_COLUMNS: &str =
    "id, network::text AS network, hostname, owner, business_unit, criticality, created_at, updated_at";

/// The asset whose network is the most specific one holding `ip`.
pub async fn most_specific<'e>(
    executor: impl PgExecutor<'e>,
    ip: IpAddr,
) -> Result<Option<AssetRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, network::text AS network, hostname, owner, business_unit, criticality,
                created_at, updated_at
           FROM assets
          WHERE network >>= $1::inet
          ORDER BY masklen(network) DESC
          LIMIT 1",
    )
    .bind(ip.to_string())
    .fetch_optional(executor)
    .await
}
