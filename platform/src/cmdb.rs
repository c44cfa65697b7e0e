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

/// For each address of `$1` (text, `n` its place from 1), the asset whose
/// network is the most specific one holding it; addresses no network holds
/// have no row.
const MOST_SPECIFIC_EACH: &str = "
SELECT q.n, a.id, a.network::text AS network, a.hostname, a.owner, a.business_unit,
       a.criticality, a.created_at, a.updated_at
  FROM unnest($1::text[]) WITH ORDINALITY AS q(ip, n)
 CROSS JOIN LATERAL (
        SELECT * FROM assets
         WHERE network >>= q.ip::inet
         ORDER BY masklen(network) DESC
         LIMIT 1) a";

/// `most_specific` of each of `ips` in one query, in their order.
pub async fn most_specific_each<'e>(
    executor: impl PgExecutor<'e>,
    ips: &[IpAddr],
) -> Result<Vec<Option<AssetRow>>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Found {
        n: i64,
        #[sqlx(flatten)]
        row: AssetRow,
    }
    let texts: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    let found: Vec<Found> = sqlx::query_as(MOST_SPECIFIC_EACH)
        .bind(&texts)
        .fetch_all(executor)
        .await?;
    let mut each = vec![None; ips.len()];
    for f in found {
        if let Some(slot) = usize::try_from(f.n - 1).ok().and_then(|i| each.get_mut(i)) {
            *slot = Some(f.row);
        }
    }
    Ok(each)
}

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
