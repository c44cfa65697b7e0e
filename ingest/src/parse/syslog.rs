//! Syslog framing: RFC 5424, RFC 3164, and the envelopes relays put around
//! a device's message.
//!
//! Relays (rsyslog, syslog-ng, file shippers) often drop the `<PRI>` or add
//! their own header, so a header is read leniently: an optional `<PRI>`,
//! then up to two `TIMESTAMP HOST` headers (the relay's, then the
//! original's), where the timestamp is RFC 3164's (with or without a year)
//! or RFC 3339, and the host may be a name or an address; and a `<PRI>`
//! may follow a relay's header too. What is left is the payload, read as
//! CEF, Snare, FortiGate key=value or text.
//!
//! RFC 5424 structured data that breaks the quoting rules (a bare value,
//! an unescaped quote or `]`, an element never closed, no `-` when there is
//! none) is read leniently rather than refused: the parameters that can be
//! told apart are kept, the rest is the message, and the field
//! `syslog.sd_lenient` says why the strict reading failed: no such message
//! goes to the dead letters. (A timestamp that is not RFC 3339 still does:
//! the header is not RFC 5424 then.)

use chrono::{DateTime, Utc};

use super::{
    cef, clean, clean_opt, fortigate, parse_ip, time, windows, Format, Normalized, ParseContext,
    ParseError,
};

/// What a syslog header says about the message it carries.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub pri: Option<u8>,
    pub timestamp: Option<DateTime<Utc>>,
    pub hostname: Option<String>,
    pub app_name: Option<String>,
}

fn parse_pri(text: &str) -> Result<(u8, &str), ParseError> {
    let end = text[1..]
        .find('>')
        .map(|i| i + 1)
        .filter(|i| *i <= 4)
        .ok_or_else(|| ParseError::new("syslog", "PRI not closed by '>'"))?;
    let digits = &text[1..end];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(
            "syslog",
            format!("PRI '<{digits}>' is not a number"),
        ));
    }
    let pri: u16 = digits
        .parse()
        .map_err(|_| ParseError::new("syslog", "PRI is not a number"))?;
    if pri > 191 {
        return Err(ParseError::new(
            "syslog",
            format!("PRI {pri} is out of range (0-191)"),
        ));
    }
    Ok((pri as u8, &text[end + 1..]))
}

/// Whether `text` starts with a well-formed `<PRI>`.
fn has_pri(text: &str) -> bool {
    text.starts_with('<') && parse_pri(text).is_ok()
}

/// A message that starts with `<PRI>`.
pub fn parse_with_pri(text: &str, ctx: &ParseContext) -> Result<Normalized, ParseError> {
    after_pri(text, Header::default(), ctx, true)
}

/// Reads `<PRI>` and what follows it. `nested_pri`: whether a relay header
/// after this PRI may be followed by another `<PRI>` (once: a message of
/// `<1><1><1>…` must not recurse without end).
fn after_pri(
    text: &str,
    outer: Header,
    ctx: &ParseContext,
    nested_pri: bool,
) -> Result<Normalized, ParseError> {
    let (pri, rest) = parse_pri(text)?;
    let rest = rest.trim_start_matches(' ');
    if rest.trim().is_empty() {
        return Err(ParseError::new("syslog", "nothing after the PRI"));
    }
    let header = Header {
        pri: Some(pri),
        ..outer
    };
    if is_rfc5424(rest) {
        return rfc5424(rest, header, ctx);
    }
    if fortigate::looks_like(rest) {
        return fortigate::parse(rest, Some(header), ctx);
    }
    Ok(envelope(rest, header, ctx, nested_pri))
}

/// An RFC 5424 header after the PRI: a version of one or two digits.
fn is_rfc5424(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    bytes.len() > 2
        && bytes[0].is_ascii_digit()
        && (bytes[1] == b' ' || (bytes[1].is_ascii_digit() && bytes[2] == b' '))
}

