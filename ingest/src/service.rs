//! The ingest service: rules (loaded, reloaded on SIGHUP), workers,
//! correlator, dead letters; `listen` binds the syslog sockets.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use platform::auth::tokens::TokenKeys;
use platform::config::IngestSettings;
use platform::event_store::TicketStore;
use platform::http::shutdown::Shutdown;
use platform::identity::Identity;
use sqlx::PgPool;

use crate::correlate::Correlator;
use crate::dead_letters::DeadLetters;
use crate::pipeline::{queue, worker, Queue};
use crate::rules::{Rules, RulesError};
use crate::senders::Senders;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("rules file {path}: {source}")]
    Rules { path: String, source: RulesError },
    #[error("rules file {path}: {reason}")]
    RulesUnreadable { path: String, reason: String },
    #[error("binding syslog {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(String),
}

/// The rules in force; replaced whole on reload.
#[derive(Clone)]
pub struct RulesHandle {
    current: Arc<RwLock<Arc<Rules>>>,
    path: Option<PathBuf>,
}

impl RulesHandle {
    pub fn current(&self) -> Arc<Rules> {
        match self.current.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The configured file, or the shipped default.
    pub fn load(path: Option<PathBuf>) -> Result<RulesHandle, IngestError> {
        let rules = match &path {
            None => Rules::default_rules(),
            Some(p) => read_rules(p)?,
        };
        Ok(RulesHandle {
            current: Arc::new(RwLock::new(Arc::new(rules))),
            path,
        })
    }

    /// Re-reads the file; a file that does not load is refused with its
    /// line and reason and the previous rules stay in force.
    pub fn reload(&self) -> Result<(), IngestError> {
        let Some(path) = &self.path else {
            tracing::info!("no TICKETERA_RULES_FILE: the shipped default rules stay in force");
            return Ok(());
        };
        let m = crate::metrics::metrics();
        match read_rules(path) {
            Ok(rules) => {
                if let Ok(mut r) = self.current.write() {
                    *r = Arc::new(rules);
                }
                m.rules_reloads_ok.increment(1);
                tracing::info!(path = %path.display(), "rules reloaded");
                Ok(())
            }
            Err(e) => {
                m.rules_reloads_failed.increment(1);
                tracing::error!(error = %e, "rules reload refused; the previous rules stay in force");
                Err(e)
            }
        }
    }
}

fn read_rules(path: &std::path::Path) -> Result<Rules, IngestError> {
    let text = std::fs::read_to_string(path).map_err(|e| IngestError::RulesUnreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Rules::from_toml(&text).map_err(|source| IngestError::Rules {
        path: path.display().to_string(),
        source,
    })
}

/// Everything ingest shares: cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    pub settings: Arc<IngestSettings>,
    pub rules: RulesHandle,
    pub correlator: Correlator,
    pub dead_letters: DeadLetters,
    pub queue: Queue,
    pub pool: PgPool,
    pub keys: TokenKeys,
    pub identity: Identity,
}

impl Ingest {
    /// Loads the rules (refusing a broken file) and starts the workers.
    /// Binds no socket: see [`Ingest::listen`].
    pub fn start(
        settings: &IngestSettings,
        pool: PgPool,
        store: TicketStore,
        keys: TokenKeys,
        identity: Identity,
    ) -> Result<Ingest, IngestError> {
        let rules = RulesHandle::load(settings.rules_file.clone())?;
        let _ = crate::metrics::metrics();
        let correlator = Correlator::new(
            store,
            crate::correlate::Limits {
                window: Duration::from_millis(settings.correlation_window_ms),
                batch_max: settings.correlation_batch_max,
                max_fingerprints: settings.correlation_max_fingerprints,
                storm: crate::storm::StormLimits {
                    tickets_per_rule: settings.storm_tickets_per_rule,
                    interval: Duration::from_secs(settings.storm_interval_secs),
                },
            },
        );
        let dead_letters = DeadLetters::start(
            pool.clone(),
            crate::dead_letters::Bounds {
                max_rows: settings.dead_letter_max_rows,
                max_bytes: settings.dead_letter_max_bytes,
            },
        );
        let (queue, rx) = queue(settings.queue_size, settings.queue_max_bytes);
        for _ in 0..settings.workers {
            tokio::spawn(worker(
                rx.clone(),
                rules.clone(),
                settings.syslog_timezone,
                correlator.clone(),
                dead_letters.clone(),
            ));
        }
        Ok(Ingest {
            settings: Arc::new(settings.clone()),
            rules,
            correlator,
            dead_letters,
            queue,
            pool,
            keys,
            identity,
        })
    }

