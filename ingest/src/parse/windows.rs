//! Windows Security events: Snare's tab-delimited `MSWinEventLog` records
//! and NXLog's `im_msvistalog` JSON.
//!
//! Both normalize to the same field names for rules: `event_id`, `channel`,
//! `provider`, `computer`, `event_type`, `ip_address`, `target_user`,
//! `subject_user`, `command_line`, `parent_process`, `new_process`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{NaiveDateTime, TimeZone, Utc};
use regex::Regex;
use serde_json::Value;

use super::syslog::Header;
use super::{clean, clean_opt, parse_ip, Format, Normalized, ParseContext, ParseError};

fn normalized(
    fields: BTreeMap<String, String>,
    header: Option<&Header>,
    format: Format,
    ctx_time: Option<chrono::DateTime<Utc>>,
) -> Normalized {
    let get = |k: &str| clean_opt(fields.get(k).map(String::as_str));
    let header = header.cloned().unwrap_or_default();
    Normalized {
        format: Some(format),
        vendor: "Microsoft".into(),
        product: "Windows".into(),
        source_ip: parse_ip(get("ip_address").as_deref()),
        host: get("computer").or(header.hostname),
        user: get("target_user").or_else(|| get("subject_user")),
        event_time: ctx_time.or(header.timestamp),
        message: get("message").unwrap_or_default(),
        fields,
        ..Normalized::default()
    }
}

/// `Label:  value` pairs inside Snare's expanded message.
fn labelled(message: &str, label: &str) -> Vec<String> {
    static SPACES: OnceLock<Regex> = OnceLock::new();
    let spaces = SPACES.get_or_init(|| Regex::new(r"\s{2,}").expect("static regex"));
    // Snare flattens the message's lines: values end at a run of spaces.
    let mut out = vec![];
    let mut rest = message;
    while let Some(i) = rest.find(label) {
        let after = rest[i + label.len()..].trim_start();
        let value = spaces.split(after).next().unwrap_or("").trim();
        out.push(value.to_string());
        rest = &rest[i + label.len()..];
    }
    out
}

pub fn parse_snare(text: &str, header: &Header) -> Result<Normalized, ParseError> {
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
    put("event_id", Some(event_id.to_string()));
    put("channel", Some(cols[2].to_string()));
    put("provider", Some(cols[6].to_string()));
    put("event_type", Some(cols[9].to_string()));
    put("computer", Some(cols[10].to_string()));
    put("category", Some(cols[11].to_string()));
    put("message", Some(clean(message)));
    put(
        "ip_address",
        labelled(message, "Source Network Address:")
            .into_iter()
            .next(),
    );
    let accounts: Vec<String> = labelled(message, "Account Name:")
        .into_iter()
        .filter(|a| a != "-")
        .collect();
    put("subject_user", accounts.first().cloned());
    put("target_user", accounts.last().cloned());
    put(
        "command_line",
        labelled(message, "Process Command Line:")
            .into_iter()
            .next(),
    );
    put(
        "parent_process",
        labelled(message, "Creator Process Name:")
            .into_iter()
            .next(),
    );
    put(
        "new_process",
        labelled(message, "New Process Name:").into_iter().next(),
    );
    Ok(normalized(fields, Some(header), Format::Snare, None))
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
    put("ip_address", s("IpAddress"));
    put("subject_user", s("SubjectUserName"));
    put("target_user", s("TargetUserName"));
    put("command_line", s("CommandLine"));
    put("parent_process", s("ParentProcessName"));
    put("new_process", s("NewProcessName"));
    put("workstation", s("WorkstationName"));
    put("logon_type", s("LogonType"));
    // NXLog writes local time without a zone.
    let time = s("EventTime")
        .and_then(|t| NaiveDateTime::parse_from_str(t.trim(), "%Y-%m-%d %H:%M:%S").ok())
        .and_then(|t| ctx.default_offset.from_local_datetime(&t).single())
        .map(|t| t.with_timezone(&Utc));
    Ok(normalized(fields, None, Format::NxLog, time))
}
