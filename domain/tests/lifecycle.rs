//! The ticket lifecycle, given/when/then: the whole state machine as one
//! table (every status × every command), then focused tests of the rules
//! the table cannot show (validation, duplicates, reopen, alert correlation,
//! replay).
//!
//! Everything runs inside `#[tokio::test]`, so commands go through
//! `when_async`: cqrs-es' sync `when()` builds its own runtime and would
//! panic inside another one.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use uuid::Uuid;

use domain::command::{AlertBatch, AlertOrigin, OpenTicket, SiemUpdate};
use domain::services::Assignee;
use domain::ticket::ALERT_SAMPLES_MAX;
use domain::{
    Actor, Asset, Command, Criticality, ErrorKind, LookupError, ObservableKind, Resolution,
    Severity, Source, Status, Ticket, TicketCommand, TicketError, TicketEvent, TicketServices,
};

// ---------------------------------------------------------------------------
// A fake of the outside world
// ---------------------------------------------------------------------------

/// A fixed clock, a ticket-number counter and a two-user directory.
struct FakeServices {
    now: DateTime<Utc>,
    last_number: AtomicU64,
}

impl FakeServices {
    /// The first number handed out is `first_number`.
    fn starting_at(first_number: u64) -> Self {
        FakeServices {
            now: now(),
            last_number: AtomicU64::new(first_number - 1),
        }
    }
}

#[async_trait]
impl TicketServices for FakeServices {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }

    async fn next_ticket_number(&self) -> Result<u64, LookupError> {
        Ok(self.last_number.fetch_add(1, Ordering::SeqCst) + 1)
    }

    async fn asset(&self, ip: IpAddr) -> Result<Option<Asset>, LookupError> {
        // 10.0.0.5 is the crown jewel; 203.0.113.0/24 is a partner range.
        Ok(match ip.to_string().as_str() {
            "10.0.0.99" => Some(Asset {
                network: "10.0.0.99/32".into(),
                hostname: Some("dc01".into()),
                owner: Some("Identity team".into()),
                business_unit: Some("IT".into()),
                criticality: Criticality::Critical,
            }),
            _ => None,
        })
    }

    async fn assignee(&self, username: &str) -> Result<Option<Assignee>, LookupError> {
        let display_name = match username {
            "jdoe" => "Jane Doe",
            "lead1" => "Lead One",
            _ => return Ok(None),
        };
        Ok(Some(Assignee {
            username: username.to_string(),
            display_name: display_name.to_string(),
        }))
    }
}

/// The number the fake hands out first in every test below.
const FIRST_NUMBER: u64 = 42;

fn services() -> Arc<dyn TicketServices> {
    Arc::new(FakeServices::starting_at(FIRST_NUMBER))
}

fn framework() -> TestFramework<Ticket> {
    TestFramework::<Ticket>::with(services())
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// The instant the fake clock always answers.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

/// Instants of the given history: before `now()`.
fn earlier(minutes: i64) -> DateTime<Utc> {
    now() - Duration::minutes(minutes)
}

const TICKET_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
const SURVIVOR_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0007);

fn cmd(command: Command) -> TicketCommand {
    TicketCommand {
        actor: Actor::user("analyst1"),
        command,
    }
}

fn open_command() -> OpenTicket {
    OpenTicket {
        ticket_id: TICKET_ID,
        title: "Brute force against vpn-gw-01".into(),
        description: "200 failed logins in 5 minutes\nfrom one address".into(),
        severity: Severity::Medium,
        source: Source::Manual,
        source_ip: Some("203.0.113.7".parse().unwrap()),
        destination_ip: Some("10.0.0.5".parse().unwrap()),
        tags: vec!["Phishing".into()],
        origin: None,
    }
}

fn opened() -> TicketEvent {
    TicketEvent::TicketOpened {
        ticket_id: TICKET_ID,
        number: "SOC-7".into(),
        title: "Brute force against vpn-gw-01".into(),
        description: "200 failed logins in 5 minutes\nfrom one address".into(),
        severity: Severity::Medium,
        source: Source::Manual,
        source_ip: Some("203.0.113.7".parse().unwrap()),
        destination_ip: Some("10.0.0.5".parse().unwrap()),
        tags: vec!["phishing".into()],
        origin: None,
        source_asset: None,
        destination_asset: None,
        escalated_from: None,
        by: "lead1".into(),
        at: earlier(60),
    }
}

fn assigned_jdoe() -> TicketEvent {
    TicketEvent::TicketAssigned {
        assignee: "jdoe".into(),
        assignee_name: "Jane Doe".into(),
        previous: None,
        by: "lead1".into(),
        at: earlier(50),
    }
}

fn started() -> TicketEvent {
    TicketEvent::WorkStarted {
        by: "jdoe".into(),
        at: earlier(40),
    }
}

fn put_on_hold() -> TicketEvent {
    TicketEvent::TicketPutOnHold {
        reason: "waiting for the asset owner".into(),
        by: "jdoe".into(),
        at: earlier(30),
    }
}

fn resolved() -> TicketEvent {
    TicketEvent::TicketResolved {
        from: Status::InProgress,
        resolution: Resolution::TruePositive,
        summary: "password reset, address blocked".into(),
        duplicate_of: None,
        duplicate_of_number: None,
        by: "jdoe".into(),
        at: earlier(20),
    }
}

fn closed() -> TicketEvent {
    TicketEvent::TicketClosed {
        note: "reviewed".into(),
        by: "lead1".into(),
        at: earlier(10),
    }
}

