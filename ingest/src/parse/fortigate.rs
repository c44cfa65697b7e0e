//! FortiGate key=value logs (FortiOS 5 to 7), with or without a syslog header.
//!
//! Values are quoted (`"…"`, with `\"` and `\\` escapes) or bare (with `\=`
//! and `\"` escapes). `N/A` means absent. A repeated key keeps its first
//! value (FortiOS repeats only derived keys). `eventtime` is seconds, or
//! milli-, micro- or nanoseconds since the epoch, by its digit count.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use super::syslog::Header;
use super::{clean, clean_opt, parse_ip, parse_port, Format, Normalized, ParseContext, ParseError};

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

/// Splits `k=v k="v w" …` into pairs.
pub fn key_values(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    let err = |r: String| ParseError::new("fortigate", r);
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let key_start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[key_start..i].iter().collect();
        if i >= chars.len() || chars[i] != '=' {
            return Err(err(format!(
                "'{}' is not key=value",
                key.chars().take(40).collect::<String>()
            )));
        }
        if key.is_empty() {
            return Err(err("a value without a key".into()));
        }
        i += 1;
        let mut value = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(err(format!("unterminated quoted value of '{key}'"))),
                    Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' && matches!(chars.get(i + 1), Some('=' | '"' | '\\' | ' ')) {
                    value.push(chars[i + 1]);
                    i += 2;
                } else {
                    value.push(chars[i]);
                    i += 1;
                }
            }
        }
        out.push((key, clean(&value)));
    }
    Ok(out)
}

fn epoch(raw: &str) -> Option<DateTime<Utc>> {
    let n: i64 = raw.trim().parse().ok()?;
    let digits = raw.trim().trim_start_matches('-').len();
    let nanos: i64 = match digits {
        0..=11 => n.checked_mul(1_000_000_000)?,
        12..=14 => n.checked_mul(1_000_000)?,
        15..=17 => n.checked_mul(1_000)?,
        _ => n,
    };
    Some(DateTime::from_timestamp_nanos(nanos))
}

fn offset(tz: Option<&str>) -> Option<FixedOffset> {
    let tz = tz?.trim();
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

pub fn parse(
    text: &str,
    header: Option<Header>,
    ctx: &ParseContext,
) -> Result<Normalized, ParseError> {
    let pairs = key_values(text)?;
    let mut fields = BTreeMap::new();
    for (k, v) in pairs {
        fields.entry(k).or_insert(v);
    }
    if !fields.contains_key("type") && !fields.contains_key("logid") {
        return Err(ParseError::new(
            "fortigate",
            "neither 'type' nor 'logid' present",
        ));
    }
    let get = |k: &str| clean_opt(fields.get(k).map(String::as_str));
    let header = header.unwrap_or_default();
    let event_time = get("eventtime")
        .and_then(|e| epoch(&e))
        .or_else(|| {
            let (d, t) = (get("date")?, get("time")?);
            let naive =
                NaiveDateTime::parse_from_str(&format!("{d} {t}"), "%Y-%m-%d %H:%M:%S").ok()?;
            let off = offset(get("tz").as_deref()).unwrap_or(ctx.default_offset);
            off.from_local_datetime(&naive)
                .single()
                .map(|t| t.with_timezone(&Utc))
        })
        .or(header.timestamp);
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
        source_ip: parse_ip(get("srcip").as_deref()),
        destination_ip: parse_ip(get("dstip").as_deref()),
        source_port: parse_port(get("srcport").as_deref()),
        destination_port: parse_port(get("dstport").as_deref()),
        host: get("devname").or(header.hostname),
        user: get("user")
            .or_else(|| get("srcuser"))
            .or_else(|| get("dstuser")),
        event_time,
        message: get("msg").unwrap_or_default(),
        fields,
        ..Normalized::default()
    })
}
