//! The rules file: refused at start with its line; on SIGHUP reloaded, or
//! refused with its line while the previous rules stay in force.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::fresh_database;
use crate::process::*;

#[tokio::test]
async fn a_broken_rules_file_is_refused_at_start_with_its_line() {
    let (db_url, _pool) = fresh_database().await;
    let path = log_path("broken-rules").with_extension("toml");
    let broken = ingest::rules::DEFAULT_RULES.replace(
        "name = \"Windows 1102: audit log cleared\"\nmatch = { vendor = \"^Microsoft$\", event_id = \"^1102$\" }\nseverity = \"HIGH\"",
        "name = \"Windows 1102: audit log cleared\"\nmatch = { vendor = \"^Microsoft$\", event_id = \"^1102$\" }\nseverity = \"URGENT\"",
    );
    assert_ne!(broken, ingest::rules::DEFAULT_RULES);
    let line = broken
        .lines()
        .position(|l| l.contains("URGENT"))
        .expect("line")
        + 1;
    std::fs::write(&path, broken).expect("write");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ticketera"))
            .arg("ingest")
            .env("DATABASE_URL", &db_url)
            .env("TICKETERA_HTTP_ADDR", "127.0.0.1:0")
            .env("TICKETERA_SYSLOG_UDP_ADDR", "127.0.0.1:0")
            .env("TICKETERA_SYSLOG_TCP_ADDR", "127.0.0.1:0")
            .env("TICKETERA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TICKETERA_RULES_FILE", &path)
            .stdin(Stdio::null())
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains(&format!("line {line}")) && last.contains("URGENT"),
        "one clear line with the line number: {stderr}"
    );
}

#[tokio::test]
async fn sighup_reloads_and_a_broken_reload_keeps_the_previous_rules() {
    let (db_url, _pool) = fresh_database().await;
    let path = log_path("rules").with_extension("toml");
    std::fs::write(&path, ingest::rules::DEFAULT_RULES).expect("write");
    let app = spawn(
        "ingest",
        &db_url,
        &[("TICKETERA_RULES_FILE", path.display().to_string())],
    );
    let hup = |pid: u32| {
        let ok = Command::new("kill")
            .arg("-HUP")
            .arg(pid.to_string())
            .status()
            .expect("kill")
            .success();
        assert!(ok);
    };
    let metric_of = |m: &str, outcome: &str| {
        metric(
            m,
            &format!("ticketera_ingest_rules_reloads_total{{outcome=\"{outcome}\"}}"),
        )
    };

    // Broken: refused, logged with its line; the process goes on.
    std::fs::write(
        &path,
        "[correlation]\nkey = [\"vendor\"]\n[[rules]]\nname = \"x\"\n",
    )
    .expect("write");
    hup(app.child.id());
    eventually(10, "the refused reload", || async {
        (metric_of(&app.metrics().await, "refused") == 1.0).then_some(())
    })
    .await;
    assert!(app.log_text().contains("line 4"), "{}", app.log_text());

    // The shipped rules still decide: the EICAR line is an alert.
    let eicar = sample_lines("fortigate.log").remove(1);
    app.send_udp(std::slice::from_ref(&eicar)).await;
    eventually(10, "an alert", || async {
        (metric(&app.metrics().await, "ticketera_ingest_alerts_total") == 1.0).then_some(())
    })
    .await;

    // A good file with a suppression: reloaded, and it applies.
    let suppress = format!(
        "{}\n[[suppress]]\nname = \"lab EICAR tests\"\nmatch = {{ signature = \"^EICAR_TEST_FILE$\" }}\n",
        ingest::rules::DEFAULT_RULES
    );
    std::fs::write(&path, suppress).expect("write");
    hup(app.child.id());
    eventually(10, "the reload", || async {
        (metric_of(&app.metrics().await, "ok") == 1.0).then_some(())
    })
    .await;
    app.send_udp(std::slice::from_ref(&eicar)).await;
    eventually(10, "a suppressed alert", || async {
        (metric(&app.metrics().await, "ticketera_ingest_suppressed_total") == 1.0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
}
