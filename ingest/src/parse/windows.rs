//! Windows Security events: Snare's tab-delimited `MSWinEventLog` records
//! and NXLog's `im_msvistalog` JSON.
//!
//! Both normalize to the same field names for rules: `event_id`, `channel`,
//! `provider`, `computer`, `event_type`, `ip_address`, `source_port`,
//! `destination_address`, `destination_port`, `workstation`, `logon_type`,
//! `target_user`, `subject_user`, `command_line`, `parent_process`,
//! `new_process`. The event's user is the target account (the one logged
//! on, failed, created), else the subject (who acted). A Snare record
//! relayed by rsyslog has `#011` for its tabs (read as tabs, see `syslog`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{NaiveDateTime, TimeZone, Utc};
use regex::Regex;
use serde_json::Value;

use super::syslog::Header;
use super::{
    clean, clean_opt, parse_ip, parse_port, time, Format, Normalized, ParseContext, ParseError,
};

fn normalized(
    fields: BTreeMap<String, String>,
    header: Option<&Header>,
    format: Format,
    event_time: Option<chrono::DateTime<Utc>>,
) -> Normalized {
    let get = |k: &str| clean_opt(fields.get(k).map(String::as_str));
    let header = header.cloned().unwrap_or_default();
    Normalized {
        format: Some(format),
        vendor: "Microsoft".into(),
        product: "Windows".into(),
        source_ip: parse_ip(get("ip_address").as_deref()),
        destination_ip: parse_ip(get("destination_address").as_deref()),
        source_port: parse_port(get("source_port").as_deref()),
        destination_port: parse_port(get("destination_port").as_deref()),
        host: get("computer").or(header.hostname),
        user: get("target_user").or_else(|| get("subject_user")),
        event_time: event_time.or(header.timestamp),
        message: get("message").unwrap_or_default(),
        fields,
        ..Normalized::default()
    }
}

/// `Label:  value` pairs inside Snare's expanded message.
fn labelled(message: &str, label: &str) -> Vec<String> {
    labelled_at(message, label)
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

/// Like `labelled`, with the byte offset of each label.
fn labelled_at(message: &str, label: &str) -> Vec<(usize, String)> {
    static SPACES: OnceLock<Regex> = OnceLock::new();
    let spaces = SPACES.get_or_init(|| Regex::new(r"\s{2,}|\t").expect("static regex"));
    // Snare flattens the message's lines: values end at a run of spaces.
    let mut out = vec![];
    let mut from = 0;
    while let Some(i) = message[from..].find(label) {
        let at = from + i;
        let after = message[at + label.len()..].trim_start();
        let value = spaces.split(after).next().unwrap_or("").trim();
        out.push((at, value.to_string()));
        from = at + label.len();
    }
    out
}

/// Whose account an `Account Name:` is: Windows' Security messages put
/// each under a section heading (Microsoft's event documentation, e.g. 4624,
/// 4625, 4720, 4732): `Subject:` is who acted; the others name the account
/// acted on or logged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Subject,
    Target,
    /// A section whose account is neither (`Member:`, `Process Information:` …).
    Other,
}

fn sections(message: &str) -> Vec<(usize, Section)> {
    static HEADINGS: OnceLock<Regex> = OnceLock::new();
    // Longest first where one heading ends another (`Target Subject:`).
    let re = HEADINGS.get_or_init(|| {
        Regex::new(
            r"(Target Subject|Subject|New Logon|Logon Account|Account For Which Logon Failed|Target Account|New Account|Account Whose Credentials Were Used|Account Information|Member|Group|Process Information|Logon Information|Network Information|Detailed Authentication Information|Additional Information|Changed Attributes|Service Information|Target Server|Failure Information|Attributes):\s",
        )
        .expect("static regex")
    });
    re.captures_iter(message)
        .filter_map(|c| {
            let m = c.get(1)?;
            let section = match m.as_str() {
                "Subject" => Section::Subject,
                "Target Subject"
                | "New Logon"
                | "Logon Account"
                | "Account For Which Logon Failed"
                | "Target Account"
                | "New Account"
                | "Account Whose Credentials Were Used"
                | "Account Information" => Section::Target,
                _ => Section::Other,
            };
            Some((m.start(), section))
        })
        .collect()
}

/// The subject's and the target's account names, by the heading each
/// `Account Name:` is under; a message without headings: the first is the
/// subject, the last the target.
fn accounts(message: &str) -> (Option<String>, Option<String>) {
    let names: Vec<(usize, String)> = labelled_at(message, "Account Name:")
        .into_iter()
        .filter(|(_, a)| clean_opt(Some(a)).is_some())
        .collect();
    let heads = sections(message);
    if heads.is_empty() {
        return (
            names.first().map(|n| n.1.clone()),
            names.last().map(|n| n.1.clone()),
        );
    }
    let under = |at: usize| {
        heads
            .iter()
            .rev()
            .find(|(h, _)| *h < at)
            .map(|(_, s)| *s)
            .unwrap_or(Section::Other)
    };
    let pick = |want: Section| {
        names
            .iter()
            .find(|(at, _)| under(*at) == want)
            .map(|n| n.1.clone())
    };
    (pick(Section::Subject), pick(Section::Target))
}

