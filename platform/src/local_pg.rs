//! A private PostgreSQL cluster for `ticketera serve` when `DATABASE_URL` is
//! unset (README.md, "Configuration"): made with the PostgreSQL
//! server binaries found on the machine, kept under `TICKETERA_DATA_DIR`.
//!
//! Layout (the cluster root is `<data_dir>/pg`, or
//! `/var/tmp/ticketera-pg-<hash of data_dir>` when the unprivileged user that
//! runs the server as root cannot traverse to `data_dir`):
//!
//! - `<root>/data`: the data directory (`PGDATA`), made by `initdb`;
//! - `<root>/run`: the Unix socket directory;
//! - `<root>/postgres.log`: the server log;
//! - `<data_dir>/postgres.port`: the TCP port, kept so the URL stays stable;
//! - `<data_dir>/postgres.password`: the superuser's password (0600).
//!
//! The server listens on 127.0.0.1 and a 0700 socket directory, and asks
//! every connection, local or TCP, for the superuser `ticketera`'s password
//! (SCRAM-SHA-256): another local account cannot connect as superuser (and
//! read the signing keys) just because it can reach the port. A cluster made
//! by an older version with `trust` is moved to SCRAM at its next start.

use std::ffi::{CString, OsStr};
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection};

/// Superuser made by `initdb`, and the user in [`LocalPostgres::database_url`].
const USER: &str = "ticketera";
/// The application database, created when missing.
const DATABASE: &str = "ticketera";
/// File in `data_dir` that keeps the chosen port across runs.
const PORT_FILE: &str = "postgres.port";
/// File in `data_dir` holding the superuser's password (0600).
const PASSWORD_FILE: &str = "postgres.password";
/// `pg_hba.conf` of the private cluster: a password for every connection.
const HBA: &str = "# Written by ticketera: every connection gives the superuser's password.\n\
local all all scram-sha-256\n\
host all all 127.0.0.1/32 scram-sha-256\n\
host all all ::1/128 scram-sha-256\n";
/// Settings file in `PGDATA`, rewritten before every start.
const SETTINGS_FILE: &str = "ticketera.conf";
/// How long the server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on `initdb` (it syncs the new cluster to disk).
const INITDB_TIMEOUT: Duration = Duration::from_secs(300);
/// Bound on `pg_ctl` calls that are not themselves bounded by `-t`.
const PG_CTL_TIMEOUT: Duration = Duration::from_secs(60);
/// `sun_path` holds 108 bytes; the socket is `<dir>/.s.PGSQL.<port>.lock` at
/// worst, so longer socket directories fall back to TCP only.
const SOCKET_DIR_MAX_LEN: usize = 85;
/// Ports are picked in 15432..25432, outside the usual ephemeral range.
const PORT_BASE: u16 = 15432;
const PORT_SPAN: u16 = 10000;

#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    #[error(
        "DATABASE_URL is unset and the PostgreSQL server binaries (initdb, pg_ctl, postgres) \
         were not found in PATH nor in /usr/lib/postgresql/<version>/bin: install the Debian \
         package postgresql (apt-get install postgresql), or set DATABASE_URL to an existing \
         PostgreSQL server"
    )]
    BinariesNotFound,
    #[error(
        "the private PostgreSQL cluster in {} was made by PostgreSQL {cluster}, but only \
         PostgreSQL {found} server binaries were found: install the matching Debian package \
         (apt-get install postgresql-{cluster}), or move {} away to start a new, empty cluster",
        pgdata.display(), pgdata.display()
    )]
    VersionMismatch {
        pgdata: PathBuf,
        cluster: String,
        found: String,
    },
    #[error(
        "running as root, which PostgreSQL refuses, and neither user `postgres` nor user \
         `nobody` exists to run the private cluster as: create one (useradd --system postgres), \
         run ticketera as an unprivileged user, or set DATABASE_URL"
    )]
    NoUnprivilegedUser,
    #[error(
        "{} is in the way of the private PostgreSQL cluster: {reason}; remove it, or set \
         TICKETERA_DATA_DIR to another directory",
        path.display()
    )]
    InTheWay { path: PathBuf, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("`{command}` failed ({status}){details}")]
    Command {
        command: String,
        status: String,
        details: String,
    },
    #[error(
        "the private PostgreSQL on 127.0.0.1:{port} did not accept connections within {secs} s \
         (last error: {last_error}); see the server log {}",
        log.display()
    )]
    NotReady {
        port: u16,
        secs: u64,
        last_error: String,
        log: PathBuf,
    },
    #[error("cannot create database `ticketera` in the private PostgreSQL on 127.0.0.1:{port}: {source}")]
    CreateDatabase {
        port: u16,
        #[source]
        source: sqlx::Error,
    },
    #[error("internal error while preparing the private PostgreSQL cluster: {0}")]
    Join(String),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> LocalPgError {
    let context = context.into();
    move |source| LocalPgError::Io { context, source }
}

