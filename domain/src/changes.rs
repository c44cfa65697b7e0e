//! The exact field-level change an event made: the ticket folded with
//! `apply` up to the event before and after it, its visible fields compared.
//!
//! Fields are named and valued as `ticketera replay` prints a ticket (the
//! serde form of [`Ticket`]), so an auditor can check one against the other.
//! Two fields are left out because every event moves them: `version` (the
//! event's sequence says it) and `updated_at` (its time says it). The two
//! append-only lists, `comments` and `alert_samples`, would repeat the whole
//! list twice for one added entry: for them `before` holds the entries that
//! left and `after` those that came.

use serde::Serialize;
use serde_json::Value;

use crate::event::TicketEvent;
use crate::ticket::Ticket;

/// The visible fields of a ticket, in the order a ticket page shows them.
pub const FIELDS: &[&str] = &[
    "id",
    "number",
    "title",
    "description",
    "status",
    "severity",
    "resolution",
    "resolution_summary",
    "duplicate_of",
    "source",
    "source_ip",
    "destination_ip",
    "origin",
    "source_asset",
    "destination_asset",
    "assignee",
    "tags",
    "observables",
    "comments",
    "alert_count",
    "first_seen",
    "last_seen",
    "alert_samples",
    "created_at",
    "acknowledged_at",
    "resolved_at",
];

/// Fields every event moves: not reported (see the module's comment).
pub const EVERY_EVENT_MOVES: &[&str] = &["version", "updated_at"];

/// Lists that only grow at one end: only the entries that left and came.
const APPEND_ONLY: &[&str] = &["comments", "alert_samples"];

/// One field an event changed, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub before: Value,
    pub after: Value,
}

fn fields(ticket: &Ticket) -> serde_json::Map<String, Value> {
    match serde_json::to_value(ticket) {
        Ok(Value::Object(map)) => map,
        // A struct of plain data always serializes to an object.
        _ => serde_json::Map::new(),
    }
}

/// The entries of `a` not in `b`, in `a`'s order.
fn missing_from(a: &Value, b: &Value) -> Value {
    let empty = Vec::new();
    let a = a.as_array().unwrap_or(&empty);
    let b = b.as_array().unwrap_or(&empty);
    Value::Array(a.iter().filter(|x| !b.contains(x)).cloned().collect())
}

/// The entries that left and came of a list whose entries are unique
/// (comments: each has its own id). The usual case, entries added at the
/// end, is found in one pass; anything else falls back to comparing every
/// entry with every other, which on a ticket with thousands of comments
/// would cost millions of comparisons per event.
fn left_and_came_unique(old: &Value, new: &Value) -> (Value, Value) {
    let empty = Vec::new();
    let o = old.as_array().unwrap_or(&empty);
    let n = new.as_array().unwrap_or(&empty);
    // new = old[k..] followed by the entries that came.
    let k = n
        .first()
        .and_then(|first| o.iter().position(|x| x == first))
        .unwrap_or(o.len());
    let kept = o.len() - k;
    if kept <= n.len() && o[k..] == n[..kept] {
        let (left, came) = (&o[..k], &n[kept..]);
        // Usually one of the two is empty; an entry that left and came back
        // is neither (the pairwise answer).
        if left.is_empty() || came.is_empty() || !came.iter().any(|x| left.contains(x)) {
            return (Value::Array(left.to_vec()), Value::Array(came.to_vec()));
        }
    }
    (missing_from(old, new), missing_from(new, old))
}

/// What differs between two states of a ticket, field by field in `FIELDS`
/// order.
pub fn diff(before: &Ticket, after: &Ticket) -> Vec<FieldChange> {
    let (b, a) = (fields(before), fields(after));
    FIELDS
        .iter()
        .filter_map(|field| {
            let old = b.get(*field).cloned().unwrap_or(Value::Null);
            let new = a.get(*field).cloned().unwrap_or(Value::Null);
            if old == new {
                return None;
            }
            let (old, new) = if *field == "comments" {
                left_and_came_unique(&old, &new)
            } else if APPEND_ONLY.contains(field) {
                (missing_from(&old, &new), missing_from(&new, &old))
            } else {
                (old, new)
            };
            Some(FieldChange {
                field,
                before: old,
                after: new,
            })
        })
        .collect()
}

impl Ticket {
    /// The ticket after `event`, and what `event` changed in it.
    pub fn applied(&self, event: &TicketEvent) -> (Ticket, Vec<FieldChange>) {
        use cqrs_es::Aggregate;
        let mut next = self.clone();
        next.apply(event.clone());
        let changes = diff(self, &next);
        (next, changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_lists_report_what_left_and_came_as_the_pairwise_comparison_does() {
        let v = |xs: &[u32]| Value::Array(xs.iter().map(|x| Value::from(*x)).collect());
        let cases: &[(&[u32], &[u32])] = &[
            (&[], &[]),
            (&[], &[1]),
            (&[1, 2], &[1, 2, 3]),
            (&[1, 2, 3], &[2, 3, 4]),
            (&[1, 2, 3], &[3]),
            (&[1, 2, 3], &[]),
            (&[1, 2, 3], &[4, 5]),
            (&[1, 2, 3], &[1, 3]),
            (&[1, 2, 3], &[3, 2, 1]),
            (&[1, 2, 3], &[3, 1]),
            (&[1, 2, 3], &[2, 3, 1, 4]),
        ];
        for (old, new) in cases {
            let (old, new) = (v(old), v(new));
            assert_eq!(
                left_and_came_unique(&old, &new),
                (missing_from(&old, &new), missing_from(&new, &old)),
                "{old} → {new}"
            );
        }
    }

    #[test]
    fn every_serialized_field_is_either_reported_or_named_as_moving() {
        let mut all: Vec<&str> = FIELDS.iter().chain(EVERY_EVENT_MOVES).copied().collect();
        all.sort_unstable();
        let mut keys: Vec<String> = fields(&Ticket::default()).keys().cloned().collect();
        keys.sort_unstable();
        assert_eq!(
            all, keys,
            "a new Ticket field must be listed in FIELDS or EVERY_EVENT_MOVES"
        );
    }
}