/// Snare's submit time, `Thu Nov 27 10:20:01 2026`, in the sender's zone.
fn snare_time(text: &str, ctx: &ParseContext) -> Option<chrono::DateTime<Utc>> {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let naive = NaiveDateTime::parse_from_str(&words, "%a %b %d %H:%M:%S %Y").ok()?;
    ctx.default_offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Snare's tab-delimited record (Snare for Windows, "Event Log Format"):
/// `MSWinEventLog`, criticality, log name, counter, submit time, event id,
/// source, user, SID type, event type, computer, category, data, expanded
/// message, [checksum or counter].
pub fn parse_snare(
    text: &str,
    header: &Header,
    ctx: &ParseContext,
) -> Result<Normalized, ParseError> {
    let cols: Vec<&str> = text.split('\t').collect();
    if cols.len() < 14 {
        return Err(ParseError::new(
            "snare",
            format!(
                "record has {} tab-separated fields, expected at least 14",
                cols.len()
            ),
        ));
    }
    let event_id = cols[5].trim();
    if event_id.parse::<u32>().is_err() {
        return Err(ParseError::new(
            "snare",
            format!("event id '{event_id}' is not a number"),
        ));
    }
    let message = cols[13];
    let mut fields = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.and_then(|v| clean_opt(Some(&v))) {
            fields.insert(k.to_string(), v);
        }
    };
    let first = |label: &str| labelled(message, label).into_iter().next();
    put("event_id", Some(event_id.to_string()));
    put("channel", Some(cols[2].to_string()));
    put("provider", Some(cols[6].to_string()));
    put("event_type", Some(cols[9].to_string()));
    put("computer", Some(cols[10].to_string()));
    put("category", Some(cols[11].to_string()));
    put("message", Some(clean(message)));
    put(
        "ip_address",
        first("Source Network Address:")
            .or_else(|| first("Client Address:"))
            .or_else(|| first("Source Address:"))
            // 4648's `Network Information:` says `Network Address:`.
            .or_else(|| first("Network Address:")),
    );
    put(
        "source_port",
        first("Source Port:").or_else(|| first("Client Port:")),
    );
    put("destination_address", first("Destination Address:"));
    put("destination_port", first("Destination Port:"));
    put("workstation", first("Workstation Name:"));
    let (subject, target) = accounts(message);
    // The record's own user column is who the event was logged for.
    put(
        "subject_user",
        subject.or_else(|| Some(cols[7].to_string())),
    );
    put("target_user", target);
    put("logon_type", first("Logon Type:"));
    put("command_line", first("Process Command Line:"));
    put("parent_process", first("Creator Process Name:"));
    put("new_process", first("New Process Name:"));
    let at = snare_time(cols[4], ctx);
    Ok(normalized(fields, Some(header), Format::Snare, at))
}

pub fn parse_nxlog(text: &str, ctx: &ParseContext) -> Result<Normalized, ParseError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| ParseError::new("nxlog", format!("invalid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| ParseError::new("nxlog", "not a JSON object"))?;
    let event_id = match obj.get("EventID") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| ParseError::new("nxlog", "EventID is not a whole number"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| ParseError::new("nxlog", format!("EventID '{s}' is not a number")))?,
        _ => return Err(ParseError::new("nxlog", "no EventID: not a Windows event")),
    };
    let s = |k: &str| -> Option<String> {
        match obj.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut fields = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.and_then(|v| clean_opt(Some(&v))) {
            fields.insert(k.to_string(), v);
        }
    };
    put("event_id", Some(event_id.to_string()));
    put("channel", s("Channel"));
    put("provider", s("SourceName"));
    put("event_type", s("EventType"));
    put("computer", s("Hostname"));
    put("category", s("Category"));
    put("message", s("Message"));
    put(
        "ip_address",
        s("IpAddress")
            .or_else(|| s("SourceAddress"))
            .or_else(|| s("SourceIp")),
    );
    put("source_port", s("IpPort").or_else(|| s("SourcePort")));
    put(
        "destination_address",
        s("DestAddress").or_else(|| s("DestinationIp")),
    );
    put(
        "destination_port",
        s("DestPort").or_else(|| s("DestinationPort")),
    );
    put("subject_user", s("SubjectUserName"));
    put("target_user", s("TargetUserName"));
    put("command_line", s("CommandLine"));
    put("parent_process", s("ParentProcessName"));
    put("new_process", s("NewProcessName"));
    put("workstation", s("WorkstationName"));
    put("logon_type", s("LogonType"));
    // NXLog writes local time without a zone (`2026-11-27 10:30:02`), or
    // ISO 8601 with one when configured to.
    let at = s("EventTime").and_then(|t| time::iso(&t, ctx));
    Ok(normalized(fields, None, Format::NxLog, at))
}
