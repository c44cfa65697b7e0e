//! Tracing and the Prometheus recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{fmt, EnvFilter};

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), JSON on request.
pub fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    // A second init (tests) is not an error worth failing over.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// The process-wide metrics handle.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// Installs the Prometheus recorder once per process and returns its handle.
pub fn metrics() -> Metrics {
    METRICS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let handle = match builder.install_recorder() {
                Ok(h) => h,
                // Another recorder is installed (tests): render our own anyway.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            describe();
            Metrics { handle }
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "ticketera_http_requests_total",
        "HTTP requests by method, route template and status"
    );
    metrics::describe_histogram!(
        "ticketera_http_request_duration_seconds",
        "HTTP request latency by route template"
    );
    metrics::describe_counter!(
        "ticketera_commands_total",
        "Ticket commands by type and outcome"
    );
    metrics::describe_counter!(
        "ticketera_events_appended_total",
        "Events appended to the store by type"
    );
    metrics::describe_counter!(
        "ticketera_logins_total",
        "Token requests by grant and outcome"
    );
}
