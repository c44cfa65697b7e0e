//! Parsers for every accepted format, and the normalized event they produce.
//!
//! A message is tried in this order: NXLog JSON (`{`), CEF without a syslog
//! header, `<PRI>` + RFC 5424, `<PRI>` + FortiGate key=value (FortiGate's
//! own header-less form), `<PRI>` + RFC 3164, bare FortiGate key=value, and
//! finally the envelopes relays write without a PRI (an RFC 3164 or RFC
//! 3339 timestamp and a host before the payload; see `syslog`). The payload
//! after any header is read as CEF, Snare, FortiGate or NXLog JSON when it
//! is one, else as free text: such a message parses, matches no rule and is
//! counted as not an alert. That is the documented call for unstructured
//! lines; what cannot be read at all (empty, an invalid PRI, a broken
//! quoted value, truncated JSON, a CEF header without a product) is an
//! error with its reason, for the dead-letter store. docs/ingest.md has
//! the field mapping of every format.

pub mod cef;
pub mod fortigate;
pub mod fortisiem;
pub mod syslog;
pub mod time;
pub mod windows;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, Utc};

/// Why a message could not be parsed (the dead-letter reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {reason}")]
pub struct ParseError {
    pub format: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(format: &'static str, reason: impl Into<String>) -> Self {
        ParseError {
            format,
            reason: reason.into(),
        }
    }
}

/// The format a message was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rfc3164,
    Rfc5424,
    FortiGate,
    Snare,
    NxLog,
    Cef,
    FortiSiemXml,
    FortiSiemJson,
    FreeText,
}

impl Format {
    /// The name rules match with `format = …` (and `ticketera parse` shows).
    pub fn name(&self) -> &'static str {
        match self {
            Format::Rfc3164 => "rfc3164",
            Format::Rfc5424 => "rfc5424",
            Format::FortiGate => "fortigate",
            Format::Snare => "snare",
            Format::NxLog => "nxlog",
            Format::Cef => "cef",
            Format::FortiSiemXml => "fortisiem-xml",
            Format::FortiSiemJson => "fortisiem-json",
            Format::FreeText => "text",
        }
    }
}

/// One event as every format reads into it. Strings hold no control
/// characters but tab and newline (`clean`), so nothing here can put a NUL
/// into an event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Normalized {
    pub format: Option<Format>,
    pub vendor: String,
    pub product: String,
    /// The vendor's own signature or incident name, when it has one.
    pub signature: Option<String>,
    /// The vendor's severity, as written (e.g. `critical`, `7`).
    pub vendor_severity: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub destination_ip: Option<IpAddr>,
    pub source_port: Option<u16>,
    pub destination_port: Option<u16>,
    pub host: Option<String>,
    pub user: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    /// Every key/value the format carries, for rules to match on.
    pub fields: BTreeMap<String, String>,
    /// SIEM incident identity (FortiSIEM): the same incident is one ticket.
    pub incident_id: Option<String>,
    pub incident_status: Option<String>,
    pub repeat_count: Option<u64>,
    pub message: String,
    pub raw: String,
}

/// Local time of senders that do not say their zone (RFC 3164, NXLog).
#[derive(Debug, Clone, Copy)]
pub struct ParseContext {
    pub default_offset: FixedOffset,
    pub now: DateTime<Utc>,
}

impl Default for ParseContext {
    fn default() -> Self {
        ParseContext {
            default_offset: FixedOffset::east_opt(0).expect("UTC is a valid offset"),
            now: Utc::now(),
        }
    }
}

/// Longest raw message kept on an event (a datagram may be 64 KiB).
pub const RAW_MAX_CHARS: usize = 8_192;

/// Drops control characters but tab and newline: `jsonb` refuses NUL, and
/// the others are never meaningful in a field.
pub fn clean(s: &str) -> String {
    clean_cow(s).into_owned()
}

