//! Typed settings from the environment (README.md, "Configuration"), with documented defaults.

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
    /// `TICKETERA_READ_DATABASE_URL`: a hot standby of that database that
    /// the GraphQL API reads its read models from; requests with a minimum
    /// position still read the primary (deploy/README.md, "The database and
    /// read-your-writes"). Unset: everything reads the primary.
    pub read_database_url: Option<SecretString>,
    /// `TICKETERA_DATA_DIR`, default `./.ticketera`.
    pub data_dir: PathBuf,
    /// `TICKETERA_KEY_ENCRYPTION_KEY_FILE` (a file holding it) or
    /// `TICKETERA_KEY_ENCRYPTION_KEY`: 32 bytes in base64 that seal the
    /// token signing keys in the database (docs/auth.md, "Signing keys at
    /// rest"). Needed by the processes that sign (serve, command-api, `keys
    /// rotate`); the private cluster makes one in the data directory.
    pub key_encryption_key: Option<KekSource>,
    /// This process signs tokens (serve, command-api); query-api and ingest
    /// only verify them and never read a private key. Set by the
    /// subcommand, not the environment.
    pub signs_tokens: bool,
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
    /// `TICKETERA_TRUSTED_PROXIES`: comma-separated CIDRs (or addresses) of
    /// the gateways in front of the service; from them the right-most
    /// untrusted `X-Forwarded-For` entry is the client. None by default:
    /// the TCP peer is the client and `X-Forwarded-For` is ignored.
    pub trusted_proxies: Vec<ipnetwork::IpNetwork>,
    /// `TICKETERA_TOKEN_ISSUER`, default `ticketera`.
    pub token_issuer: String,
    /// `TICKETERA_TOKEN_AUDIENCE`, default `ticketera`.
    pub token_audience: String,
    /// `TICKETERA_ACCESS_TOKEN_TTL_SECS`, default 900 (at most 900).
    pub access_token_ttl_secs: i64,
    /// `TICKETERA_REFRESH_TOKEN_TTL_SECS`, default 8 hours.
    pub refresh_token_ttl_secs: i64,
    /// `TICKETERA_TOKEN_LIVENESS_CACHE_SECS`, default 60: how long a process
    /// reuses a token's "live" answer instead of querying it again, while
    /// its revocation listener is connected (ended tokens are pushed and
    /// dropped at once; this bounds an unnoticed dead listener). 0: every
    /// request queries.
    pub token_liveness_cache_secs: u64,
    /// `TICKETERA_REFRESH_SESSION_MAX_SECS`, default 24 hours: a refresh
    /// family (one sign-in) ends this long after the sign-in, however often
    /// it was refreshed.
    pub refresh_session_max_secs: i64,
    /// `TICKETERA_BODY_LIMIT_BYTES`, default 1 MiB.
    pub body_limit_bytes: usize,
    /// `TICKETERA_DB_MAX_CONNECTIONS`, default 16.
    pub db_max_connections: u32,
    /// `TICKETERA_TICKET_NUMBER_BLOCK`, default 20 (at least 1): how many
    /// `SOC-<n>` numbers a process takes from the sequence at once, so an
    /// open does not wait on a `nextval` of its own. Numbers a process took
    /// and had not handed out when it stopped are skipped for good, and
    /// processes hand out numbers from their own blocks, so numbers follow
    /// the order of opens only within a process (docs/architecture.md,
    /// "Ticket numbers"). 1: one query per open, gaps only from failed opens.
    pub ticket_number_block: u32,
    /// `TICKETERA_LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `TICKETERA_LOGIN_MAX_FAILURES_PER_ACCOUNT`, default 5 per 15 minutes.
    pub login_max_failures_per_account: i32,
    /// `TICKETERA_LOGIN_MAX_FAILURES_PER_ADDRESS`, default 20 per 15 minutes.
    pub login_max_failures_per_address: i32,
    /// `TICKETERA_PRUNE_INTERVAL_SECS` [300]: how often each service deletes
    /// the expired rows of the tables it writes (`housekeeping`: login
    /// throttle windows and revoked tokens in command-api, webhook ids in
    /// ingest). At least 1.
    pub prune_interval_secs: u64,
    /// `TICKETERA_WEB_DIR`: the built SPA, default `web/dist`.
    pub web_dir: PathBuf,
    /// `TICKETERA_GRAPHQL_INTROSPECTION`: GraphQL introspection, off by default.
    pub graphql_introspection: bool,
    /// `TICKETERA_GRAPHQL_WS_INIT_TIMEOUT_SECS`: time a WebSocket client has
    /// to send `connection_init`, default 10.
    pub graphql_ws_init_timeout_secs: u64,
    /// `TICKETERA_GRAPHQL_MAX_COST` [3000]: the cost one HTTP request (one
    /// operation, or every operation of a batch together) may have; a list
    /// costs the rows it may read (its `first`) times its fields
    /// (docs/architecture.md, "GraphQL cost and rate").
    pub graphql_max_cost: usize,
    /// `TICKETERA_GRAPHQL_RATE_PER_MINUTE` [600]: GraphQL operations a
    /// principal (user or OAuth2 client) may run a minute on `/graphql`,
    /// refilled continuously; beyond it 429 with `Retry-After`. 0: no limit.
    pub graphql_rate_per_minute: u32,
    /// `TICKETERA_GRAPHQL_RATE_BURST` [120]: operations a principal may run
    /// at once before the per-minute rate applies (the bucket's size).
    pub graphql_rate_burst: u32,
    /// Ingest settings (syslog listeners, webhook, rules, dead letters).
    pub ingest: IngestSettings,
}

