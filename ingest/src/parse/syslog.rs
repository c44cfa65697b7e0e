//! Syslog framing: RFC 5424, RFC 3164 (with relay prefixes), and the PRI
//! that FortiGate sends before its key=value body.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::{
    cef, clean, clean_opt, fortigate, windows, Format, Normalized, ParseContext, ParseError,
};

/// What a syslog header says about the message it carries.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub pri: Option<u8>,
    pub timestamp: Option<DateTime<Utc>>,
    pub hostname: Option<String>,
    pub app_name: Option<String>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

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

/// A message that starts with `<PRI>`.
pub fn parse_with_pri(text: &str, ctx: &ParseContext) -> Result<Normalized, ParseError> {
    let (pri, rest) = parse_pri(text)?;
    let rest = rest.trim_start_matches(' ');
    if rest.trim().is_empty() {
        return Err(ParseError::new("syslog", "nothing after the PRI"));
    }
    let header = Header {
        pri: Some(pri),
        ..Header::default()
    };
    let bytes = rest.as_bytes();
    if bytes.len() > 2
        && bytes[0].is_ascii_digit()
        && (bytes[1] == b' ' || (bytes[1].is_ascii_digit() && bytes[2] == b' '))
    {
        return rfc5424(rest, header, ctx);
    }
    if fortigate::looks_like(rest) {
        return fortigate::parse(rest, Some(header), ctx);
    }
    Ok(rfc3164(rest, header, ctx))
}

/// `VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`
fn rfc5424(text: &str, mut header: Header, ctx: &ParseContext) -> Result<Normalized, ParseError> {
    let mut parts = text.splitn(7, ' ');
    let mut next = |what: &str| {
        parts
            .next()
            .ok_or_else(|| ParseError::new("rfc5424", format!("missing {what}")))
    };
    let _version = next("version")?;
    let timestamp = next("timestamp")?;
    let hostname = next("hostname")?;
    let app = next("app-name")?;
    let _procid = next("procid")?;
    let _msgid = next("msgid")?;
    let rest = parts.next().unwrap_or("-");
    if timestamp != "-" {
        header.timestamp = Some(
            DateTime::parse_from_rfc3339(timestamp)
                .map_err(|e| ParseError::new("rfc5424", format!("timestamp '{timestamp}': {e}")))?
                .with_timezone(&Utc),
        );
    }
    header.hostname = clean_opt(Some(hostname));
    header.app_name = clean_opt(Some(app));
    let (sd, msg) = structured_data(rest)?;
    let msg = msg.trim_start_matches('\u{feff}');
    let mut event = inner(msg, &header, ctx)?;
    if event.format.is_none() || event.format == Some(Format::FreeText) {
        event.format = Some(Format::Rfc5424);
    }
    for (k, v) in sd {
        event.fields.entry(k).or_insert(v);
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

/// Parses `Mmm dd hh:mm:ss` at the start of `text`, in the sender's assumed
/// zone, in the year that puts it closest before now.
fn bsd_timestamp(text: &str, ctx: &ParseContext) -> Option<(DateTime<Utc>, usize)> {
    if text.len() < 15 || !text.is_char_boundary(15) {
        return None;
    }
    let month = MONTHS.iter().position(|m| text.starts_with(m))? as u32 + 1;
    let day: u32 = text.get(4..6)?.trim().parse().ok()?;
    let time = text.get(7..15)?;
    let mut hms = time.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let now = ctx.now.with_timezone(&ctx.default_offset);
    let at = |year: i32| -> Option<DateTime<Utc>> {
        let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(h, m, s)?;
        Some(
            ctx.default_offset
                .from_local_datetime(&naive)
                .single()?
                .with_timezone(&Utc),
        )
    };
    let mut t = at(now.year())?;
    // December's messages read in January belong to last year.
    if t > ctx.now + chrono::Duration::days(1) {
        t = at(now.year() - 1)?;
    }
    Some((t, 15))
}

/// `Mmm dd hh:mm:ss HOST MSG`, leniently: without a timestamp the whole text
/// is the message. A relay's own header before the original one is skipped.
pub fn rfc3164(text: &str, mut header: Header, ctx: &ParseContext) -> Normalized {
    let mut body = text;
    if let Some((t, n)) = bsd_timestamp(body, ctx) {
        let rest = body[n..].trim_start_matches(' ');
        let (host, msg) = rest.split_once(' ').unwrap_or((rest, ""));
        header.timestamp = Some(t);
        header.hostname = clean_opt(Some(host));
        body = msg;
        // Relay prefix: `<relay header> <original timestamp> <original host> msg`.
        if let Some((t2, n2)) = bsd_timestamp(body, ctx) {
            let rest = body[n2..].trim_start_matches(' ');
            let (host, msg) = rest.split_once(' ').unwrap_or((rest, ""));
            header.timestamp = Some(t2);
            header.hostname = clean_opt(Some(host));
            body = msg;
        }
    } else if let Ok(t) =
        NaiveDateTime::parse_from_str(text.get(..19).unwrap_or(""), "%Y-%m-%dT%H:%M:%S")
    {
        // Some relays write ISO time without a zone.
        header.timestamp = ctx
            .default_offset
            .from_local_datetime(&t)
            .single()
            .map(|t| t.with_timezone(&Utc));
        let rest = text[19..]
            .trim_start_matches(|c: char| c != ' ')
            .trim_start();
        let (host, msg) = rest.split_once(' ').unwrap_or((rest, ""));
        header.hostname = clean_opt(Some(host));
        body = msg;
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

/// Reads what a syslog header carries: CEF, Snare, FortiGate, or text.
fn inner(msg: &str, header: &Header, ctx: &ParseContext) -> Result<Normalized, ParseError> {
    let trimmed = msg.trim_start();
    // An optional `TAG:` or `TAG[pid]:` before the content.
    let after_tag = trimmed
        .split_once(": ")
        .filter(|(tag, _)| {
            !tag.is_empty() && tag.len() <= 48 && !tag.contains(' ') && !tag.contains('=')
        })
        .map(|(_, rest)| rest)
        .unwrap_or(trimmed);
    for candidate in [trimmed, after_tag] {
        if candidate.starts_with("CEF:") {
            return cef::parse(candidate, Some(header));
        }
        if candidate.starts_with("MSWinEventLog") {
            return windows::parse_snare(candidate, header);
        }
    }
    if fortigate::looks_like(trimmed) {
        return fortigate::parse(trimmed, Some(header.clone()), ctx);
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