/// The unprivileged account that runs the server when ticketera runs as root.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

/// A running private PostgreSQL cluster. Stopped by [`LocalPostgres::stop`],
/// or best-effort (without waiting) when dropped.
#[derive(Debug)]
pub struct LocalPostgres {
    data_dir: PathBuf,
    root: PathBuf,
    pgdata: PathBuf,
    log_file: PathBuf,
    bin_dir: PathBuf,
    version: String,
    port: u16,
    password: String,
    run_as: Option<RunAs>,
    stopped: bool,
    adopted: bool,
}

/// What the blocking preparation hands to the async part of `start`.
struct Prepared {
    password: String,
    data_dir: PathBuf,
    root: PathBuf,
    pgdata: PathBuf,
    socket_dir: Option<PathBuf>,
    log_file: PathBuf,
    bin_dir: PathBuf,
    version: String,
    run_as: Option<RunAs>,
    initialized: bool,
}

impl LocalPostgres {
    /// Finds the server binaries (PATH first, then the newest
    /// `/usr/lib/postgresql/<version>/bin`), initializes the cluster on first
    /// run and reuses it after, starts it on 127.0.0.1 (or adopts a server a
    /// previous run left running), waits until it accepts connections and
    /// creates the database `ticketera` when missing.
    pub async fn start(data_dir: &Path) -> Result<LocalPostgres, LocalPgError> {
        let data_dir = data_dir.to_path_buf();
        let prepared = tokio::task::spawn_blocking(move || prepare(&data_dir))
            .await
            .map_err(|e| LocalPgError::Join(e.to_string()))??;

        if !prepared.initialized {
            initdb(&prepared).await?;
        }

        let pid_file = prepared.pgdata.join("postmaster.pid");
        let running = pid_file.exists() && server_running(&prepared).await?;
        let port = if running {
            let port = port_from_pid_file(&pid_file)?;
            tracing::info!(
                pgdata = %prepared.pgdata.display(),
                port,
                "reusing the private PostgreSQL server a previous run left running"
            );
            port
        } else {
            start_server(&prepared).await?
        };
        if let Err(e) = fs::write(prepared.data_dir.join(PORT_FILE), format!("{port}\n")) {
            tracing::warn!(
                file = %prepared.data_dir.join(PORT_FILE).display(),
                error = %e,
                "cannot remember the private PostgreSQL port; the next run may pick another"
            );
        }

        // From here on, dropping `pg` (on error) stops the server again.
        let pg = LocalPostgres {
            data_dir: prepared.data_dir,
            root: prepared.root,
            pgdata: prepared.pgdata,
            log_file: prepared.log_file,
            bin_dir: prepared.bin_dir,
            version: prepared.version,
            port,
            password: prepared.password,
            run_as: prepared.run_as,
            stopped: false,
            adopted: running,
        };
        pg.require_passwords().await?;
        pg.ensure_database().await?;
        tracing::info!(
            version = %pg.version,
            pgdata = %pg.pgdata.display(),
            log = %pg.log_file.display(),
            port,
            "DATABASE_URL is unset: using the private PostgreSQL cluster on 127.0.0.1:{port}, database {DATABASE}"
        );
        Ok(pg)
    }