/// Settings of the ingest service (README, "Configuration").
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// `TICKETERA_RULES_FILE`: replaces the shipped default rules; SIGHUP reloads it.
    pub rules_file: Option<PathBuf>,
    /// `TICKETERA_SYSLOG_TIMEZONE` [`+00:00`]: the zone of senders whose
    /// timestamps carry none (RFC 3164), as `UTC` or `±HH:MM`.
    pub syslog_timezone: chrono::FixedOffset,
    /// `TICKETERA_SYSLOG_UDP_RCVBUF_BYTES` [8 MiB]: `SO_RCVBUF` of the UDP socket.
    pub udp_rcvbuf_bytes: usize,
    /// `TICKETERA_INGEST_QUEUE_SIZE` [65536]: messages waiting between the
    /// listeners and the workers; beyond it messages are dropped and counted.
    pub queue_size: usize,
    /// `TICKETERA_INGEST_WORKERS` [2]: parse and correlation workers.
    pub workers: usize,
    /// `TICKETERA_SYSLOG_MAX_FRAME_BYTES` [65536]: longest TCP syslog frame.
    pub max_frame_bytes: usize,
    /// `TICKETERA_SYSLOG_TCP_IDLE_TIMEOUT_SECS` [300]: a TCP syslog
    /// connection that sends nothing this long is closed, so idle or
    /// half-open sockets cannot hold the connection slots forever.
    pub tcp_idle_timeout_secs: u64,
    /// `TICKETERA_SYSLOG_TLS_CERT`, `TICKETERA_SYSLOG_TLS_KEY`: PEM files;
    /// when both are set the TCP listener speaks TLS only.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// `TICKETERA_WEBHOOK_SECRET`: `whsec_<base64>`; when set, webhook calls
    /// must carry a valid Standard Webhooks signature.
    pub webhook_secret: Option<SecretString>,
    /// `TICKETERA_WEBHOOK_TOLERANCE_SECS` [300]: accepted age of `webhook-timestamp`.
    pub webhook_tolerance_secs: i64,
    /// `TICKETERA_WEBHOOK_BODY_LIMIT_BYTES` [1 MiB].
    pub webhook_body_limit_bytes: usize,
    /// `TICKETERA_DEAD_LETTER_MAX_ROWS` [10000]: the oldest go beyond it.
    pub dead_letter_max_rows: i64,
    /// `TICKETERA_DEAD_LETTER_MAX_BYTES` [64 MiB]: raw bytes kept over all
    /// dead letters (each keeps at most 64 KiB); the oldest go beyond it.
    pub dead_letter_max_bytes: i64,
    /// `TICKETERA_CORRELATION_WINDOW_MS` [500]: alerts for one open ticket
    /// are gathered this long into one event.
    pub correlation_window_ms: u64,
    /// `TICKETERA_CORRELATION_BATCH_MAX` [1000]: or until this many.
    pub correlation_batch_max: u64,
    /// `TICKETERA_SYSLOG_ALLOWED_SENDERS` [everyone]: comma-separated CIDRs
    /// (or addresses) whose syslog is taken; datagrams from elsewhere are
    /// dropped and TCP connections closed, each counted. Empty: everyone.
    pub allowed_senders: Vec<ipnetwork::IpNetwork>,
    /// `TICKETERA_SYSLOG_PEER_RATE` [100000]: messages per second one
    /// sender address may send (UDP and TCP together), with a burst of as
    /// many; beyond it messages are dropped and counted.
    pub peer_rate: u64,
    /// `TICKETERA_SYSLOG_TCP_MAX_CONNECTIONS_PER_PEER` [64]: TCP syslog
    /// connections one sender address may hold; more are closed at once.
    pub tcp_max_connections_per_peer: usize,
    /// `TICKETERA_INGEST_QUEUE_MAX_BYTES` [256 MiB, at least 64 KiB]: bytes
    /// of messages waiting between the listeners and the workers.
    pub queue_max_bytes: usize,
    /// `TICKETERA_CORRELATION_MAX_FINGERPRINTS` [20000]: fingerprints the
    /// correlator follows at once; alerts of further new fingerprints go to
    /// their rule's storm ticket.
    pub correlation_max_fingerprints: usize,
    /// `TICKETERA_STORM_TICKETS_PER_RULE` [100]: tickets one rule may open
    /// per storm interval; the rule's further new alerts go into one storm
    /// ticket per rule and interval.
    pub storm_tickets_per_rule: u64,
    /// `TICKETERA_STORM_INTERVAL_SECS` [60].
    pub storm_interval_secs: u64,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            rules_file: None,
            syslog_timezone: chrono::FixedOffset::east_opt(0).expect("UTC is a valid offset"),
            udp_rcvbuf_bytes: 8 * 1024 * 1024,
            queue_size: 65_536,
            workers: 2,
            max_frame_bytes: 65_536,
            tcp_idle_timeout_secs: 300,
            tls_cert: None,
            tls_key: None,
            webhook_secret: None,
            webhook_tolerance_secs: 300,
            webhook_body_limit_bytes: 1024 * 1024,
            dead_letter_max_rows: 10_000,
            dead_letter_max_bytes: 64 * 1024 * 1024,
            correlation_window_ms: 500,
            correlation_batch_max: 1_000,
            allowed_senders: vec![],
            peer_rate: 100_000,
            tcp_max_connections_per_peer: 64,
            queue_max_bytes: 256 * 1024 * 1024,
            correlation_max_fingerprints: 20_000,
            storm_tickets_per_rule: 100,
            storm_interval_secs: 60,
        }
    }
}

