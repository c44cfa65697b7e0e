//! Domain errors, each with a stable code that clients may rely on.

use crate::values::Status;

/// How the outside should read an error; the HTTP layer maps it to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The ticket does not exist (404).
    NotFound,
    /// Not allowed in the ticket's current state (409).
    Conflict,
    /// A missing or invalid field (422).
    Validation,
    /// A lookup the rule depends on failed (503).
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("ticket not found")]
    NotFound,
    #[error("ticket already exists")]
    AlreadyExists,
    #[error("cannot {command} a ticket that is {status}")]
    InvalidTransition {
        command: &'static str,
        status: Status,
    },
    #[error("ticket is already assigned to {0}")]
    AlreadyAssigned(String),
    #[error("ticket is not assigned")]
    NotAssigned,
    #[error("ticket already has severity {0}")]
    SameSeverity(crate::values::Severity),
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("lookup failed: {0}")]
    Lookup(String),
}

impl TicketError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        TicketError::Validation {
            field,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            TicketError::NotFound => ErrorKind::NotFound,
            TicketError::AlreadyExists
            | TicketError::InvalidTransition { .. }
            | TicketError::AlreadyAssigned(_)
            | TicketError::NotAssigned
            | TicketError::SameSeverity(_) => ErrorKind::Conflict,
            TicketError::Validation { .. } => ErrorKind::Validation,
            TicketError::Lookup(_) => ErrorKind::Unavailable,
        }
    }

    /// Stable, machine-readable code (the `code` of a problem body).
    pub fn code(&self) -> &'static str {
        match self {
            TicketError::NotFound => "ticket_not_found",
            TicketError::AlreadyExists => "ticket_exists",
            TicketError::InvalidTransition { .. } => "invalid_transition",
            TicketError::AlreadyAssigned(_) => "already_assigned",
            TicketError::NotAssigned => "not_assigned",
            TicketError::SameSeverity(_) => "same_severity",
            TicketError::Validation { .. } => "validation_failed",
            TicketError::Lookup(_) => "dependency_unavailable",
        }
    }
}
