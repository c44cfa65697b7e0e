//! Commands: what someone asks of a ticket. Every command names who asks.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::permissions::Action;
use crate::values::{ObservableKind, Resolution, Severity, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    User,
    Client,
    System,
}

/// Who issues a command: a user, an OAuth2 client or the system itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub kind: ActorKind,
}

impl Actor {
    pub fn user(name: impl Into<String>) -> Self {
        Actor {
            name: name.into(),
            kind: ActorKind::User,
        }
    }
    pub fn system() -> Self {
        Actor {
            name: "system".into(),
            kind: ActorKind::System,
        }
    }
}

/// A batch of alerts with the ticket's fingerprint, folded into one event so
/// that a flood adds few events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertBatch {
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// A bounded sample of the raw messages.
    pub samples: Vec<String>,
}

/// Alert context a ticket opened from a machine source carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AlertOrigin {
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub rule_name: Option<String>,
    pub fingerprint: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    pub raw: Option<String>,
    /// A SIEM incident id: its fingerprint then owns the ticket for good
    /// (the same incident is always the same ticket).
    #[serde(default)]
    pub incident_id: Option<String>,
}

/// A SIEM's re-send of an incident a ticket already tracks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiemUpdate {
    pub incident_id: String,
    /// The SIEM's status, e.g. `Active` or `Cleared`.
    pub status: Option<String>,
    pub repeat_count: Option<u64>,
    pub raw: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTicket {
    pub ticket_id: Uuid,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub source: Source,
    pub source_ip: Option<IpAddr>,
    pub destination_ip: Option<IpAddr>,
    pub tags: Vec<String>,
    pub origin: Option<AlertOrigin>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Open(OpenTicket),
    Assign {
        assignee: String,
    },
    Unassign,
    Start,
    Hold {
        reason: String,
    },
    Resume,
    Resolve {
        resolution: Option<Resolution>,
        summary: String,
    },
    Close {
        note: String,
    },
    Reopen {
        reason: String,
    },
    ChangeSeverity {
        severity: Severity,
        reason: String,
    },
    Comment {
        body: String,
    },
    Tag {
        tags: Vec<String>,
    },
    Untag {
        tags: Vec<String>,
    },
    AddObservable {
        kind: ObservableKind,
        value: String,
    },
    MarkDuplicate {
        of: Uuid,
        of_number: Option<String>,
        summary: String,
    },
    CorrelateAlerts(AlertBatch),
    RecordSiemUpdate(SiemUpdate),
}

impl Command {
    /// The permission this command needs (see `permissions`).
    pub fn action(&self) -> Action {
        match self {
            Command::Open(_) => Action::OpenTicket,
            Command::Assign { .. } | Command::Unassign => Action::AssignTicket,
            Command::Start | Command::Hold { .. } | Command::Resume => Action::WorkTicket,
            Command::Resolve { .. } | Command::MarkDuplicate { .. } => Action::ResolveTicket,
            Command::Close { .. } => Action::CloseTicket,
            Command::Reopen { .. } => Action::ReopenTicket,
            Command::ChangeSeverity { .. } => Action::ChangeSeverity,
            Command::Comment { .. } => Action::CommentTicket,
            Command::Tag { .. } | Command::Untag { .. } | Command::AddObservable { .. } => {
                Action::AnnotateTicket
            }
            Command::CorrelateAlerts(_) | Command::RecordSiemUpdate(_) => Action::RaiseAlert,
        }
    }

    /// Stable name, used in metrics and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Open(_) => "open",
            Command::Assign { .. } => "assign",
            Command::Unassign => "unassign",
            Command::Start => "start",
            Command::Hold { .. } => "hold",
            Command::Resume => "resume",
            Command::Resolve { .. } => "resolve",
            Command::Close { .. } => "close",
            Command::Reopen { .. } => "reopen",
            Command::ChangeSeverity { .. } => "change severity of",
            Command::Comment { .. } => "comment on",
            Command::Tag { .. } => "tag",
            Command::Untag { .. } => "untag",
            Command::AddObservable { .. } => "add an observable to",
            Command::MarkDuplicate { .. } => "mark as duplicate",
            Command::CorrelateAlerts(_) => "correlate alerts into",
            Command::RecordSiemUpdate(_) => "record a SIEM update on",
        }
    }
}

/// A command with the actor who issues it: what the aggregate handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCommand {
    pub actor: Actor,
    pub command: Command,
}
