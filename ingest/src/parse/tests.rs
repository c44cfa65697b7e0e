//! Every sample line of `shared/samples` gives its README's outcome.

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

fn ctx() -> ParseContext {
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
    // empty, <999>, <13>, the unterminated quote, the short CEF, the truncated JSON
    assert!(dead >= 6, "{dead} dead letters");
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
    assert!(parse_syslog(
        b"<13>1 2026-11-27T10:00:00Z h a p m [unclosed k=\"v\"",
        &ctx()
    )
    .is_err());
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

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    fn no_nul(e: &Normalized) -> bool {
        let strings = [
            Some(&e.vendor),
            Some(&e.product),
            e.signature.as_ref(),
            e.host.as_ref(),
            e.user.as_ref(),
            Some(&e.message),
            Some(&e.raw),
            e.incident_id.as_ref(),
        ];
        strings.iter().flatten().all(|s| !s.contains('\0'))
            && e.fields
                .iter()
                .all(|(k, v)| !k.contains('\0') && !v.contains('\0'))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn syslog_never_panics_nor_yields_nul(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(e) = parse_syslog(&bytes, &ParseContext::default()) {
                prop_assert!(no_nul(&e));
            }
        }

        #[test]
        fn structured_prefixes_never_panic(prefix in prop::sample::select(vec!["<13>", "<165>1 ", "CEF:0|", "date=", "{\"EventID\":", "<13>Nov 27 10:00:00 h MSWinEventLog\t"]), tail in "\\PC{0,300}") {
            let text = format!("{prefix}{tail}\u{0}");
            if let Ok(e) = parse_syslog(text.as_bytes(), &ParseContext::default()) {
                prop_assert!(no_nul(&e));
            }
        }

        #[test]
        fn fortisiem_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(e) = fortisiem::parse_xml(&bytes) { prop_assert!(no_nul(&e)); }
            if let Ok(e) = fortisiem::parse_json(&bytes) { prop_assert!(no_nul(&e)); }
        }

        #[test]
        fn xml_shaped_input_never_panics(tail in "\\PC{0,300}") {
            let text = format!("<incident incidentId=\"1\"><name>{tail}</name>{tail}</incident>");
            if let Ok(e) = fortisiem::parse_xml(text.as_bytes()) { prop_assert!(no_nul(&e)); }
        }
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