    /// `postgres://ticketera:<password>@127.0.0.1:<port>/ticketera` (the
    /// password is URL-safe base64).
    pub fn database_url(&self) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{DATABASE}",
            self.password, self.port
        )
    }

    fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(USER)
            .password(&self.password)
            .database(database)
            .ssl_mode(PgSslMode::Disable)
            .application_name("ticketera-local-pg")
            .disable_statement_logging()
    }

    /// A cluster made with `trust` (older versions): sets the password and
    /// moves `pg_hba.conf` to SCRAM, then reloads. Trust still lets this
    /// first connection in; after the reload nothing connects without it.
    async fn require_passwords(&self) -> Result<(), LocalPgError> {
        let hba = self.pgdata.join("pg_hba.conf");
        let text =
            fs::read_to_string(&hba).map_err(io_err(format!("cannot read {}", hba.display())))?;
        let trusts = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .any(|l| l.split_whitespace().any(|w| w == "trust"));
        if !trusts {
            return Ok(());
        }
        tracing::info!(pgdata = %self.pgdata.display(), "the private cluster trusted local connections: moving it to passwords (SCRAM)");
        let mut conn = self.connect_when_ready("postgres").await?;
        let fail = |source| LocalPgError::CreateDatabase {
            port: self.port,
            source,
        };
        // ALTER ROLE takes no parameters: quote the value in the server.
        let alter: String =
            sqlx::query_scalar("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)")
                .bind(USER)
                .bind(&self.password)
                .fetch_one(&mut conn)
                .await
                .map_err(fail)?;
        sqlx::raw_sql(&alter)
            .execute(&mut conn)
            .await
            .map_err(fail)?;
        write_owned(&hba, HBA, self.run_as.as_ref())?;
        sqlx::query("SELECT pg_reload_conf()")
            .execute(&mut conn)
            .await
            .map_err(fail)?;
        let _ = conn.close().await;
        Ok(())
    }

    async fn connect_when_ready(&self, database: &str) -> Result<sqlx::PgConnection, LocalPgError> {
        let options = self.connect_options(database);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let attempt = tokio::time::timeout(Duration::from_secs(5), options.connect()).await;
            let last_error = match attempt {
                Ok(Ok(conn)) => return Ok(conn),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "connection attempt timed out".to_owned(),
            };
            if Instant::now() >= deadline {
                return Err(LocalPgError::NotReady {
                    port: self.port,
                    secs: READY_TIMEOUT.as_secs(),
                    last_error,
                    log: self.log_file.clone(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's data directory (`PGDATA`).
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// The server log.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The directory of the server binaries in use.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Whether the server was already running (another `ticketera`
    /// process, or a run that died) rather than started here.
    pub fn adopted(&self) -> bool {
        self.adopted
    }

    /// Leaves the server running for whoever else uses it.
    pub fn release(mut self) {
        self.stopped = true;
    }

    /// Stops the server (`pg_ctl stop -m fast`), waiting up to 30 s.
    pub async fn stop(mut self) -> Result<(), LocalPgError> {
        self.stopped = true;
        if !self.pgdata.join("postmaster.pid").exists() {
            return Ok(());
        }
        tracing::info!(pgdata = %self.pgdata.display(), port = self.port, "stopping the private PostgreSQL server");
        let mut cmd = base_command(
            &self.bin_dir.join("pg_ctl"),
            self.run_as.as_ref(),
            &self.root,
        );
        cmd.arg("stop")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "-t", "30", "-s"]);
        let output = run(cmd, "pg_ctl stop", PG_CTL_TIMEOUT).await?;
        if output.status.success() {
            return Ok(());
        }
        // Exit status 3 from `pg_ctl status`: already stopped by someone else.
        let mut status = base_command(
            &self.bin_dir.join("pg_ctl"),
            self.run_as.as_ref(),
            &self.root,
        );
        status.arg("status").arg("-D").arg(&self.pgdata);
        let still_running = run(status, "pg_ctl status", PG_CTL_TIMEOUT)
            .await?
            .status
            .success();
        if still_running {
            Err(command_failed(
                "pg_ctl stop -m fast",
                &output,
                tail_since(&self.log_file, None),
            ))
        } else {
            Ok(())
        }
    }

    async fn ensure_database(&self) -> Result<(), LocalPgError> {
        let mut conn = self.connect_when_ready("postgres").await?;
        let create = |source| LocalPgError::CreateDatabase {
            port: self.port,
            source,
        };
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DATABASE)
                .fetch_one(&mut conn)
                .await
                .map_err(create)?;
        if !exists {
            tracing::info!(
                port = self.port,
                "creating database {DATABASE} in the private PostgreSQL cluster"
            );
            match sqlx::raw_sql("CREATE DATABASE ticketera")
                .execute(&mut conn)
                .await
            {
                Ok(_) => {}
                // 42P04 duplicate_database: a concurrent start created it.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                Err(e) => return Err(create(e)),
            }
        }
        let _ = conn.close().await;
        Ok(())
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        if self.stopped || !self.pgdata.join("postmaster.pid").exists() {
            return;
        }
        tracing::info!(pgdata = %self.pgdata.display(), "stopping the private PostgreSQL server (on drop, not waiting)");
        let mut cmd = base_command(
            &self.bin_dir.join("pg_ctl"),
            self.run_as.as_ref(),
            &self.root,
        );
        cmd.arg("stop")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-W", "-s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Err(e) = cmd.status() {
            tracing::warn!(error = %e, data_dir = %self.data_dir.display(), "cannot stop the private PostgreSQL server");
        }
    }
}

// ---------------------------------------------------------------------------
// Blocking preparation: directories, ownership, binaries.

fn prepare(data_dir: &Path) -> Result<Prepared, LocalPgError> {
    fs::create_dir_all(data_dir).map_err(io_err(format!(
        "cannot create TICKETERA_DATA_DIR {}",
        data_dir.display()
    )))?;
    let data_dir = fs::canonicalize(data_dir).map_err(io_err(format!(
        "cannot resolve TICKETERA_DATA_DIR {}",
        data_dir.display()
    )))?;
    let run_as = pick_run_as()?;

    let mut relocated = false;
    let root = match &run_as {
        Some(who) if !can_traverse(&data_dir, who) => {
            relocated = true;
            let root = PathBuf::from(format!("/var/tmp/ticketera-pg-{}", path_hash(&data_dir)));
            tracing::info!(
                data_dir = %data_dir.display(),
                user = %who.name,
                cluster = %root.display(),
                "PostgreSQL cannot run as root and user {} cannot reach the data directory: keeping the private cluster in {} instead",
                who.name,
                root.display()
            );
            root
        }
        _ => data_dir.join("pg"),
    };
    ensure_owned_dir(&root, run_as.as_ref(), relocated)?;

    let pgdata = root.join("data");
    let cluster_version = match fs::read_to_string(pgdata.join("PG_VERSION")) {
        Ok(v) => Some(v.trim().to_owned()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(io_err(format!(
                "cannot read {}",
                pgdata.join("PG_VERSION").display()
            ))(e))
        }
    };
    if cluster_version.is_none() && pgdata.exists() {
        let empty = fs::read_dir(&pgdata)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(LocalPgError::InTheWay {
                path: pgdata,
                reason: "it is not empty and holds no PostgreSQL cluster (no PG_VERSION; an \
                         interrupted initdb?)"
                    .to_owned(),
            });
        }
    }
    let (bin_dir, version) = find_binaries(cluster_version.as_deref(), &pgdata)?;

    let socket_dir = root.join("run");
    let socket_dir = if socket_dir.as_os_str().len() <= SOCKET_DIR_MAX_LEN {
        ensure_owned_dir(&socket_dir, run_as.as_ref(), false)?;
        Some(socket_dir)
    } else {
        tracing::info!(
            dir = %socket_dir.display(),
            "path too long for a Unix socket: the private PostgreSQL listens on TCP only"
        );
        None
    };

    let password = superuser_password(&data_dir)?;
    Ok(Prepared {
        password,
        log_file: root.join("postgres.log"),
        data_dir,
        root,
        pgdata,
        socket_dir,
        bin_dir,
        version,
        run_as,
        initialized: cluster_version.is_some(),
    })
}

