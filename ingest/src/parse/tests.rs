//! Every sample line of `ingest/tests/samples` gives its README's outcome.

use std::net::IpAddr;

use domain::Severity;

use super::*;
use crate::rules::{Decision, Rules};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples");

fn sample(file: &str) -> Vec<u8> {
    std::fs::read(format!("{SAMPLES}/{file}")).expect("sample file")
}

fn lines(file: &str) -> Vec<Vec<u8>> {
    sample(file)
        .split(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The context every parser test assumes: senders' zone UTC, "now" the
/// day after the samples (RFC 3164 years are inferred from it).
pub(super) fn ctx() -> ParseContext {
    ParseContext {
        default_offset: chrono::FixedOffset::east_opt(0).expect("UTC"),
        now: chrono::DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
            .expect("now")
            .with_timezone(&chrono::Utc),
    }
}

type Expect = Option<(
    Severity,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
)>;

fn check(label: &str, event: &Normalized, expect: Expect) {
    let decision = Rules::default_rules().decide(event);
    match (expect, decision) {
        (None, Decision::NotAlert { .. }) => {}
        (Some((sev, name, src, dst, host)), Decision::Alert(a)) => {
            assert_eq!(a.severity, sev, "{label} severity");
            assert_eq!(a.rule_name, name, "{label} rule_name");
            assert_eq!(
                a.source_ip,
                src.map(|s| s.parse::<IpAddr>().expect("ip")),
                "{label} source_ip"
            );
            assert_eq!(
                a.destination_ip,
                dst.map(|s| s.parse::<IpAddr>().expect("ip")),
                "{label} destination_ip"
            );
            if let Some(h) = host {
                assert_eq!(a.host.as_deref(), Some(h), "{label} host");
            }
            assert_eq!(a.fingerprint.len(), 64);
        }
        (e, d) => panic!("{label}: expected {e:?}, got {d:?}"),
    }
}

#[test]
fn fortigate_samples() {
    use Severity::*;
    let expect: [Expect; 8] = [
        Some((
            Critical,
            "Apache.Log4j.Error.Log.Remote.Code.Execution",
            Some("203.0.113.45"),
            Some("10.20.1.15"),
            None,
        )),
        Some((
            Critical,
            "EICAR_TEST_FILE",
            Some("10.20.5.77"),
            Some("198.51.100.20"),
            None,
        )),
        Some((
            Critical,
            "icmp_flood",
            Some("192.0.2.200"),
            Some("10.20.1.10"),
            None,
        )),
        None,
        None,
        Some((
            High,
            "Malicious Websites",
            Some("10.30.7.12"),
            Some("203.0.113.99"),
            None,
        )),
        None,
        Some((
            Critical,
            "Admin login failed",
            Some("203.0.113.8"),
            Some("10.20.1.1"),
            None,
        )),
    ];
    let lines = lines("fortigate.log");
    assert_eq!(lines.len(), 8);
    for (i, (line, e)) in lines.iter().zip(expect).enumerate() {
        let event = parse_syslog(line, &ctx())
            .unwrap_or_else(|err| panic!("fortigate.log:{}: {err}", i + 1));
        assert_eq!(
            event.format,
            Some(Format::FortiGate),
            "fortigate.log:{}",
            i + 1
        );
        check(&format!("fortigate.log:{}", i + 1), &event, e);
    }
    let first = parse_syslog(&lines[0], &ctx()).expect("line 1");
    // eventtime in nanoseconds.
    assert_eq!(first.event_time.map(|t| t.timestamp()), Some(1_795_784_531));
    assert_eq!(first.host.as_deref(), Some("FGT-EDGE-01"));
    let second = parse_syslog(&lines[1], &ctx()).expect("line 2");
    assert_eq!(
        second.event_time.map(|t| t.timestamp()),
        Some(1_795_784_740)
    );
}

#[test]
fn windows_samples() {
    use Severity::*;
    let snare: [Expect; 3] = [
        Some((
            Medium,
            "Windows 4625: failed logon",
            Some("10.20.5.77"),
            None,
            Some("DC01.corp.example"),
        )),
        Some((
            High,
            "Windows 1102: audit log cleared",
            None,
            None,
            Some("DC01.corp.example"),
        )),
        None,
    ];
    for (i, (line, e)) in lines("windows-snare.log").iter().zip(snare).enumerate() {
        let event = parse_syslog(line, &ctx())
            .unwrap_or_else(|err| panic!("windows-snare.log:{}: {err}", i + 1));
        assert_eq!(event.format, Some(Format::Snare));
        check(&format!("windows-snare.log:{}", i + 1), &event, e);
    }
    let first = parse_syslog(&lines("windows-snare.log")[0], &ctx()).expect("snare");
    assert_eq!(first.user.as_deref(), Some("jdoe"));
    let nxlog: [Expect; 3] = [
        Some((
            Medium,
            "Windows 4625: failed logon",
            Some("203.0.113.66"),
            None,
            Some("FS02.corp.example"),
        )),
        Some((
            High,
            "Windows 4688: encoded PowerShell from an Office parent",
            None,
            None,
            Some("WS-0231.corp.example"),
        )),
        Some((
            Medium,
            "Windows 4720: user account created",
            None,
            None,
            Some("DC01.corp.example"),
        )),
    ];
    for (i, (line, e)) in lines("windows-nxlog.jsonl").iter().zip(nxlog).enumerate() {
        let event = parse_syslog(line, &ctx())
            .unwrap_or_else(|err| panic!("windows-nxlog.jsonl:{}: {err}", i + 1));
        assert_eq!(event.format, Some(Format::NxLog));
        check(&format!("windows-nxlog.jsonl:{}", i + 1), &event, e);
    }
}

#[test]
fn cef_samples() {
    use Severity::*;
    let expect: [Expect; 2] = [
        Some((
            Critical,
            "ET EXPLOIT Possible Log4j RCE Attempt",
            Some("203.0.113.45"),
            Some("10.20.1.15"),
            None,
        )),
        Some((
            High,
            "spyware",
            Some("10.20.5.77"),
            Some("198.51.100.20"),
            None,
        )),
    ];
    for (i, (line, e)) in lines("cef.log").iter().zip(expect).enumerate() {
        let event =
            parse_syslog(line, &ctx()).unwrap_or_else(|err| panic!("cef.log:{}: {err}", i + 1));
        assert_eq!(event.format, Some(Format::Cef));
        check(&format!("cef.log:{}", i + 1), &event, e);
    }
    let second = parse_syslog(&lines("cef.log")[1], &ctx()).expect("cef 2");
    assert_eq!(
        second.fields.get("request").map(String::as_str),
        Some("http://example.test/q?id=42")
    );
    assert_eq!(
        second.fields.get("cs2").map(String::as_str),
        Some("Suspicious DNS Query (Trojan.generic:example.test)")
    );
}

#[test]
fn fortisiem_samples() {
    let xml = fortisiem::parse_xml(&sample("fortisiem-incident.xml")).expect("xml");
    assert_eq!(xml.incident_id.as_deref(), Some("40211"));
    assert_eq!(xml.repeat_count, Some(3));
    assert_eq!(xml.incident_status.as_deref(), Some("Active"));
    check(
        "fortisiem-incident.xml",
        &xml,
        Some((
            Severity::High,
            "Excessive Denied Connections From Same Source",
            Some("198.51.100.77"),
            Some("10.20.1.22"),
            None,
        )),
    );
    let json = fortisiem::parse_json(&sample("fortisiem-incident.json")).expect("json");
    assert_eq!(json.incident_id.as_deref(), Some("40212"));
    assert_eq!(json.incident_status.as_deref(), Some("Active"));
    check(
        "fortisiem-incident.json",
        &json,
        Some((
            Severity::High,
            "Windows: Audit Log Cleared",
            Some("10.20.5.31"),
            Some("10.20.1.5"),
            None,
        )),
    );
}

#[test]
fn malformed_samples_are_dead_letters_or_not_alerts() {
    let rules = Rules::default_rules();
    let bytes = sample("malformed.log");
    let mut dead = 0;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        match parse_syslog(line, &ctx()) {
            Err(e) => {
                dead += 1;
                assert!(!e.reason.is_empty(), "malformed.log:{}", i + 1);
            }
            Ok(event) => assert!(
                matches!(rules.decide(&event), Decision::NotAlert { .. }),
                "malformed.log:{} became an alert",
                i + 1
            ),
        }
    }
    // Two empty lines (the last after the final newline), <999>, <13>, the
    // unterminated quote, the truncated JSON. The short CEF header
    // (`CEF:0|only|three`: version, vendor, product) is read, and is not
    // an alert: it has no severity.
    assert_eq!(dead, 6, "{dead} dead letters");
}

#[test]
fn rfc5424_structured_data_bom_and_nil_values() {
    let line = "<165>1 2026-11-27T10:00:00.5Z host app 42 ID47 [ex@32473 iut=\"3\" event=\"a \\\"b\\\" \\]c\"][x@1 k=\"v\"] \u{feff}hello";
    let e = parse_syslog(line.as_bytes(), &ctx()).expect("5424");
    assert_eq!(e.format, Some(Format::Rfc5424));
    assert_eq!(
        e.fields.get("ex@32473.event").map(String::as_str),
        Some("a \"b\" ]c")
    );
    assert_eq!(e.fields.get("x@1.k").map(String::as_str), Some("v"));
    assert_eq!(e.message, "hello");
    assert_eq!(e.host.as_deref(), Some("host"));
    let nil = parse_syslog(b"<13>1 - - - - - -", &ctx()).expect("all nil");
    assert_eq!(nil.host, None);
    // Structured data that breaks the rules is read leniently (module
    // notes of `syslog`): never a dead letter, the strict reason kept.
    let unclosed = parse_syslog(
        b"<13>1 2026-11-27T10:00:00Z h a p m [unclosed k=\"v\"",
        &ctx(),
    )
    .expect("lenient");
    assert_eq!(
        unclosed.fields.get("unclosed.k").map(String::as_str),
        Some("v")
    );
    assert!(unclosed.fields.contains_key("syslog.sd_lenient"));
}

#[test]
fn rfc3164_relay_prefix_and_year() {
    let e = parse_syslog(
        b"<13>Nov 27 10:00:00 relay01 Nov 27 09:59:58 origin01 sshd[42]: Failed password",
        &ctx(),
    )
    .expect("relay");
    assert_eq!(e.host.as_deref(), Some("origin01"));
    assert_eq!(
        e.event_time.map(|t| t.to_rfc3339()),
        Some("2026-11-27T09:59:58+00:00".into())
    );
    // December read at the end of November is last year's.
    let dec = parse_syslog(b"<13>Dec 31 23:00:00 h x: y", &ctx()).expect("dec");
    assert_eq!(
        dec.event_time.map(|t| t.format("%Y").to_string()),
        Some("2025".into())
    );
}

#[test]
fn fortigate_escapes_repeats_and_na() {
    let line = br#"date=2026-11-27 time=10:00:00 logid="1" type="utm" msg="say \"hi\"" path=a\=b user="N/A" srcip=10.0.0.1 srcip=10.0.0.2 tz="-0300""#;
    let e = parse_syslog(line, &ctx()).expect("fortigate");
    assert_eq!(e.message, "say \"hi\"");
    assert_eq!(e.fields.get("path").map(String::as_str), Some("a=b"));
    assert_eq!(e.user, None);
    assert_eq!(e.source_ip, Some("10.0.0.1".parse().expect("ip")));
    // date/time in the sender's zone when there is no eventtime.
    assert_eq!(
        e.event_time.map(|t| t.to_rfc3339()),
        Some("2026-11-27T13:00:00+00:00".into())
    );
}

#[test]
fn xml_with_a_dtd_or_unknown_entity_is_refused() {
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE incident [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><incident incidentId="1"><name>&xxe;</name></incident>"#;
    assert!(fortisiem::parse_xml(xxe)
        .unwrap_err()
        .reason
        .contains("DTD"));
    let laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><incident incidentId="1"><name>&lol2;</name></incident>"#;
    assert!(fortisiem::parse_xml(laughs).is_err());
    let undeclared = br#"<incident incidentId="1"><name>&lol;</name></incident>"#;
    assert!(fortisiem::parse_xml(undeclared).is_err());
}

#[test]
fn keys_and_names_from_the_input_are_cleaned() {
    // Found by the properties below: keys came through uncleaned.
    let fg = parse_syslog(
        b"date=2026-11-27 logid=1 type=utm a\0b=1 \x1bk=\"v\"",
        &ctx(),
    )
    .expect("fortigate");
    assert_eq!(fg.fields.get("ab").map(String::as_str), Some("1"));
    assert_eq!(fg.fields.get("k").map(String::as_str), Some("v"));
    let sd = parse_syslog(b"<13>1 - h a - - [x\0@1 k\0=\"v\"] msg", &ctx()).expect("5424");
    assert_eq!(sd.fields.get("x@1.k").map(String::as_str), Some("v"));
    let xml = fortisiem::parse_xml(
        b"<incident incidentId=\"1\" a\0b=\"2\"><name>n</name><t\0ag>x</t\0ag></incident>",
    )
    .expect("xml");
    assert_eq!(xml.fields.get("incident.ab").map(String::as_str), Some("2"));
    assert_eq!(xml.fields.get("tag").map(String::as_str), Some("x"));
    let json = fortisiem::parse_json(br#"{"incidentId": 1, "eventName": "e", "k\u0000": "v"}"#)
        .expect("json");
    assert_eq!(json.fields.get("k").map(String::as_str), Some("v"));
    for e in [&fg, &sd, &xml, &json] {
        assert!(
            e.fields.keys().all(|k| !k.chars().any(char::is_control)),
            "{e:?}"
        );
    }
}

#[test]
fn a_broken_rules_file_is_refused_with_its_line() {
    let bad = "[correlation]\nkey = [\"vendor\"]\n\n[[rules]]\nname = \"x\"\nmatch = { vendor = \"(\" }\nseverity = \"HIGH\"\n";
    let err = Rules::from_toml(bad).unwrap_err();
    assert_eq!(err.line, 6, "{err}");
    let unknown_sev = "[correlation]\nkey = [\"vendor\"]\n[[rules]]\nname = \"x\"\nmatch = { vendor = \"a\" }\nseverity = \"URGENT\"\n";
    assert!(Rules::from_toml(unknown_sev)
        .unwrap_err()
        .reason
        .contains("URGENT"));
    let syntax = "[correlation]\nkey = [\"vendor\"\n";
    assert!(Rules::from_toml(syntax).is_err());
    let bad_key = "[correlation]\nkey = [\"colour\"]\n";
    assert!(Rules::from_toml(bad_key)
        .unwrap_err()
        .reason
        .contains("colour"));
}

/// Parsers on hostile input: for each format a valid prefix or header (so
/// the input gets past the first checks) followed by arbitrary bytes (NUL
/// and other controls, invalid UTF-8, the format's own delimiters), and
/// JSON-shaped bodies with the field names the JSON parsers read. Every
/// call must return within a liveness bound (not a speed target); an event
/// must hold no control character but tab and newline (`clean`: `jsonb`
/// refuses NUL), nor may the alert the default rules make of it; an error
/// must make a dead-letter reason without NUL.
mod properties {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestCaseError;
    use serde_json::{Map, Value};

    use super::super::*;
    use crate::dead_letters::sanitize_reason;
    use crate::rules::{Decision, Rules};

    /// Generous: one call on a few hundred bytes, in a debug build, on a
    /// loaded machine.
    const BOUND: Duration = Duration::from_secs(2);
    /// Modest, so the module takes seconds in a debug build;
    /// `PROPTEST_CASES=20000` runs deeper.
    const CASES: u32 = 128;
    const TAIL: usize = 200;

    fn config() -> ProptestConfig {
        match std::env::var_os("PROPTEST_CASES") {
            Some(_) => ProptestConfig::default(),
            None => ProptestConfig::with_cases(CASES),
        }
    }

    fn rules() -> &'static Rules {
        static RULES: OnceLock<Rules> = OnceLock::new();
        RULES.get_or_init(Rules::default_rules)
    }

    fn clean_text(s: &str) -> bool {
        !s.chars().any(|c| c.is_control() && c != '\t' && c != '\n')
    }

    fn check_strings<'a>(
        what: &str,
        strings: impl IntoIterator<Item = (&'static str, Option<&'a str>)>,
    ) -> Result<(), TestCaseError> {
        for (field, s) in strings {
            if let Some(s) = s {
                prop_assert!(clean_text(s), "{what}.{field} holds a control: {s:?}");
            }
        }
        Ok(())
    }

    /// Every string of the event, and of the alert the rules make of it.
    fn check_event(e: &Normalized) -> Result<(), TestCaseError> {
        check_strings(
            "event",
            [
                ("vendor", Some(e.vendor.as_str())),
                ("product", Some(e.product.as_str())),
                ("signature", e.signature.as_deref()),
                ("vendor_severity", e.vendor_severity.as_deref()),
                ("host", e.host.as_deref()),
                ("user", e.user.as_deref()),
                ("incident_id", e.incident_id.as_deref()),
                ("incident_status", e.incident_status.as_deref()),
                ("message", Some(e.message.as_str())),
                ("raw", Some(e.raw.as_str())),
            ],
        )?;
        for (k, v) in &e.fields {
            check_strings(
                "event.fields",
                [("key", Some(k.as_str())), ("value", Some(v.as_str()))],
            )?;
        }
        if let Decision::Alert(a) = rules().decide(e) {
            check_strings(
                "alert",
                [
                    ("vendor", Some(a.vendor.as_str())),
                    ("product", Some(a.product.as_str())),
                    ("rule_name", Some(a.rule_name.as_str())),
                    ("matched_rule", Some(a.matched_rule.as_str())),
                    ("host", a.host.as_deref()),
                    ("user", a.user.as_deref()),
                    ("fingerprint", Some(a.fingerprint.as_str())),
                    ("incident_id", a.incident_id.as_deref()),
                    ("incident_status", a.incident_status.as_deref()),
                    ("message", Some(a.message.as_str())),
                    ("raw", Some(a.raw.as_str())),
                ],
            )?;
        }
        Ok(())
    }

    /// Runs one parse under the liveness bound and checks its outcome.
    fn run(
        input: &[u8],
        parse: impl FnOnce(&[u8]) -> Result<Normalized, ParseError>,
    ) -> Result<(), TestCaseError> {
        let started = Instant::now();
        let parsed = parse(input);
        let took = started.elapsed();
        prop_assert!(
            took < BOUND,
            "took {took:?} on {:?}",
            String::from_utf8_lossy(input)
        );
        match parsed {
            Ok(e) => check_event(&e),
            Err(e) => {
                let reason = sanitize_reason(&e.to_string());
                prop_assert!(!reason.is_empty());
                prop_assert!(!reason.contains('\0'), "{reason:?}");
                Ok(())
            }
        }
    }

    fn syslog(input: &[u8]) -> Result<(), TestCaseError> {
        run(input, |b| parse_syslog(b, &ParseContext::default()))
    }

    /// Arbitrary bytes, weighted towards what breaks parsers: controls,
    /// delimiters of every format, invalid and multi-byte UTF-8, `key=`.
    fn hostile(max: usize) -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            4 => any::<u8>().prop_map(|b| vec![b]),
            3 => prop::sample::select(b"\0\x01\x1b\x7f\t\n\r =\"\\|[]<>&;:,{}/-'".to_vec())
                .prop_map(|b| vec![b]),
            1 => prop::sample::select(vec![
                &b"\xc2\x85"[..], // U+0085, a C1 control
                b"\xc2\x9f",
                b"\xef\xbb\xbf", // BOM
                b"\xff",
                b"\xc3", // a truncated sequence
                "é".as_bytes(),
                "\u{2028}".as_bytes(),
                b"\\u0000",
                b"&amp;",
                b"&#0;",
            ])
            .prop_map(<[u8]>::to_vec),
            // `key=` and `key="`: more pairs (a regex strategy is slow to sample).
            2 => (
                prop::sample::select(vec!["a", "msg", "srcip", "dstip", "logid", "type", "k_1", "rt"]),
                prop::sample::select(vec!["=", "=\""]),
            )
                .prop_map(|(k, eq)| format!("{k}{eq}").into_bytes()),
        ];
        prop::collection::vec(piece, 0..max).prop_map(|v| v.concat())
    }

    fn then(prefix: &str, tail: &[u8]) -> Vec<u8> {
        [prefix.as_bytes(), tail].concat()
    }

    /// Strings with controls (NUL included), the JSON parsers' separators,
    /// and values that read as numbers, addresses or times.
    fn hostile_string() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            3 => any::<char>(),
            2 => prop::sample::select(vec!['\0', '\u{1b}', '\u{7f}', '\u{85}', '\t', '\n', ':', ',', '"', ' ']),
            2 => prop::sample::select(vec!['0', '1', '9', '.', '-']),
        ];
        let free = prop::collection::vec(ch, 0..24).prop_map(String::from_iter);
        let plausible = prop::sample::select(vec![
            "4625",
            "0",
            "1",
            "-",
            "N/A",
            "10.20.1.15",
            "2026-11-27 10:00:00",
            "1795784531000",
            "srcIpAddr:10.0.0.1,hostName:h,",
            "Active",
            "",
        ])
        .prop_map(String::from);
        prop_oneof![
            2 => free.clone(),
            1 => plausible.clone(),
            1 => (plausible, free).prop_map(|(a, b)| a + &b),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            1 => Just(Value::Null),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
            1 => any::<f64>().prop_map(Value::from),
            3 => hostile_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((hostile_string(), inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// A JSON object: mostly the names the parser reads (`names`), with
    /// each of `required` present most of the time, plus arbitrary keys.
    fn json_object(
        names: &'static [&'static str],
        required: &'static [&'static str],
    ) -> impl Strategy<Value = Vec<u8>> {
        let key = prop_oneof![
            3 => prop::sample::select(names).prop_map(String::from),
            1 => hostile_string(),
        ];
        // Required fields mostly hold what the parser expects (a number, or
        // a string: EventID, incidentId, eventName), else anything.
        let expected = prop_oneof![
            2 => any::<u16>().prop_map(Value::from),
            2 => hostile_string().prop_map(Value::String),
            1 => json_value(),
        ];
        let required =
            prop::collection::vec((prop::bool::weighted(0.85), expected), required.len()).prop_map(
                move |v| {
                    required
                        .iter()
                        .zip(v)
                        .filter(|(_, (keep, _))| *keep)
                        .map(|(k, (_, v))| (k.to_string(), v))
                        .collect::<Vec<_>>()
                },
            );
        (required, prop::collection::vec((key, json_value()), 0..12)).prop_map(|(req, more)| {
            let mut obj: Map<String, Value> = more.into_iter().collect();
            obj.extend(req);
            serde_json::to_vec(&Value::Object(obj)).expect("a JSON value serializes")
        })
    }

    const NXLOG_NAMES: &[&str] = &[
        "EventID",
        "Channel",
        "SourceName",
        "EventType",
        "Hostname",
        "Category",
        "Message",
        "IpAddress",
        "SubjectUserName",
        "TargetUserName",
        "CommandLine",
        "ParentProcessName",
        "NewProcessName",
        "WorkstationName",
        "LogonType",
        "EventTime",
    ];
    const FORTISIEM_NAMES: &[&str] = &[
        "incidentId",
        "eventName",
        "incidentTitle",
        "eventSeverity",
        "incidentStatus",
        "count",
        "incidentSrc",
        "incidentTarget",
        "incidentDetail",
        "incidentLastSeen",
        "incidentFirstSeen",
    ];

    const RFC3164: &[&str] = &[
        "<13>Nov 27 10:00:00 host01 ",
        "<13>Nov 27 10:00:00 relay01 Nov 27 09:59:58 origin01 sshd[42]: ",
        "<13>2026-11-27T10:00:00 host01 ",
        "Nov 27 10:00:00 host01 app: ",
    ];
    const RFC5424: &[&str] = &[
        "<165>1 2026-11-27T10:00:00.5Z host app 42 ID47 ",
        "<165>1 2026-11-27T10:00:00+01:00 host app - - - ",
        "<165>1 2026-11-27T10:00:00Z host app 42 ID47 [ex@32473 iut=\"3\" event=\"",
        "<165>1 - - - - - [x@1 ",
    ];
    const FORTIGATE: &str = "date=2026-11-27 time=10:00:00 devname=\"FGT-EDGE-01\" devid=\"FG100F\" logid=\"0419016384\" type=\"utm\" subtype=\"ips\" level=\"alert\" srcip=203.0.113.45 dstip=10.20.1.15 ";
    const SNARE: &str = "MSWinEventLog\t1\tSecurity\t7\tWed Nov 27 10:00:00 2026\t4625\tMicrosoft-Windows-Security-Auditing\tjdoe\tN/A\tFailure Audit\tDC01.corp.example\tLogon\t\t";
    const CEF: &str = "CEF:0|Suricata|IDS|7.0|2034647|ET EXPLOIT Possible Log4j RCE Attempt|10|src=203.0.113.45 dst=10.20.1.15 ";

    fn prefixed(
        prefixes: &'static [&'static str],
        body: &'static str,
    ) -> impl Strategy<Value = Vec<u8>> {
        (prop::sample::select(prefixes), hostile(TAIL))
            .prop_map(move |(p, tail)| then(&format!("{p}{body}"), &tail))
    }

    fn rfc3164_input() -> impl Strategy<Value = Vec<u8>> {
        prefixed(RFC3164, "")
    }

    fn rfc5424_input() -> impl Strategy<Value = Vec<u8>> {
        prefixed(RFC5424, "")
    }

    fn fortigate_input() -> impl Strategy<Value = Vec<u8>> {
        prefixed(
            &[
                "",
                "<189>",
                "<189>Nov 27 10:00:00 fgt ",
                "<189>1 2026-11-27T10:00:00Z fgt - - - - ",
            ],
            FORTIGATE,
        )
    }

    /// `key=value` or `key="value"` pairs with hostile keys and values.
    fn fortigate_pairs_input() -> impl Strategy<Value = Vec<u8>> {
        let key = prop_oneof![
            3 => prop::sample::select(vec!["srcip", "dstip", "msg", "attack", "user", "k\0", "\x1b"])
                .prop_map(|k| k.as_bytes().to_vec()),
            1 => hostile(4),
        ];
        prop::collection::vec((key, hostile(12), any::<bool>()), 1..16).prop_map(|pairs| {
            let mut line = b"date=2026-11-27 logid=1 type=utm ".to_vec();
            for (k, v, quoted) in pairs {
                line.extend_from_slice(&k);
                line.push(b'=');
                if quoted {
                    line.push(b'"');
                }
                line.extend_from_slice(&v);
                if quoted {
                    line.push(b'"');
                }
                line.push(b' ');
            }
            line
        })
    }

    fn snare_input() -> impl Strategy<Value = Vec<u8>> {
        prefixed(
            &[
                "<13>Nov 27 10:00:00 dc01 ",
                "<13>1 2026-11-27T10:00:00Z dc01 snare - - - ",
            ],
            SNARE,
        )
    }

    fn nxlog_input() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            3 => json_object(NXLOG_NAMES, &["EventID"]),
            1 => prefixed(&["{\"EventID\": 4625, \"Hostname\": \"h\", \"Message\": \""], ""),
        ]
    }

    fn cef_input() -> impl Strategy<Value = Vec<u8>> {
        prefixed(
            &[
                "",
                "<13>Nov 27 10:00:00 ids01 ",
                "<13>1 2026-11-27T10:00:00Z ids01 - - - - ",
            ],
            CEF,
        )
    }

    fn xml_escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;")
    }

    /// A well-formed incident whose attribute values and texts are hostile
    /// strings (controls, NUL included): the success path of the parser.
    fn fortisiem_xml_shaped() -> impl Strategy<Value = Vec<u8>> {
        let entry = (
            prop::sample::select(vec!["incidentSource", "incidentTarget", "incidentDetail"]),
            prop::sample::select(vec![
                "srcIpAddr",
                "destIpAddr",
                "hostName",
                "user",
                "destIpPort",
            ]),
            hostile_string(),
        );
        (
            hostile_string(),
            hostile_string(),
            hostile_string(),
            hostile_string(),
            prop::collection::vec(entry, 0..6),
        )
            .prop_map(|(id, severity, name, description, entries)| {
                let entries: String = entries
                    .iter()
                    .map(|(section, attr, v)| {
                        format!(
                            "<{section}><entry attribute=\"{attr}\">{}</entry></{section}>",
                            xml_escape(v)
                        )
                    })
                    .collect();
                format!(
                    "<incident incidentId=\"{}\" severity=\"{}\" status=\"0\"><name>{}</name><description>{}</description>{entries}</incident>",
                    xml_escape(&id),
                    xml_escape(&severity),
                    xml_escape(&name),
                    xml_escape(&description),
                )
                .into_bytes()
            })
    }

    fn fortisiem_xml_input() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![fortisiem_xml_shaped(), fortisiem_xml_prefixed()]
    }

    fn fortisiem_xml_prefixed() -> impl Strategy<Value = Vec<u8>> {
        prefixed(
            &[
                "<incident incidentId=\"1\" severity=\"9\" status=\"0\"><name>",
                "<incident incidentId=\"1\"><name>n</name><incidentSource><entry attribute=\"srcIpAddr\">",
                "<incident incidentId=\"1\"><name>n</name><",
                "<incident ",
            ],
            "",
        )
        .prop_map(|mut body| {
            body.extend_from_slice(b"</name></incident>");
            body
        })
    }

    fn fortisiem_json_input() -> impl Strategy<Value = Vec<u8>> {
        json_object(FORTISIEM_NAMES, &["incidentId", "eventName"])
    }

    fn syslog_parse(b: &[u8]) -> Result<Normalized, ParseError> {
        parse_syslog(b, &ParseContext::default())
    }

    /// The generators are worth their cases only if they get past the first
    /// checks: a fair share of their inputs parse, as the intended format.
    #[test]
    fn generators_reach_each_parser() {
        type Parse = fn(&[u8]) -> Result<Normalized, ParseError>;
        fn share(
            name: &str,
            input: impl Strategy<Value = Vec<u8>>,
            parse: Parse,
            formats: &[Format],
        ) {
            let mut runner = proptest::test_runner::TestRunner::deterministic();
            let n = 100;
            let hits = (0..n)
                .filter(|_| {
                    let bytes = input.new_tree(&mut runner).expect("a value").current();
                    parse(&bytes).is_ok_and(|e| e.format.is_some_and(|f| formats.contains(&f)))
                })
                .count();
            assert!(hits * 10 >= n, "{name}: {hits} of {n} parse as {formats:?}");
        }
        use Format::*;
        share("rfc3164", rfc3164_input(), syslog_parse, &[Rfc3164]);
        share("rfc5424", rfc5424_input(), syslog_parse, &[Rfc5424]);
        share("fortigate", fortigate_input(), syslog_parse, &[FortiGate]);
        share(
            "fortigate pairs",
            fortigate_pairs_input(),
            syslog_parse,
            &[FortiGate],
        );
        share("snare", snare_input(), syslog_parse, &[Snare]);
        share("nxlog", nxlog_input(), syslog_parse, &[NxLog]);
        share("cef", cef_input(), syslog_parse, &[Cef]);
        share(
            "fortisiem xml",
            fortisiem_xml_input(),
            fortisiem::parse_xml,
            &[FortiSiemXml],
        );
        share(
            "fortisiem json",
            fortisiem_json_input(),
            fortisiem::parse_json,
            &[FortiSiemJson],
        );
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            syslog(&bytes)?;
            run(&bytes, fortisiem::parse_xml)?;
            run(&bytes, fortisiem::parse_json)?;
        }

        #[test]
        fn rfc3164(input in rfc3164_input()) { syslog(&input)?; }

        #[test]
        fn rfc5424(input in rfc5424_input()) { syslog(&input)?; }

        #[test]
        fn fortigate_without_and_with_a_header(input in fortigate_input()) { syslog(&input)?; }

        #[test]
        fn fortigate_key_values(input in fortigate_pairs_input()) { syslog(&input)?; }

        #[test]
        fn snare(input in snare_input()) { syslog(&input)?; }

        #[test]
        fn nxlog(input in nxlog_input()) { syslog(&input)?; }

        #[test]
        fn cef(input in cef_input()) { syslog(&input)?; }

        #[test]
        fn fortisiem_xml(input in fortisiem_xml_input()) { run(&input, fortisiem::parse_xml)?; }

        #[test]
        fn fortisiem_json(input in fortisiem_json_input()) { run(&input, fortisiem::parse_json)?; }
    }
}

