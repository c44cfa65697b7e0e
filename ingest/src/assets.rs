//! CMDB admin routes (`Action::ManageAssets`): create, list, get, update,
//! delete, and CSV import (all or nothing, upsert by network). Lookups by
//! most specific network are `platform::services::PgTicketServices::asset`.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{Action, Criticality};
use platform::http::{ApiError, Problem};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::Ingest;
use platform::http::body::{json_body, media_type, read_limited};
use platform::http::Principal;

const TEXT_FIELD_MAX: usize = 255;
const BODY_LIMIT: usize = 64 * 1024;
/// A CSV import of at most this many bytes (about 100,000 rows).
const CSV_LIMIT: usize = 16 * 1024 * 1024;

/// Rows upserted by one statement of a CSV import (arrays bound as
/// parameters, unnested by PostgreSQL).
const IMPORT_BATCH_ROWS: usize = 5_000;

/// The CMDB row, as the REST routes answer it.
pub use platform::cmdb::AssetRow as AssetView;

const COLUMNS: &str = platform::cmdb::ASSET_COLUMNS;

/// An IP (a /32 or /128) or a CIDR without host bits, normalized.
pub fn parse_network(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("network is required (an IP or a CIDR)".into());
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        let prefix = if ip.is_ipv4() { 32 } else { 128 };
        return Ok(format!("{ip}/{prefix}"));
    }
    let net: ipnetwork::IpNetwork = t
        .parse()
        .map_err(|_| format!("'{t}' is not an IP address or a CIDR network"))?;
    if net.network() != net.ip() {
        return Err(format!(
            "'{t}' has host bits set; the network is {}/{}",
            net.network(),
            net.prefix()
        ));
    }
    Ok(format!("{}/{}", net.network(), net.prefix()))
}

fn text_field(name: &str, value: Option<&str>) -> Result<Option<String>, String> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > TEXT_FIELD_MAX {
        return Err(format!("{name} is longer than {TEXT_FIELD_MAX} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{name} holds control characters"));
    }
    Ok(Some(v.to_string()))
}

fn criticality(value: Option<&str>) -> Result<Criticality, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Criticality::Medium),
        Some(v) => v
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| format!("criticality '{v}' is not LOW, MEDIUM, HIGH or CRITICAL")),
    }
}

/// A validated asset row.
#[derive(Debug, Clone)]
struct AssetInput {
    network: String,
    hostname: Option<String>,
    owner: Option<String>,
    business_unit: Option<String>,
    criticality: Criticality,
}

/// An asset to create, or the fields to change (an empty string clears a
/// text field).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetRequest {
    /// An IP address or CIDR network.
    pub network: Option<String>,
    pub hostname: Option<String>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub criticality: Option<String>,
}

fn invalid(field: &str) -> impl Fn(String) -> ApiError + '_ {
    move |m| ApiError::validation(field, m)
}

fn db_error(e: sqlx::Error) -> ApiError {
    if let sqlx::Error::Database(db) = &e {
        if db.constraint() == Some("assets_network_key") {
            return ApiError::conflict("asset_exists", "an asset with this network exists");
        }
    }
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            ApiError::unavailable(e)
        }
        e => ApiError::internal(e),
    }
}

#[utoipa::path(post, path = "/api/v1/admin/assets", tag = "cmdb", request_body = AssetRequest,
    responses((status = 201, body = AssetView), (status = 403), (status = 409, description = "an asset with this network exists"), (status = 415), (status = 422)),
    security(("bearer" = [])))]
pub async fn create(
    State(ingest): State<Ingest>,
    caller: Principal,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageAssets)?;
    let (parts, body) = req.into_parts();
    let r: AssetRequest = json_body(&parts.headers, body, BODY_LIMIT).await?;
    let input = AssetInput {
        network: parse_network(r.network.as_deref().unwrap_or("")).map_err(invalid("network"))?,
        hostname: text_field("hostname", r.hostname.as_deref()).map_err(invalid("hostname"))?,
        owner: text_field("owner", r.owner.as_deref()).map_err(invalid("owner"))?,
        business_unit: text_field("business_unit", r.business_unit.as_deref())
            .map_err(invalid("business_unit"))?,
        criticality: criticality(r.criticality.as_deref()).map_err(invalid("criticality"))?,
    };
    let asset: AssetView = sqlx::query_as(&format!(
        "INSERT INTO assets (network, hostname, owner, business_unit, criticality)
         VALUES ($1::cidr, $2, $3, $4, $5) RETURNING {COLUMNS}"
    ))
    .bind(&input.network)
    .bind(&input.hostname)
    .bind(&input.owner)
    .bind(&input.business_unit)
    .bind(input.criticality.as_str())
    .fetch_one(&ingest.pool)
    .await
    .map_err(db_error)?;
    tracing::info!(network = %asset.network, by = %caller.name, "asset created");
    Ok((StatusCode::CREATED, Json(asset)).into_response())
}

