//! Typed settings from the environment (CONTRACT.md), with documented defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`; unset means a private cluster under `data_dir`.
    pub database_url: Option<SecretString>,
    /// `TICKETERA_DATA_DIR`, default `./.ticketera`.
    pub data_dir: PathBuf,
    /// `TICKETERA_HTTP_ADDR`, default `127.0.0.1:8080`.
    pub http_addr: SocketAddr,
    /// `TICKETERA_SYSLOG_UDP_ADDR`, default `127.0.0.1:5514`.
    pub syslog_udp_addr: SocketAddr,
    /// `TICKETERA_SYSLOG_TCP_ADDR`, default `127.0.0.1:5514`.
    pub syslog_tcp_addr: SocketAddr,
    /// `TICKETERA_ADMIN_PASSWORD`: the first admin's password when no user exists.
    pub admin_password: Option<SecretString>,
    /// `TICKETERA_CORS_ORIGINS`: comma-separated origins allowed cross-origin; none by default.
    pub cors_origins: Vec<String>,
    /// `TICKETERA_TOKEN_ISSUER`, default `ticketera`.
    pub token_issuer: String,
    /// `TICKETERA_TOKEN_AUDIENCE`, default `ticketera`.
    pub token_audience: String,
    /// `TICKETERA_ACCESS_TOKEN_TTL_SECS`, default 900 (at most 900).
    pub access_token_ttl_secs: i64,
    /// `TICKETERA_REFRESH_TOKEN_TTL_SECS`, default 8 hours.
    pub refresh_token_ttl_secs: i64,
    /// `TICKETERA_BODY_LIMIT_BYTES`, default 1 MiB.
    pub body_limit_bytes: usize,
    /// `TICKETERA_DB_MAX_CONNECTIONS`, default 16.
    pub db_max_connections: u32,
    /// `TICKETERA_LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `TICKETERA_LOGIN_MAX_FAILURES_PER_ACCOUNT`, default 5 per 15 minutes.
    pub login_max_failures_per_account: i32,
    /// `TICKETERA_LOGIN_MAX_FAILURES_PER_ADDRESS`, default 20 per 15 minutes.
    pub login_max_failures_per_address: i32,
    /// `TICKETERA_WEB_DIR`: the built SPA, default `web/dist`.
    pub web_dir: PathBuf,
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError {
            name,
            reason: format!("'{v}': {e}"),
        }),
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let access_token_ttl_secs = parsed("TICKETERA_ACCESS_TOKEN_TTL_SECS", 900i64)?;
        if !(1..=900).contains(&access_token_ttl_secs) {
            return Err(ConfigError {
                name: "TICKETERA_ACCESS_TOKEN_TTL_SECS",
                reason: "must be between 1 and 900 seconds".into(),
            });
        }
        let log_json = match var("TICKETERA_LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(ConfigError {
                    name: "TICKETERA_LOG_FORMAT",
                    reason: format!("'{other}': expected text or json"),
                })
            }
        };
        Ok(Settings {
            database_url: var("DATABASE_URL").map(SecretString::from),
            data_dir: var("TICKETERA_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("./.ticketera")),
            http_addr: parsed(
                "TICKETERA_HTTP_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            syslog_udp_addr: parsed(
                "TICKETERA_SYSLOG_UDP_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 5514)),
            )?,
            syslog_tcp_addr: parsed(
                "TICKETERA_SYSLOG_TCP_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 5514)),
            )?,
            admin_password: var("TICKETERA_ADMIN_PASSWORD").map(SecretString::from),
            cors_origins: var("TICKETERA_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            token_issuer: var("TICKETERA_TOKEN_ISSUER").unwrap_or_else(|| "ticketera".into()),
            token_audience: var("TICKETERA_TOKEN_AUDIENCE").unwrap_or_else(|| "ticketera".into()),
            access_token_ttl_secs,
            refresh_token_ttl_secs: parsed("TICKETERA_REFRESH_TOKEN_TTL_SECS", 8 * 3600i64)?,
            body_limit_bytes: parsed("TICKETERA_BODY_LIMIT_BYTES", 1024 * 1024usize)?,
            db_max_connections: parsed("TICKETERA_DB_MAX_CONNECTIONS", 16u32)?,
            log_json,
            login_max_failures_per_account: parsed(
                "TICKETERA_LOGIN_MAX_FAILURES_PER_ACCOUNT",
                5i32,
            )?,
            login_max_failures_per_address: parsed(
                "TICKETERA_LOGIN_MAX_FAILURES_PER_ADDRESS",
                20i32,
            )?,
            web_dir: var("TICKETERA_WEB_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("web/dist")),
        })
    }

    /// Settings for tests: defaults, with the given database.
    pub fn for_database(url: &str) -> Self {
        let mut s = Settings::from_env().unwrap_or_else(|_| Settings::defaults());
        s.database_url = Some(SecretString::from(url.to_string()));
        s
    }

    fn defaults() -> Self {
        Settings {
            database_url: None,
            data_dir: PathBuf::from("./.ticketera"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            syslog_udp_addr: SocketAddr::from(([127, 0, 0, 1], 5514)),
            syslog_tcp_addr: SocketAddr::from(([127, 0, 0, 1], 5514)),
            admin_password: None,
            cors_origins: vec![],
            token_issuer: "ticketera".into(),
            token_audience: "ticketera".into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 8 * 3600,
            body_limit_bytes: 1024 * 1024,
            db_max_connections: 16,
            log_json: false,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 20,
            web_dir: PathBuf::from("web/dist"),
        }
    }
}
