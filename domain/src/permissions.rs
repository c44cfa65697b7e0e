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

/// What each role may do: an allow-list per role, nothing else. A new
/// action is refused to every role until it is listed here.
///
/// - admin: everything, the admin consoles included (users, clients, CMDB
///   writes, dead letters).
/// - lead: every ticket action, including close and reopen (the review).
/// - analyst: works tickets; closing and reopening is the lead's review.
/// - auditor: reads everything, dead letters included; changes nothing.
/// - integration: raises alerts, reads and subscribes.
pub fn allowed(role: Role) -> &'static [Action] {
    use Action::*;
    match role {
        Role::Admin => &[
            Read,
            OpenTicket,
            AssignTicket,
            WorkTicket,
            ResolveTicket,
            CloseTicket,
            ReopenTicket,
            ChangeSeverity,
            CommentTicket,
            AnnotateTicket,
            RaiseAlert,
            ManageUsers,
            ManageClients,
            ManageAssets,
            ReadDeadLetters,
        ],
        Role::Lead => &[
            Read,
            OpenTicket,
            AssignTicket,
            WorkTicket,
            ResolveTicket,
            CloseTicket,
            ReopenTicket,
            ChangeSeverity,
            CommentTicket,
            AnnotateTicket,
        ],
        Role::Analyst => &[
            Read,
            OpenTicket,
            AssignTicket,
            WorkTicket,
            ResolveTicket,
            ChangeSeverity,
            CommentTicket,
            AnnotateTicket,
        ],
        Role::Auditor => &[Read, ReadDeadLetters],
        Role::Integration => &[Read, RaiseAlert],
    }
}

/// Whether `role` may perform `action`: whether its allow-list holds it.
pub fn permits(role: Role, action: Action) -> bool {
    allowed(role).contains(&action)
}

/// Whether any of `roles` permits `action`.
pub fn any_permits(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|r| permits(*r, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole matrix, written out: a change to an allow-list must change
    /// this table too. Columns: admin, lead, analyst, auditor, integration.
    const EXPECTED: &[(Action, [bool; 5])] = &[
        (Action::Read, [true, true, true, true, true]),
        (Action::OpenTicket, [true, true, true, false, false]),
        (Action::AssignTicket, [true, true, true, false, false]),
        (Action::WorkTicket, [true, true, true, false, false]),
        (Action::ResolveTicket, [true, true, true, false, false]),
        (Action::CloseTicket, [true, true, false, false, false]),
        (Action::ReopenTicket, [true, true, false, false, false]),
        (Action::ChangeSeverity, [true, true, true, false, false]),
        (Action::CommentTicket, [true, true, true, false, false]),
        (Action::AnnotateTicket, [true, true, true, false, false]),
        (Action::RaiseAlert, [true, false, false, false, true]),
        (Action::ManageUsers, [true, false, false, false, false]),
        (Action::ManageClients, [true, false, false, false, false]),
        (Action::ManageAssets, [true, false, false, false, false]),
        (Action::ReadDeadLetters, [true, false, false, true, false]),
    ];
    const ROLES: [Role; 5] = [
        Role::Admin,
        Role::Lead,
        Role::Analyst,
        Role::Auditor,
        Role::Integration,
    ];

    #[test]
    fn the_matrix_is_the_expected_table() {
        assert_eq!(
            EXPECTED.len(),
            Action::ALL.len(),
            "every action in the table"
        );
        for action in Action::ALL {
            let (_, row) = EXPECTED
                .iter()
                .find(|(a, _)| a == action)
                .unwrap_or_else(|| panic!("{action:?} missing from the table"));
            for (role, expected) in ROLES.iter().zip(row) {
                assert_eq!(permits(*role, *action), *expected, "{role:?} × {action:?}");
            }
        }
        assert_eq!(Role::ALL.len(), ROLES.len(), "every role in the table");
    }

    #[test]
    fn allow_lists_name_each_action_once() {
        for role in Role::ALL {
            let list = allowed(*role);
            for (i, a) in list.iter().enumerate() {
                assert!(!list[i + 1..].contains(a), "{role:?} lists {a:?} twice");
            }
        }
    }
}
