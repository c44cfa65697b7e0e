//! Log lines from outside: a newline in a value the server logs (here a
//! JWT header it refuses) cannot start a line that reads like an event of
//! its own, in the format the binary logs with.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use tracing_subscriber::EnvFilter;

use crate::helpers::spawn_app;

/// What the subscriber wrote, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The binary's subscriber (`platform::telemetry::subscriber`), writing here.
    fn subscriber(&self, json: bool) -> Box<dyn tracing::Subscriber + Send + Sync> {
        let sink = self.clone();
        platform::telemetry::subscriber(json, EnvFilter::new("info"), move || sink.clone())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log")).into_owned()
    }
}

const FORGED: &str = "alice\n2026-12-02T18:00:00Z  INFO ticketera: password login user=admin\r\n";

#[test]
fn a_newline_in_a_field_or_the_message_stays_on_its_line() {
    for json in [false, true] {
        let out = Captured::default();
        tracing::subscriber::with_default(out.subscriber(json), || {
            tracing::info!(user = %FORGED, "login refused");
            tracing::info!(user = ?FORGED, "login refused");
            tracing::warn!("refused {FORGED}");
        });
        let text = out.text();
        assert_eq!(
            text.matches('\n').count(),
            3,
            "three events, three lines: {text}"
        );
        for line in text.lines() {
            assert!(line.contains("refused"), "a line of its own: {line:?}");
            assert!(!line.contains('\r'), "{line:?}");
        }
    }
}

#[tokio::test]
async fn a_newline_in_a_jwt_header_does_not_forge_a_log_line() {
    let out = Captured::default();
    // This test's thread (and so the server's tasks on its runtime) logs
    // through the binary's subscriber, text format, into `out`.
    let _log = tracing::subscriber::set_default(out.subscriber(false));
    let app = spawn_app().await;
    // `alg` unknown: the refusal quotes it, newline included.
    let header = URL_SAFE_NO_PAD
        .encode(r#"{"alg":"EdDSA\nINFO forged: password login user=admin","typ":"JWT","kid":"k"}"#);
    let token = format!("{header}.e30.c2ln");
    for path in ["/api/v1/auth/me", "/api/v1/admin/users"] {
        let res = app
            .request(Method::GET, path, &token)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let text = out.text();
    let refused: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("bearer token refused"))
        .collect();
    assert_eq!(refused.len(), 2, "{text}");
    for line in text.lines().filter(|l| l.contains("forged")) {
        assert!(
            line.contains("bearer token refused"),
            "the forged text is inside its event's line, not a line of its own: {line:?}\n{text}"
        );
    }
}