#[utoipa::path(get, path = "/api/v1/admin/assets", tag = "cmdb",
    responses((status = 200, body = [AssetView]), (status = 403)), security(("bearer" = [])))]
pub async fn list(
    State(ingest): State<Ingest>,
    caller: Principal,
) -> Result<Json<Vec<AssetView>>, ApiError> {
    // One CMDB read policy: every role reads it, as over GraphQL (`assets`).
    caller.require(Action::Read)?;
    let rows = sqlx::query_as(&format!("SELECT {COLUMNS} FROM assets ORDER BY network"))
        .fetch_all(&ingest.pool)
        .await
        .map_err(db_error)?;
    Ok(Json(rows))
}

fn asset_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found("asset"))
}

#[utoipa::path(get, path = "/api/v1/admin/assets/{id}", tag = "cmdb", params(("id" = Uuid, Path)),
    responses((status = 200, body = AssetView), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_one(
    State(ingest): State<Ingest>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<AssetView>, ApiError> {
    // One CMDB read policy: every role reads it, as over GraphQL (`assets`).
    caller.require(Action::Read)?;
    let id = asset_id(&id)?;
    let row: Option<AssetView> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM assets WHERE id = $1"))
            .bind(id)
            .fetch_optional(&ingest.pool)
            .await
            .map_err(db_error)?;
    row.map(Json).ok_or_else(|| ApiError::not_found("asset"))
}

/// Fields given replace the stored ones; an empty string clears a text field.
#[utoipa::path(patch, path = "/api/v1/admin/assets/{id}", tag = "cmdb", params(("id" = Uuid, Path)), request_body = AssetRequest,
    responses((status = 200, body = AssetView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    State(ingest): State<Ingest>,
    caller: Principal,
    Path(id): Path<String>,
    req: Request,
) -> Result<Json<AssetView>, ApiError> {
    caller.require(Action::ManageAssets)?;
    let id = asset_id(&id)?;
    let (parts, body) = req.into_parts();
    let r: AssetRequest = json_body(&parts.headers, body, BODY_LIMIT).await?;
    if r.network.is_none()
        && r.hostname.is_none()
        && r.owner.is_none()
        && r.business_unit.is_none()
        && r.criticality.is_none()
    {
        return Err(ApiError::validation("body", "nothing to change"));
    }
    let network = r
        .network
        .as_deref()
        .map(parse_network)
        .transpose()
        .map_err(invalid("network"))?;
    let text =
        |name: &'static str, v: &Option<String>| -> Result<Option<Option<String>>, ApiError> {
            v.as_deref()
                .map(|s| text_field(name, Some(s)))
                .transpose()
                .map_err(invalid(name))
        };
    let hostname = text("hostname", &r.hostname)?;
    let owner = text("owner", &r.owner)?;
    let business_unit = text("business_unit", &r.business_unit)?;
    let crit = r
        .criticality
        .as_deref()
        .map(|c| criticality(Some(c)))
        .transpose()
        .map_err(invalid("criticality"))?;
    let row: Option<AssetView> = sqlx::query_as(&format!(
        "UPDATE assets SET
            network = COALESCE($2::cidr, network),
            hostname = CASE WHEN $3 THEN $4 ELSE hostname END,
            owner = CASE WHEN $5 THEN $6 ELSE owner END,
            business_unit = CASE WHEN $7 THEN $8 ELSE business_unit END,
            criticality = COALESCE($9, criticality),
            updated_at = now()
          WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(network)
    .bind(hostname.is_some())
    .bind(hostname.flatten())
    .bind(owner.is_some())
    .bind(owner.flatten())
    .bind(business_unit.is_some())
    .bind(business_unit.flatten())
    .bind(crit.map(|c| c.as_str()))
    .fetch_optional(&ingest.pool)
    .await
    .map_err(db_error)?;
    let row = row.ok_or_else(|| ApiError::not_found("asset"))?;
    tracing::info!(network = %row.network, by = %caller.name, "asset updated");
    Ok(Json(row))
}

#[utoipa::path(delete, path = "/api/v1/admin/assets/{id}", tag = "cmdb", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete(
    State(ingest): State<Ingest>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Action::ManageAssets)?;
    let id = asset_id(&id)?;
    let done = sqlx::query("DELETE FROM assets WHERE id = $1")
        .bind(id)
        .execute(&ingest.pool)
        .await
        .map_err(db_error)?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("asset"));
    }
    tracing::info!(asset = %id, by = %caller.name, "asset deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A CSV row refused, by its line in the file.
#[derive(Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

/// The line of a record from its byte offset, counted forward from the
/// previous record's: offsets only grow while reading, so the whole file is
/// scanned once (counting from the start for every record made an import
/// quadratic in its size).
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The line of the record at byte `offset` (the reader reports the
    /// offset before any blank lines it skipped).
    fn line_at(&mut self, offset: u64) -> u64 {
        let bytes = self.bytes;
        let mut target = (offset as usize).min(bytes.len());
        while target < bytes.len() && matches!(bytes[target], b'\n' | b'\r') {
            target += 1;
        }
        if target < self.at {
            // Not expected from the reader; stay correct by counting afresh.
            *self = LineCounter::new(bytes);
        }
        self.line += bytes[self.at..target]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.at = target;
        self.line
    }
}

/// Reads a CSV with a header row (`network` required; `hostname`, `owner`,
/// `business_unit`, `criticality` optional, in any order). Either every row
/// or the errors of all bad rows.
fn read_csv(bytes: &[u8]) -> Result<Vec<AssetInput>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![RowError {
                line: 1,
                reason: format!("unreadable header row: {e}"),
            }])
        }
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut errors = vec![];
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        if ![
            "network",
            "hostname",
            "owner",
            "business_unit",
            "criticality",
        ]
        .contains(&name.as_str())
        {
            errors.push(RowError {
                line: 1,
                reason: format!(
                    "unknown column '{h}' (network, hostname, owner, business_unit, criticality)"
                ),
            });
        } else if index.insert(name.clone(), i).is_some() {
            errors.push(RowError {
                line: 1,
                reason: format!("column '{name}' appears twice"),
            });
        }
    }
    if !index.contains_key("network") {
        errors.push(RowError {
            line: 1,
            reason: "the header row has no 'network' column".into(),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = vec![];
    let mut lines = LineCounter::new(bytes);
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(0);
                errors.push(RowError {
                    line,
                    reason: match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => {
                            format!("{len} fields where the header has {expected_len}")
                        }
                        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
                        _ => e.to_string(),
                    },
                });
                continue;
            }
        };
        let line = record
            .position()
            .map(|p| lines.line_at(p.byte()))
            .unwrap_or(0);
        let get = |name: &str| index.get(name).and_then(|i| record.get(*i));
        let mut reasons = vec![];
        let network = parse_network(get("network").unwrap_or(""))
            .map_err(|e| reasons.push(e))
            .ok();
        let mut field = |name: &str| {
            text_field(name, get(name))
                .map_err(|e| reasons.push(e))
                .ok()
                .flatten()
        };
        let hostname = field("hostname");
        let owner = field("owner");
        let business_unit = field("business_unit");
        let crit = criticality(get("criticality"))
            .map_err(|e| reasons.push(e))
            .ok();
        if let Some(n) = &network {
            if let Some(first) = seen.insert(n.clone(), line) {
                reasons.push(format!("network {n} already given on line {first}"));
            }
        }
        match (network, crit) {
            (Some(network), Some(criticality)) if reasons.is_empty() => rows.push(AssetInput {
                network,
                hostname,
                owner,
                business_unit,
                criticality,
            }),
            _ => errors.push(RowError {
                line,
                reason: reasons.join("; "),
            }),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The answer to a CSV import that refused rows: nothing was imported.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportRefused {
    pub code: String,
    pub detail: String,
    pub errors: Vec<RowError>,
}

/// `POST /api/v1/admin/assets/import` with `text/csv`: all rows or none.
#[utoipa::path(post, path = "/api/v1/admin/assets/import", tag = "cmdb",
    request_body(content = String, content_type = "text/csv", description = "A header row (network, hostname, owner, business_unit, criticality), then one asset a line"),
    responses((status = 200, body = Imported, description = "Every row imported (upserted by network)"), (status = 403), (status = 413), (status = 415),
        (status = 422, body = ImportRefused, description = "Refused rows by line; nothing imported")),
    security(("bearer" = [])))]
