//! Timestamps as senders write them: syslog headers (RFC 3164 with or
//! without a year, RFC 3339), epoch counts of any precision, zone offsets
//! and zone names, and the `MMM dd [yyyy] HH:mm:ss[.SSS] [zone]` family of
//! CEF's `rt`. Every reader returns `None` rather than guess on input it
//! does not know.

use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::ParseContext;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The next space-separated token of `text` from byte `from`: its start and
/// end (spaces are ASCII, so these are char boundaries).
fn token(text: &str, from: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut i = from;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i] != b' ' {
        i += 1;
    }
    (i > start).then_some((start, i))
}

/// `Nov`, `NOV` or `November`.
fn month(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == w || (w.len() == 3 && m.starts_with(&w)))
        .map(|i| i as u32 + 1)
}

fn year(word: &str) -> Option<i32> {
    (word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
        .filter(|y| (1970..=2200).contains(y))
}

/// `hh:mm:ss` with optional fractional seconds (`.123`, `,123`) and the
/// trailing `:` some network devices write after the time.
fn clock(word: &str) -> Option<NaiveTime> {
    let w = word.strip_suffix(':').unwrap_or(word).replace(',', ".");
    if w.len() < 8 || w.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    NaiveTime::parse_from_str(&w, "%H:%M:%S%.f").ok()
}

/// A day and time without a year, in the year that puts it closest before
/// now (December's messages read in January belong to last year).
fn without_year(
    month: u32,
    day: u32,
    time: NaiveTime,
    offset: FixedOffset,
    ctx: &ParseContext,
) -> Option<DateTime<Utc>> {
    let now = ctx.now.with_timezone(&offset);
    let at = |year: i32| {
        local(
            NaiveDate::from_ymd_opt(year, month, day)?.and_time(time),
            offset,
        )
    };
    let t = at(now.year())?;
    if t > ctx.now + chrono::Duration::days(1) {
        return at(now.year() - 1);
    }
    Some(t)
}

fn local(naive: NaiveDateTime, offset: FixedOffset) -> Option<DateTime<Utc>> {
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// RFC 3339, or ISO 8601 close to it: `T` or a space between date and
/// time, fractional seconds, `Z`, `±hh:mm` or `±hhmm`; without a zone, the
/// sender's (`ctx.default_offset`).
pub fn iso(text: &str, ctx: &ParseContext) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(t) {
        return Some(t.with_timezone(&Utc));
    }
    let t = t.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    local(naive, ctx.default_offset)
}

/// The timestamp a syslog header starts with, and the bytes it takes:
/// RFC 3164's `Mmm dd hh:mm:ss` (the day padded or not; a year before or
/// after the time, as Cisco and relays write it; fractional seconds), or an
/// RFC 3339 / ISO 8601 instant (rsyslog's and syslog-ng's own formats, file
/// shippers), with or without a zone.
pub fn syslog_header(text: &str, ctx: &ParseContext) -> Option<(DateTime<Utc>, usize)> {
    let (s0, e0) = token(text, 0)?;
    if s0 != 0 {
        return None;
    }
    let first = &text[s0..e0];
    if first.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        // `2026-11-27T10:00:00Z`, or `2026-11-27 10:00:00`.
        if let Some(t) = iso(first, ctx) {
            return Some((t, e0));
        }
        let (s1, e1) = token(text, e0)?;
        if NaiveDate::parse_from_str(first, "%Y-%m-%d").is_ok() && clock(&text[s1..e1]).is_some() {
            return iso(&text[s0..e1], ctx).map(|t| (t, e1));
        }
        return None;
    }
    let month = month(first)?;
    let (s1, e1) = token(text, e0)?;
    let day: u32 = text[s1..e1].parse().ok().filter(|d| (1..=31).contains(d))?;
    let (s2, e2) = token(text, e1)?;
    let third = &text[s2..e2];
    let off = ctx.default_offset;
    if let Some(y) = year(third) {
        // `Nov 27 2026 10:00:00`
        let (s3, e3) = token(text, e2)?;
        let time = clock(&text[s3..e3])?;
        let t = local(NaiveDate::from_ymd_opt(y, month, day)?.and_time(time), off)?;
        return Some((t, e3));
    }
    let time = clock(third)?;
    // `Nov 27 10:00:00 2026`
    if let Some((s3, e3)) = token(text, e2) {
        if let Some(y) = year(&text[s3..e3]) {
            let t = local(NaiveDate::from_ymd_opt(y, month, day)?.and_time(time), off)?;
            return Some((t, e3));
        }
    }
    Some((without_year(month, day, time, off, ctx)?, e2))
}