/// `UTC`, `Z` or `±HH:MM` (also `±HHMM`, `±HH`).
pub fn parse_offset(text: &str) -> Result<chrono::FixedOffset, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" {
        return Ok(chrono::FixedOffset::east_opt(0).expect("UTC is a valid offset"));
    }
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(format!("'{t}': expected UTC or ±HH:MM")),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return Err(format!("'{t}': expected UTC or ±HH:MM"));
    }
    let h: i32 = digits[..2]
        .parse()
        .map_err(|_| format!("'{t}': bad hours"))?;
    let m: i32 = digits
        .get(2..)
        .filter(|s| !s.is_empty())
        .map_or(Ok(0), |s| s.parse())
        .map_err(|_| format!("'{t}': bad minutes"))?;
    if h > 14 || m > 59 {
        return Err(format!("'{t}': out of range"));
    }
    chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60))
        .ok_or_else(|| format!("'{t}': out of range"))
}

impl IngestSettings {
    fn from_env() -> Result<Self, ConfigError> {
        let d = IngestSettings::default();
        let syslog_timezone = match var("TICKETERA_SYSLOG_TIMEZONE") {
            None => d.syslog_timezone,
            Some(v) => parse_offset(&v).map_err(|reason| ConfigError {
                name: "TICKETERA_SYSLOG_TIMEZONE",
                reason,
            })?,
        };
        let positive = |name: &'static str, v: usize| -> Result<usize, ConfigError> {
            if v == 0 {
                Err(ConfigError {
                    name,
                    reason: "must be at least 1".into(),
                })
            } else {
                Ok(v)
            }
        };
        let s = IngestSettings {
            rules_file: var("TICKETERA_RULES_FILE").map(PathBuf::from),
            syslog_timezone,
            udp_rcvbuf_bytes: parsed("TICKETERA_SYSLOG_UDP_RCVBUF_BYTES", d.udp_rcvbuf_bytes)?,
            queue_size: positive(
                "TICKETERA_INGEST_QUEUE_SIZE",
                parsed("TICKETERA_INGEST_QUEUE_SIZE", d.queue_size)?,
            )?,
            workers: positive(
                "TICKETERA_INGEST_WORKERS",
                parsed("TICKETERA_INGEST_WORKERS", d.workers)?,
            )?,
            max_frame_bytes: positive(
                "TICKETERA_SYSLOG_MAX_FRAME_BYTES",
                parsed("TICKETERA_SYSLOG_MAX_FRAME_BYTES", d.max_frame_bytes)?,
            )?,
            tcp_idle_timeout_secs: positive(
                "TICKETERA_SYSLOG_TCP_IDLE_TIMEOUT_SECS",
                parsed(
                    "TICKETERA_SYSLOG_TCP_IDLE_TIMEOUT_SECS",
                    d.tcp_idle_timeout_secs as usize,
                )?,
            )? as u64,
            tls_cert: var("TICKETERA_SYSLOG_TLS_CERT").map(PathBuf::from),
            tls_key: var("TICKETERA_SYSLOG_TLS_KEY").map(PathBuf::from),
            webhook_secret: var("TICKETERA_WEBHOOK_SECRET").map(SecretString::from),
            webhook_tolerance_secs: parsed(
                "TICKETERA_WEBHOOK_TOLERANCE_SECS",
                d.webhook_tolerance_secs,
            )?,
            webhook_body_limit_bytes: positive(
                "TICKETERA_WEBHOOK_BODY_LIMIT_BYTES",
                parsed(
                    "TICKETERA_WEBHOOK_BODY_LIMIT_BYTES",
                    d.webhook_body_limit_bytes,
                )?,
            )?,
            dead_letter_max_rows: parsed("TICKETERA_DEAD_LETTER_MAX_ROWS", d.dead_letter_max_rows)?
                .max(1),
            dead_letter_max_bytes: parsed(
                "TICKETERA_DEAD_LETTER_MAX_BYTES",
                d.dead_letter_max_bytes,
            )?
            .max(64 * 1024),
            correlation_window_ms: parsed(
                "TICKETERA_CORRELATION_WINDOW_MS",
                d.correlation_window_ms,
            )?,
            correlation_batch_max: parsed(
                "TICKETERA_CORRELATION_BATCH_MAX",
                d.correlation_batch_max,
            )?
            .max(1),
            allowed_senders: networks("TICKETERA_SYSLOG_ALLOWED_SENDERS")?,
            peer_rate: positive(
                "TICKETERA_SYSLOG_PEER_RATE",
                parsed("TICKETERA_SYSLOG_PEER_RATE", d.peer_rate as usize)?,
            )? as u64,
            tcp_max_connections_per_peer: positive(
                "TICKETERA_SYSLOG_TCP_MAX_CONNECTIONS_PER_PEER",
                parsed(
                    "TICKETERA_SYSLOG_TCP_MAX_CONNECTIONS_PER_PEER",
                    d.tcp_max_connections_per_peer,
                )?,
            )?,
            // A message of the largest UDP size must fit.
            queue_max_bytes: parsed("TICKETERA_INGEST_QUEUE_MAX_BYTES", d.queue_max_bytes)?
                .max(64 * 1024),
            correlation_max_fingerprints: positive(
                "TICKETERA_CORRELATION_MAX_FINGERPRINTS",
                parsed(
                    "TICKETERA_CORRELATION_MAX_FINGERPRINTS",
                    d.correlation_max_fingerprints,
                )?,
            )?,
            storm_tickets_per_rule: positive(
                "TICKETERA_STORM_TICKETS_PER_RULE",
                parsed(
                    "TICKETERA_STORM_TICKETS_PER_RULE",
                    d.storm_tickets_per_rule as usize,
                )?,
            )? as u64,
            storm_interval_secs: positive(
                "TICKETERA_STORM_INTERVAL_SECS",
                parsed(
                    "TICKETERA_STORM_INTERVAL_SECS",
                    d.storm_interval_secs as usize,
                )?,
            )? as u64,
        };
        if s.tls_cert.is_some() != s.tls_key.is_some() {
            return Err(ConfigError {
                name: "TICKETERA_SYSLOG_TLS_CERT",
                reason: "TLS needs both TICKETERA_SYSLOG_TLS_CERT and TICKETERA_SYSLOG_TLS_KEY"
                    .into(),
            });
        }
        Ok(s)
    }
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

