//! Syslog over TLS end to end: `ticketera serve` with a certificate issued by
//! a throwaway CA (made with the `openssl` CLI), a rustls client that trusts
//! only that CA, FortiGate alerts in both TCP framings → tickets over
//! GraphQL; a plaintext sender on the TLS port opens nothing and stops
//! nothing; a client that never starts the handshake is closed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use domain::Role;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

use crate::helpers::fresh_database;
use crate::process::*;

/// A directory of its own under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "ticketera-tls-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl <args>` in `dir`; a missing CLI fails with what to install.
fn openssl(dir: &Path, args: &[&str]) {
    let out = match Command::new("openssl").args(args).current_dir(dir).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "the TLS syslog test makes its certificates with the `openssl` CLI, which is not \
             installed: install Debian's `openssl` package (scripts/test does)"
        ),
        Err(e) => panic!("running openssl: {e}"),
    };
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a leaf certificate for IP 127.0.0.1 it signed (webpki refuses a
/// self-signed CA certificate as the server's own). Returns the paths of the
/// CA certificate, the leaf's chain and the leaf's key.
fn make_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    openssl(
        dir,
        &[
            &["req", "-x509", "-nodes", "-days", "1"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=Ticketera test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req", "-nodes"][..],
            &ec,
            &[
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\n\
         subjectAltName=IP:127.0.0.1\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("leaf.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "1",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    // The chain the server presents: the leaf, then its issuer.
    let chain = [
        std::fs::read(dir.join("leaf.pem")).expect("leaf.pem"),
        std::fs::read(dir.join("ca.pem")).expect("ca.pem"),
    ]
    .concat();
    std::fs::write(dir.join("chain.pem"), chain).expect("chain.pem");
    (
        dir.join("ca.pem"),
        dir.join("chain.pem"),
        dir.join("leaf.key"),
    )
}

/// A client that trusts only `ca`.
fn connector(ca: &Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots
            .add(cert.expect("CA certificate"))
            .expect("CA trusted");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// One TLS connection carrying `lines`, closed with close_notify.
async fn send_tls(tls: &TlsConnector, addr: SocketAddr, lines: &[Vec<u8>], octets: bool) {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("tcp connect");
    let name = ServerName::IpAddress(addr.ip().into());
    let mut stream = tls
        .connect(name, tcp)
        .await
        .expect("TLS handshake with the server's certificate");
    write_frames(&mut stream, lines, octets).await;
    stream.shutdown().await.expect("close_notify");
}

fn line(file: &str, n: usize) -> Vec<u8> {
    sample_lines(file).swap_remove(n - 1)
}

fn by_rule<'a>(tickets: &'a [Value], rule: &str) -> Option<&'a Value> {
    tickets.iter().find(|t| t["ruleName"] == rule)
}

#[tokio::test]
async fn syslog_over_tls_opens_tickets_and_plaintext_is_refused() {
    let dir = TempDir::new();
    let (ca, chain, key) = make_certificates(&dir.0);
    let (db_url, pool) = fresh_database().await;
    let mut app = spawn(
        "serve",
        &db_url,
        &[
            ("TICKETERA_SYSLOG_TLS_CERT", chain.display().to_string()),
            ("TICKETERA_SYSLOG_TLS_KEY", key.display().to_string()),
        ],
    );
    let addr = app.tcp.expect("the TCP syslog port");
    let token = token(&pool, Role::Analyst).await;
    let tls = connector(&ca);

    // FortiGate alerts: line 1 octet-counted, line 6 LF-framed.
    send_tls(&tls, addr, &[line("fortigate.log", 1)], true).await;
    send_tls(&tls, addr, &[line("fortigate.log", 6)], false).await;
    let found = eventually(30, "both TLS alerts as tickets", || async {
        let t = tickets(&app, &token).await;
        (by_rule(&t, "Apache.Log4j.Error.Log.Remote.Code.Execution").is_some()
            && by_rule(&t, "Malicious Websites").is_some())
        .then_some(t)
    })
    .await;
    assert_eq!(found.len(), 2, "{found:?}");
    let log4j = by_rule(&found, "Apache.Log4j.Error.Log.Remote.Code.Execution").expect("log4j");
    assert_eq!(log4j["severity"], "CRITICAL", "{log4j}");
    assert_eq!(log4j["source"], "SYSLOG");
    assert_eq!(log4j["sourceIp"], "203.0.113.45");
    assert_eq!(log4j["destinationIp"], "10.20.1.15");
    let web = by_rule(&found, "Malicious Websites").expect("web filter");
    assert_eq!(web["severity"], "HIGH", "{web}");
    assert_eq!(web["sourceIp"], "10.30.7.12");

    // A plaintext sender (an alert, LF-framed) on the TLS port: the
    // handshake fails, the connection is dropped, nothing is read.
    let mut plain = tokio::net::TcpStream::connect(addr)
        .await
        .expect("tcp connect");
    write_frames(&mut plain, &[line("fortigate.log", 2)], false).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), plain.read_to_end(&mut answer)).await;
    assert!(
        matches!(read, Ok(Ok(_)) | Ok(Err(_))),
        "the server closes a plaintext connection"
    );
    drop(plain);

    // Still serving TLS: the next alert opens its ticket; the plaintext one
    // never did.
    send_tls(&tls, addr, &[line("fortigate.log", 3)], true).await;
    let t = eventually(30, "the TLS alert after the plaintext one", || async {
        let t = tickets(&app, &token).await;
        by_rule(&t, "icmp_flood").is_some().then_some(t)
    })
    .await;
    assert_eq!(
        by_rule(&t, "icmp_flood").expect("icmp")["severity"],
        "CRITICAL"
    );
    assert!(by_rule(&t, "EICAR_TEST_FILE").is_none(), "{t:?}");
    assert_eq!(t.len(), 3, "{t:?}");
    assert!(app.alive(), "{}", app.log_text());
    assert!(
        app.log_text().contains("TLS handshake failed"),
        "{}",
        app.log_text()
    );
    let m = app.metrics().await;
    assert_eq!(
        metric(&m, "ticketera_ingest_received_total{transport=\"tcp\"}"),
        3.0,
        "{m}"
    );
}

#[tokio::test]
async fn a_silent_client_on_the_tls_port_is_closed_after_the_handshake_timeout() {
    let dir = TempDir::new();
    let (ca, chain, key) = make_certificates(&dir.0);
    let (db_url, _pool) = fresh_database().await;
    let app = spawn(
        "ingest",
        &db_url,
        &[
            ("TICKETERA_SYSLOG_TLS_CERT", chain.display().to_string()),
            ("TICKETERA_SYSLOG_TLS_KEY", key.display().to_string()),
            // The handshake may take no longer than the idle timeout.
            ("TICKETERA_SYSLOG_TCP_IDLE_TIMEOUT_SECS", "1".to_string()),
        ],
    );
    let addr = app.tcp.expect("the TCP syslog port");

    // Connects and never starts the handshake: closed, not held.
    let started = std::time::Instant::now();
    let mut silent = tokio::net::TcpStream::connect(addr)
        .await
        .expect("tcp connect");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), silent.read_to_end(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the server closes the connection: {read:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));

    // A TLS sender right after is served.
    send_tls(&connector(&ca), addr, &[line("fortigate.log", 1)], true).await;
    eventually(30, "the TLS alert after the silent client", || async {
        let m = app.metrics().await;
        (metric(&m, "ticketera_ingest_alerts_total") == 1.0).then_some(())
    })
    .await;
    assert!(
        app.log_text().contains("TLS handshake timed out"),
        "{}",
        app.log_text()
    );
}
