//! FortiGate key=value logs (FortiOS 5 to 7), with or without a syslog header.
//!
//! Values are quoted (`"…"`, with `\"` and `\\` escapes) or bare (with `\=`
//! and `\"` escapes). `N/A` and `(null)` mean absent. A repeated key keeps
//! its first value (FortiOS repeats only derived keys). Field names follow
//! the FortiOS Log Message Reference: addresses are `srcip`/`dstip`, or
//! `remip`/`locip` in VPN and other event logs (the remote peer is the
//! source); ports likewise `srcport`/`dstport` or `remport`/`locport`; an
//! admin event without `srcip` names the client in `ui` (`ssh(203.0.113.8)`).
//! The user is `user` unless it is empty or an address (VPN logs put the
//! peer's address there), then `xauthuser`, `eapuser`, `srcuser`,
//! `dstuser`, `unauthuser`. `eventtime` is seconds, or milli-, micro- or
//! nanoseconds since the epoch, by its digit count, and wins over
//! `date`/`time` (local time of `tz` when present).

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeZone, Utc};

use super::syslog::Header;
use super::{
    clean, is_nil, parse_ip, parse_port, time, Format, Normalized, ParseContext, ParseError,
};

/// Whether a text reads as FortiGate key=value: it starts with a key=value
/// pair and names one of the keys FortiOS always writes.
pub fn looks_like(text: &str) -> bool {
    let t = text.trim_start();
    let starts_kv = t.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.len() <= 32 && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    starts_kv
        && (t.starts_with("date=")
            || t.contains("logid=")
            || t.contains("devname=")
            || t.contains("devid="))
}

/// Splits `k=v k="v w" …` into pairs. Scans bytes: every delimiter is
/// ASCII, so slicing at them keeps UTF-8 intact; a value without escapes is
/// copied once.
pub fn key_values(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    let err = |r: String| ParseError::new("fortigate", r);
    let b = text.as_bytes();
    let n = b.len();
    let mut out = Vec::with_capacity(32);
    let mut i = 0;
    while i < n {
        while i < n && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        let key_start = i;
        while i < n && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &text[key_start..i];
        if i >= n || b[i] != b'=' {
            return Err(err(format!(
                "'{}' is not key=value",
                key.chars().take(40).collect::<String>()
            )));
        }
        if key.is_empty() {
            return Err(err("a value without a key".into()));
        }
        i += 1;
        let value = if b.get(i) == Some(&b'"') {
            i += 1;
            let start = i;
            let mut escaped = false;
            loop {
                match b.get(i) {
                    None => return Err(err(format!("unterminated quoted value of '{key}'"))),
                    Some(b'\\') if matches!(b.get(i + 1), Some(b'"' | b'\\')) => {
                        escaped = true;
                        i += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => i += 1,
                }
            }
            let raw = &text[start..i];
            i += 1;
            if escaped {
                unescape(raw, &['"', '\\'])
            } else {
                clean(raw)
            }
        } else {
            let start = i;
            let mut escaped = false;
            while i < n && !b[i].is_ascii_whitespace() {
                if b[i] == b'\\' && matches!(b.get(i + 1), Some(b'=' | b'"' | b'\\' | b' ')) {
                    escaped = true;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            let raw = &text[start..i.min(n)];
            if escaped {
                unescape(raw, &['=', '"', '\\', ' '])
            } else {
                clean(raw)
            }
        };
        // Keys come from the input too: a NUL in one would reach the event.
        out.push((clean(key), value));
    }
    Ok(out)
}

/// Drops the backslash before any of `escapable`.
fn unescape(raw: &str, escapable: &[char]) -> String {
    let mut value = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(next) if c == '\\' && escapable.contains(next) => {
                value.push(*next);
                chars.next();
            }
            _ => value.push(c),
        }
    }
    clean(&value)
}

/// The address inside `ui`'s parentheses: `ssh(203.0.113.8)`,
/// `https(10.20.5.2)`, `GUI(2001:db8::5)`.
fn ui_address(ui: &str) -> Option<std::net::IpAddr> {
    let inside = ui.split_once('(')?.1.split_once(')')?.0;
    parse_ip(Some(inside))
}

pub fn parse(
    text: &str,
    header: Option<Header>,
    ctx: &ParseContext,
) -> Result<Normalized, ParseError> {
    let mut pairs = key_values(text)?;
    // A repeated key keeps its first value: a stable sort keeps the order
    // of equal keys, `dedup_by` keeps the first of each run; a sorted
    // iterator builds the map in one pass.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs.dedup_by(|later, first| later.0 == first.0);
    let fields: BTreeMap<String, String> = pairs.into_iter().collect();
    if !fields.contains_key("type") && !fields.contains_key("logid") {
        return Err(ParseError::new(
            "fortigate",
            "neither 'type' nor 'logid' present",
        ));
    }
    // Values are cleaned already: absent, blank, `-`, `N/A` and `(null)` are none.
    let raw = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !is_nil(v));
    let first = |keys: &[&str]| keys.iter().find_map(|k| raw(k));
    let get = |k: &str| raw(k).map(str::to_string);
    let header = header.unwrap_or_default();
    let event_time = raw("eventtime")
        .and_then(time::epoch)
        .or_else(|| {
            let (d, t) = (raw("date")?, raw("time")?);
            let naive =
                NaiveDateTime::parse_from_str(&format!("{d} {t}"), "%Y-%m-%d %H:%M:%S").ok()?;
            let off = raw("tz")
                .and_then(|tz| time::zone_offset(tz, naive))
                .unwrap_or(ctx.default_offset);
            off.from_local_datetime(&naive)
                .single()
                .map(|t| t.with_timezone(&Utc))
        })
        .or(header.timestamp);
    let user = [
        "user",
        "xauthuser",
        "eapuser",
        "srcuser",
        "dstuser",
        "unauthuser",
    ]
    .iter()
    .filter_map(|k| raw(k))
    .find(|u| parse_ip(Some(u)).is_none())
    .map(str::to_string);
    let source_ip = parse_ip(first(&["srcip", "remip"])).or_else(|| raw("ui").and_then(ui_address));
    let signature = ["attack", "virus", "catdesc", "logdesc"]
        .iter()
        .find_map(|k| get(k));
    let vendor_severity = ["crlevel", "severity", "level"].iter().find_map(|k| get(k));
    Ok(Normalized {
        format: Some(Format::FortiGate),
        vendor: "Fortinet".into(),
        product: "FortiGate".into(),
        signature,
        vendor_severity,
        source_ip,
        destination_ip: parse_ip(first(&["dstip", "locip"])),
        source_port: parse_port(first(&["srcport", "remport"])),
        destination_port: parse_port(first(&["dstport", "locport"])),
        host: get("devname").or(header.hostname),
        user,
        event_time,
        message: get("msg").unwrap_or_default(),
        fields,
        ..Normalized::default()
    })
}