/// Where the key-encryption key comes from.
#[derive(Debug, Clone)]
pub enum KekSource {
    File(PathBuf),
    Value(SecretString),
}

impl KekSource {
    pub fn load(&self) -> Result<crate::auth::kek::KeyEncryptionKey, crate::auth::kek::KekError> {
        use secrecy::ExposeSecret;
        match self {
            KekSource::File(path) => crate::auth::kek::KeyEncryptionKey::from_file(path),
            KekSource::Value(text) => {
                crate::auth::kek::KeyEncryptionKey::from_base64(text.expose_secret())
            }
        }
    }
}

/// A comma-separated list of CIDRs (a bare address is one host).
pub fn parse_networks(text: &str) -> Result<Vec<ipnetwork::IpNetwork>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnetwork::IpNetwork>()
                .map_err(|e| format!("'{s}': {e}"))
        })
        .collect()
}

fn networks(name: &'static str) -> Result<Vec<ipnetwork::IpNetwork>, ConfigError> {
    match var(name) {
        None => Ok(vec![]),
        Some(v) => parse_networks(&v).map_err(|reason| ConfigError { name, reason }),
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
            read_database_url: var("TICKETERA_READ_DATABASE_URL").map(SecretString::from),
            key_encryption_key: match (
                var("TICKETERA_KEY_ENCRYPTION_KEY_FILE"),
                var("TICKETERA_KEY_ENCRYPTION_KEY"),
            ) {
                (Some(path), None) => Some(KekSource::File(PathBuf::from(path))),
                (None, Some(text)) => Some(KekSource::Value(SecretString::from(text))),
                (None, None) => None,
                (Some(_), Some(_)) => {
                    return Err(ConfigError {
                        name: "TICKETERA_KEY_ENCRYPTION_KEY",
                        reason: "set it or TICKETERA_KEY_ENCRYPTION_KEY_FILE, not both".into(),
                    })
                }
            },
            signs_tokens: true,
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
            trusted_proxies: networks("TICKETERA_TRUSTED_PROXIES")?,
            token_issuer: var("TICKETERA_TOKEN_ISSUER").unwrap_or_else(|| "ticketera".into()),
            token_audience: var("TICKETERA_TOKEN_AUDIENCE").unwrap_or_else(|| "ticketera".into()),
            access_token_ttl_secs,
            refresh_token_ttl_secs: parsed("TICKETERA_REFRESH_TOKEN_TTL_SECS", 8 * 3600i64)?,
            token_liveness_cache_secs: parsed("TICKETERA_TOKEN_LIVENESS_CACHE_SECS", 60u64)?,
            refresh_session_max_secs: parsed("TICKETERA_REFRESH_SESSION_MAX_SECS", 24 * 3600i64)?,
            body_limit_bytes: parsed("TICKETERA_BODY_LIMIT_BYTES", 1024 * 1024usize)?,
            db_max_connections: parsed("TICKETERA_DB_MAX_CONNECTIONS", 16u32)?,
            ticket_number_block: match parsed("TICKETERA_TICKET_NUMBER_BLOCK", 20u32)? {
                0 => {
                    return Err(ConfigError {
                        name: "TICKETERA_TICKET_NUMBER_BLOCK",
                        reason: "must be at least 1".into(),
                    })
                }
                n => n,
            },
            log_json,
            login_max_failures_per_account: parsed(
                "TICKETERA_LOGIN_MAX_FAILURES_PER_ACCOUNT",
                5i32,
            )?,
            login_max_failures_per_address: parsed(
                "TICKETERA_LOGIN_MAX_FAILURES_PER_ADDRESS",
                20i32,
            )?,
            prune_interval_secs: match parsed("TICKETERA_PRUNE_INTERVAL_SECS", 300u64)? {
                0 => {
                    return Err(ConfigError {
                        name: "TICKETERA_PRUNE_INTERVAL_SECS",
                        reason: "must be at least 1".into(),
                    })
                }
                n => n,
            },
            web_dir: var("TICKETERA_WEB_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("web/dist")),
            graphql_introspection: parsed("TICKETERA_GRAPHQL_INTROSPECTION", false)?,
            graphql_ws_init_timeout_secs: parsed("TICKETERA_GRAPHQL_WS_INIT_TIMEOUT_SECS", 10u64)?,
            graphql_max_cost: parsed("TICKETERA_GRAPHQL_MAX_COST", 3_000usize)?,
            graphql_rate_per_minute: parsed("TICKETERA_GRAPHQL_RATE_PER_MINUTE", 600u32)?,
            graphql_rate_burst: parsed("TICKETERA_GRAPHQL_RATE_BURST", 120u32)?,
            ingest: IngestSettings::from_env()?,
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
            read_database_url: None,
            key_encryption_key: None,
            signs_tokens: true,
            data_dir: PathBuf::from("./.ticketera"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            syslog_udp_addr: SocketAddr::from(([127, 0, 0, 1], 5514)),
            syslog_tcp_addr: SocketAddr::from(([127, 0, 0, 1], 5514)),
            admin_password: None,
            cors_origins: vec![],
            trusted_proxies: vec![],
            token_issuer: "ticketera".into(),
            token_audience: "ticketera".into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 8 * 3600,
            token_liveness_cache_secs: 60,
            refresh_session_max_secs: 24 * 3600,
            body_limit_bytes: 1024 * 1024,
            db_max_connections: 16,
            ticket_number_block: 20,
            log_json: false,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 20,
            prune_interval_secs: 300,
            web_dir: PathBuf::from("web/dist"),
            graphql_introspection: false,
            graphql_ws_init_timeout_secs: 10,
            graphql_max_cost: 3_000,
            graphql_rate_per_minute: 600,
            graphql_rate_burst: 120,
            ingest: IngestSettings::default(),
        }
    }
}
