//! Upcasters: old event schemas read as today's, on the way in. Stored
//! history is never rewritten.

use cqrs_es::persist::{EventUpcaster, SemanticVersionEventUpcaster};
use serde_json::{json, Value};

/// `TicketOpened` 1.0 (the first release) carried `priority` `P1`..`P4` and
/// had no `source`: every ticket was opened by hand. 2.0 carries the
/// contract's `severity` and `source`.
pub fn ticket_opened_v1_to_v2(payload: Value) -> Value {
    let mut payload = payload;
    if let Some(body) = payload
        .get_mut("TicketOpened")
        .and_then(Value::as_object_mut)
    {
        let severity = match body.remove("priority").as_ref().and_then(Value::as_str) {
            Some("P1") => "CRITICAL",
            Some("P2") => "HIGH",
            Some("P4") => "LOW",
            _ => "MEDIUM",
        };
        body.entry("severity").or_insert(json!(severity));
        body.entry("source").or_insert(json!("MANUAL"));
        body.entry("tags").or_insert(json!([]));
        body.entry("source_ip").or_insert(Value::Null);
        body.entry("destination_ip").or_insert(Value::Null);
    }
    payload
}

/// Every upcaster of the Ticket stream, oldest first.
pub fn ticket_upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![Box::new(SemanticVersionEventUpcaster::new(
        "TicketOpened",
        "2.0",
        Box::new(ticket_opened_v1_to_v2),
    ))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::TicketEvent;
    use cqrs_es::persist::SerializedEvent;

    #[test]
    fn v1_ticket_opened_reads_as_v2() {
        let v1 = SerializedEvent::new(
            "t".into(),
            1,
            "Ticket".into(),
            "TicketOpened".into(),
            "1.0".into(),
            json!({"TicketOpened": {
                "ticket_id": "0190c0de-0000-7000-8000-000000000001",
                "number": "SOC-1", "title": "Phishing", "description": "",
                "priority": "P1", "by": "jdoe", "at": "2025-01-01T00:00:00Z"
            }}),
            json!({}),
        );
        let upcasters = ticket_upcasters();
        let up = upcasters
            .iter()
            .find(|u| u.can_upcast(&v1.event_type, &v1.event_version))
            .expect("an upcaster for TicketOpened 1.0");
        let event: TicketEvent = serde_json::from_value(up.upcast(v1).payload).unwrap();
        match event {
            TicketEvent::TicketOpened {
                severity, source, ..
            } => {
                assert_eq!(severity, crate::Severity::Critical);
                assert_eq!(source, crate::Source::Manual);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!upcasters
            .iter()
            .any(|u| u.can_upcast("TicketOpened", "2.0")));
    }
}