/// A batch of `count` alerts with `samples` raw messages named `prefix-<i>`.
fn batch(
    count: u64,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    prefix: &str,
    samples: usize,
) -> AlertBatch {
    AlertBatch {
        count,
        first_seen,
        last_seen,
        samples: (0..samples).map(|i| format!("{prefix}-{i}")).collect(),
    }
}

fn error_of(result: Result<Vec<TicketEvent>, TicketError>) -> TicketError {
    match result {
        Ok(events) => panic!("expected an error, got events {events:?}"),
        Err(e) => e,
    }
}

fn assert_validation(result: Result<Vec<TicketEvent>, TicketError>, field: &str) {
    let e = error_of(result);
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(e.code(), "validation_failed", "{e}");
    match e {
        TicketError::Validation { field: f, .. } => assert_eq!(f, field),
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

/// Handles `command` on the ticket `history` made, the way the framework
/// does it (apply each given event, then handle with a sink), and hands back
/// the aggregate as the sink left it along with the new events.
async fn handle_on(
    history: &[TicketEvent],
    command: Command,
) -> (Ticket, Result<Vec<TicketEvent>, TicketError>) {
    let mut ticket = Ticket::default();
    for e in history {
        ticket.apply(e.clone());
    }
    let sink: EventSink<Ticket> = EventSink::default();
    let result = ticket.handle(cmd(command), &services(), &sink).await;
    let events = sink.collect().await;
    (ticket, result.map(|()| events))
}

// ---------------------------------------------------------------------------
// The state machine, as a table
// ---------------------------------------------------------------------------

/// What a command leads to: one event of this type, or an error with this
/// code and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Event(&'static str),
    Error(&'static str, ErrorKind),
}

use Outcome::Event as Ev;

impl Outcome {
    fn describe(&self) -> String {
        match *self {
            Outcome::Event(event_type) => describe_event(event_type),
            Outcome::Error(code, kind) => describe_error(code, kind),
        }
    }
}

fn describe_event(event_type: &str) -> String {
    format!("event {event_type}")
}

fn describe_error(code: &str, kind: ErrorKind) -> String {
    format!("error {code} ({kind:?})")
}

const NOT_FOUND: Outcome = Outcome::Error("ticket_not_found", ErrorKind::NotFound);
const EXISTS: Outcome = Outcome::Error("ticket_exists", ErrorKind::Conflict);
/// A transition the lifecycle does not allow: 409.
const REFUSED: Outcome = Outcome::Error("invalid_transition", ErrorKind::Conflict);
const NOT_ASSIGNED: Outcome = Outcome::Error("not_assigned", ErrorKind::Conflict);

/// The columns: where the ticket is before the command. The NEW ticket is
/// unassigned; from IN_PROGRESS on it is assigned to jdoe, so assign (to
/// lead1) and unassign both have something to do.
const COLUMNS: [&str; 6] = [
    "(none)",
    "NEW",
    "IN_PROGRESS",
    "ON_HOLD",
    "RESOLVED",
    "CLOSED",
];

/// The prior events that build each column's ticket.
fn history(column: usize) -> Vec<TicketEvent> {
    match COLUMNS[column] {
        "(none)" => vec![],
        "NEW" => vec![opened()],
        "IN_PROGRESS" => vec![opened(), assigned_jdoe(), started()],
        "ON_HOLD" => vec![opened(), assigned_jdoe(), started(), put_on_hold()],
        "RESOLVED" => vec![opened(), assigned_jdoe(), started(), resolved()],
        "CLOSED" => vec![opened(), assigned_jdoe(), started(), resolved(), closed()],
        other => unreachable!("no history for {other}"),
    }
}

/// Every command against every status. Rows follow `Command`'s variants;
/// the sample command each row sends is in `sample_command`.
#[rustfmt::skip]
const TABLE: [(&str, [Outcome; 6]); 17] = [
    //                  (none)                    NEW                         IN_PROGRESS                 ON_HOLD                     RESOLVED                    CLOSED
    ("Open",           [Ev("TicketOpened"),      EXISTS,                     EXISTS,                     EXISTS,                     EXISTS,                     EXISTS]),
    ("Assign",         [NOT_FOUND,               Ev("TicketAssigned"),       Ev("TicketAssigned"),       Ev("TicketAssigned"),       REFUSED,                    REFUSED]),
    ("Unassign",       [NOT_FOUND,               NOT_ASSIGNED,               Ev("TicketUnassigned"),     Ev("TicketUnassigned"),     Ev("TicketUnassigned"),     REFUSED]),
    ("Start",          [NOT_FOUND,               Ev("WorkStarted"),          REFUSED,                    REFUSED,                    REFUSED,                    REFUSED]),
    ("Hold",           [NOT_FOUND,               REFUSED,                    Ev("TicketPutOnHold"),      REFUSED,                    REFUSED,                    REFUSED]),
    ("Resume",         [NOT_FOUND,               REFUSED,                    REFUSED,                    Ev("WorkResumed"),          REFUSED,                    REFUSED]),
    ("Resolve",        [NOT_FOUND,               Ev("TicketResolved"),       Ev("TicketResolved"),       Ev("TicketResolved"),       REFUSED,                    REFUSED]),
    ("Close",          [NOT_FOUND,               REFUSED,                    REFUSED,                    REFUSED,                    Ev("TicketClosed"),         REFUSED]),
    ("Reopen",         [NOT_FOUND,               REFUSED,                    REFUSED,                    REFUSED,                    Ev("TicketReopened"),       Ev("TicketReopened")]),
    ("ChangeSeverity", [NOT_FOUND,               Ev("SeverityChanged"),      Ev("SeverityChanged"),      Ev("SeverityChanged"),      Ev("SeverityChanged"),      REFUSED]),
    ("Comment",        [NOT_FOUND,               Ev("CommentAdded"),         Ev("CommentAdded"),         Ev("CommentAdded"),         Ev("CommentAdded"),         REFUSED]),
    ("Tag",            [NOT_FOUND,               Ev("TagsAdded"),            Ev("TagsAdded"),            Ev("TagsAdded"),            Ev("TagsAdded"),            REFUSED]),
    ("Untag",          [NOT_FOUND,               Ev("TagsRemoved"),          Ev("TagsRemoved"),          Ev("TagsRemoved"),          Ev("TagsRemoved"),          REFUSED]),
    ("AddObservable",  [NOT_FOUND,               Ev("ObservableAdded"),      Ev("ObservableAdded"),      Ev("ObservableAdded"),      Ev("ObservableAdded"),      REFUSED]),
    ("MarkDuplicate",  [NOT_FOUND,               Ev("TicketResolved"),       Ev("TicketResolved"),       Ev("TicketResolved"),       REFUSED,                    REFUSED]),
    ("CorrelateAlerts",[NOT_FOUND,               Ev("AlertsCorrelated"),     Ev("AlertsCorrelated"),     Ev("AlertsCorrelated"),     REFUSED,                    REFUSED]),
    ("RecordSiemUpdate",[NOT_FOUND,              Ev("SiemIncidentUpdated"),  Ev("SiemIncidentUpdated"),  Ev("SiemIncidentUpdated"),  Ev("SiemIncidentUpdated"),  Ev("SiemIncidentUpdated")]),
];

/// The row a command belongs to. Exhaustive on purpose: a new `Command`
/// variant does not compile until the table has a row for it.
fn row_of(command: &Command) -> &'static str {
    match command {
        Command::Open(_) => "Open",
        Command::Assign { .. } => "Assign",
        Command::Unassign => "Unassign",
        Command::Start => "Start",
        Command::Hold { .. } => "Hold",
        Command::Resume => "Resume",
        Command::Resolve { .. } => "Resolve",
        Command::Close { .. } => "Close",
        Command::Reopen { .. } => "Reopen",
        Command::ChangeSeverity { .. } => "ChangeSeverity",
        Command::Comment { .. } => "Comment",
        Command::Tag { .. } => "Tag",
        Command::Untag { .. } => "Untag",
        Command::AddObservable { .. } => "AddObservable",
        Command::MarkDuplicate { .. } => "MarkDuplicate",
        Command::CorrelateAlerts(_) => "CorrelateAlerts",
        Command::RecordSiemUpdate(_) => "RecordSiemUpdate",
    }
}

/// The valid command each row sends: valid fields, and a result that does
/// not depend on chance (a severity the ticket does not have, a tag it has
/// or lacks, a user who exists and is not the current assignee).
fn sample_command(row: &str) -> Command {
    match row {
        "Open" => Command::Open(open_command()),
        "Assign" => Command::Assign {
            assignee: "lead1".into(),
        },
        "Unassign" => Command::Unassign,
        "Start" => Command::Start,
        "Hold" => Command::Hold {
            reason: "waiting for the asset owner".into(),
        },
        "Resume" => Command::Resume,
        "Resolve" => Command::Resolve {
            resolution: Some(Resolution::FalsePositive),
            summary: "scanner of our own".into(),
        },
        "Close" => Command::Close {
            note: "reviewed".into(),
        },
        "Reopen" => Command::Reopen {
            reason: "the attacker came back".into(),
        },
        "ChangeSeverity" => Command::ChangeSeverity {
            severity: Severity::High,
            reason: "lateral movement seen".into(),
        },
        "Comment" => Command::Comment {
            body: "checked the VPN logs".into(),
        },
        "Tag" => Command::Tag {
            tags: vec!["Ransomware".into()],
        },
        "Untag" => Command::Untag {
            tags: vec!["phishing".into()],
        },
        "AddObservable" => Command::AddObservable {
            kind: ObservableKind::Ip,
            value: "198.51.100.23".into(),
        },
        "MarkDuplicate" => Command::MarkDuplicate {
            of: SURVIVOR_ID,
            of_number: Some("SOC-3".into()),
            summary: "same incident".into(),
        },
        "CorrelateAlerts" => Command::CorrelateAlerts(batch(3, earlier(5), earlier(1), "raw", 3)),
        "RecordSiemUpdate" => Command::RecordSiemUpdate(SiemUpdate {
            incident_id: "40211".into(),
            status: Some("Cleared".into()),
            repeat_count: Some(4),
            raw: Some("<incident/>".into()),
        }),
        other => unreachable!("no sample command for row {other}"),
    }
}

/// The status after an event of this type, on a ticket with `before`.
fn status_after(event_type: &str, before: Option<Status>) -> Option<Status> {
    match event_type {
        "TicketOpened" => Some(Status::New),
        "WorkStarted" | "WorkResumed" | "TicketReopened" => Some(Status::InProgress),
        "TicketPutOnHold" => Some(Status::OnHold),
        "TicketResolved" => Some(Status::Resolved),
        "TicketClosed" => Some(Status::Closed),
        _ => before,
    }
}

#[tokio::test]
async fn every_command_in_every_status() {
    // The table covers every variant of Command exactly once, in order.
    let rows: Vec<&str> = TABLE.iter().map(|(row, _)| *row).collect();
    let covered: Vec<&str> = rows
        .iter()
        .map(|row| row_of(&sample_command(row)))
        .collect();
    assert_eq!(rows, covered, "each row sends its own command");

    let mut mismatches = Vec::new();
    for (row, expected_cells) in TABLE {
        for (column, expected) in expected_cells.into_iter().enumerate() {
            let prior = history(column);
            let before = Ticket::from_events(&prior);
            let result = TestFramework::<Ticket>::with(services())
                .given(prior.clone())
                .when_async(cmd(sample_command(row)))
                .await
                .inspect_result();
            let cell = format!("{row} × {}", COLUMNS[column]);
            let actual = match &result {
                Ok(events) if events.len() == 1 => {
                    let event_type = events[0].event_type();
                    // A success must also fold: one more version, the status the contract says.
                    let after = Ticket::from_events(prior.iter().chain(events));
                    let want = status_after(&event_type, before.status);
                    if after.version != before.version + 1 || after.status != want {
                        mismatches.push(format!(
                            "{cell}: after {event_type} version {} status {:?}, want version {} status {want:?}",
                            after.version,
                            after.status,
                            before.version + 1
                        ));
                    }
                    describe_event(&event_type)
                }
                Ok(events) => format!("{} events {events:?}", events.len()),
                Err(e) => describe_error(e.code(), e.kind()),
            };
            if actual != expected.describe() {
                mismatches.push(format!(
                    "{cell}: expected {}, got {actual}",
                    expected.describe()
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} cell(s) differ:\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
}

// ---------------------------------------------------------------------------
// Opening and assigning
// ---------------------------------------------------------------------------

#[tokio::test]
async fn open_records_the_ticket_with_the_next_number_and_folded_tags() {
    framework()
        .given_no_previous_events()
        .when_async(cmd(Command::Open(open_command())))
        .await
        .then_expect_events(vec![TicketEvent::TicketOpened {
            ticket_id: TICKET_ID,
            number: format!("SOC-{FIRST_NUMBER}"),
            title: "Brute force against vpn-gw-01".into(),
            description: "200 failed logins in 5 minutes\nfrom one address".into(),
            severity: Severity::Medium,
            source: Source::Manual,
            source_ip: Some("203.0.113.7".parse::<IpAddr>().unwrap()),
            destination_ip: Some("10.0.0.5".parse::<IpAddr>().unwrap()),
            tags: vec!["phishing".into()],
            origin: None,
            source_asset: None,
            destination_asset: None,
            escalated_from: None,
            by: "analyst1".into(),
            at: now(),
        }]);
}

#[tokio::test]
async fn ticket_numbers_are_never_reused() {
    let services = services();
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let events = TestFramework::<Ticket>::with(services.clone())
            .given_no_previous_events()
            .when_async(cmd(Command::Open(open_command())))
            .await
            .inspect_result()
            .unwrap();
        match &events[..] {
            [TicketEvent::TicketOpened { number, .. }] => numbers.push(number.clone()),
            other => panic!("expected one TicketOpened, got {other:?}"),
        }
    }
    assert_eq!(numbers, ["SOC-42", "SOC-43", "SOC-44"]);
}

#[tokio::test]
async fn open_on_an_existing_ticket_is_ticket_exists() {
    let e = error_of(
        framework()
            .given(vec![opened(), assigned_jdoe(), started()])
            .when_async(cmd(Command::Open(open_command())))
            .await
            .inspect_result(),
    );
    assert_eq!((e.code(), e.kind()), ("ticket_exists", ErrorKind::Conflict));
}

#[tokio::test]
async fn title_must_be_one_non_empty_line_of_at_most_200_characters() {
    for (title, why) in [
        ("".to_string(), "empty"),
        ("   \t ".to_string(), "blank"),
        ("x".repeat(201), "201 characters"),
        ("é".repeat(201), "201 non-ASCII characters"),
        ("before\0after".to_string(), "NUL"),
        ("two\nlines".to_string(), "line break"),
    ] {
        let result = framework()
            .given_no_previous_events()
            .when_async(cmd(Command::Open(OpenTicket {
                title,
                ..open_command()
            })))
            .await
            .inspect_result();
        assert!(result.is_err(), "a title that is {why} was accepted");
        assert_validation(result, "title");
    }

    // The limit itself is fine, and the title is trimmed.
    let events = framework()
        .given_no_previous_events()
        .when_async(cmd(Command::Open(OpenTicket {
            title: format!("  {}  ", "é".repeat(200)),
            ..open_command()
        })))
        .await
        .inspect_result()
        .unwrap();
    match &events[..] {
        [TicketEvent::TicketOpened { title, .. }] => assert_eq!(*title, "é".repeat(200)),
        other => panic!("expected one TicketOpened, got {other:?}"),
    }
}

#[tokio::test]
async fn description_refuses_nul_but_keeps_line_breaks() {
    let result = framework()
        .given_no_previous_events()
        .when_async(cmd(Command::Open(OpenTicket {
            description: "a\0b".into(),
            ..open_command()
        })))
        .await
        .inspect_result();
    assert_validation(result, "description");
}

#[tokio::test]
async fn assign_records_the_display_name_and_the_previous_assignee() {
    framework()
        .given(vec![opened(), assigned_jdoe()])
        .when_async(cmd(Command::Assign {
            assignee: " lead1 ".into(),
        }))
        .await
        .then_expect_events(vec![TicketEvent::TicketAssigned {
            assignee: "lead1".into(),
            assignee_name: "Lead One".into(),
            previous: Some("jdoe".into()),
            by: "analyst1".into(),
            at: now(),
        }]);

    framework()
        .given(vec![opened()])
        .when_async(cmd(Command::Assign {
            assignee: "jdoe".into(),
        }))
        .await
        .then_expect_events(vec![TicketEvent::TicketAssigned {
            assignee: "jdoe".into(),
            assignee_name: "Jane Doe".into(),
            previous: None,
            by: "analyst1".into(),
            at: now(),
        }]);
}

#[tokio::test]
async fn assign_refuses_unknown_users_and_the_current_assignee() {
    let result = framework()
        .given(vec![opened()])
        .when_async(cmd(Command::Assign {
            assignee: "mallory".into(),
        }))
        .await
        .inspect_result();
    assert_validation(result, "assignee");

    let e = error_of(
        framework()
            .given(vec![opened(), assigned_jdoe()])
            .when_async(cmd(Command::Assign {
                assignee: "jdoe".into(),
            }))
            .await
            .inspect_result(),
    );
    assert_eq!(
        (e.code(), e.kind()),
        ("already_assigned", ErrorKind::Conflict)
    );
}

#[tokio::test]
async fn unassign_needs_an_assignee() {
    let e = error_of(
        framework()
            .given(vec![opened()])
            .when_async(cmd(Command::Unassign))
            .await
            .inspect_result(),
    );
    assert_eq!((e.code(), e.kind()), ("not_assigned", ErrorKind::Conflict));

    framework()
        .given(vec![opened(), assigned_jdoe()])
        .when_async(cmd(Command::Unassign))
        .await
        .then_expect_events(vec![TicketEvent::TicketUnassigned {
            previous: "jdoe".into(),
            by: "analyst1".into(),
            at: now(),
        }]);
}

#[tokio::test]
async fn changing_to_the_same_severity_is_refused() {
    let e = error_of(
        framework()
            .given(vec![opened()])
            .when_async(cmd(Command::ChangeSeverity {
                severity: Severity::Medium,
                reason: "no change".into(),
            }))
            .await
            .inspect_result(),
    );
    assert_eq!((e.code(), e.kind()), ("same_severity", ErrorKind::Conflict));
}

#[tokio::test]
async fn annotations_that_change_nothing_record_nothing() {
    let events = framework()
        .given(vec![opened()])
        .when_async(cmd(Command::Tag {
            tags: vec!["PHISHING".into()],
        }))
        .await
        .inspect_result()
        .unwrap();
    assert!(events.is_empty(), "{events:?}");

    let events = framework()
        .given(vec![opened()])
        .when_async(cmd(Command::Untag {
            tags: vec!["not-there".into()],
        }))
        .await
        .inspect_result()
        .unwrap();
    assert!(events.is_empty(), "{events:?}");
}

// ---------------------------------------------------------------------------
// Observables
// ---------------------------------------------------------------------------

#[tokio::test]
async fn an_invalid_observable_is_a_validation_error() {
    for (kind, value) in [
        (ObservableKind::Ip, "10.0.0.300"),
        (ObservableKind::Ip, "not-an-ip"),
        (ObservableKind::Ip, ""),
        (ObservableKind::FileHash, "abc"),
        (ObservableKind::Url, "evil.test/path"),
    ] {
        let result = framework()
            .given(vec![opened()])
            .when_async(cmd(Command::AddObservable {
                kind,
                value: value.into(),
            }))
            .await
            .inspect_result();
        assert!(result.is_err(), "{kind} {value:?} was accepted");
        assert_validation(result, "value");
    }
}

#[tokio::test]
async fn observables_are_canonical_and_recorded_once() {
    framework()
        .given(vec![opened()])
        .when_async(cmd(Command::AddObservable {
            kind: ObservableKind::Domain,
            value: "Evil.Example.TEST.".into(),
        }))
        .await
        .then_expect_events(vec![TicketEvent::ObservableAdded {
            kind: ObservableKind::Domain,
            value: "evil.example.test".into(),
            by: "analyst1".into(),
            at: now(),
        }]);

    let added = TicketEvent::ObservableAdded {
        kind: ObservableKind::Ip,
        value: "198.51.100.23".into(),
        by: "jdoe".into(),
        at: earlier(5),
    };
    framework()
        .given(vec![opened(), added])
        .when_async(cmd(Command::AddObservable {
            kind: ObservableKind::Ip,
            value: " 198.51.100.23 ".into(),
        }))
        .await
        .then_expect_events(vec![]);
}

// ---------------------------------------------------------------------------
// Resolving, duplicates, reopening
// ---------------------------------------------------------------------------

#[tokio::test]
async fn resolve_without_a_resolution_is_a_validation_error() {
    let result = framework()
        .given(vec![opened(), assigned_jdoe(), started()])
        .when_async(cmd(Command::Resolve {
            resolution: None,
            summary: "done".into(),
        }))
        .await
        .inspect_result();
    let e = error_of(result.clone());
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.code(), "validation_failed");
    assert_validation(result, "resolution");
}

#[tokio::test]
async fn resolve_refuses_duplicate_without_the_surviving_ticket() {
    let result = framework()
        .given(vec![opened()])
        .when_async(cmd(Command::Resolve {
            resolution: Some(Resolution::Duplicate),
            summary: "dup".into(),
        }))
        .await
        .inspect_result();
    assert_validation(result, "resolution");
}

#[tokio::test]
async fn triage_resolves_a_new_ticket_as_false_positive() {
    framework()
        .given(vec![opened()])
        .when_async(cmd(Command::Resolve {
            resolution: Some(Resolution::FalsePositive),
            summary: "our own vulnerability scanner".into(),
        }))
        .await
        .then_expect_events(vec![TicketEvent::TicketResolved {
            from: Status::New,
            resolution: Resolution::FalsePositive,
            summary: "our own vulnerability scanner".into(),
            duplicate_of: None,
            duplicate_of_number: None,
            by: "analyst1".into(),
            at: now(),
        }]);
}

#[tokio::test]
async fn mark_duplicate_links_the_surviving_ticket() {
    let history = vec![opened(), assigned_jdoe(), started(), put_on_hold()];
    let command = Command::MarkDuplicate {
        of: SURVIVOR_ID,
        of_number: Some("SOC-3".into()),
        summary: "same phishing wave as SOC-3".into(),
    };
    let expected = TicketEvent::TicketResolved {
        from: Status::OnHold,
        resolution: Resolution::Duplicate,
        summary: "same phishing wave as SOC-3".into(),
        duplicate_of: Some(SURVIVOR_ID),
        duplicate_of_number: Some("SOC-3".into()),
        by: "analyst1".into(),
        at: now(),
    };
    framework()
        .given(history.clone())
        .when_async(cmd(command.clone()))
        .await
        .then_expect_events(vec![expected]);

    let (ticket, _) = handle_on(&history, command).await;
    assert_eq!(ticket.status, Some(Status::Resolved));
    assert_eq!(ticket.resolution, Some(Resolution::Duplicate));
    assert_eq!(ticket.duplicate_of, Some(SURVIVOR_ID));
    assert_eq!(
        ticket.resolution_summary.as_deref(),
        Some("same phishing wave as SOC-3")
    );
    assert_eq!(ticket.resolved_at, Some(now()));
}

#[tokio::test]
async fn a_ticket_cannot_duplicate_itself() {
    let result = framework()
        .given(vec![opened()])
        .when_async(cmd(Command::MarkDuplicate {
            of: TICKET_ID,
            of_number: None,
            summary: String::new(),
        }))
        .await
        .inspect_result();
    assert_validation(result, "of");
}

#[tokio::test]
async fn reopen_clears_the_resolution() {
    let duplicate = TicketEvent::TicketResolved {
        from: Status::InProgress,
        resolution: Resolution::Duplicate,
        summary: "same as SOC-3".into(),
        duplicate_of: Some(SURVIVOR_ID),
        duplicate_of_number: Some("SOC-3".into()),
        by: "jdoe".into(),
        at: earlier(20),
    };
    for (history, from) in [
        (
            vec![opened(), assigned_jdoe(), started(), duplicate.clone()],
            Status::Resolved,
        ),
        (
            vec![
                opened(),
                assigned_jdoe(),
                started(),
                duplicate.clone(),
                closed(),
            ],
            Status::Closed,
        ),
    ] {
        let before = Ticket::from_events(&history);
        assert_eq!(before.resolution, Some(Resolution::Duplicate));
        assert_eq!(before.duplicate_of, Some(SURVIVOR_ID));

        let command = Command::Reopen {
            reason: "not the same incident after all".into(),
        };
        framework()
            .given(history.clone())
            .when_async(cmd(command.clone()))
            .await
            .then_expect_events(vec![TicketEvent::TicketReopened {
                from,
                reason: "not the same incident after all".into(),
                previous_resolution: Some(Resolution::Duplicate),
                by: "analyst1".into(),
                at: now(),
            }]);

        let (ticket, result) = handle_on(&history, command).await;
        result.unwrap();
        assert_eq!(
            ticket.status,
            Some(Status::InProgress),
            "reopened from {from}"
        );
        assert_eq!(ticket.resolution, None);
        assert_eq!(ticket.resolution_summary, None);
        assert_eq!(ticket.duplicate_of, None);
        assert_eq!(ticket.resolved_at, None);
        assert_eq!(
            ticket.assignee.as_deref(),
            Some("jdoe"),
            "reopening keeps the assignee"
        );
    }
}

#[tokio::test]
async fn reopen_needs_a_reason() {
    let result = framework()
        .given(vec![opened(), started(), resolved(), closed()])
        .when_async(cmd(Command::Reopen {
            reason: "  ".into(),
        }))
        .await
        .inspect_result();
    assert_validation(result, "reason");
}

// ---------------------------------------------------------------------------
// Alert correlation
// ---------------------------------------------------------------------------

fn webhook_opened(event_time: DateTime<Utc>, raw: &str) -> TicketEvent {
    match opened() {
        TicketEvent::TicketOpened {
            ticket_id,
            number,
            title,
            description,
            severity,
            source_ip,
            destination_ip,
            tags,
            by,
            at,
            ..
        } => TicketEvent::TicketOpened {
            ticket_id,
            number,
            title,
            description,
            severity,
            source: Source::Webhook,
            source_ip,
            destination_ip,
            tags,
            origin: Some(AlertOrigin {
                vendor: Some("Fortinet".into()),
                product: Some("FortiGate".into()),
                rule_name: Some("VPN brute force".into()),
                fingerprint: Some("fp-1".into()),
                event_time: Some(event_time),
                raw: Some(raw.into()),
                incident_id: None,
            }),
            source_asset: None,
            destination_asset: None,
            escalated_from: None,
            by,
            at,
        },
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn correlation_accumulates_count_and_seen_window() {
    let t0 = earlier(60);
    let mut history = vec![webhook_opened(t0, "raw-open")];
    let opened_ticket = Ticket::from_events(&history);
    assert_eq!(opened_ticket.alert_count, 1);
    assert_eq!(opened_ticket.first_seen, Some(t0));
    assert_eq!(opened_ticket.last_seen, Some(t0));
    assert_eq!(opened_ticket.alert_samples, vec!["raw-open".to_string()]);

    // A batch later than the first alert, then one that reaches back before it.
    let batches = [
        batch(
            5,
            t0 + Duration::minutes(1),
            t0 + Duration::minutes(30),
            "a",
            4,
        ),
        batch(
            10,
            t0 - Duration::minutes(90),
            t0 + Duration::minutes(10),
            "b",
            4,
        ),
    ];
    for b in batches {
        let events = framework()
            .given(history.clone())
            .when_async(cmd(Command::CorrelateAlerts(b.clone())))
            .await
            .inspect_result()
            .unwrap();
        assert_eq!(
            events,
            vec![TicketEvent::AlertsCorrelated {
                batch: b,
                by: "analyst1".into(),
                at: now()
            }]
        );
        history.extend(events);
    }
    let ticket = Ticket::from_events(&history);
    assert_eq!(ticket.alert_count, 1 + 5 + 10);
    assert_eq!(
        ticket.first_seen,
        Some(t0 - Duration::minutes(90)),
        "the earliest of all"
    );
    assert_eq!(
        ticket.last_seen,
        Some(t0 + Duration::minutes(30)),
        "the latest of all"
    );
    assert_eq!(
        ticket.alert_samples,
        ["raw-open", "a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2", "b-3"]
    );
}

#[tokio::test]
async fn correlation_keeps_at_most_alert_samples_max_samples() {
    let t0 = earlier(60);
    // One batch larger than the bound: the event itself is bounded.
    let big = batch(
        1_000,
        t0,
        t0 + Duration::minutes(1),
        "big",
        ALERT_SAMPLES_MAX + 15,
    );
    let events = framework()
        .given(vec![webhook_opened(t0, "raw-open")])
        .when_async(cmd(Command::CorrelateAlerts(big)))
        .await
        .inspect_result()
        .unwrap();
    let [TicketEvent::AlertsCorrelated {
        batch: recorded, ..
    }] = &events[..]
    else {
        panic!("expected one AlertsCorrelated, got {events:?}");
    };
    assert_eq!(recorded.count, 1_000, "the count is never truncated");
    assert_eq!(recorded.samples.len(), ALERT_SAMPLES_MAX);

    // Many batches: the ticket keeps the newest ALERT_SAMPLES_MAX samples.
    let mut history = vec![webhook_opened(t0, "raw-open")];
    for i in 0..5 {
        let b = batch(7, t0, t0 + Duration::minutes(i), &format!("b{i}"), 7);
        let (ticket, result) = handle_on(&history, Command::CorrelateAlerts(b)).await;
        history.extend(result.unwrap());
        assert!(
            ticket.alert_samples.len() <= ALERT_SAMPLES_MAX,
            "{} samples",
            ticket.alert_samples.len()
        );
    }
    let ticket = Ticket::from_events(&history);
    assert_eq!(ticket.alert_count, 1 + 5 * 7);
    assert_eq!(ticket.alert_samples.len(), ALERT_SAMPLES_MAX);
    assert_eq!(
        ticket.alert_samples.last().map(String::as_str),
        Some("b4-6"),
        "the newest is kept"
    );
    assert!(
        !ticket.alert_samples.contains(&"raw-open".to_string()),
        "the oldest is dropped"
    );
}

#[tokio::test]
async fn correlation_needs_at_least_one_alert() {
    let result = framework()
        .given(vec![opened()])
        .when_async(cmd(Command::CorrelateAlerts(batch(
            0,
            earlier(2),
            earlier(1),
            "x",
            1,
        ))))
        .await
        .inspect_result();
    assert_validation(result, "count");
}

#[tokio::test]
async fn raw_samples_lose_nul_and_other_controls() {
    let dirty = AlertBatch {
        count: 2,
        first_seen: earlier(2),
        last_seen: earlier(1),
        samples: vec![
            "user=ad\0min action=deny".into(),
            "line one\nline two\ttab\u{7}bell".into(),
        ],
    };
    let events = framework()
        .given(vec![opened()])
        .when_async(cmd(Command::CorrelateAlerts(dirty)))
        .await
        .inspect_result()
        .unwrap();
    let [TicketEvent::AlertsCorrelated {
        batch: recorded, ..
    }] = &events[..]
    else {
        panic!("expected one AlertsCorrelated, got {events:?}");
    };
    assert_eq!(
        recorded.samples,
        ["user=admin action=deny", "line one\nline two\ttabbell"]
    );
    assert!(recorded.samples.iter().all(|s| !s.contains('\0')));

    // And the same for the alert that opens a ticket.
    let origin = AlertOrigin {
        rule_name: Some("VPN\0 brute force".into()),
        raw: Some("<134>fw\0 deny".into()),
        ..AlertOrigin::default()
    };
    let events = framework()
        .given_no_previous_events()
        .when_async(cmd(Command::Open(OpenTicket {
            source: Source::Syslog,
            origin: Some(origin),
            ..open_command()
        })))
        .await
        .inspect_result()
        .unwrap();
    let [TicketEvent::TicketOpened {
        origin: Some(origin),
        ..
    }] = &events[..]
    else {
        panic!("expected one TicketOpened with an origin, got {events:?}");
    };
    assert_eq!(origin.rule_name.as_deref(), Some("VPN brute force"));
    assert_eq!(origin.raw.as_deref(), Some("<134>fw deny"));
}

// ---------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------

/// A long life: every kind of event, in an order the contract allows.
fn a_whole_life() -> Vec<Command> {
    vec![
        Command::Open(OpenTicket {
            origin: Some(AlertOrigin {
                raw: Some("first".into()),
                event_time: Some(earlier(90)),
                ..AlertOrigin::default()
            }),
            source: Source::Webhook,
            ..open_command()
        }),
        Command::Assign {
            assignee: "jdoe".into(),
        },
        Command::Start,
        Command::Comment {
            body: "looking".into(),
        },
        Command::Hold {
            reason: "waiting for the asset owner".into(),
        },
        Command::Resume,
        Command::Tag {
            tags: vec!["vpn".into(), "brute-force".into()],
        },
        Command::Untag {
            tags: vec!["phishing".into()],
        },
        Command::AddObservable {
            kind: ObservableKind::Ip,
            value: "203.0.113.7".into(),
        },
        Command::CorrelateAlerts(batch(12, earlier(100), earlier(1), "more", 3)),
        Command::ChangeSeverity {
            severity: Severity::Critical,
            reason: "domain admin targeted".into(),
        },
        Command::Assign {
            assignee: "lead1".into(),
        },
        Command::Resolve {
            resolution: Some(Resolution::TruePositive),
            summary: "blocked".into(),
        },
        Command::Close {
            note: "reviewed".into(),
        },
        Command::Reopen {
            reason: "came back".into(),
        },
        Command::Unassign,
        Command::MarkDuplicate {
            of: SURVIVOR_ID,
            of_number: Some("SOC-3".into()),
            summary: "same as SOC-3".into(),
        },
        Command::Reopen {
            reason: "not a duplicate".into(),
        },
        Command::Resolve {
            resolution: Some(Resolution::Benign),
            summary: "pen test".into(),
        },
        Command::Close {
            note: String::new(),
        },
    ]
}

#[tokio::test]
async fn replaying_the_events_gives_the_state_handling_left() {
    let mut history: Vec<TicketEvent> = Vec::new();
    for command in a_whole_life() {
        let name = row_of(&command);
        let (handled, result) = handle_on(&history, command).await;
        let events = result.unwrap_or_else(|e| panic!("{name} failed: {e}"));
        assert_eq!(events.len(), 1, "{name} records one event");
        history.extend(events);
        assert_eq!(
            Ticket::from_events(&history),
            handled,
            "replay after {name}"
        );
        assert_eq!(
            handled.version,
            history.len() as u64,
            "version after {name}"
        );
    }
    let last = Ticket::from_events(&history);
    assert_eq!(last.status, Some(Status::Closed));
    assert_eq!(last.resolution, Some(Resolution::Benign));
    assert_eq!(last.severity, Some(Severity::Critical));
    assert_eq!(last.assignee, None);
    assert_eq!(last.alert_count, 13);
    assert_eq!(last.comments.len(), 1);
    assert_eq!(
        last.tags.iter().map(String::as_str).collect::<Vec<_>>(),
        ["brute-force", "vpn"]
    );
    assert_eq!(last.number.as_deref(), Some("SOC-42"));
    assert_eq!(last.created_at, Some(now()));
}

#[tokio::test]
async fn version_counts_events_one_by_one() {
    let history = [
        opened(),
        assigned_jdoe(),
        started(),
        put_on_hold(),
        resolved(),
        closed(),
    ];
    for n in 0..=history.len() {
        let ticket = Ticket::from_events(&history[..n]);
        assert_eq!(ticket.version, n as u64);
        if n > 0 {
            assert_eq!(ticket.updated_at, Some(history[n - 1].at()));
        }
    }

    // Handling applies through the sink: the aggregate is one version on
    // for each event it wrote, and not at all on refusal or on a no-op.
    let base = vec![opened(), assigned_jdoe()];
    let (ticket, result) = handle_on(&base, Command::Start).await;
    assert_eq!(result.unwrap().len(), 1);
    assert_eq!(ticket.version, 3);
    let (ticket, result) = handle_on(&base, Command::Resume).await;
    assert!(result.is_err());
    assert_eq!(ticket.version, 2);
    let (ticket, result) = handle_on(
        &base,
        Command::Tag {
            tags: vec!["phishing".into()],
        },
    )
    .await;
    assert!(result.unwrap().is_empty());
    assert_eq!(ticket.version, 2);
}

#[tokio::test]
async fn a_critical_destination_raises_severity_one_step_and_is_recorded() {
    let events = framework()
        .given_no_previous_events()
        .when_async(cmd(Command::Open(OpenTicket {
            destination_ip: Some("10.0.0.99".parse().unwrap()),
            severity: Severity::High,
            ..open_command()
        })))
        .await
        .inspect_result()
        .unwrap();
    let [TicketEvent::TicketOpened {
        severity,
        escalated_from,
        destination_asset,
        source_asset,
        ..
    }] = &events[..]
    else {
        panic!("{events:?}");
    };
    assert_eq!(*severity, Severity::Critical);
    assert_eq!(*escalated_from, Some(Severity::High));
    assert_eq!(
        destination_asset.as_ref().map(|a| a.criticality),
        Some(Criticality::Critical)
    );
    assert_eq!(*source_asset, None);
}

#[tokio::test]
async fn an_active_siem_resend_reopens_a_resolved_ticket_and_a_closed_one_only_records_it() {
    let update = |status: &str| {
        Command::RecordSiemUpdate(SiemUpdate {
            incident_id: "40211".into(),
            status: Some(status.into()),
            repeat_count: Some(9),
            raw: None,
        })
    };
    let events = framework()
        .given(vec![opened(), assigned_jdoe(), started(), resolved()])
        .when_async(cmd(update("Active")))
        .await
        .inspect_result()
        .unwrap();
    let types: Vec<String> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(types, vec!["SiemIncidentUpdated", "TicketReopened"]);

    let history = vec![opened(), assigned_jdoe(), started(), resolved(), closed()];
    let before = Ticket::from_events(&history);
    let (after, result) = handle_on(&history, update("Active")).await;
    let events = result.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(after.status, before.status);
    assert_eq!(after.alert_count, before.alert_count);
    assert_eq!(after.updated_at, before.updated_at);
    assert_eq!(after.version, before.version + 1);
}
