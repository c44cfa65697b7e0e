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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeZone, Utc};

use super::syslog::Header;
use super::{
    clean, clean_cow, is_nil, parse_ip, parse_port, time, Format, Normalized, ParseContext,
    ParseError,
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

/// A key and its value, borrowed from the message when they needed no change.
pub type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Splits `k=v k="v w" …` into pairs. Scans bytes: every delimiter is
/// ASCII, so slicing at them keeps UTF-8 intact; a key or value without
/// escapes or control characters is borrowed from `text`, not copied.
pub fn key_values(text: &str) -> Result<Vec<Pair<'_>>, ParseError> {
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
                Cow::Owned(unescape(raw, &['"', '\\']))
            } else {
                clean_cow(raw)
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
                Cow::Owned(unescape(raw, &['=', '"', '\\', ' ']))
            } else {
                clean_cow(raw)
            }
        };
        // Keys come from the input too: a NUL in one would reach the event.
        out.push((clean_cow(key), value));
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

/// A FortiGate message read into its pairs, a repeated key keeping its
/// first value, and what it derives from them, without the owned event:
/// the workers decide most messages (traffic logs, not alerts) from this
/// alone, and [`parse`] builds the event from the same methods, so both
/// readings see the same values.
#[derive(Debug)]
pub struct View<'a> {
    /// In message order, or sorted by key without repeats (`sorted`).
    pairs: Vec<Pair<'a>>,
    sorted: bool,
    header: Option<Header>,
}

impl<'a> View<'a> {
    /// The pairs in message order: deciding a traffic log looks up a key
    /// or two, fewer than a sort would compare.
    pub fn new(text: &'a str, header: Option<Header>) -> Result<View<'a>, ParseError> {
        let view = View {
            pairs: key_values(text)?,
            sorted: false,
            header,
        };
        if view.value("type").is_none() && view.value("logid").is_none() {
            return Err(ParseError::new(
                "fortigate",
                "neither 'type' nor 'logid' present",
            ));
        }
        Ok(view)
    }

    /// Sorted by key, a repeated key keeping its first value (a stable
    /// sort keeps the order of equal keys, `dedup_by` the first of each
    /// run): for the many lookups of building the event, and its map.
    fn sort(mut self) -> Self {
        if !self.sorted {
            self.pairs.sort_by(|a, b| a.0.cmp(&b.0));
            self.pairs.dedup_by(|later, first| later.0 == first.0);
            self.sorted = true;
        }
        self
    }

    /// The value of `k` as parsed (cleaned, maybe blank); the first one
    /// when the key is repeated.
    pub fn value(&self, k: &str) -> Option<&str> {
        if self.sorted {
            self.pairs
                .binary_search_by(|(key, _)| str::cmp(key, k))
                .ok()
                .map(|i| &*self.pairs[i].1)
        } else {
            self.pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| &**v)
        }
    }

    /// Values are cleaned already: absent, blank, `-`, `N/A` and `(null)` are none.
    fn raw(&self, k: &str) -> Option<&str> {
        self.value(k).map(|v| v.trim()).filter(|v| !is_nil(v))
    }

    fn first(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.raw(k))
    }

    pub fn event_time(&self, ctx: &ParseContext) -> Option<chrono::DateTime<Utc>> {
        self.raw("eventtime")
            .and_then(time::epoch)
            .or_else(|| {
                let (d, t) = (self.raw("date")?, self.raw("time")?);
                let naive =
                    NaiveDateTime::parse_from_str(&format!("{d} {t}"), "%Y-%m-%d %H:%M:%S").ok()?;
                let off = self
                    .raw("tz")
                    .and_then(|tz| time::zone_offset(tz, naive))
                    .unwrap_or(ctx.default_offset);
                off.from_local_datetime(&naive)
                    .single()
                    .map(|t| t.with_timezone(&Utc))
            })
            .or(self.header.as_ref().and_then(|h| h.timestamp))
    }

    pub fn user(&self) -> Option<&str> {
        [
            "user",
            "xauthuser",
            "eapuser",
            "srcuser",
            "dstuser",
            "unauthuser",
        ]
        .iter()
        .filter_map(|k| self.raw(k))
        .find(|u| parse_ip(Some(u)).is_none())
    }

    pub fn source_ip(&self) -> Option<IpAddr> {
        parse_ip(self.first(&["srcip", "remip"])).or_else(|| self.raw("ui").and_then(ui_address))
    }

    pub fn destination_ip(&self) -> Option<IpAddr> {
        parse_ip(self.first(&["dstip", "locip"]))
    }

    pub fn source_port(&self) -> Option<u16> {
        parse_port(self.first(&["srcport", "remport"]))
    }

    pub fn destination_port(&self) -> Option<u16> {
        parse_port(self.first(&["dstport", "locport"]))
    }

    pub fn signature(&self) -> Option<&str> {
        self.first(&["attack", "virus", "catdesc", "logdesc"])
    }

    pub fn vendor_severity(&self) -> Option<&str> {
        self.first(&["crlevel", "severity", "level"])
    }

    pub fn host(&self) -> Option<&str> {
        self.raw("devname")
            .or_else(|| self.header.as_ref().and_then(|h| h.hostname.as_deref()))
    }

    pub fn message(&self) -> &str {
        self.raw("msg").unwrap_or_default()
    }

    /// The owned event.
    pub fn normalized(self, ctx: &ParseContext) -> Normalized {
        let this = self.sort();
        this.owned(ctx)
    }

    fn owned(self, ctx: &ParseContext) -> Normalized {
        let own = |v: Option<&str>| v.map(str::to_string);
        Normalized {
            format: Some(Format::FortiGate),
            vendor: VENDOR.into(),
            product: PRODUCT.into(),
            signature: own(self.signature()),
            vendor_severity: own(self.vendor_severity()),
            source_ip: self.source_ip(),
            destination_ip: self.destination_ip(),
            source_port: self.source_port(),
            destination_port: self.destination_port(),
            host: own(self.host()),
            user: own(self.user()),
            event_time: self.event_time(ctx),
            message: self.message().to_string(),
            // Sorted and without repeats: the map is built in one pass.
            fields: self
                .pairs
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect::<BTreeMap<_, _>>(),
            ..Normalized::default()
        }
    }
}

/// `vendor` and `product` of every FortiGate event.
pub const VENDOR: &str = "Fortinet";
pub const PRODUCT: &str = "FortiGate";

pub fn parse(
    text: &str,
    header: Option<Header>,
    ctx: &ParseContext,
) -> Result<Normalized, ParseError> {
    Ok(View::new(text, header)?.normalized(ctx))
}