    /// Binds the syslog listeners and serves them until `shutdown`; also
    /// exports the kernel's UDP errors and reloads the rules on SIGHUP.
    pub async fn listen(
        &self,
        udp: SocketAddr,
        tcp: SocketAddr,
        shutdown: Shutdown,
    ) -> Result<Listeners, IngestError> {
        let s = &self.settings;
        let tls = match (&s.tls_cert, &s.tls_key) {
            (Some(c), Some(k)) => {
                Some(crate::listener::tls_acceptor(c, k).map_err(IngestError::Tls)?)
            }
            _ => None,
        };
        let (udp_socket, rcvbuf) =
            crate::listener::bind_udp(udp, s.udp_rcvbuf_bytes).map_err(|source| {
                IngestError::Bind {
                    what: "UDP",
                    addr: udp,
                    source,
                }
            })?;
        let tcp_listener =
            tokio::net::TcpListener::bind(tcp)
                .await
                .map_err(|source| IngestError::Bind {
                    what: "TCP",
                    addr: tcp,
                    source,
                })?;
        let bound = Listeners {
            udp: udp_socket
                .local_addr()
                .map_err(|source| IngestError::Bind {
                    what: "UDP",
                    addr: udp,
                    source,
                })?,
            tcp: tcp_listener
                .local_addr()
                .map_err(|source| IngestError::Bind {
                    what: "TCP",
                    addr: tcp,
                    source,
                })?,
            tls: tls.is_some(),
            udp_rcvbuf: rcvbuf,
        };
        tracing::info!(udp = %bound.udp, tcp = %bound.tcp, tls = bound.tls, rcvbuf, "syslog listening");
        if !s.allowed_senders.is_empty() {
            tracing::info!(allowed = ?s.allowed_senders, "syslog taken only from the allowed sender networks");
        }
        let senders = Senders::new(
            s.allowed_senders.clone(),
            s.peer_rate,
            s.tcp_max_connections_per_peer,
        );
        tokio::spawn(crate::listener::run_udp(
            udp_socket,
            self.queue.clone(),
            senders.clone(),
            crate::pipeline::Handler {
                rules: self.rules.clone(),
                offset: s.syslog_timezone,
                correlator: self.correlator.clone(),
                dead: self.dead_letters.clone(),
            },
            shutdown.clone(),
        ));
        tokio::spawn(crate::listener::run_tcp(
            tcp_listener,
            tls,
            self.queue.clone(),
            senders,
            crate::listener::TcpLimits {
                max_frame: s.max_frame_bytes,
                idle_timeout: Duration::from_secs(s.tcp_idle_timeout_secs.max(1)),
            },
            shutdown.clone(),
        ));
        tokio::spawn(crate::metrics::export_kernel_udp_errors(shutdown.clone()));
        self.reload_on_sighup(shutdown.clone());
        let correlator = self.correlator.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            correlator.drain().await;
        });
        Ok(bound)
    }

    #[cfg(unix)]
    fn reload_on_sighup(&self, shutdown: Shutdown) {
        use tokio::signal::unix::{signal, SignalKind};
        let rules = self.rules.clone();
        match signal(SignalKind::hangup()) {
            Ok(mut hup) => {
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            s = hup.recv() => if s.is_none() { return },
                        }
                        tracing::info!("SIGHUP: reloading the rules");
                        let _ = rules.reload();
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP; rules reload disabled"),
        }
    }

    #[cfg(not(unix))]
    fn reload_on_sighup(&self, _: Shutdown) {}
}

/// Where the syslog listeners ended up (port 0 picks one).
#[derive(Debug, Clone, Copy)]
pub struct Listeners {
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
    pub tls: bool,
    pub udp_rcvbuf: usize,
}
