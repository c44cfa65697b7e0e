//! Runs `ticketera <command>` as a real process on ports it picks, and
//! talks to it: syslog over UDP and TCP, HTTP, GraphQL.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use domain::{ActorKind, Role};
use platform::auth::tokens::{TokenKeys, TokenSettings};
use platform::identity::Identity;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub const ADMIN_PASSWORD: &str = "admin-password-for-ingest-tests";

pub struct Proc {
    pub child: Child,
    pub http: String,
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn log_path(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "ticketera-ingest-test-{label}-{}.log",
        uuid::Uuid::new_v4().simple()
    ))
}

/// Starts `ticketera <command>` on `db_url` with every port picked by the
/// kernel, and waits for the lines that say where it listens.
pub fn spawn(command: &str, db_url: &str, env: &[(&str, String)]) -> Proc {
    let log = log_path(command);
    let stderr = std::fs::File::create(&log).expect("log file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ticketera"));
    cmd.arg(command)
        .env("DATABASE_URL", db_url)
        .env("TICKETERA_HTTP_ADDR", "127.0.0.1:0")
        .env("TICKETERA_SYSLOG_UDP_ADDR", "127.0.0.1:0")
        .env("TICKETERA_SYSLOG_TCP_ADDR", "127.0.0.1:0")
        .env("TICKETERA_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("TICKETERA_SYSLOG_UDP_RCVBUF_BYTES", "4194304")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ticketera");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wants_syslog = matches!(command, "serve" | "ingest");
    let (mut http, mut udp, mut tcp) = (None, None, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.is_none() || (wants_syslog && udp.is_none()) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match rx.recv_timeout(left) {
            Ok(l) => l,
            Err(_) => panic!(
                "ticketera {command} did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        };
        if let Some(rest) = line.strip_prefix("Ticketera SOC serving on ") {
            http = Some(rest.trim().trim_end_matches('/').to_string());
        }
        if let Some(rest) = line.strip_prefix("syslog on udp://") {
            let (u, t) = rest.split_once(" and ").expect("syslog line");
            udp = Some(u.parse().expect("udp addr"));
            let t = t.split_once("://").map(|(_, a)| a).unwrap_or(t);
            tcp = Some(t.parse().expect("tcp addr"));
        }
    }
    Proc {
        child,
        http: http.unwrap_or_default(),
        udp,
        tcp,
        log,
    }
}

impl Proc {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One datagram per message.
    pub async fn send_udp(&self, lines: &[Vec<u8>]) {
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("udp bind");
        for l in lines {
            sock.send_to(l, self.udp.expect("udp")).await.expect("send");
        }
    }

    /// One datagram per message, sent from the local address `from` (any
    /// of 127.0.0.0/8 on Linux): a second sender on one machine.
    pub async fn send_udp_from(&self, from: &str, lines: &[Vec<u8>]) {
        let sock = tokio::net::UdpSocket::bind(format!("{from}:0"))
            .await
            .expect("udp bind");
        for l in lines {
            sock.send_to(l, self.udp.expect("udp")).await.expect("send");
        }
    }

    /// A TCP connection to the syslog listener from the local address `from`.
    pub async fn connect_tcp_from(&self, from: &str) -> tokio::net::TcpStream {
        let socket = tokio::net::TcpSocket::new_v4().expect("tcp socket");
        socket
            .bind(format!("{from}:0").parse().expect("local address"))
            .expect("tcp bind");
        socket
            .connect(self.tcp.expect("tcp"))
            .await
            .expect("tcp connect")
    }

    /// One connection; octet counting when `octets`, else LF framing.
    pub async fn send_tcp(&self, lines: &[Vec<u8>], octets: bool) {
        let mut s = tokio::net::TcpStream::connect(self.tcp.expect("tcp"))
            .await
            .expect("tcp connect");
        write_frames(&mut s, lines, octets).await;
        s.shutdown().await.expect("shutdown");
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(self.url("/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }
}

/// Writes `lines` as syslog frames (octet counting when `octets`, else LF
/// framing) to a TCP or TLS stream, and flushes.
pub async fn write_frames<W: AsyncWrite + Unpin>(w: &mut W, lines: &[Vec<u8>], octets: bool) {
    // A frame is never empty (RFC 6587: MSG-LEN is a NONZERO-DIGIT...).
    for l in lines.iter().filter(|l| !l.is_empty()) {
        if octets {
            w.write_all(format!("{} ", l.len()).as_bytes())
                .await
                .expect("write");
            w.write_all(l).await.expect("write");
        } else {
            w.write_all(l).await.expect("write");
            w.write_all(b"\n").await.expect("write");
        }
    }
    w.flush().await.expect("flush");
}

/// Messages that were received and then dropped before a worker saw them
/// (ingest/src/metrics.rs): with parsed and dead-lettered ones, they add up
/// to received.
pub const DROPPED_BEFORE_PARSING: [&str; 7] = [
    "queue_full",
    "queue_bytes_full",
    "frame_too_large",
    "bad_frame",
    "shutdown",
    "sender_not_allowed",
    "peer_rate_limited",
];

pub struct Counts {
    pub received: f64,
    pub received_tcp: f64,
    pub parsed: f64,
    pub dead_lettered: f64,
    pub dropped: f64,
    pub queue_full: f64,
    pub too_large: f64,
}

pub fn counts(m: &str) -> Counts {
    let dropped = |reason: &str| {
        metric(
            m,
            &format!("ticketera_ingest_dropped_total{{reason=\"{reason}\"}}"),
        )
    };
    Counts {
        received: metric_sum(m, "ticketera_ingest_received_total"),
        received_tcp: metric(m, "ticketera_ingest_received_total{transport=\"tcp\"}"),
        parsed: metric(m, "ticketera_ingest_parsed_total"),
        dead_lettered: metric_sum(m, "ticketera_ingest_dead_lettered_total"),
        dropped: DROPPED_BEFORE_PARSING.iter().map(|r| dropped(r)).sum(),
        queue_full: dropped("queue_full"),
        too_large: dropped("frame_too_large"),
    }
}

/// `/metrics` once every message is accounted for (received = parsed +
/// dead-lettered + dropped before parsing), `arrived` says all were
/// received, and it is still so a moment later (nothing was in flight).
pub async fn accounted(app: &Proc, arrived: impl Fn(&Counts) -> bool) -> String {
    eventually(60, "every message accounted for", || async {
        let first = app.metrics().await;
        let c = counts(&first);
        if !(arrived(&c) && c.received == c.parsed + c.dead_lettered + c.dropped) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = app.metrics().await;
        let d = counts(&again);
        (d.received == c.received && d.parsed == c.parsed && d.dropped == c.dropped)
            .then_some(again)
    })
    .await
}

/// The value of a Prometheus sample (`name{labels}` exactly, or a bare name).
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(k, _)| *k == name)
        .filter_map(|(_, v)| v.parse::<f64>().ok())
        .sum()
}

/// The sum over every labelled series of `name`.
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(k, _)| *k == name || k.starts_with(&format!("{name}{{")))
        .filter_map(|(_, v)| v.parse::<f64>().ok())
        .sum()
}

