//! What each event changes, given/when/then: given the events before, when
//! one more is applied, then exactly these fields moved (and the summary
//! says it in one line). Every event type appears.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use domain::command::{AlertBatch, AlertOrigin};
use domain::{ObservableKind, Resolution, Severity, Source, Status, Ticket, TicketEvent};

const ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
const SURVIVOR: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0007);

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn opened() -> TicketEvent {
    TicketEvent::TicketOpened {
        ticket_id: ID,
        number: "SOC-7".into(),
        title: "Beaconing".into(),
        description: "to a rare domain".into(),
        severity: Severity::High,
        source: Source::Syslog,
        source_ip: "10.0.0.5".parse().ok(),
        destination_ip: None,
        tags: vec!["c2".into()],
        origin: Some(AlertOrigin {
            rule_name: Some("beacon".into()),
            event_time: Some(at(-5)),
            raw: Some("raw 1".into()),
            ..AlertOrigin::default()
        }),
        source_asset: None,
        destination_asset: None,
        escalated_from: None,
        by: "ingest".into(),
        at: at(0),
    }
}

/// Given `history`, when `event`, then `expected` (field, before, after).
fn then(history: &[TicketEvent], event: &TicketEvent, expected: &[(&str, Value, Value)]) {
    let given = Ticket::from_events(history);
    let (_, changes) = given.applied(event);
    let got: Vec<(&str, Value, Value)> = changes
        .into_iter()
        .map(|c| (c.field, c.before, c.after))
        .collect();
    assert_eq!(got, expected, "changes of {event:?}");
    assert_eq!(
        got,
        whole_comparison(&given, event),
        "apply_and_diff agrees with comparing the whole serialized tickets"
    );
    let line = event.describe();
    assert!(!line.is_empty() && !line.contains('\n'), "{line:?}");
}

/// The changes by the definition: both states serialized whole, every field
/// compared, the append-only lists entry by entry.
fn whole_comparison(given: &Ticket, event: &TicketEvent) -> Vec<(&'static str, Value, Value)> {
    use cqrs_es::Aggregate;
    let mut next = given.clone();
    next.apply(event.clone());
    let (b, a) = (
        serde_json::to_value(given).unwrap(),
        serde_json::to_value(&next).unwrap(),
    );
    let missing = |x: &Value, y: &Value| {
        let y = y.as_array().cloned().unwrap_or_default();
        Value::Array(
            x.as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|e| !y.contains(e))
                .collect(),
        )
    };
    domain::changes::FIELDS
        .iter()
        .filter(|f| b[**f] != a[**f])
        .map(|f| match *f {
            "comments" | "alert_samples" => (*f, missing(&b[*f], &a[*f]), missing(&a[*f], &b[*f])),
            _ => (*f, b[*f].clone(), a[*f].clone()),
        })
        .collect()
}

