//! `ticketera parse` as a process: the sample files give their README
//! outcomes (the same parser and rules as `ingest`), from a file or stdin,
//! with TICKETERA_RULES_FILE honoured, and no database.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn samples(file: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/ingest/tests/samples")).join(file)
}

/// `ticketera parse <args>` with no database configured; stdin from `input`.
fn parse(args: &[&str], env: &[(&str, &str)], input: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ticketera"));
    cmd.arg("parse")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("TICKETERA_RULES_FILE")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ticketera parse");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.unwrap_or_default())
        .expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("ticketera parse")
}

fn reports(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "ticketera parse failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn file(name: &str) -> Vec<Value> {
    let path = samples(name);
    reports(&parse(&[path.to_str().expect("path")], &[], None))
}

fn alert(r: &Value) -> Option<(&str, &str)> {
    (r["decision"]["alert"] == true).then(|| {
        (
            r["decision"]["severity"].as_str().unwrap_or_default(),
            r["decision"]["rule_name"].as_str().unwrap_or_default(),
        )
    })
}

#[test]
fn the_samples_give_their_readme_outcomes() {
    let fg = file("fortigate.log");
    assert_eq!(fg.len(), 8);
    let outcomes: Vec<Option<(&str, &str)>> = fg.iter().map(alert).collect();
    assert_eq!(
        outcomes,
        vec![
            Some(("CRITICAL", "Apache.Log4j.Error.Log.Remote.Code.Execution")),
            Some(("CRITICAL", "EICAR_TEST_FILE")),
            Some(("CRITICAL", "icmp_flood")),
            None,
            None,
            Some(("HIGH", "Malicious Websites")),
            None,
            Some(("CRITICAL", "Admin login failed")),
        ]
    );
    let first = &fg[0];
    assert_eq!(first["line"], 1);
    assert_eq!(first["input"], "syslog");
    assert_eq!(first["format"], "fortigate");
    assert_eq!(first["vendor"], "Fortinet");
    assert_eq!(first["product"], "FortiGate");
    assert_eq!(first["vendor_severity"], "critical");
    assert_eq!(first["source_ip"], "203.0.113.45");
    assert_eq!(first["source_port"], 51544);
    assert_eq!(first["destination_ip"], "10.20.1.15");
    assert_eq!(first["destination_port"], 443);
    assert_eq!(first["host"], "FGT-EDGE-01");
    assert_eq!(first["event_time"], "2026-11-27T13:02:11Z");
    assert_eq!(first["decision"]["suppressed"], false);
    assert_eq!(
        first["decision"]["fingerprint"].as_str().map(str::len),
        Some(64)
    );
    assert_eq!(fg[3]["decision"]["reason"], "rule 'FortiGate traffic'");

    let snare: Vec<_> = file("windows-snare.log")
        .iter()
        .map(alert)
        .map(|a| a.map(|a| a.0.to_string()))
        .collect();
    assert_eq!(
        snare,
        vec![Some("MEDIUM".into()), Some("HIGH".into()), None]
    );
    let nxlog = file("windows-nxlog.jsonl");
    assert_eq!(nxlog.len(), 3, "one JSON object a line: three messages");
    assert!(nxlog.iter().all(|r| alert(r).is_some()));
    assert_eq!(nxlog[0]["user"], "administrator");
    let cef = file("cef.log");
    assert_eq!(
        cef.iter()
            .filter_map(alert)
            .map(|a| a.0)
            .collect::<Vec<_>>(),
        vec!["CRITICAL", "HIGH"]
    );

    // Whole webhook bodies: one report each.
    let xml = file("fortisiem-incident.xml");
    assert_eq!(xml.len(), 1);
    assert_eq!(xml[0]["input"], "webhook-xml");
    assert_eq!(
        alert(&xml[0]),
        Some(("HIGH", "Excessive Denied Connections From Same Source"))
    );
    assert_eq!(xml[0]["incident_id"], "40211");
    let json = file("fortisiem-incident.json");
    assert_eq!(json.len(), 1);
    assert_eq!(
        alert(&json[0]),
        Some(("HIGH", "Windows: Audit Log Cleared"))
    );

    // Malformed lines: a dead-letter reason or not an alert, never an alert.
    let bad = file("malformed.log");
    assert!(bad.iter().all(|r| alert(r).is_none()), "{bad:?}");
    let errors: Vec<&str> = bad.iter().filter_map(|r| r["error"].as_str()).collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("PRI 999")));
}

#[test]
fn stdin_rules_file_and_fields() {
    // Standard input, and a rules file that suppresses a lab scanner.
    let dir =
        std::env::temp_dir().join(format!("ticketera-parse-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let rules = dir.join("rules.toml");
    let suppress =
        "\n[[suppress]]\nname = \"lab scanner\"\nmatch = { source_ip = '^203\\.0\\.113\\.45$' }\n";
    std::fs::write(
        &rules,
        format!("{}{suppress}", ingest::rules::DEFAULT_RULES),
    )
    .expect("rules");
    let cef = std::fs::read(samples("cef.log")).expect("cef.log");
    let out = parse(
        &["--fields"],
        &[("TICKETERA_RULES_FILE", rules.to_str().expect("path"))],
        Some(&cef),
    );
    let r = reports(&out);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["decision"]["suppressed"], true, "{}", r[0]);
    assert_eq!(r[0]["decision"]["suppressed_by"], "lab scanner");
    assert_eq!(r[0]["fields"]["cs1"], "2027865");
    assert_eq!(alert(&r[1]), Some(("HIGH", "spyware")));

    // A rules file that does not load: refused with its line, exit 1.
    std::fs::write(&rules, "[correlation]\nkey = [\"colour\"]\n").expect("rules");
    let out = parse(
        &[],
        &[("TICKETERA_RULES_FILE", rules.to_str().expect("path"))],
        Some(b"x"),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("colour"), "{err}");

    // A relayed FortiGate line from stdin is the alert it carries.
    let line = b"2026-11-27T13:14:04Z relay01 date=2026-11-27 time=10:14:03 devname=\"FGT-EDGE-01\" logid=\"0100032002\" type=\"event\" subtype=\"system\" level=\"alert\" logdesc=\"Admin login failed\" srcip=203.0.113.8 dstip=10.20.1.1\n";
    let r = reports(&parse(&[], &[], Some(line)));
    assert_eq!(alert(&r[0]), Some(("CRITICAL", "Admin login failed")));
    std::fs::remove_dir_all(&dir).ok();
}