/// When `after_pri` (from a message's start) reads `text` as FortiGate's
/// own `<PRI>` form: its header and the key=value text. The same tests in
/// the same order as `after_pri`.
pub fn fortigate_after_pri(text: &str) -> Option<(Header, &str)> {
    let (pri, rest) = parse_pri(text).ok()?;
    let rest = rest.trim_start_matches(' ');
    if rest.trim().is_empty() || is_rfc5424(rest) || !fortigate::looks_like(rest) {
        return None;
    }
    Some((
        Header {
            pri: Some(pri),
            ..Header::default()
        },
        rest,
    ))
}

/// `VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`,
/// the structured data leniently (see the module's notes): an error is a
/// timestamp that is not RFC 3339, or a payload that claims a format and
/// breaks it (a CEF header too short, a FortiGate quote never closed).
fn rfc5424(text: &str, mut header: Header, ctx: &ParseContext) -> Result<Normalized, ParseError> {
    let mut parts = text.splitn(7, ' ');
    let mut next = || parts.next().unwrap_or("-");
    let _version = next();
    let timestamp = next();
    let hostname = next();
    let app = next();
    let _procid = next();
    let _msgid = next();
    let rest = parts.next().unwrap_or("-");
    // A timestamp that is not RFC 3339 is a dead letter: the header is not
    // RFC 5424 at all, and a guess would misdate the event.
    if timestamp != "-" {
        header.timestamp = Some(
            DateTime::parse_from_rfc3339(timestamp)
                .map_err(|e| ParseError::new("rfc5424", format!("timestamp '{timestamp}': {e}")))?
                .with_timezone(&Utc),
        );
    }
    let mut notes = vec![];
    header.hostname = clean_opt(Some(hostname));
    header.app_name = clean_opt(Some(app));
    let (sd, msg) = match structured_data(rest) {
        Ok(read) => read,
        Err(e) => {
            // The reason quotes the sender's bytes: cleaned like a value.
            notes.push(("syslog.sd_lenient", clean(&e.reason)));
            lenient_structured_data(rest)
        }
    };
    let msg = msg.trim_start_matches('\u{feff}');
    let mut event = inner(msg, &header, ctx)?;
    if event.format.is_none() || event.format == Some(Format::FreeText) {
        event.format = Some(Format::Rfc5424);
    }
    for (k, v) in sd {
        event.fields.entry(k).or_insert(v);
    }
    for (k, v) in notes {
        event.fields.insert(k.into(), v);
    }
    Ok(event)
}

/// Parses `-` or `[id k="v" ...]...` and returns its parameters as
/// `sdid.key` fields, and the message after it.
type SdParams = Vec<(String, String)>;

