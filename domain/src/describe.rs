//! The one-line summary of an event, for every timeline (the read model's
//! and `ticketHistory`'s): plain English, one line, quoting at most
//! `QUOTE_MAX` characters of any free text (the payload keeps all of it).
//! One renderer, here, so that the two can never disagree; the SPA shows it
//! as it is and localises from `type` and `payload` when it needs to.

use crate::event::TicketEvent;
use crate::values::Resolution;

/// Longest reason or note quoted in a summary; the payload keeps all of it.
const QUOTE_MAX: usize = 120;

fn quote(text: &str) -> String {
    // Most texts are short single lines: take them as they are.
    let plain = text.len() <= QUOTE_MAX
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && !text.chars().any(|c| c.is_whitespace() && c != ' ');
    if plain {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len().min(QUOTE_MAX * 4) + 3);
    let mut chars = 0;
    for word in text.split_whitespace() {
        let sep = usize::from(!out.is_empty());
        let len = word.chars().count();
        if chars + sep + len > QUOTE_MAX {
            // The first QUOTE_MAX characters of the one-line text, then '…'.
            let mut room = QUOTE_MAX - chars;
            if sep == 1 && room > 0 {
                out.push(' ');
                room -= 1;
            }
            out.extend(word.chars().take(room));
            out.push('…');
            return out;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
        chars += sep + len;
    }
    out
}

fn with_reason(sentence: String, reason: &str) -> String {
    if reason.trim().is_empty() {
        sentence
    } else {
        format!("{sentence}: {}", quote(reason))
    }
}

fn resolution_words(r: Resolution) -> &'static str {
    match r {
        Resolution::TruePositive => "a true positive",
        Resolution::FalsePositive => "a false positive",
        Resolution::Benign => "benign",
        Resolution::Duplicate => "a duplicate",
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl TicketEvent {
    /// One line of plain English saying who did what, e.g. "jdoe assigned
    /// the ticket to Jane Doe": the summary of the read model's timeline and
    /// of `ticketHistory` alike (see docs/history.md).
    pub fn describe(&self) -> String {
        describe(self)
    }
}

fn describe(event: &TicketEvent) -> String {
    match event {
        TicketEvent::TicketOpened {
            number,
            title,
            severity,
            origin,
            escalated_from,
            by,
            ..
        } => {
            let rule = origin
                .as_ref()
                .and_then(|o| o.rule_name.as_deref())
                .map(|r| format!(" from alert rule \"{}\"", quote(r)))
                .unwrap_or_default();
            let escalated = escalated_from
                .map(|s| format!(", raised from {s} for a critical asset"))
                .unwrap_or_default();
            format!(
                "{by} opened {number} \"{}\"{rule} with severity {severity}{escalated}",
                quote(title)
            )
        }
        TicketEvent::TicketAssigned {
            assignee,
            assignee_name,
            previous,
            by,
            ..
        } => {
            let name = if assignee_name.trim().is_empty() {
                assignee
            } else {
                assignee_name
            };
            match previous {
                Some(p) => format!("{by} reassigned the ticket from {p} to {name}"),
                None => format!("{by} assigned the ticket to {name}"),
            }
        }
        TicketEvent::TicketUnassigned { previous, by, .. } => {
            format!("{by} unassigned {previous} from the ticket")
        }
        TicketEvent::WorkStarted { by, .. } => format!("{by} started work on the ticket"),
        TicketEvent::TicketPutOnHold { reason, by, .. } => {
            with_reason(format!("{by} put the ticket on hold"), reason)
        }
        TicketEvent::WorkResumed { by, .. } => format!("{by} resumed work on the ticket"),
        TicketEvent::TicketResolved {
            resolution,
            duplicate_of,
            duplicate_of_number,
            by,
            ..
        } => match (resolution, duplicate_of_number, duplicate_of) {
            (Resolution::Duplicate, Some(n), _) => {
                format!("{by} resolved the ticket as a duplicate of {n}")
            }
            (Resolution::Duplicate, None, Some(id)) => {
                format!("{by} resolved the ticket as a duplicate of ticket {id}")
            }
            (r, _, _) => format!("{by} resolved the ticket as {}", resolution_words(*r)),
        },
        TicketEvent::TicketClosed { note, by, .. } => {
            with_reason(format!("{by} closed the ticket"), note)
        }
        TicketEvent::TicketReopened { reason, by, .. } => {
            with_reason(format!("{by} reopened the ticket"), reason)
        }
        TicketEvent::SeverityChanged {
            from,
            to,
            reason,
            by,
            ..
        } => with_reason(
            format!("{by} changed the severity from {from} to {to}"),
            reason,
        ),
        TicketEvent::CommentAdded { by, .. } => format!("{by} commented"),
        TicketEvent::TagsAdded { tags, by, .. } => format!(
            "{by} added the {} {}",
            if tags.len() == 1 { "tag" } else { "tags" },
            tags.join(", ")
        ),
        TicketEvent::TagsRemoved { tags, by, .. } => format!(
            "{by} removed the {} {}",
            if tags.len() == 1 { "tag" } else { "tags" },
            tags.join(", ")
        ),
        TicketEvent::ObservableAdded {
            kind, value, by, ..
        } => format!("{by} added the observable {kind} {}", quote(value)),
        TicketEvent::AlertsCorrelated { batch, by, .. } => format!(
            "{by} correlated {} into the ticket",
            plural(batch.count, "alert", "alerts")
        ),
        TicketEvent::SiemIncidentUpdated {
            incident_id,
            status,
            by,
            ..
        } => match status {
            Some(s) if !s.trim().is_empty() => format!(
                "{by} reported incident {} as {}",
                quote(incident_id),
                quote(s)
            ),
            _ => format!("{by} updated incident {}", quote(incident_id)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn assignment_reads_like_a_sentence() {
        let e = TicketEvent::TicketAssigned {
            assignee: "jane".into(),
            assignee_name: "Jane Doe".into(),
            previous: None,
            by: "jdoe".into(),
            at: Utc::now(),
        };
        assert_eq!(e.describe(), "jdoe assigned the ticket to Jane Doe");
    }

    #[test]
    fn quotes_collapse_whitespace_and_cut_at_the_limit() {
        assert_eq!(quote("plain words"), "plain words");
        assert_eq!(quote("  two\n\tlines  "), "two lines");
        let long = "word ".repeat(40);
        let q = quote(&long);
        assert_eq!(q.chars().count(), QUOTE_MAX + 1);
        assert!(q.ends_with('…'));
        assert_eq!(quote(&"é".repeat(200)).chars().count(), QUOTE_MAX + 1);
    }

    #[test]
    fn long_reasons_are_cut_and_kept_on_one_line() {
        let e = TicketEvent::TicketPutOnHold {
            reason: format!("waiting\nfor {}", "x".repeat(300)),
            by: "jdoe".into(),
            at: Utc::now(),
        };
        let s = e.describe();
        assert!(s.starts_with("jdoe put the ticket on hold: waiting for x"));
        assert!(s.ends_with('…'));
        assert!(!s.contains('\n'));
    }
}