/// [`clean`], borrowing `s` when there is nothing to drop (the common case).
pub fn clean_cow(s: &str) -> Cow<'_, str> {
    // Fast path: no C0 control but tab and newline, no DEL, and no C1
    // control (U+0080..U+009F, encoded 0xC2 0x80..0x9F): `s` itself.
    // (Any 0xC2 byte takes the slow path: rare in logs, and the check stays
    // a simple byte scan.)
    let dirty = s
        .bytes()
        .any(|c| (c < 0x20 && c != b'\t' && c != b'\n') || c == 0x7f || c == 0xc2);
    if !dirty {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter(|c| !c.is_control() || matches!(c, '\t' | '\n'))
            .collect(),
    )
}

/// At most `max` characters of `s`, cleaned.
pub fn clean_prefix(s: &str, max: usize) -> String {
    if s.len() <= max {
        return clean(s);
    }
    let end = s.char_indices().nth(max).map(|(i, _)| i).unwrap_or(s.len());
    clean(&s[..end])
}

/// Whether a value means "nothing": blank, `-` (syslog's and Windows' nil),
/// `N/A` (FortiOS) or `(null)` (FortiOS and C senders printing a null
/// string).
pub fn is_nil(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v == "-" || v.eq_ignore_ascii_case("N/A") || v.eq_ignore_ascii_case("(null)")
}

pub fn clean_opt(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|v| !is_nil(v)).map(clean)
}

/// An address as senders write it: IPv4, IPv6, IPv6 in brackets or with a
/// zone (`fe80::1%eth0`); an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`,
/// how Windows writes IPv4 clients) is its IPv4 address, so that the CMDB
/// and correlation see one address, not two spellings of it.
pub fn parse_ip(s: Option<&str>) -> Option<IpAddr> {
    let v = s?.trim();
    let v = v
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(v);
    let v = v.split_once('%').map_or(v, |(ip, _zone)| ip);
    v.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// A port; 0 is "none" (Windows writes `IpPort: 0` when there is no port).
pub fn parse_port(s: Option<&str>) -> Option<u16> {
    s.map(str::trim)
        .and_then(|v| v.parse().ok())
        .filter(|p| *p != 0)
}

/// The text of a message: valid UTF-8 (the common case) is checked fast
/// and borrowed.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Without a BOM and the framing's leftovers around it.
fn trimmed(text: &str) -> &str {
    text.trim_start_matches('\u{feff}')
        .trim_matches(|c: char| c == '\n' || c == '\r' || c == '\0' || c == ' ')
}

/// A FortiGate message exactly as [`parse_syslog`] reads one without
/// changing it afterwards (its own `<PRI>` form, or bare key=value), as a
/// [`fortigate::View`]; None for any other message, and for one that does
/// not read (the full parse then says why). `text` is [`decode`]d.
pub fn fortigate_view(text: &str) -> Option<fortigate::View<'_>> {
    let text = trimmed(text);
    if text.starts_with('<') {
        let (header, rest) = syslog::fortigate_after_pri(text)?;
        fortigate::View::new(rest, Some(header)).ok()
    } else if !text.starts_with('{') && !text.starts_with("CEF:") && fortigate::looks_like(text) {
        fortigate::View::new(text, None).ok()
    } else {
        None
    }
}

/// [`decode`] for the workers' fast path.
pub fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    decode(bytes)
}

/// Reads a syslog line, or a SIEM body, into a normalized event.
pub fn parse_syslog(bytes: &[u8], ctx: &ParseContext) -> Result<Normalized, ParseError> {
    let text = decode(bytes);
    let text = trimmed(&text);
    if text.is_empty() {
        return Err(ParseError::new("syslog", "empty message"));
    }
    let mut event = if text.starts_with('{') {
        windows::parse_nxlog(text, ctx)?
    } else if text.starts_with("CEF:") {
        cef::parse(text, None, ctx)?
    } else if text.starts_with('<') {
        syslog::parse_with_pri(text, ctx)?
    } else if fortigate::looks_like(text) {
        fortigate::parse(text, None, ctx)?
    } else {
        // A relay's envelope without a PRI, or text.
        syslog::rfc3164(text, syslog::Header::default(), ctx)
    };
    event.raw = clean_prefix(text, RAW_MAX_CHARS);
    Ok(event)
}

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;