/// A token for `sub` with `role`, signed with the database's key (the
/// processes verify it the same way they verify their own).
pub async fn token(pool: &PgPool, role: Role) -> String {
    let keys = TokenKeys::load_or_create(
        pool,
        TokenSettings {
            issuer: "ticketera".into(),
            audience: "ticketera".into(),
            access_ttl: chrono::Duration::seconds(900),
            leeway_secs: 5,
        },
    )
    .await
    .expect("keys");
    let identity = Identity::new(pool.clone());
    let (sub, kind) = if role == Role::Integration {
        let (id, _) = identity
            .create_client("siem", role, "test", None)
            .await
            .expect("client");
        (id, ActorKind::Client)
    } else {
        let name = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        identity
            .create_user(&name, None, "a-long-enough-password", role, "test", None)
            .await
            .expect("user");
        (name, ActorKind::User)
    };
    keys.issue(&sub, kind, &[role]).expect("token").0
}

pub async fn graphql(proc_: &Proc, token: &str, query: &str) -> Value {
    let res = reqwest::Client::new()
        .post(proc_.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("graphql");
    res.json().await.expect("graphql json")
}

/// Every ticket the read side shows.
pub async fn tickets(proc_: &Proc, token: &str) -> Vec<Value> {
    let body = graphql(
        proc_,
        token,
        "{ tickets(first: 100) { edges { node { id number title severity status source ruleName sourceIp destinationIp alertCount } } } }",
    )
    .await;
    body["data"]["tickets"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("tickets: {body}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Polls `check` until it returns Some or `secs` pass.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn sample_lines(file: &str) -> Vec<Vec<u8>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ingest/tests/samples");
    std::fs::read(format!("{path}/{file}"))
        .expect("sample")
        .split(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .skip_while(|l| l.is_empty())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

pub fn sample(file: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ingest/tests/samples");
    std::fs::read(format!("{path}/{file}")).expect("sample")
}