fn structured_data(text: &str) -> Result<(SdParams, &str), ParseError> {
    if let Some(rest) = text.strip_prefix('-') {
        return Ok((vec![], rest.strip_prefix(' ').unwrap_or(rest)));
    }
    let mut out = vec![];
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() && chars[i].1 == '[' {
        i += 1;
        let id_start = i;
        while i < chars.len() && chars[i].1 != ' ' && chars[i].1 != ']' {
            i += 1;
        }
        let id: String = chars[id_start..i].iter().map(|c| c.1).collect();
        loop {
            while i < chars.len() && chars[i].1 == ' ' {
                i += 1;
            }
            match chars.get(i).map(|c| c.1) {
                Some(']') => {
                    i += 1;
                    break;
                }
                None => {
                    return Err(ParseError::new(
                        "rfc5424",
                        "structured data not closed by ']'",
                    ))
                }
                _ => {}
            }
            let key_start = i;
            while i < chars.len() && chars[i].1 != '=' {
                i += 1;
            }
            let key: String = chars[key_start..i].iter().map(|c| c.1).collect();
            if chars.get(i + 1).map(|c| c.1) != Some('"') {
                return Err(ParseError::new(
                    "rfc5424",
                    format!("structured data parameter '{key}' is not quoted"),
                ));
            }
            i += 2;
            let mut value = String::new();
            loop {
                match chars.get(i).map(|c| c.1) {
                    None => {
                        return Err(ParseError::new(
                            "rfc5424",
                            "unterminated structured data value",
                        ))
                    }
                    Some('\\')
                        if matches!(chars.get(i + 1).map(|c| c.1), Some('"' | '\\' | ']')) =>
                    {
                        value.push(chars[i + 1].1);
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            // SD-IDs and names are the sender's too: cleaned like values.
            out.push((clean(&format!("{id}.{key}")), clean(&value)));
        }
    }
    if i == 0 {
        return Err(ParseError::new(
            "rfc5424",
            "structured data must be '-' or start with '['",
        ));
    }
    let offset = chars.get(i).map(|c| c.0).unwrap_or(text.len());
    let msg = &text[offset..];
    Ok((out, msg.strip_prefix(' ').unwrap_or(msg)))
}

/// Structured data that `structured_data` refused, read as far as it can
/// be told apart: values quoted (escapes as RFC 5424) or bare (to a space
/// or `]`); a quoted value never closed runs to the end; an element never
/// closed ends at the end. A word that is not `key=` ends the structured
/// data and starts the message; text not starting with `[` is all message.
fn lenient_structured_data(text: &str) -> (SdParams, &str) {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = vec![];
    let mut i = 0;
    // Every delimiter is ASCII: slicing at them keeps UTF-8 intact.
    while i < n && b[i] == b'[' {
        i += 1;
        let id_start = i;
        while i < n && b[i] != b' ' && b[i] != b']' {
            i += 1;
        }
        let id = &text[id_start..i];
        loop {
            while i < n && b[i] == b' ' {
                i += 1;
            }
            if i >= n {
                return (out, "");
            }
            if b[i] == b']' {
                i += 1;
                break;
            }
            let key_start = i;
            while i < n && !matches!(b[i], b'=' | b' ' | b']') {
                i += 1;
            }
            if i >= n || b[i] != b'=' {
                // Not a parameter: the message starts here.
                return (out, &text[key_start..]);
            }
            let key = &text[key_start..i];
            i += 1;
            let value = if b.get(i) == Some(&b'"') {
                i += 1;
                let mut value = String::new();
                let mut from = i;
                while i < n && b[i] != b'"' {
                    if b[i] == b'\\' && matches!(b.get(i + 1), Some(b'"' | b'\\' | b']')) {
                        value.push_str(&text[from..i]);
                        from = i + 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                value.push_str(&text[from..i.min(n)]);
                i = (i + 1).min(n);
                value
            } else {
                let from = i;
                while i < n && b[i] != b' ' && b[i] != b']' {
                    i += 1;
                }
                text[from..i].to_string()
            };
            out.push((clean(&format!("{id}.{key}")), clean(&value)));
        }
    }
    let msg = text.get(i..).unwrap_or("");
    (out, msg.strip_prefix(' ').unwrap_or(msg))
}

/// The host of a syslog header: a name or an address. A word that cannot
/// be one (a `TAG:` or `TAG[pid]:`, a `key=value`, a payload's start) says
/// the sender left the host out, as many devices do: the payload starts
/// there.
fn split_host(text: &str) -> (Option<String>, &str) {
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    if parse_ip(Some(word)).is_some() {
        return (clean_opt(Some(word)), rest);
    }
    let not_a_host = word.is_empty()
        || word.ends_with(':')
        || word.contains(['[', '=', '\t', '|', '<', '{', '"'])
        || word.starts_with("CEF:")
        || word.starts_with("MSWinEventLog");
    if not_a_host {
        (None, text)
    } else {
        (clean_opt(Some(word)), rest)
    }
}

/// `Mmm dd hh:mm:ss HOST MSG` (RFC 3164), read leniently: see
/// [`envelope`]. Without a timestamp the whole text is the message.
pub fn rfc3164(text: &str, header: Header, ctx: &ParseContext) -> Normalized {
    envelope(text, header, ctx, true)
}

/// Up to two `TIMESTAMP HOST` headers (a relay's in front of the original
/// one; the original's wins), then, when `nested_pri` allows, a `<PRI>` a
/// relay left after its own header; then the payload.
fn envelope(text: &str, mut header: Header, ctx: &ParseContext, nested_pri: bool) -> Normalized {
    let mut body = text;
    let mut headers = 0;
    while headers < 2 {
        let Some((t, n)) = time::syslog_header(body, ctx) else {
            break;
        };
        let (host, msg) = split_host(body[n..].trim_start_matches(' '));
        header.timestamp = Some(t);
        header.hostname = host.or(header.hostname);
        body = msg;
        headers += 1;
    }
    // A relay that wrote TCP frames to a file may leave their octet count
    // between its header and the original (`… relay01 1324 <14>1 …`).
    let framed = body
        .split_once(' ')
        .filter(|(n, rest)| {
            !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit()) && has_pri(rest)
        })
        .map(|(_, rest)| rest);
    let inner_pri = framed.or(has_pri(body).then_some(body));
    if let (true, true, Some(original)) = (nested_pri, headers > 0, inner_pri) {
        // `<relay header> <PRI>original`: the original message, whole.
        if let Ok(e) = after_pri(original, header.clone(), ctx, false) {
            return e;
        }
    }
    match inner(body, &header, ctx) {
        Ok(mut e) => {
            if e.format == Some(Format::FreeText) {
                e.format = Some(if header.timestamp.is_some() {
                    Format::Rfc3164
                } else {
                    Format::FreeText
                });
            }
            e
        }
        // The body looked structured but was not: keep it as text.
        Err(_) => free_text(body, Some(&header)),
    }
}

/// rsyslog writes control characters it receives as `#` and three octal
/// digits (`$EscapeControlCharactersOnReceive`, on by default): a Snare
/// record relayed by it has `#011` for every tab.
fn unescape_rsyslog(text: &str) -> String {
    text.replace("#011", "\t")
        .replace("#012", "\n")
        .replace("#015", "")
}

/// Reads what a syslog header carries: CEF, Snare, FortiGate, or text.
fn inner(msg: &str, header: &Header, ctx: &ParseContext) -> Result<Normalized, ParseError> {
    let trimmed = msg.trim_start();
    // An optional `TAG:` or `TAG[pid]:` before the content.
    let after_tag = trimmed
        .split_once(": ")
        .filter(|(tag, _)| {
            !tag.is_empty() && tag.len() <= 48 && !tag.contains(' ') && !tag.contains('=')
        })
        .map(|(_, rest)| rest.trim_start())
        .unwrap_or(trimmed);
    for candidate in [trimmed, after_tag] {
        if let Some(rest) = candidate.strip_prefix("CEF:") {
            return cef::parse(&format!("CEF:{}", rest.trim_start()), Some(header), ctx);
        }
        if candidate.starts_with("MSWinEventLog#011") {
            return windows::parse_snare(&unescape_rsyslog(candidate), header, ctx);
        }
        if candidate.starts_with("MSWinEventLog") {
            return windows::parse_snare(candidate, header, ctx);
        }
        if fortigate::looks_like(candidate) {
            return fortigate::parse(candidate, Some(header.clone()), ctx);
        }
        // NXLog JSON behind a relay's header; other JSON is some other
        // program's log line: text.
        if candidate.starts_with('{') {
            if let Ok(e) = windows::parse_nxlog(candidate, ctx) {
                return Ok(e);
            }
        }
    }
    Ok(free_text(msg, Some(header)))
}

/// A message with no structure we know: parsed, and (by the rules) not an alert.
pub fn free_text(msg: &str, header: Option<&Header>) -> Normalized {
    let header = header.cloned().unwrap_or_default();
    let mut n = Normalized {
        format: Some(Format::FreeText),
        vendor: "unknown".into(),
        product: header.app_name.clone().unwrap_or_else(|| "syslog".into()),
        host: header.hostname,
        event_time: header.timestamp,
        message: clean(msg).chars().take(super::RAW_MAX_CHARS).collect(),
        ..Normalized::default()
    };
    if let Some(pri) = header.pri {
        n.vendor_severity = Some((pri & 7).to_string());
        n.fields
            .insert("syslog.severity".into(), (pri & 7).to_string());
        n.fields
            .insert("syslog.facility".into(), (pri >> 3).to_string());
    }
    n
}