/// The superuser's password from `<data_dir>/postgres.password`, made (0600)
/// on first use.
fn superuser_password(data_dir: &Path) -> Result<String, LocalPgError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join(PASSWORD_FILE);
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            let password = crate::auth::passwords::generate_secret(24);
            file.write_all(password.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io_err(format!("cannot write {}", path.display())))?;
            Ok(password)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(&path)
                .map_err(io_err(format!("cannot read {}", path.display())))?;
            let password = text.trim().to_owned();
            if password.is_empty() {
                return Err(LocalPgError::InTheWay {
                    path,
                    reason: "it is empty: delete it only together with the cluster".to_owned(),
                });
            }
            Ok(password)
        }
        Err(e) => Err(io_err(format!("cannot create {}", path.display()))(e)),
    }
}

/// Writes `text` to `path` (0600), owned by the server's account.
fn write_owned(path: &Path, text: &str, run_as: Option<&RunAs>) -> Result<(), LocalPgError> {
    use std::os::unix::fs::PermissionsExt;

    fs::write(path, text).map_err(io_err(format!("cannot write {}", path.display())))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(io_err(format!("cannot restrict {}", path.display())))?;
    if let Some(who) = run_as {
        std::os::unix::fs::chown(path, Some(who.uid), Some(who.gid)).map_err(io_err(format!(
            "cannot hand {} over to user {}",
            path.display(),
            who.name
        )))?;
    }
    Ok(())
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `(uid, gid)` of a local user, through NSS.
fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let cname = CString::new(name).ok()?;
    // SAFETY: `passwd` is plain data; all-zero is a valid (empty) value.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf: Vec<libc::c_char> = vec![0; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and `buf.len()` is its size;
    // the strings written into `buf` are not used after it.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return None;
    }
    Some((pwd.pw_uid, pwd.pw_gid))
}

