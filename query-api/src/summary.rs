//! One-line, human readable summaries of events, for the timeline of a
//! ticket replayed as of a point in time (the live timeline is rendered by
//! the projector into its read model).

use domain::TicketEvent;

pub fn render(event: &TicketEvent) -> String {
    match event {
        TicketEvent::TicketOpened {
            number,
            severity,
            source,
            by,
            ..
        } => format!("{by} opened {number} ({severity}, {source})"),
        TicketEvent::TicketAssigned {
            assignee_name,
            assignee,
            by,
            ..
        } => format!("{by} assigned it to {assignee_name} ({assignee})"),
        TicketEvent::TicketUnassigned { previous, by, .. } => {
            format!("{by} unassigned {previous}")
        }
        TicketEvent::WorkStarted { by, .. } => format!("{by} started work"),
        TicketEvent::TicketPutOnHold { reason, by, .. } => {
            format!("{by} put it on hold: {reason}")
        }
        TicketEvent::WorkResumed { by, .. } => format!("{by} resumed work"),
        TicketEvent::TicketResolved {
            resolution,
            duplicate_of_number,
            by,
            ..
        } => match duplicate_of_number {
            Some(n) => format!("{by} resolved it as a duplicate of {n}"),
            None => format!("{by} resolved it as {resolution}"),
        },
        TicketEvent::TicketClosed { by, .. } => format!("{by} closed it"),
        TicketEvent::TicketReopened { reason, by, .. } => format!("{by} reopened it: {reason}"),
        TicketEvent::SeverityChanged { from, to, by, .. } => {
            format!("{by} changed severity from {from} to {to}")
        }
        TicketEvent::CommentAdded { by, .. } => format!("{by} commented"),
        TicketEvent::TagsAdded { tags, by, .. } => format!("{by} tagged {}", tags.join(", ")),
        TicketEvent::TagsRemoved { tags, by, .. } => {
            format!("{by} removed tags {}", tags.join(", "))
        }
        TicketEvent::ObservableAdded {
            kind, value, by, ..
        } => format!("{by} added observable {kind} {value}"),
        TicketEvent::AlertsCorrelated { batch, .. } => {
            format!("{} more alert(s) correlated", batch.count)
        }
        TicketEvent::SiemIncidentUpdated {
            incident_id,
            status,
            ..
        } => match status {
            Some(s) => format!("SIEM incident {incident_id} updated: {s}"),
            None => format!("SIEM incident {incident_id} updated"),
        },
    }
}
