//! The role → action matrix. Enforced on every REST route and GraphQL field;
//! this is its only definition.

use crate::values::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read tickets, history, as-of; subscribe to the stream.
    Read,
    OpenTicket,
    AssignTicket,
    /// start, hold, resume
    WorkTicket,
    /// resolve, mark duplicate
    ResolveTicket,
    CloseTicket,
    ReopenTicket,
    ChangeSeverity,
    CommentTicket,
    /// tags and observables
    AnnotateTicket,
    /// SIEM webhook, alert correlation
    RaiseAlert,
    ManageUsers,
    ManageClients,
    ManageAssets,
    ReadDeadLetters,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Read,
        Action::OpenTicket,
        Action::AssignTicket,
        Action::WorkTicket,
        Action::ResolveTicket,
        Action::CloseTicket,
        Action::ReopenTicket,
        Action::ChangeSeverity,
        Action::CommentTicket,
        Action::AnnotateTicket,
        Action::RaiseAlert,
        Action::ManageUsers,
        Action::ManageClients,
        Action::ManageAssets,
        Action::ReadDeadLetters,
    ];
}

/// Whether `role` may perform `action`.
///
/// - admin: everything.
/// - lead: every ticket action, including close and reopen, and the CMDB.
/// - analyst: works tickets; closing and reopening is the lead's review.
/// - auditor: reads everything, changes nothing.
/// - integration: raises alerts, reads and subscribes.
pub fn permits(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Lead => !matches!(action, ManageUsers | ManageClients | RaiseAlert),
        Role::Analyst => matches!(
            action,
            Read | OpenTicket
                | AssignTicket
                | WorkTicket
                | ResolveTicket
                | ChangeSeverity
                | CommentTicket
                | AnnotateTicket
        ),
        Role::Auditor => matches!(action, Read | ReadDeadLetters),
        Role::Integration => matches!(action, Read | RaiseAlert),
    }
}

/// Whether any of `roles` permits `action`.
pub fn any_permits(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|r| permits(*r, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_and_only_admin_manages_users() {
        for role in Role::ALL {
            assert!(permits(*role, Action::Read));
            assert_eq!(permits(*role, Action::ManageUsers), *role == Role::Admin);
        }
    }

    #[test]
    fn auditor_changes_nothing() {
        for action in Action::ALL {
            if !matches!(action, Action::Read | Action::ReadDeadLetters) {
                assert!(!permits(Role::Auditor, *action), "{action:?}");
            }
        }
    }
}