fn pick_run_as() -> Result<Option<RunAs>, LocalPgError> {
    if euid() != 0 {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Some((uid, gid)) = lookup_user(name) {
            if uid != 0 {
                return Ok(Some(RunAs {
                    name: name.to_owned(),
                    uid,
                    gid,
                }));
            }
        }
    }
    Err(LocalPgError::NoUnprivilegedUser)
}

/// Whether `who` (with its primary group only, as the server runs) may
/// search every directory from `/` down to `dir`.
fn can_traverse(dir: &Path, who: &RunAs) -> bool {
    dir.ancestors().all(|d| match fs::metadata(d) {
        Ok(m) => {
            let bit = if m.uid() == who.uid {
                0o100
            } else if m.gid() == who.gid {
                0o010
            } else {
                0o001
            };
            m.is_dir() && m.mode() & bit != 0
        }
        Err(_) => false,
    })
}

fn path_hash(path: &Path) -> String {
    let digest = Sha256::digest(path.as_os_str().as_bytes());
    hex::encode(&digest[..8])
}

/// Makes `dir` a real directory (not a link) owned by the user that runs the
/// server, mode 0700 when created.
fn ensure_owned_dir(
    dir: &Path,
    run_as: Option<&RunAs>,
    shared_parent: bool,
) -> Result<(), LocalPgError> {
    let want_uid = run_as.map_or_else(euid, |w| w.uid);
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .map_err(io_err(format!("cannot create {}", dir.display())))?;
            if let Some(who) = run_as {
                std::os::unix::fs::chown(dir, Some(who.uid), Some(who.gid)).map_err(io_err(
                    format!("cannot hand {} over to user {}", dir.display(), who.name),
                ))?;
            }
            Ok(())
        }
        Err(e) => Err(io_err(format!("cannot inspect {}", dir.display()))(e)),
        Ok(m) if !m.is_dir() => Err(LocalPgError::InTheWay {
            path: dir.to_path_buf(),
            reason: "it is not a directory (or is a symbolic link)".to_owned(),
        }),
        Ok(m) if m.uid() == want_uid => Ok(()),
        Ok(m) => match run_as {
            // In a world-writable parent, only adopt what root made.
            Some(who) if !shared_parent || m.uid() == 0 => {
                tracing::info!(dir = %dir.display(), user = %who.name, "handing the private PostgreSQL cluster over to user {}", who.name);
                chown_recursive(dir, who)
            }
            Some(who) => Err(LocalPgError::InTheWay {
                path: dir.to_path_buf(),
                reason: format!("it is owned by uid {}, neither root nor user {}", m.uid(), who.name),
            }),
            None => Err(LocalPgError::InTheWay {
                path: dir.to_path_buf(),
                reason: format!(
                    "it is owned by uid {}, not by the current user (uid {want_uid}); run ticketera \
                     as that user (or as root)",
                    m.uid()
                ),
            }),
        },
    }
}

fn chown_recursive(dir: &Path, who: &RunAs) -> Result<(), LocalPgError> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        std::os::unix::fs::lchown(&path, Some(who.uid), Some(who.gid)).map_err(io_err(format!(
            "cannot hand {} over to user {}",
            path.display(),
            who.name
        )))?;
        let meta = fs::symlink_metadata(&path)
            .map_err(io_err(format!("cannot inspect {}", path.display())))?;
        if meta.is_dir() {
            for entry in
                fs::read_dir(&path).map_err(io_err(format!("cannot list {}", path.display())))?
            {
                let entry = entry.map_err(io_err(format!("cannot list {}", path.display())))?;
                pending.push(entry.path());
            }
        }
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|b| is_executable(&dir.join(b)))
}

