//! What ingest makes of one message, as one JSON object, without the
//! database: the parsed event's normalized fields and the rules' decision,
//! or the reason it would be dead-lettered. `ticketera parse` prints these.
//!
//! It runs the functions the service runs ([`pipeline::read`] for syslog,
//! the FortiSIEM parsers for webhook bodies, then `Rules::decide`), so what
//! it shows is what ingest does. One thing it cannot show: the CMDB's
//! escalation (one step up when the destination asset is critical), which
//! the ticket applies when it opens.
//!
//! [`pipeline::read`]: crate::pipeline::read

use serde_json::{json, Map, Value};

use crate::dead_letters::sanitize_reason;
use crate::parse::{fortisiem, Normalized, ParseContext, ParseError};
use crate::pipeline;
use crate::rules::{Decision, Rules};

/// How a message reaches ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// One syslog message (UDP datagram or TCP frame).
    Syslog,
    /// A webhook body with `Content-Type: application/xml`.
    FortiSiemXml,
    /// A webhook body with `Content-Type: application/json`.
    FortiSiemJson,
}

impl Body {
    pub fn as_str(&self) -> &'static str {
        match self {
            Body::Syslog => "syslog",
            Body::FortiSiemXml => "webhook-xml",
            Body::FortiSiemJson => "webhook-json",
        }
    }
}

/// Parses and decides `bytes` as `body`.
pub fn read(
    bytes: &[u8],
    body: Body,
    rules: &Rules,
    ctx: &ParseContext,
) -> Result<(Normalized, Decision), ParseError> {
    match body {
        Body::Syslog => pipeline::read(bytes, rules, ctx),
        Body::FortiSiemXml | Body::FortiSiemJson => {
            let event = if body == Body::FortiSiemXml {
                fortisiem::parse_xml(bytes)?
            } else {
                fortisiem::parse_json(bytes)?
            };
            let decision = rules.decide(&event);
            Ok((event, decision))
        }
    }
}

fn decision_json(d: &Decision) -> Value {
    match d {
        Decision::Alert(a) => json!({
            "alert": true,
            "suppressed": false,
            "severity": a.severity.as_str(),
            "rule_name": a.rule_name,
            "matched_rule": a.matched_rule,
            "fingerprint": a.fingerprint,
        }),
        Decision::Suppressed { rule } => json!({
            "alert": false,
            "suppressed": true,
            "suppressed_by": rule,
        }),
        Decision::NotAlert { reason } => json!({
            "alert": false,
            "suppressed": false,
            "reason": reason,
        }),
    }
}

/// The normalized event's fields (`fields`: also every key/value it
/// carries, for writing rules).
pub fn event_json(e: &Normalized, with_fields: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    put("format", json!(e.format.map(|f| f.name())));
    put("vendor", json!(e.vendor));
    put("product", json!(e.product));
    put("signature", json!(e.signature));
    put("vendor_severity", json!(e.vendor_severity));
    put("source_ip", json!(e.source_ip.map(|i| i.to_string())));
    put("source_port", json!(e.source_port));
    put(
        "destination_ip",
        json!(e.destination_ip.map(|i| i.to_string())),
    );
    put("destination_port", json!(e.destination_port));
    put("host", json!(e.host));
    put("user", json!(e.user));
    put(
        "event_time",
        json!(e
            .event_time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))),
    );
    if e.incident_id.is_some() {
        put("incident_id", json!(e.incident_id));
        put("incident_status", json!(e.incident_status));
        put("repeat_count", json!(e.repeat_count));
    }
    if with_fields {
        put("fields", json!(e.fields));
    }
    out
}

/// One report: `{input, format, vendor, …, decision}` or `{input, error}`.
pub fn report(
    bytes: &[u8],
    body: Body,
    rules: &Rules,
    ctx: &ParseContext,
    with_fields: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("input".into(), json!(body.as_str()));
    match read(bytes, body, rules, ctx) {
        Ok((event, decision)) => {
            out.extend(event_json(&event, with_fields));
            out.insert("decision".into(), decision_json(&decision));
        }
        // The dead-letter reason, as the store would keep it.
        Err(e) => {
            out.insert("error".into(), json!(sanitize_reason(&e.to_string())));
        }
    }
    out
}
