//! ArcSight Common Event Format:
//! `CEF:Version|Vendor|Product|Version|Signature ID|Name|Severity|Extension`.
//! Header fields escape `\|` and `\\`; extension values escape `\=`, `\\`,
//! `\n` and `\r`, and run until the next ` key=`.
//!
//! Some products send a shorter header (only vendor and product, or no
//! severity): version, vendor and product are required, the rest may be
//! missing, and a last header field that reads as `key=…` is the extension.
//! Addresses, ports, users, host and time come from the extension's short
//! keys or their long names (ArcSight CEF specification, "CEF Key Names"):
//! `src`/`sourceAddress` (or `c6a2`, the source IPv6 field by ArcSight's
//! convention), `dst`/`destinationAddress` (or `c6a3`), `spt`/`sourcePort`,
//! `dpt`/`destinationPort`, `suser`/`sourceUserName` then
//! `duser`/`destinationUserName`, `dvchost`/`deviceHostName`; the time is
//! `rt`/`deviceReceiptTime`, else `end`, else `start`, in the zone the value
//! names, else `dtz` (the device's zone), else the sender's default.

use super::syslog::Header;
use super::{
    clean, clean_opt, parse_ip, parse_port, time, Format, Normalized, ParseContext, ParseError,
};

/// Whether a header piece is an extension (`key=…`) rather than a field.
fn is_extension(piece: &str) -> bool {
    piece.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    })
}

/// The header's fields (up to seven) and the extension text.
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
    let ext = if fields.len() == 7 || is_extension(&cur) {
        cur
    } else {
        fields.push(cur);
        String::new()
    };
    if fields.len() < 3 {
        return Err(ParseError::new(
            "cef",
            format!(
                "header has {} of its fields: version, vendor and product are required",
                fields.len()
            ),
        ));
    }
    Ok((fields, ext))
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
                    // The specification needs no escape for a pipe in
                    // the extension; some senders write one anyway.
                    Some('|') => value.push('|'),
                    // A line break: a space, as the value is one field.
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

pub fn parse(
    text: &str,
    header: Option<&Header>,
    ctx: &ParseContext,
) -> Result<Normalized, ParseError> {
    let body = text
        .strip_prefix("CEF:")
        .ok_or_else(|| ParseError::new("cef", "missing 'CEF:'"))?;
    let (h, ext) = header_fields(body)?;
    let version = h[0].trim();
    if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(ParseError::new(
            "cef",
            format!("version '{version}' is not a number"),
        ));
    }
    let head = |i: usize| clean_opt(h.get(i).map(String::as_str));
    if head(1).is_none() && head(2).is_none() {
        return Err(ParseError::new(
            "cef",
            "header names neither vendor nor product",
        ));
    }
    let pairs = extension(&ext);
    let mut fields: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        fields.entry(k).or_insert(v);
    }
    if let Some(id) = head(4) {
        fields.insert("cef.signature_id".into(), id);
    }
    let get = |k: &str| clean_opt(fields.get(k).map(String::as_str));
    let first = |keys: &[&str]| keys.iter().find_map(|k| get(k));
    // A custom IPv6 field counts as an address only when its label does
    // not say it is something else.
    let ipv6 = |key: &str, word: &str| {
        let label = get(&format!("{key}Label")).unwrap_or_default();
        (label.is_empty() || label.to_ascii_lowercase().contains(word))
            .then(|| parse_ip(get(key).as_deref()))
            .flatten()
    };
    let header = header.cloned().unwrap_or_default();
    let dtz = get("dtz");
    let event_time = [
        "rt",
        "deviceReceiptTime",
        "end",
        "endTime",
        "start",
        "startTime",
    ]
    .iter()
    .find_map(|k| get(k).and_then(|t| time::cef(&t, dtz.as_deref(), ctx)))
    .or(header.timestamp);
    Ok(Normalized {
        format: Some(Format::Cef),
        vendor: head(1).unwrap_or_default(),
        product: head(2).unwrap_or_default(),
        signature: head(5),
        vendor_severity: head(6),
        source_ip: parse_ip(first(&["src", "sourceAddress"]).as_deref())
            .or_else(|| ipv6("c6a2", "source")),
        destination_ip: parse_ip(first(&["dst", "destinationAddress"]).as_deref())
            .or_else(|| ipv6("c6a3", "dest")),
        source_port: parse_port(first(&["spt", "sourcePort"]).as_deref()),
        destination_port: parse_port(first(&["dpt", "destinationPort"]).as_deref()),
        host: first(&["dvchost", "deviceHostName"]).or(header.hostname.clone()),
        user: first(&["suser", "sourceUserName", "duser", "destinationUserName"]),
        event_time,
        message: get("msg").or_else(|| head(5)).unwrap_or_default(),
        fields,
        ..Normalized::default()
    })
}