/// Seconds, or milli-, micro- or nanoseconds since the epoch, told apart by
/// the digit count (FortiOS writes each, by version; a second count has at
/// most 11 digits until the year 5138).
pub fn epoch(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let (digits, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let n: i64 = digits.parse().ok()?;
    let len = digits.trim_start_matches('-').len();
    let nanos: i64 = match len {
        0..=11 => {
            // `1795784531.123`: seconds with a fraction.
            let frac: String = frac.chars().take(9).collect();
            let f: i64 = if frac.is_empty() {
                0
            } else {
                format!("{frac:0<9}").parse().ok()?
            };
            n.checked_mul(1_000_000_000)?.checked_add(f)?
        }
        12..=14 => n.checked_mul(1_000_000)?,
        15..=17 => n.checked_mul(1_000)?,
        _ => n,
    };
    Some(DateTime::from_timestamp_nanos(nanos))
}

/// A zone as senders name it: `Z`, `UTC`, `GMT`, `±hhmm`, `±hh:mm`, `±hh`,
/// `GMT±hh:mm` / `UTC±hh:mm` (Java's custom zone IDs, which ArcSight's
/// `dtz` uses), or an IANA name (`Europe/Berlin`) at `when` (local time,
/// for the zone's daylight-saving rules).
pub fn zone_offset(zone: &str, when: NaiveDateTime) -> Option<FixedOffset> {
    let z = zone.trim();
    let upper = z.to_ascii_uppercase();
    let numeric = upper
        .strip_prefix("GMT")
        .or_else(|| upper.strip_prefix("UTC"))
        .unwrap_or(&upper);
    if numeric.is_empty() || numeric == "Z" || upper == "Z" {
        return FixedOffset::east_opt(0);
    }
    if let Some(sign) = match numeric.as_bytes()[0] {
        b'+' => Some(1),
        b'-' => Some(-1),
        _ => None,
    } {
        let digits: String = numeric[1..].chars().filter(char::is_ascii_digit).collect();
        if digits.len() != numeric[1..].chars().filter(|c| *c != ':').count() {
            return None;
        }
        let (h, m) = match digits.len() {
            1 | 2 => (digits.parse::<i32>().ok()?, 0),
            4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
            3 => (digits[..1].parse().ok()?, digits[1..].parse().ok()?),
            _ => return None,
        };
        if h > 18 || m > 59 {
            return None;
        }
        return FixedOffset::east_opt(sign * (h * 3600 + m * 60));
    }
    let tz = chrono_tz::Tz::from_str(z).ok()?;
    tz.offset_from_local_datetime(&when)
        .earliest()
        .map(|o| chrono::Offset::fix(&o))
}

/// CEF's `rt`, `start` and `end` (ArcSight CEF specification, "Date
/// formats"): milliseconds since the epoch, or `MMM dd [yyyy] HH:mm:ss[.SSS]
/// [zone]`, or RFC 3339. Without a zone in the value, `dtz` (the device's
/// zone) applies, else the sender's default.
pub fn cef(raw: &str, dtz: Option<&str>, ctx: &ParseContext) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return epoch(raw);
    }
    if raw.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return iso(raw, ctx);
    }
    let words: Vec<&str> = raw.split_whitespace().collect();
    let month = month(words.first()?)?;
    let day: u32 = words.get(1)?.parse().ok()?;
    let (year, rest) = match words.get(2).and_then(|w| year(w)) {
        Some(y) => (Some(y), &words[3..]),
        None => (None, &words[2..]),
    };
    let time = clock(rest.first()?)?;
    let zone = match rest.len() {
        1 => None,
        2 => Some(rest[1]),
        _ => return None,
    };
    let naive_on = |y: i32| NaiveDate::from_ymd_opt(y, month, day).map(|d| d.and_time(time));
    let guess = naive_on(year.unwrap_or(ctx.now.year()))?;
    let offset = match zone.or(dtz) {
        Some(z) => zone_offset(z, guess)?,
        None => ctx.default_offset,
    };
    match year {
        Some(_) => local(guess, offset),
        None => without_year(month, day, time, offset, ctx),
    }
}