#[test]
fn every_event_type_changes_exactly_its_fields() {
    let mut h: Vec<TicketEvent> = vec![];
    let step = |h: &mut Vec<TicketEvent>, e: TicketEvent, expected: &[(&str, Value, Value)]| {
        then(h, &e, expected);
        h.push(e);
    };

    step(
        &mut h,
        opened(),
        &[
            ("id", Value::Null, json!(ID)),
            ("number", Value::Null, json!("SOC-7")),
            ("title", json!(""), json!("Beaconing")),
            ("description", json!(""), json!("to a rare domain")),
            ("status", Value::Null, json!("NEW")),
            ("severity", Value::Null, json!("HIGH")),
            ("source", Value::Null, json!("SYSLOG")),
            ("source_ip", Value::Null, json!("10.0.0.5")),
            (
                "origin",
                Value::Null,
                json!({"vendor": null, "product": null, "rule_name": "beacon", "fingerprint": null,
                       "event_time": at(-5), "raw": "raw 1", "incident_id": null}),
            ),
            ("tags", json!([]), json!(["c2"])),
            ("alert_count", json!(0), json!(1)),
            ("first_seen", Value::Null, json!(at(-5))),
            ("last_seen", Value::Null, json!(at(-5))),
            ("alert_samples", json!([]), json!(["raw 1"])),
            ("created_at", Value::Null, json!(at(0))),
        ],
    );
    step(
        &mut h,
        TicketEvent::TicketAssigned {
            assignee: "jdoe".into(),
            assignee_name: "Jane Doe".into(),
            previous: None,
            by: "lead1".into(),
            at: at(1),
        },
        &[("assignee", Value::Null, json!("jdoe"))],
    );
    step(
        &mut h,
        TicketEvent::TicketUnassigned {
            previous: "jdoe".into(),
            by: "lead1".into(),
            at: at(2),
        },
        &[("assignee", json!("jdoe"), Value::Null)],
    );
    step(
        &mut h,
        TicketEvent::WorkStarted {
            by: "jdoe".into(),
            at: at(3),
        },
        &[
            ("status", json!("NEW"), json!("IN_PROGRESS")),
            ("acknowledged_at", Value::Null, json!(at(3))),
        ],
    );
    step(
        &mut h,
        TicketEvent::TicketPutOnHold {
            reason: "waiting for the ISP".into(),
            by: "jdoe".into(),
            at: at(4),
        },
        &[("status", json!("IN_PROGRESS"), json!("ON_HOLD"))],
    );
    step(
        &mut h,
        TicketEvent::WorkResumed {
            by: "jdoe".into(),
            at: at(5),
        },
        &[("status", json!("ON_HOLD"), json!("IN_PROGRESS"))],
    );
    step(
        &mut h,
        TicketEvent::SeverityChanged {
            from: Severity::High,
            to: Severity::Critical,
            reason: "domain admin".into(),
            by: "jdoe".into(),
            at: at(6),
        },
        &[("severity", json!("HIGH"), json!("CRITICAL"))],
    );
    let comment = Uuid::from_u128(9);
    step(
        &mut h,
        TicketEvent::CommentAdded {
            comment_id: comment,
            body: "isolated the host".into(),
            by: "jdoe".into(),
            at: at(7),
        },
        &[(
            "comments",
            json!([]),
            json!([{"id": comment, "author": "jdoe", "body": "isolated the host", "at": at(7)}]),
        )],
    );
    step(
        &mut h,
        TicketEvent::TagsAdded {
            tags: vec!["apt".into()],
            by: "jdoe".into(),
            at: at(8),
        },
        &[("tags", json!(["c2"]), json!(["apt", "c2"]))],
    );
    step(
        &mut h,
        TicketEvent::TagsRemoved {
            tags: vec!["c2".into()],
            by: "jdoe".into(),
            at: at(9),
        },
        &[("tags", json!(["apt", "c2"]), json!(["apt"]))],
    );
    step(
        &mut h,
        TicketEvent::ObservableAdded {
            kind: ObservableKind::Domain,
            value: "evil.example".into(),
            by: "jdoe".into(),
            at: at(10),
        },
        &[(
            "observables",
            json!([]),
            json!([{"kind": "DOMAIN", "value": "evil.example"}]),
        )],
    );
    step(
        &mut h,
        TicketEvent::AlertsCorrelated {
            batch: AlertBatch {
                count: 3,
                first_seen: at(-10),
                last_seen: at(11),
                samples: vec!["raw 2".into()],
            },
            by: "ingest".into(),
            at: at(11),
        },
        &[
            ("alert_count", json!(1), json!(4)),
            ("first_seen", json!(at(-5)), json!(at(-10))),
            ("last_seen", json!(at(-5)), json!(at(11))),
            ("alert_samples", json!([]), json!(["raw 2"])),
        ],
    );
    step(
        &mut h,
        TicketEvent::TicketResolved {
            from: Status::InProgress,
            resolution: Resolution::Duplicate,
            summary: "same beacon".into(),
            duplicate_of: Some(SURVIVOR),
            duplicate_of_number: Some("SOC-3".into()),
            by: "jdoe".into(),
            at: at(12),
        },
        &[
            ("status", json!("IN_PROGRESS"), json!("RESOLVED")),
            ("resolution", Value::Null, json!("DUPLICATE")),
            ("resolution_summary", Value::Null, json!("same beacon")),
            ("duplicate_of", Value::Null, json!(SURVIVOR)),
            ("resolved_at", Value::Null, json!(at(12))),
        ],
    );
    step(
        &mut h,
        TicketEvent::TicketClosed {
            note: "reviewed".into(),
            by: "lead1".into(),
            at: at(13),
        },
        &[("status", json!("RESOLVED"), json!("CLOSED"))],
    );
    // Recorded on a CLOSED ticket, changing nothing.
    step(
        &mut h,
        TicketEvent::SiemIncidentUpdated {
            incident_id: "42".into(),
            status: Some("Cleared".into()),
            repeat_count: Some(9),
            raw: None,
            by: "siem".into(),
            at: at(14),
        },
        &[],
    );
    step(
        &mut h,
        TicketEvent::TicketReopened {
            from: Status::Closed,
            reason: "not a duplicate after all".into(),
            previous_resolution: Some(Resolution::Duplicate),
            by: "lead1".into(),
            at: at(15),
        },
        &[
            ("status", json!("CLOSED"), json!("IN_PROGRESS")),
            ("resolution", json!("DUPLICATE"), Value::Null),
            ("resolution_summary", json!("same beacon"), Value::Null),
            ("duplicate_of", json!(SURVIVOR), Value::Null),
            ("resolved_at", json!(at(12)), Value::Null),
        ],
    );
    step(
        &mut h,
        TicketEvent::SiemIncidentUpdated {
            incident_id: "42".into(),
            status: Some("Active".into()),
            repeat_count: Some(9),
            raw: Some("raw 3".into()),
            by: "siem".into(),
            at: at(16),
        },
        &[
            ("alert_count", json!(4), json!(9)),
            ("last_seen", json!(at(11)), json!(at(16))),
            ("alert_samples", json!([]), json!(["raw 3"])),
        ],
    );
    let types: std::collections::BTreeSet<String> =
        h.iter().map(cqrs_es::DomainEvent::event_type).collect();
    assert_eq!(types.len(), 16, "every event type: {types:?}");
}

#[test]
fn the_oldest_sample_leaving_shows_as_before() {
    let mut h = vec![opened()];
    for i in 0..domain::ticket::ALERT_SAMPLES_MAX - 1 {
        h.push(TicketEvent::AlertsCorrelated {
            batch: AlertBatch {
                count: 1,
                first_seen: at(1),
                last_seen: at(1),
                samples: vec![format!("s{i}")],
            },
            by: "ingest".into(),
            at: at(1),
        });
    }
    let next = TicketEvent::AlertsCorrelated {
        batch: AlertBatch {
            count: 1,
            first_seen: at(2),
            last_seen: at(2),
            samples: vec!["newest".into()],
        },
        by: "ingest".into(),
        at: at(2),
    };
    then(
        &h,
        &next,
        &[
            ("alert_count", json!(20), json!(21)),
            ("last_seen", json!(at(1)), json!(at(2))),
            ("alert_samples", json!(["raw 1"]), json!(["newest"])),
        ],
    );
}