/// Throughput of parse + decide on flood-shaped lines (run with
/// `cargo test --release -p ingest -- --ignored --nocapture parse_throughput`).
#[test]
#[ignore]
fn parse_throughput() {
    let traffic = lines("fortigate.log").remove(3);
    let alert = lines("fortigate.log").remove(0);
    let rules = Rules::default_rules();
    let ctx = ctx();
    for (name, line) in [("traffic", &traffic), ("alert", &alert)] {
        let n = 200_000;
        let t = std::time::Instant::now();
        let mut alerts = 0;
        for _ in 0..n {
            let e = parse_syslog(line, &ctx).expect("parses");
            if matches!(rules.decide(&e), Decision::Alert(_)) {
                alerts += 1;
            }
        }
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "{name}: {:.0} msg/s ({:.2} us each), alerts {alerts}",
            n as f64 / s,
            s * 1e6 / n as f64
        );
    }
}

#[test]
fn relay_envelopes_nest_once_and_never_recurse_without_end() {
    // `<1>` after a relay header is read once; a message of nothing but
    // PRIs is text (or an error), never a stack overflow.
    let many = format!("Nov 27 10:00:00 relay {}", "<1>".repeat(20_000));
    let e = parse_syslog(many.as_bytes(), &ctx()).expect("text");
    assert_eq!(e.host.as_deref(), Some("relay"));
    let e = parse_syslog("<1>".repeat(20_000).as_bytes(), &ctx());
    assert!(e.is_ok() || e.is_err());
    // The original's header wins over the relay's.
    let e = parse_syslog(
        b"Nov 27 10:00:05 relay01 <13>Nov 27 10:00:00 origin01 app: hello",
        &ctx(),
    )
    .expect("nested");
    assert_eq!(e.host.as_deref(), Some("origin01"));
    assert_eq!(
        e.fields.get("syslog.severity").map(String::as_str),
        Some("5")
    );
    assert_eq!(
        e.event_time.map(|t| t.to_rfc3339()),
        Some("2026-11-27T10:00:00+00:00".into())
    );
}

