//! Events: what happened to a ticket. Immutable once stored; every variant
//! carries who and when, and enough context (previous values, names, numbers)
//! for an auditor to read it without any other table.
//!
//! Schema changes bump `event_version` and add an upcaster in `upcast`;
//! stored history is never rewritten.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command::{AlertBatch, AlertOrigin};
use crate::values::{Asset, ObservableKind, Resolution, Severity, Source, Status};

// Events are built once and serialized; boxing the large opening variant
// would only make every match on it noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketEvent {
    TicketOpened {
        ticket_id: Uuid,
        number: String,
        title: String,
        description: String,
        severity: Severity,
        source: Source,
        source_ip: Option<IpAddr>,
        destination_ip: Option<IpAddr>,
        tags: Vec<String>,
        #[serde(default)]
        origin: Option<AlertOrigin>,
        /// CMDB assets of the source and destination at open time.
        #[serde(default)]
        source_asset: Option<Asset>,
        #[serde(default)]
        destination_asset: Option<Asset>,
        /// The severity asked for, when a critical destination raised it.
        #[serde(default)]
        escalated_from: Option<Severity>,
        by: String,
        at: DateTime<Utc>,
    },
    TicketAssigned {
        assignee: String,
        assignee_name: String,
        previous: Option<String>,
        by: String,
        at: DateTime<Utc>,
    },
    TicketUnassigned {
        previous: String,
        by: String,
        at: DateTime<Utc>,
    },
    WorkStarted {
        by: String,
        at: DateTime<Utc>,
    },
    TicketPutOnHold {
        reason: String,
        by: String,
        at: DateTime<Utc>,
    },
    WorkResumed {
        by: String,
        at: DateTime<Utc>,
    },
    TicketResolved {
        from: Status,
        resolution: Resolution,
        summary: String,
        duplicate_of: Option<Uuid>,
        duplicate_of_number: Option<String>,
        by: String,
        at: DateTime<Utc>,
    },
    TicketClosed {
        note: String,
        by: String,
        at: DateTime<Utc>,
    },
    TicketReopened {
        from: Status,
        reason: String,
        previous_resolution: Option<Resolution>,
        by: String,
        at: DateTime<Utc>,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
        reason: String,
        by: String,
        at: DateTime<Utc>,
    },
    CommentAdded {
        comment_id: Uuid,
        body: String,
        by: String,
        at: DateTime<Utc>,
    },
    TagsAdded {
        tags: Vec<String>,
        by: String,
        at: DateTime<Utc>,
    },
    TagsRemoved {
        tags: Vec<String>,
        by: String,
        at: DateTime<Utc>,
    },
    ObservableAdded {
        kind: ObservableKind,
        value: String,
        by: String,
        at: DateTime<Utc>,
    },
    AlertsCorrelated {
        batch: AlertBatch,
        by: String,
        at: DateTime<Utc>,
    },
    /// A SIEM re-sent an incident this ticket tracks. On a CLOSED ticket it
    /// is recorded and changes nothing.
    SiemIncidentUpdated {
        incident_id: String,
        status: Option<String>,
        repeat_count: Option<u64>,
        raw: Option<String>,
        by: String,
        at: DateTime<Utc>,
    },
}

/// The schema version each event type is written with today.
pub const TICKET_OPENED_VERSION: &str = "2.0";
pub const DEFAULT_EVENT_VERSION: &str = "1.0";

impl TicketEvent {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            TicketEvent::TicketOpened { at, .. }
            | TicketEvent::TicketAssigned { at, .. }
            | TicketEvent::TicketUnassigned { at, .. }
            | TicketEvent::WorkStarted { at, .. }
            | TicketEvent::TicketPutOnHold { at, .. }
            | TicketEvent::WorkResumed { at, .. }
            | TicketEvent::TicketResolved { at, .. }
            | TicketEvent::TicketClosed { at, .. }
            | TicketEvent::TicketReopened { at, .. }
            | TicketEvent::SeverityChanged { at, .. }
            | TicketEvent::CommentAdded { at, .. }
            | TicketEvent::TagsAdded { at, .. }
            | TicketEvent::TagsRemoved { at, .. }
            | TicketEvent::ObservableAdded { at, .. }
            | TicketEvent::AlertsCorrelated { at, .. }
            | TicketEvent::SiemIncidentUpdated { at, .. } => *at,
        }
    }

    /// Who caused the event (its `by`): a username, a client id or `system`.
    pub fn by(&self) -> &str {
        match self {
            TicketEvent::TicketOpened { by, .. }
            | TicketEvent::TicketAssigned { by, .. }
            | TicketEvent::TicketUnassigned { by, .. }
            | TicketEvent::WorkStarted { by, .. }
            | TicketEvent::TicketPutOnHold { by, .. }
            | TicketEvent::WorkResumed { by, .. }
            | TicketEvent::TicketResolved { by, .. }
            | TicketEvent::TicketClosed { by, .. }
            | TicketEvent::TicketReopened { by, .. }
            | TicketEvent::SeverityChanged { by, .. }
            | TicketEvent::CommentAdded { by, .. }
            | TicketEvent::TagsAdded { by, .. }
            | TicketEvent::TagsRemoved { by, .. }
            | TicketEvent::ObservableAdded { by, .. }
            | TicketEvent::AlertsCorrelated { by, .. }
            | TicketEvent::SiemIncidentUpdated { by, .. } => by,
        }
    }
}

impl DomainEvent for TicketEvent {
    fn event_type(&self) -> String {
        let name = match self {
            TicketEvent::TicketOpened { .. } => "TicketOpened",
            TicketEvent::TicketAssigned { .. } => "TicketAssigned",
            TicketEvent::TicketUnassigned { .. } => "TicketUnassigned",
            TicketEvent::WorkStarted { .. } => "WorkStarted",
            TicketEvent::TicketPutOnHold { .. } => "TicketPutOnHold",
            TicketEvent::WorkResumed { .. } => "WorkResumed",
            TicketEvent::TicketResolved { .. } => "TicketResolved",
            TicketEvent::TicketClosed { .. } => "TicketClosed",
            TicketEvent::TicketReopened { .. } => "TicketReopened",
            TicketEvent::SeverityChanged { .. } => "SeverityChanged",
            TicketEvent::CommentAdded { .. } => "CommentAdded",
            TicketEvent::TagsAdded { .. } => "TagsAdded",
            TicketEvent::TagsRemoved { .. } => "TagsRemoved",
            TicketEvent::ObservableAdded { .. } => "ObservableAdded",
            TicketEvent::AlertsCorrelated { .. } => "AlertsCorrelated",
            TicketEvent::SiemIncidentUpdated { .. } => "SiemIncidentUpdated",
        };
        name.to_string()
    }

    fn event_version(&self) -> String {
        match self {
            TicketEvent::TicketOpened { .. } => TICKET_OPENED_VERSION,
            _ => DEFAULT_EVENT_VERSION,
        }
        .to_string()
    }
}
