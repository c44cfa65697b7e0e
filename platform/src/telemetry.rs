//! Tracing and the Prometheus recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), JSON on request.
pub fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests) is not an error worth failing over.
    let _ = subscriber(json, filter, std::io::stderr).try_init();
}

/// The subscriber of [`init_tracing`], writing to `writer`: one event is
/// one line whatever its fields hold (see [`OneLine`]).
pub fn subscriber<W>(
    json: bool,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(OneLine(writer))
        .with_target(true);
    if json {
        Box::new(builder.json().flatten_event(true).finish())
    } else {
        Box::new(builder.finish())
    }
}

/// Writes each event with its line breaks escaped but the last: the text
/// format writes a field's value as it is (`%`, or a message built from a
/// value), so a header, a name or a syslog line from outside holding
/// `"\n"` would otherwise start a line of its own that reads like a real
/// event. The fmt layer writes an event with one `write_all`, so each call
/// here is one event.
#[derive(Debug, Clone, Copy)]
pub struct OneLine<W>(pub W);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for OneLine<W> {
    type Writer = OneLine<W::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        OneLine(self.0.make_writer())
    }
}

impl<W: std::io::Write> std::io::Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let (body, end) = match buf.strip_suffix(b"\n") {
            Some(body) => (body, &b"\n"[..]),
            None => (buf, &b""[..]),
        };
        if !body.iter().any(|b| is_line_break(*b)) {
            return self.0.write_all(buf);
        }
        let mut out = Vec::with_capacity(buf.len() + 16);
        for &b in body {
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                0x0b => out.extend_from_slice(b"\\v"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => out.push(b),
            }
        }
        out.extend_from_slice(end);
        self.0.write_all(&out)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// What a terminal or a log shipper takes for the end of a line.
fn is_line_break(b: u8) -> bool {
    matches!(b, b'\n' | b'\r' | 0x0b | 0x0c)
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn line_breaks_but_the_last_are_escaped_and_plain_lines_left_alone() {
        let mut out = Vec::new();
        OneLine(&mut out)
            .write_all(b"INFO all well\n")
            .expect("write");
        assert_eq!(out, b"INFO all well\n");
        let mut out = Vec::new();
        OneLine(&mut out)
            .write_all(b"a\nb\rc\x0bd\x0ce\n")
            .expect("write");
        assert_eq!(out, b"a\\nb\\rc\\vd\\fe\n");
    }
}