pub async fn import(
    State(ingest): State<Ingest>,
    caller: Principal,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageAssets)?;
    let (parts, body) = req.into_parts();
    if !matches!(
        media_type(&parts.headers).as_deref(),
        Some("text/csv" | "application/csv")
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: text/csv",
        ));
    }
    let bytes = read_limited(&parts.headers, body, CSV_LIMIT).await?;
    // Parsing and validating 100,000 rows takes a while: off the async
    // runtime, so the workers keep serving other requests meanwhile.
    let parsed = tokio::task::spawn_blocking(move || read_csv(&bytes))
        .await
        .map_err(ApiError::internal)?;
    let rows = match parsed {
        Ok(rows) => rows,
        Err(errors) => {
            let problem = Problem {
                type_: "https://ticketera.invalid/problems/invalid_csv".into(),
                title: "Unprocessable Entity".into(),
                status: 422,
                code: "invalid_csv".into(),
                detail: Some(format!(
                    "{} row(s) refused; nothing was imported",
                    errors.len()
                )),
                field: None,
            };
            let mut body = serde_json::to_value(&problem).unwrap_or_else(|_| json!({}));
            body["errors"] = json!(errors);
            let mut res = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            res.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/problem+json"),
            );
            return Ok(res);
        }
    };
    let mut tx = ingest.pool.begin().await.map_err(db_error)?;
    let (mut created, mut updated) = (0u64, 0u64);
    // One transaction (all or nothing), a few statements of many rows each.
    for chunk in rows.chunks(IMPORT_BATCH_ROWS) {
        let networks: Vec<&str> = chunk.iter().map(|r| r.network.as_str()).collect();
        let hostnames: Vec<Option<&str>> = chunk.iter().map(|r| r.hostname.as_deref()).collect();
        let owners: Vec<Option<&str>> = chunk.iter().map(|r| r.owner.as_deref()).collect();
        let units: Vec<Option<&str>> = chunk.iter().map(|r| r.business_unit.as_deref()).collect();
        let crits: Vec<&str> = chunk.iter().map(|r| r.criticality.as_str()).collect();
        let inserted: Vec<bool> = sqlx::query_scalar(
            "INSERT INTO assets (network, hostname, owner, business_unit, criticality)
             SELECT n::cidr, h, o, b, c FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(n, h, o, b, c)
             ON CONFLICT (network) DO UPDATE SET hostname = EXCLUDED.hostname, owner = EXCLUDED.owner,
                business_unit = EXCLUDED.business_unit, criticality = EXCLUDED.criticality, updated_at = now()
             RETURNING (xmax = 0)",
        )
        .bind(networks)
        .bind(hostnames)
        .bind(owners)
        .bind(units)
        .bind(crits)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        for i in inserted {
            if i {
                created += 1;
            } else {
                updated += 1;
            }
        }
    }
    tx.commit().await.map_err(db_error)?;
    tracing::info!(created, updated, by = %caller.name, "assets imported");
    Ok(Json(Imported {
        imported: created + updated,
        created,
        updated,
    })
    .into_response())
}

/// What a CSV import did: every row, new or updated by network.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub imported: u64,
    pub created: u64,
    pub updated: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(parse_network("10.0.0.1"), Ok("10.0.0.1/32".into()));
        assert_eq!(parse_network(" 10.20.0.0/16 "), Ok("10.20.0.0/16".into()));
        assert_eq!(parse_network("2001:db8::/32"), Ok("2001:db8::/32".into()));
        assert!(parse_network("10.0.0.1/8").is_err());
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("host.example").is_err());
    }

    #[test]
    fn csv_errors_by_line_and_nothing_else() {
        let csv = "network,hostname,criticality\n10.0.0.0/8,core,HIGH\nnot-an-ip,x,LOW\n\n10.1.0.0/16,y,SEVERE\n10.0.0.0/8,dup,LOW\n";
        let errors = read_csv(csv.as_bytes()).expect_err("bad rows");
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 5, 6], "{errors:?}");
        let ok = read_csv(b"Network,Owner\n10.0.0.1,soc\n192.0.2.0/24,\n").expect("good");
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].network, "10.0.0.1/32");
        assert_eq!(ok[0].criticality, Criticality::Medium);
        assert!(read_csv(b"ip,owner\n10.0.0.1,x\n").is_err());
    }
}