/// `<prefix><version>/bin` directories under `parent`, newest first.
fn versioned_dirs(parent: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let version = name.to_str()?.strip_prefix(prefix)?;
            let parts: Option<Vec<u32>> = version.split('.').map(|p| p.parse().ok()).collect();
            Some((parts?, entry.path().join("bin")))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, dir)| dir).collect()
}

/// Directories holding initdb, pg_ctl and postgres, in order of preference:
/// PATH (a symlinked `initdb` counts for its real directory), then the
/// newest versioned installation.
fn candidate_bin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if !is_executable(&initdb) {
                continue;
            }
            if let Some(real) = fs::canonicalize(&initdb)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
            {
                dirs.push(real);
            }
            dirs.push(dir);
        }
    }
    dirs.extend(versioned_dirs(Path::new("/usr/lib/postgresql"), ""));
    dirs.extend(versioned_dirs(Path::new("/usr"), "pgsql-"));
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    let mut unique: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if dir.is_absolute() && !unique.contains(&dir) && has_server_binaries(&dir) {
            unique.push(dir);
        }
    }
    unique
}

/// The major version of the `postgres` binary in `dir` ("15", "9.6").
fn server_major_version(dir: &Path) -> Option<String> {
    let output = Command::new(dir.join("postgres"))
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .split("(PostgreSQL)")
        .nth(1)?
        .split_whitespace()
        .next()?;
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next()?.parse().ok()?;
    if major >= 10 {
        Some(major.to_string())
    } else {
        Some(format!("{major}.{}", parts.next()?))
    }
}

fn find_binaries(
    cluster_version: Option<&str>,
    pgdata: &Path,
) -> Result<(PathBuf, String), LocalPgError> {
    let candidates = candidate_bin_dirs();
    let mut found = Vec::new();
    for dir in candidates {
        let Some(version) = server_major_version(&dir) else {
            continue;
        };
        match cluster_version {
            Some(wanted) if wanted != version => found.push(version),
            _ => return Ok((dir, version)),
        }
    }
    match cluster_version {
        Some(cluster) if !found.is_empty() => {
            found.dedup();
            Err(LocalPgError::VersionMismatch {
                pgdata: pgdata.to_path_buf(),
                cluster: cluster.to_owned(),
                found: found.join(", "),
            })
        }
        _ => Err(LocalPgError::BinariesNotFound),
    }
}

// ---------------------------------------------------------------------------
// Processes.

/// A command for a PostgreSQL binary, as the unprivileged user when there is
/// one, in `cwd`, without the caller's libpq environment.
fn base_command(program: &Path, run_as: Option<&RunAs>, cwd: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.as_bytes().starts_with(b"PG") {
            cmd.env_remove(key);
        }
    }
    if let Some(who) = run_as {
        // std drops supplementary groups when root changes the uid.
        cmd.uid(who.uid).gid(who.gid);
        cmd.env("USER", &who.name)
            .env("LOGNAME", &who.name)
            .env("HOME", cwd);
    }
    cmd
}

async fn run(cmd: Command, what: &str, limit: Duration) -> Result<Output, LocalPgError> {
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match tokio::time::timeout(limit, cmd.output()).await {
        Ok(result) => result.map_err(io_err(format!("cannot run {what}"))),
        Err(_) => Err(LocalPgError::Command {
            command: what.to_owned(),
            status: format!("no answer within {} s", limit.as_secs()),
            details: String::new(),
        }),
    }
}

fn command_failed(what: &str, output: &Output, log_tail: Option<String>) -> LocalPgError {
    let mut details = String::new();
    for stream in [&output.stderr, &output.stdout] {
        let text = String::from_utf8_lossy(stream);
        if !text.trim().is_empty() {
            details.push_str(": ");
            details.push_str(text.trim());
        }
    }
    if let Some(tail) = log_tail.filter(|t| !t.trim().is_empty()) {
        details.push_str("\nserver log:\n");
        details.push_str(tail.trim_end());
    }
    LocalPgError::Command {
        command: what.to_owned(),
        status: output.status.to_string(),
        details,
    }
}

/// The last lines of the server log written since `from` (a byte offset).
fn tail_since(log: &Path, from: Option<u64>) -> Option<String> {
    let mut file = fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    let start = from.unwrap_or(0).min(len).max(len.saturating_sub(8192));
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    Some(lines[lines.len().saturating_sub(20)..].join("\n"))
}