#[test]
fn lenient_structured_data_keeps_parameters_and_the_message() {
    let e = parse_syslog(
        b"<165>1 2026-11-27T10:00:00Z fw01 app - - [meta@1 src=203.0.113.5 zone=dmz] link down",
        &ctx(),
    )
    .expect("lenient");
    assert_eq!(
        e.fields.get("meta@1.src").map(String::as_str),
        Some("203.0.113.5")
    );
    assert_eq!(e.fields.get("meta@1.zone").map(String::as_str), Some("dmz"));
    assert_eq!(e.message, "link down");
    assert!(e.fields["syslog.sd_lenient"].contains("not quoted"));
    // No SD at all: the rest is the message.
    let e =
        parse_syslog(b"<14>1 2026-11-27T10:00:00Z h app 1 2 plain words", &ctx()).expect("no sd");
    assert_eq!(e.message, "plain words");
    // A timestamp that is not RFC 3339 is not RFC 5424: a dead letter.
    let e = parse_syslog(b"<14>1 yesterday h app - - - hello", &ctx());
    assert!(e.unwrap_err().reason.contains("timestamp 'yesterday'"));
}

#[test]
fn a_cef_header_needs_version_vendor_and_product() {
    assert!(parse_syslog(b"CEF:0|only", &ctx()).is_err());
    assert!(parse_syslog(b"CEF:x|a|b|", &ctx()).is_err());
    assert!(parse_syslog(b"CEF:0|||", &ctx()).is_err());
    let e = parse_syslog(b"CEF:0|only|three", &ctx()).expect("short");
    assert_eq!((e.vendor.as_str(), e.product.as_str()), ("only", "three"));
    assert!(matches!(
        Rules::default_rules().decide(&e),
        Decision::NotAlert { .. }
    ));
}
