//! ArcSight Common Event Format:
//! `CEF:Version|Vendor|Product|Version|Signature ID|Name|Severity|Extension`.
//! Header fields escape `\|` and `\\`; extension values escape `\=`, `\\`,
//! `\n` and `\r`, and run until the next ` key=`.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::syslog::Header;
use super::{clean, clean_opt, parse_ip, parse_port, Format, Normalized, ParseError};

fn header_fields(text: &str) -> Result<(Vec<String>, String), ParseError> {
    let mut fields = Vec::with_capacity(7);
    let mut cur = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('|' | '\\')) => cur.push(n),
                Some(n) => {
                    cur.push('\\');
                    cur.push(n);
                }
                None => cur.push('\\'),
            },
            '|' if fields.len() < 7 => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if fields.len() < 7 {
        return Err(ParseError::new(
            "cef",
            format!("header has {} of 8 fields", fields.len() + 1),
        ));
    }
    Ok((fields, cur))
}

/// Splits the extension into key/value pairs.
pub fn extension(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    // Positions where a `key=` starts: after a space (or at 0), an
    // unescaped '=' preceded by an identifier.
    let mut starts = vec![];
    let mut i = 0;
    while i < chars.len() {
        if i == 0 || chars[i - 1] == ' ' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_alphanumeric()
                    || chars[j] == '_'
                    || chars[j] == '.'
                    || chars[j] == '['
                    || chars[j] == ']')
            {
                j += 1;
            }
            if j > i && chars.get(j) == Some(&'=') {
                starts.push((i, j));
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    let mut out = vec![];
    for (n, (ks, ke)) in starts.iter().enumerate() {
        let vs = ke + 1;
        let ve = starts
            .get(n + 1)
            .map(|(next, _)| next.saturating_sub(1))
            .unwrap_or(chars.len());
        let raw: String = chars[vs..ve.max(vs)].iter().collect();
        let mut value = String::new();
        let mut it = raw.trim_end().chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                match it.next() {
                    Some('=') => value.push('='),
                    Some('\\') => value.push('\\'),
                    Some('n') | Some('r') => value.push(' '),
                    Some(o) => {
                        value.push('\\');
                        value.push(o);
                    }
                    None => value.push('\\'),
                }
            } else {
                value.push(c);
            }
        }
        out.push((chars[*ks..*ke].iter().collect(), clean(&value)));
    }
    out
}

fn cef_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(ms) = raw.parse::<i64>() {
        return DateTime::from_timestamp_millis(ms);
    }
    for f in ["%b %d %Y %H:%M:%S", "%b %d %Y %H:%M:%S%.3f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, f) {
            return Some(t.and_utc());
        }
    }
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn parse(text: &str, header: Option<&Header>) -> Result<Normalized, ParseError> {
    let body = text
        .strip_prefix("CEF:")
        .ok_or_else(|| ParseError::new("cef", "missing 'CEF:'"))?;
    let (h, ext) = header_fields(body)?;
    let version = h[0].trim();
    if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit()) {
        return Err(ParseError::new(
            "cef",
            format!("version '{version}' is not a number"),
        ));
    }
    let pairs = extension(&ext);
    let mut fields: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        fields.entry(k).or_insert(v);
    }
    fields.insert("cef.signature_id".into(), clean(h[4].trim()));
    let get = |k: &str| clean_opt(fields.get(k).map(String::as_str));
    let header = header.cloned().unwrap_or_default();
    Ok(Normalized {
        format: Some(Format::Cef),
        vendor: clean(h[1].trim()),
        product: clean(h[2].trim()),
        signature: clean_opt(Some(h[5].as_str())),
        vendor_severity: clean_opt(Some(h[6].as_str())),
        source_ip: parse_ip(get("src").as_deref()),
        destination_ip: parse_ip(get("dst").as_deref()),
        source_port: parse_port(get("spt").as_deref()),
        destination_port: parse_port(get("dpt").as_deref()),
        host: get("dvchost").or(header.hostname.clone()),
        user: get("suser").or_else(|| get("duser")),
        event_time: get("rt").and_then(|t| cef_time(&t)).or(header.timestamp),
        message: get("msg").unwrap_or_else(|| clean(h[5].trim())),
        fields,
        ..Normalized::default()
    })
}