async fn initdb(p: &Prepared) -> Result<(), LocalPgError> {
    tracing::info!(
        version = %p.version,
        pgdata = %p.pgdata.display(),
        user = p.run_as.as_ref().map_or("(current user)", |w| w.name.as_str()),
        "initializing the private PostgreSQL cluster"
    );
    // initdb reads the password from a file the server's account can read;
    // it is gone once initdb is done.
    let pwfile = p.root.join(".initdb-password");
    write_owned(&pwfile, &p.password, p.run_as.as_ref())?;
    let mut cmd = base_command(&p.bin_dir.join("initdb"), p.run_as.as_ref(), &p.root);
    cmd.arg("-D")
        .arg(&p.pgdata)
        .args([
            "-U",
            USER,
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        ])
        .arg(format!("--pwfile={}", pwfile.display()));
    let output = run(cmd, "initdb", INITDB_TIMEOUT).await;
    let _ = fs::remove_file(&pwfile);
    let output = output?;
    if !output.status.success() {
        return Err(command_failed("initdb", &output, None));
    }
    let conf = p.pgdata.join("postgresql.conf");
    let mut text =
        fs::read_to_string(&conf).map_err(io_err(format!("cannot read {}", conf.display())))?;
    if !text.contains(SETTINGS_FILE) {
        text.push_str(&format!(
            "\n# Added by ticketera: port, listen address and socket directory, rewritten on every start.\ninclude_if_exists = '{SETTINGS_FILE}'\n"
        ));
        fs::write(&conf, text).map_err(io_err(format!("cannot write {}", conf.display())))?;
    }
    Ok(())
}

async fn server_running(p: &Prepared) -> Result<bool, LocalPgError> {
    let mut cmd = base_command(&p.bin_dir.join("pg_ctl"), p.run_as.as_ref(), &p.root);
    cmd.arg("status").arg("-D").arg(&p.pgdata);
    Ok(run(cmd, "pg_ctl status", PG_CTL_TIMEOUT)
        .await?
        .status
        .success())
}

