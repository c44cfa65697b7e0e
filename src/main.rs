//! `ticketera`: every service of Ticketera SOC, and its admin commands.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context};
use clap::Parser;
use domain::Role;
use platform::config::Settings;
use platform::local_pg::LocalPostgres;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use ticketera::cli::{Cli, ClientCmd, Cmd, KeysCmd, ProjectorCmd, SchemaCmd, UserCmd};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ticketera: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    platform::telemetry::init_tracing(settings.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ticketera: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One clear line: what failed and why.
            eprintln!("ticketera: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The database: `DATABASE_URL`, or the private cluster under the data dir.
struct Database {
    pool: PgPool,
    local: Option<LocalPostgres>,
}

impl Database {
    async fn open(settings: &mut Settings, migrate: bool) -> anyhow::Result<Database> {
        let mut local = None;
        let url = match &settings.database_url {
            Some(url) => url.clone(),
            None => {
                tracing::info!(
                    data_dir = %settings.data_dir.display(),
                    "DATABASE_URL is unset: running a private PostgreSQL cluster under the data directory"
                );
                let pg = LocalPostgres::start(&settings.data_dir)
                    .await
                    .context("starting the private PostgreSQL cluster")?;
                let url = SecretString::from(pg.database_url());
                local = Some(pg);
                if settings.key_encryption_key.is_none() {
                    settings.key_encryption_key = Some(
                        ticketera::bootstrap::local_key_encryption_key(&settings.data_dir)
                            .context("the private cluster's key-encryption key")?,
                    );
                }
                url
            }
        };
        settings.database_url = Some(url.clone());
        let pool = platform::db::connect(&url, settings.db_max_connections)
            .await
            .context("connecting to PostgreSQL")?;
        if migrate {
            platform::db::migrate(&pool)
                .await
                .context("applying migrations")?;
            platform::db::check_transaction_ids(&pool).await?;
        }
        Ok(Database { pool, local })
    }

    /// Closes the pool and stops the private cluster when this process
    /// started it; one that was already running (a `serve` in another
    /// terminal) keeps running. `serve` owns its cluster either way.
    async fn close(self, owner: bool) -> anyhow::Result<()> {
        self.pool.close().await;
        match self.local {
            Some(pg) if owner || !pg.adopted() => pg
                .stop()
                .await
                .context("stopping the private PostgreSQL cluster")?,
            Some(pg) => pg.release(),
            None => {}
        }
        Ok(())
    }
}

fn stdout_line(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").context("writing to stdout")
}

async fn run(command: Cmd, mut settings: Settings) -> anyhow::Result<()> {
    match command {
        cmd @ (Cmd::Serve | Cmd::CommandApi | Cmd::QueryApi | Cmd::Ingest) => {
            let shutdown = platform::http::shutdown::on_signals();
            let db = Database::open(&mut settings, true).await?;
            // query-api and ingest verify tokens; they never read a private key.
            settings.signs_tokens = matches!(cmd, Cmd::Serve | Cmd::CommandApi);
            let components = ticketera::app::components(settings.clone(), db.pool.clone()).await?;
            if let Some(password) = ticketera::bootstrap::ensure_admin(
                &components.state.identity,
                settings.admin_password.as_ref(),
            )
            .await?
            {
                stdout_line(&format!(
                    "Created user 'admin' with password: {password}  (shown once; change it)"
                ))?;
            }
            let listener = tokio::net::TcpListener::bind(settings.http_addr)
                .await
                .with_context(|| format!("binding HTTP on {}", settings.http_addr))?;
            let addr = listener.local_addr().context("listener address")?;
            stdout_line(&format!("Ticketera SOC serving on http://{addr}/"))?;
            if matches!(cmd, Cmd::Serve | Cmd::Ingest) {
                let syslog = components
                    .ingest
                    .listen(
                        settings.syslog_udp_addr,
                        settings.syslog_tcp_addr,
                        shutdown.clone(),
                    )
                    .await?;
                stdout_line(&format!(
                    "syslog on udp://{} and {}://{}",
                    syslog.udp,
                    if syslog.tls { "tls" } else { "tcp" },
                    syslog.tcp
                ))?;
            }
            if !matches!(cmd, Cmd::QueryApi) {
                ticketera::app::spawn_housekeeping(
                    db.pool.clone(),
                    std::time::Duration::from_secs(settings.prune_interval_secs),
                    shutdown.clone(),
                );
            }
            let router = match cmd {
                Cmd::QueryApi => ticketera::app::query_router(&components),
                Cmd::Ingest => ticketera::app::ingest_router(&components),
                _ => ticketera::app::router(&components),
            };
            // `serve` is everything in one process: the projector too.
            let projector = matches!(cmd, Cmd::Serve).then(|| {
                tokio::spawn(projector::Projector::new(db.pool.clone()).run(shutdown.clone()))
            });
            let served = ticketera::app::serve(listener, router, shutdown.clone()).await;
            // Upgraded GraphQL WebSockets outlive the HTTP server: close them (1001).
            components.query.close_connections();
            if let Some(task) = projector {
                // Also when HTTP failed: stop the projector, let its batch finish.
                shutdown.cancel();
                match task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "projector failed"),
                    Err(e) => tracing::error!(error = %e, "projector task panicked"),
                }
            }
            db.close(true).await?;
            served
        }
        Cmd::Projector { action: None } => {
            let shutdown = platform::http::shutdown::on_signals();
            let db = Database::open(&mut settings, true).await?;
            let listener = tokio::net::TcpListener::bind(settings.http_addr)
                .await
                .with_context(|| format!("binding HTTP on {}", settings.http_addr))?;
            let addr = listener.local_addr().context("listener address")?;
            stdout_line(&format!(
                "Ticketera SOC projector running; health and metrics on http://{addr}/"
            ))?;
            let ran = ticketera::app::run_projector(db.pool.clone(), listener, shutdown).await;
            db.close(false).await?;
            ran
        }
        Cmd::Projector {
            action: Some(ProjectorCmd::Rebuild { projection }),
        } => {
            let db = Database::open(&mut settings, true).await?;
            let rebuilt = projector::rebuild(&db.pool, projection.as_deref()).await;
            db.close(false).await?;
            for r in rebuilt.context("rebuilding the read models")? {
                let secs = r.elapsed.as_secs_f64();
                stdout_line(&format!(
                    "rebuilt {}: {} events in {secs:.1} s ({:.0} events/s), swapped in at {}",
                    r.projection,
                    r.events,
                    r.events as f64 / secs.max(1e-9),
                    r.position
                ))?;
            }
            Ok(())
        }
        Cmd::Migrate => {
            let db = Database::open(&mut settings, true).await?;
            stdout_line("migrations applied")?;
            db.close(false).await
        }
        Cmd::User {
            action:
                UserCmd::Add {
                    username,
                    role,
                    display_name,
                    password_stdin,
                },
        } => {
            let role: Role = role.parse().map_err(|e| {
                anyhow::anyhow!("{e}: expected admin, lead, analyst, auditor or integration")
            })?;
            let password = read_password(password_stdin)?;
            let db = Database::open(&mut settings, true).await?;
            let identity = platform::identity::Identity::new(db.pool.clone());
            let created = identity
                .create_user(
                    &username,
                    display_name.as_deref(),
                    password.expose_secret(),
                    role,
                    "cli",
                    None,
                )
                .await;
            let result = match created {
                Ok(user) => stdout_line(&format!("created user {} ({})", user.username, user.role)),
                Err(e) => Err(anyhow::Error::new(e).context("creating the user")),
            };
            db.close(false).await?;
            result
        }
        Cmd::Client {
            action: ClientCmd::Add { name, role },
        } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let db = Database::open(&mut settings, true).await?;
            let identity = platform::identity::Identity::new(db.pool.clone());
            let result = match identity.create_client(&name, role, "cli", None).await {
                Ok((id, secret)) => {
                    stdout_line(&format!("client_id={id}"))?;
                    stdout_line(&format!("client_secret={secret}"))?;
                    stdout_line("(the secret is shown once; store it now)")
                }
                Err(e) => Err(anyhow::Error::new(e).context("creating the client")),
            };
            db.close(false).await?;
            result
        }
        Cmd::Keys {
            action: KeysCmd::Rotate,
        } => {
            let db = Database::open(&mut settings, true).await?;
            let kek = settings
                .key_encryption_key
                .as_ref()
                .map(|source| source.load().map(std::sync::Arc::new))
                .transpose()
                .context("loading the key-encryption key")?;
            let kid = platform::auth::tokens::TokenKeys::rotate(&db.pool, kek)
                .await
                .context("rotating the signing key")?;
            stdout_line(&format!("new signing key: {kid}"))?;
            db.close(false).await
        }
        Cmd::Schema { which } => {
            let text = match which {
                SchemaCmd::Graphql => query_api::schema::sdl(),
                SchemaCmd::Openapi => ticketera::openapi::document_json()
                    .context("serializing the OpenAPI document")?,
            };
            stdout_line(text.trim_end())
        }
        Cmd::Parse {
            file,
            webhook,
            fields,
        } => ticketera::parse_cmd::run(&settings, file.as_deref(), webhook.as_deref(), fields),
        Cmd::Replay {
            ticket,
            at,
            version,
        } => {
            let at = at
                .map(|s| {
                    chrono::DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&chrono::Utc))
                })
                .transpose()
                .context("--at must be an RFC 3339 instant, e.g. 2026-11-27T10:00:00Z")?;
            let db = Database::open(&mut settings, false).await?;
            let result = replay(&db.pool, &ticket, at, version).await;
            db.close(false).await?;
            stdout_line(&result?)
        }
    }
}

async fn replay(
    pool: &PgPool,
    reference: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
    version: Option<u64>,
) -> anyhow::Result<String> {
    let services = std::sync::Arc::new(platform::services::PgTicketServices::new(pool.clone()));
    let store = platform::event_store::TicketStore::new(pool.clone(), services);
    let Some(id) = store.resolve_reference(reference).await? else {
        bail!("no ticket '{reference}'");
    };
    match store.as_of(id, at, version).await? {
        Some(ticket) => Ok(serde_json::to_string_pretty(&ticket)?),
        None => bail!("ticket '{reference}' had no events at that point"),
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        if p.is_empty() {
            bail!("no password on stdin");
        }
        return Ok(SecretString::from(p));
    }
    let p = rpassword::prompt_password("Password: ").context("reading the password")?;
    let again = rpassword::prompt_password("Again: ").context("reading the password")?;
    if p != again {
        bail!("the passwords differ");
    }
    Ok(SecretString::from(p))
}