/// Java's `Date.toString()`, `EEE MMM dd HH:mm:ss zzz yyyy` (FortiSIEM's
/// `displayTime`): the zone is an abbreviation, read from a table of the
/// common ones (an unknown one gives no time rather than a guess).
pub fn java_date(raw: &str) -> Option<DateTime<Utc>> {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let [_, mon, day, clock_word, zone, yr] = words.as_slice() else {
        return None;
    };
    let naive = NaiveDate::from_ymd_opt(year(yr)?, month(mon)?, day.parse().ok()?)?
        .and_time(clock(clock_word)?);
    let hours: f32 = match zone.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" | "WET" => 0.0,
        "BST" | "CET" | "WEST" => 1.0,
        "CEST" | "EET" | "SAST" => 2.0,
        "EEST" | "MSK" => 3.0,
        "IST" => 5.5,
        "SGT" | "HKT" | "AWST" => 8.0,
        "JST" | "KST" => 9.0,
        "AEST" => 10.0,
        "AEDT" => 11.0,
        "ART" | "BRT" => -3.0,
        "EDT" => -4.0,
        "EST" | "CDT" => -5.0,
        "CST" | "MDT" => -6.0,
        "MST" | "PDT" => -7.0,
        "PST" => -8.0,
        _ => return zone_offset(zone, naive).and_then(|o| local(naive, o)),
    };
    local(naive, FixedOffset::east_opt((hours * 3600.0) as i32)?)
}

#[cfg(test)]
mod tests {
    use super::super::tests::ctx;
    use super::*;

    fn at(text: &str) -> Option<String> {
        syslog_header(text, &ctx()).map(|(t, _)| t.to_rfc3339())
    }

    #[test]
    fn syslog_header_forms() {
        let want = Some("2026-11-27T10:00:00+00:00".to_string());
        assert_eq!(at("Nov 27 10:00:00 host"), want);
        assert_eq!(
            at("Nov  7 10:00:00 host").as_deref(),
            Some("2026-11-07T10:00:00+00:00")
        );
        assert_eq!(
            at("Nov 7 10:00:00 host").as_deref(),
            Some("2026-11-07T10:00:00+00:00")
        );
        assert_eq!(at("Nov 27 2026 10:00:00 host"), want);
        assert_eq!(at("Nov 27 10:00:00 2026 host"), want);
        assert_eq!(
            at("Nov 27 10:00:00.250: %SYS-5").as_deref(),
            Some("2026-11-27T10:00:00.250+00:00")
        );
        assert_eq!(at("2026-11-27T11:00:00+01:00 host"), want);
        assert_eq!(at("2026-11-27T10:00:00Z host"), want);
        assert_eq!(at("2026-11-27T10:00:00 host"), want);
        assert_eq!(at("2026-11-27 10:00:00 host"), want);
        assert_eq!(
            syslog_header("2026-11-27 10:00:00 host", &ctx()).map(|(_, n)| n),
            Some(19)
        );
        assert_eq!(at("host Nov 27 10:00:00"), None);
        assert_eq!(at("Nov 32 10:00:00 host"), None);
        assert_eq!(at("Novel 27 10:00:00 host"), None);
    }

    #[test]
    fn epochs_by_digit_count() {
        let s = Some(1_795_784_531);
        assert_eq!(epoch("1795784531").map(|t| t.timestamp()), s);
        assert_eq!(epoch("1795784531123").map(|t| t.timestamp()), s);
        assert_eq!(epoch("1795784531123456").map(|t| t.timestamp()), s);
        assert_eq!(epoch("1795784531123456789").map(|t| t.timestamp()), s);
        assert_eq!(
            epoch("1795784531.5").map(|t| t.timestamp_millis()),
            Some(1_795_784_531_500)
        );
        assert_eq!(epoch("soon"), None);
    }

    #[test]
    fn zones() {
        let when = NaiveDate::from_ymd_opt(2026, 7, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("date");
        let secs = |z: &str| zone_offset(z, when).map(|o| o.local_minus_utc());
        assert_eq!(secs("-0300"), Some(-3 * 3600));
        assert_eq!(secs("+05:30"), Some(5 * 3600 + 1800));
        assert_eq!(secs("GMT+01:00"), Some(3600));
        assert_eq!(secs("UTC"), Some(0));
        assert_eq!(secs("Europe/Berlin"), Some(2 * 3600));
        assert_eq!(secs("Mars/Olympus"), None);
        assert_eq!(secs("+9999"), None);
    }

    #[test]
    fn java_dates() {
        let t = |s: &str| java_date(s).map(|t| t.to_rfc3339());
        assert_eq!(
            t("Thu Nov 27 10:40:12 ART 2026").as_deref(),
            Some("2026-11-27T13:40:12+00:00")
        );
        assert_eq!(
            t("Thu Nov 27 10:40:12 UTC 2026").as_deref(),
            Some("2026-11-27T10:40:12+00:00")
        );
        assert_eq!(t("Thu Nov 27 10:40:12 XYZT 2026"), None);
    }
}