/// The port of a running server: line 4 of `postmaster.pid`.
fn port_from_pid_file(pid_file: &Path) -> Result<u16, LocalPgError> {
    let text = fs::read_to_string(pid_file)
        .map_err(io_err(format!("cannot read {}", pid_file.display())))?;
    text.lines()
        .nth(3)
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| LocalPgError::InTheWay {
            path: pid_file.to_path_buf(),
            reason: "it names no port; stop that server (pg_ctl stop -D <its data directory>)"
                .to_owned(),
        })
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The remembered port when free, else a free port derived from the data
/// directory (stable across runs), else any free port.
fn choose_port(data_dir: &Path, avoid: &[u16]) -> Result<u16, LocalPgError> {
    let remembered: Option<u16> = fs::read_to_string(data_dir.join(PORT_FILE))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .filter(|p| *p != 0);
    if let Some(port) = remembered {
        if !avoid.contains(&port) && port_free(port) {
            return Ok(port);
        }
        tracing::info!(
            port,
            "the private PostgreSQL's previous port is taken; choosing another"
        );
    }
    let digest = Sha256::digest(data_dir.as_os_str().as_bytes());
    let offset = u16::from_be_bytes([digest[0], digest[1]]) % PORT_SPAN;
    for i in 0..200u16 {
        let port = PORT_BASE + (offset + i) % PORT_SPAN;
        if !avoid.contains(&port) && port_free(port) {
            return Ok(port);
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(io_err("cannot find a free TCP port on 127.0.0.1"))?;
    let port = listener
        .local_addr()
        .map_err(io_err("cannot find a free TCP port on 127.0.0.1"))?
        .port();
    Ok(port)
}

/// `postgresql.conf` string literal.
fn conf_string(value: &OsStr) -> String {
    let text = value
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('\'', "''");
    format!("'{text}'")
}

fn write_settings(p: &Prepared, port: u16) -> Result<(), LocalPgError> {
    let sockets = p
        .socket_dir
        .as_ref()
        .map_or_else(|| "''".to_owned(), |d| conf_string(d.as_os_str()));
    let text = format!(
        "# Written by ticketera before every start of the private cluster; edits are lost.\n\
         listen_addresses = '127.0.0.1'\n\
         port = {port}\n\
         unix_socket_directories = {sockets}\n\
         unix_socket_permissions = 0700\n"
    );
    let path = p.pgdata.join(SETTINGS_FILE);
    fs::write(&path, text).map_err(io_err(format!("cannot write {}", path.display())))?;
    if let Some(who) = &p.run_as {
        std::os::unix::fs::chown(&path, Some(who.uid), Some(who.gid)).map_err(io_err(format!(
            "cannot hand {} over to user {}",
            path.display(),
            who.name
        )))?;
    }
    Ok(())
}

async fn start_server(p: &Prepared) -> Result<u16, LocalPgError> {
    let mut tried = Vec::new();
    loop {
        let port = choose_port(&p.data_dir, &tried)?;
        write_settings(p, port)?;
        tracing::info!(
            pgdata = %p.pgdata.display(),
            log = %p.log_file.display(),
            port,
            "starting the private PostgreSQL server on 127.0.0.1:{port}"
        );
        let log_start = fs::metadata(&p.log_file).map(|m| m.len()).ok();
        let mut cmd = base_command(&p.bin_dir.join("pg_ctl"), p.run_as.as_ref(), &p.root);
        cmd.arg("start")
            .arg("-D")
            .arg(&p.pgdata)
            .arg("-l")
            .arg(&p.log_file)
            .args(["-w", "-t", &READY_TIMEOUT.as_secs().to_string(), "-s"]);
        let output = run(cmd, "pg_ctl start", READY_TIMEOUT + PG_CTL_TIMEOUT).await?;
        if output.status.success() {
            return Ok(port);
        }
        let tail = tail_since(&p.log_file, log_start);
        let port_clash = tail
            .as_deref()
            .is_some_and(|t| t.contains("Address already in use"));
        tried.push(port);
        if !port_clash || tried.len() >= 3 {
            return Err(command_failed("pg_ctl start", &output, tail));
        }
        tracing::info!(port, "port taken meanwhile; retrying on another");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg_root(dir: &Path) -> PathBuf {
        let local = dir.join("pg");
        if local.join("data").exists() {
            local
        } else {
            PathBuf::from(format!(
                "/var/tmp/ticketera-pg-{}",
                path_hash(&fs::canonicalize(dir).expect("dir"))
            ))
        }
    }

    #[tokio::test]
    async fn starts_restarts_and_stops_a_private_cluster() {
        let dir = std::env::temp_dir().join(uuid::Uuid::new_v4().to_string());

        let pg = LocalPostgres::start(&dir).await.expect("first start");
        let url = pg.database_url();
        assert!(url.starts_with("postgres://ticketera:"), "{url}");
        assert!(url.contains("@127.0.0.1:"), "{url}");
        // Without the password nothing connects, over TCP or the socket.
        let port = pg.port();
        let no_password = format!("postgres://ticketera@127.0.0.1:{port}/ticketera");
        assert!(
            sqlx::PgPool::connect(&no_password).await.is_err(),
            "TCP without a password"
        );
        let wrong = format!("postgres://ticketera:wrong@127.0.0.1:{port}/ticketera");
        assert!(
            sqlx::PgPool::connect(&wrong).await.is_err(),
            "a wrong password"
        );
        let socket = PgConnectOptions::new()
            .socket(pg_root(&dir).join("run"))
            .port(port)
            .username(USER)
            .database(DATABASE);
        assert!(
            socket.connect().await.is_err(),
            "the socket without a password"
        );
        let conn = socket
            .clone()
            .password(&pg.password)
            .connect()
            .await
            .expect("the socket with the password");
        let _ = conn.close().await;
        let mode = fs::metadata(dir.join(PASSWORD_FILE))
            .expect("password file")
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert!(url.ends_with("/ticketera"), "{url}");
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&pool)
            .await
            .expect("select");
        assert_eq!(one, 1);
        pool.close().await;
        pg.stop().await.expect("first stop");
        // As an older version left it: trusting every local connection.
        let hba = pg_root(&dir).join("data/pg_hba.conf");
        fs::write(
            &hba,
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        )
        .expect("trust");

        let pg = LocalPostgres::start(&dir)
            .await
            .expect("second start (reuse)");
        assert_eq!(pg.database_url(), url, "the port is remembered across runs");
        let pool = sqlx::PgPool::connect(&url).await.expect("reconnect");
        let db: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&pool)
            .await
            .expect("select");
        assert_eq!(db, "ticketera");
        pool.close().await;
        assert!(
            sqlx::PgPool::connect(&no_password).await.is_err(),
            "a trusting cluster is moved to passwords"
        );
        pg.stop().await.expect("second stop");

        let _ = fs::remove_dir_all(&dir);
    }
}
