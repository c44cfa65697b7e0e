//! The Ticket event store.
//!
//! Reads are delegated to postgres-es's repository (and go through our
//! upcasters). Appends do postgres-es's own INSERT, with `RETURNING` the
//! position, in one transaction with the idempotency key when there is one:
//! `CqrsFramework::execute` can do neither (docs/architecture.md, "The event store").
//!
//! Long tickets stay cheap without postgres-es snapshots (unsafe in 0.5): the
//! store caches each ticket it has seen with its version and loads only the
//! events after it, which also catches writes made by other processes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventUpcaster, PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use domain::{ActorKind, Command, Ticket, TicketCommand, TicketError, TicketEvent, TicketServices};
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::event_metadata::EventMetadata;
use crate::position::Position;

/// Tickets kept in the in-process cache; beyond it the least recently stored go.
const CACHE_CAPACITY: usize = 20_000;

/// The channel a command came through (event metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Ui,
    Api,
    Webhook,
    Syslog,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Ui => "ui",
            Channel::Api => "api",
            Channel::Webhook => "webhook",
            Channel::Syslog => "syslog",
        }
    }
}

/// Who, why and through what a command came: stored as every event's metadata.
#[derive(Debug, Clone)]
pub struct CommandContext {
    pub actor: String,
    pub actor_kind: ActorKind,
    pub command_id: Uuid,
    pub correlation_id: String,
    pub channel: Channel,
    /// The client's address (behind trusted proxies, the one they saw);
    /// none for work the system does itself.
    pub client_addr: Option<String>,
}

impl CommandContext {
    fn metadata(&self, occurred_at: DateTime<Utc>) -> Value {
        let kind = match self.actor_kind {
            ActorKind::User => "user",
            ActorKind::Client => "client",
            ActorKind::System => "system",
        };
        let mut meta = serde_json::json!({
            "actor": self.actor,
            "actor_kind": kind,
            "command_id": self.command_id.to_string(),
            "correlation_id": self.correlation_id,
            "channel": self.channel.as_str(),
            "occurred_at": occurred_at.to_rfc3339(),
        });
        if let (Some(addr), Some(map)) = (&self.client_addr, meta.as_object_mut()) {
            map.insert("client_addr".into(), Value::String(addr.clone()));
        }
        meta
    }
}

/// An `Idempotency-Key` on a request: the answer is stored with the events.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub principal: String,
    pub key: String,
    /// Hash of what was asked (method, path, body): the same key with another
    /// request is refused.
    pub request_hash: String,
}

/// A stored answer to an idempotent request.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Value,
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub ticket_id: Uuid,
    pub ticket: Ticket,
    pub events: Vec<TicketEvent>,
    /// The ticket's version after the command (its number of events).
    pub version: u64,
    /// The position of the ticket's last event.
    pub position: Option<Position>,
}

/// One stored event with everything the store knows about it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    pub ticket_id: String,
    pub sequence: u64,
    pub event_type: String,
    pub event_version: String,
    pub event_id: Uuid,
    pub position: Position,
    pub recorded_at: DateTime<Utc>,
    pub payload: TicketEvent,
    pub metadata: EventMetadata,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] TicketError),
    #[error("the ticket was changed concurrently; reload it and try again")]
    Conflict,
    #[error("the ticket is at version {actual}, not {expected}")]
    VersionMismatch { expected: u64, actual: u64 },
    #[error("this Idempotency-Key was already used")]
    IdempotentReplay(StoredResponse),
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyMismatch,
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("stored event unreadable: {0}")]
    Corrupt(String),
    /// Another ticket already holds this alert fingerprint: correlate into it.
    #[error("alert fingerprint already owned by ticket {0}")]
    FingerprintOwned(Uuid),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e)
            }
            e => StoreError::Database(e),
        }
    }
}

fn constraint_of(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => db.constraint(),
        _ => None,
    }
}

const INSERT_EVENT: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING transaction_id::text AS transaction_id, global_position";

/// The columns `EventCodec::stored_event` reads, as a literal for `concat!`.
macro_rules! stored_event_columns {
    () => {
        "aggregate_id, sequence, event_type, event_version, payload, metadata,
    transaction_id::text AS transaction_id, global_position, recorded_at, event_id"
    };
}

// A ticket's stream a page at a time, on the primary key's order.
const HISTORY_OLDEST_FIRST: &str = concat!(
    "SELECT ",
    stored_event_columns!(),
    " FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3
 ORDER BY sequence LIMIT $4"
);
const HISTORY_NEWEST_FIRST: &str = concat!(
    "SELECT ",
    stored_event_columns!(),
    " FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence < $3
 ORDER BY sequence DESC LIMIT $4"
);
const HISTORY_THROUGH: &str = concat!(
    "SELECT ",
    stored_event_columns!(),
    " FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence <= $3
 ORDER BY sequence"
);

fn to_sequence(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Turns stored rows into events of today's schema, through the upcasters.
#[derive(Clone)]
pub struct EventCodec {
    upcasters: Arc<Vec<Box<dyn EventUpcaster>>>,
}

impl Default for EventCodec {
    fn default() -> Self {
        EventCodec {
            upcasters: Arc::new(domain::upcast::ticket_upcasters()),
        }
    }
}

/// The columns `EventCodec::stored_event` reads.
pub const STORED_EVENT_COLUMNS: &str = stored_event_columns!();

impl EventCodec {
    pub fn deserialize(&self, event: SerializedEvent) -> Result<TicketEvent, StoreError> {
        let event = self.upcasters.iter().fold(event, |e, u| {
            if u.can_upcast(&e.event_type, &e.event_version) {
                u.upcast(e)
            } else {
                e
            }
        });
        serde_json::from_value(event.payload).map_err(|e| {
            StoreError::Corrupt(format!(
                "{} v{}: {e}",
                event.event_type, event.event_version
            ))
        })
    }

    /// A row with `STORED_EVENT_COLUMNS`.
    pub fn stored_event(&self, row: &sqlx::postgres::PgRow) -> Result<StoredEvent, StoreError> {
        let ticket_id: String = row.try_get("aggregate_id")?;
        let sequence: i64 = row.try_get("sequence")?;
        let event_type: String = row.try_get("event_type")?;
        let event_version: String = row.try_get("event_version")?;
        let payload: Value = row.try_get("payload")?;
        let metadata: Value = row.try_get("metadata")?;
        let serialized = SerializedEvent::new(
            ticket_id.clone(),
            sequence as usize,
            Ticket::TYPE.to_string(),
            event_type.clone(),
            event_version.clone(),
            payload,
            metadata,
        );
        Ok(StoredEvent {
            ticket_id,
            sequence: sequence as u64,
            event_type,
            event_version,
            event_id: row.try_get("event_id")?,
            position: position_of(row)?,
            recorded_at: row.try_get("recorded_at")?,
            metadata: EventMetadata::from_value(&serialized.metadata),
            payload: self.deserialize(serialized)?,
        })
    }
}

#[derive(Clone)]
pub struct TicketStore {
    pool: PgPool,
    repo: Arc<PostgresEventRepository>,
    codec: EventCodec,
    services: Arc<dyn TicketServices>,
    cache: Arc<Mutex<TicketCache>>,
    appended: Arc<tokio::sync::Notify>,
}

#[derive(Default)]
struct TicketCache {
    tickets: HashMap<Uuid, (Ticket, u64)>,
    clock: u64,
}

impl TicketCache {
    fn get(&mut self, id: &Uuid) -> Option<Ticket> {
        self.clock += 1;
        let clock = self.clock;
        self.tickets.get_mut(id).map(|(t, used)| {
            *used = clock;
            t.clone()
        })
    }

    fn put(&mut self, id: Uuid, ticket: Ticket) {
        self.clock += 1;
        if self.tickets.len() >= CACHE_CAPACITY && !self.tickets.contains_key(&id) {
            // Drop the least recently used tenth in one sweep.
            let mut ages: Vec<u64> = self.tickets.values().map(|(_, u)| *u).collect();
            ages.sort_unstable();
            let cutoff = ages[ages.len() / 10];
            self.tickets.retain(|_, (_, u)| *u > cutoff);
        }
        match self.tickets.get(&id) {
            // Never replace a newer state with an older one.
            Some((cached, _)) if cached.version > ticket.version => {}
            _ => {
                self.tickets.insert(id, (ticket, self.clock));
            }
        }
    }
}

impl TicketStore {
    pub fn new(pool: PgPool, services: Arc<dyn TicketServices>) -> Self {
        let appended = Arc::new(tokio::sync::Notify::new());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(send_appended_hints(pool.clone(), appended.clone()));
        }
        TicketStore {
            repo: Arc::new(PostgresEventRepository::new(pool.clone())),
            pool,
            codec: EventCodec::default(),
            services,
            cache: Arc::new(Mutex::new(TicketCache::default())),
            appended,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn codec(&self) -> &EventCodec {
        &self.codec
    }

    fn cached(&self, id: &Uuid) -> Option<Ticket> {
        self.cache.lock().ok().and_then(|mut c| c.get(id))
    }

    fn remember(&self, id: Uuid, ticket: &Ticket) {
        if let Ok(mut c) = self.cache.lock() {
            c.put(id, ticket.clone());
        }
    }

    /// The ticket's current state: the cached state plus the events after it.
    pub async fn load(&self, id: Uuid) -> Result<Ticket, StoreError> {
        let mut ticket = self.cached(&id).unwrap_or_default();
        let key = id.to_string();
        let newer = self
            .repo
            .get_last_events::<Ticket>(&key, ticket.version as usize)
            .await
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if newer.is_empty() {
            return Ok(ticket);
        }
        for event in newer {
            ticket.apply(self.codec.deserialize(event)?);
        }
        self.remember(id, &ticket);
        Ok(ticket)
    }

    /// The ticket's whole stream, oldest first, with positions and metadata.
    pub async fn history(&self, id: Uuid) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {STORED_EVENT_COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence"
        ))
        .bind(Ticket::TYPE)
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| self.codec.stored_event(row))
            .collect()
    }

    /// A page of the ticket's stream: at most `limit` events after sequence
    /// `after` in order, or (`newest_first`) before sequence `after` (the
    /// newest when `None`) newest first. Long histories are read a page at
    /// a time, never whole.
    pub async fn history_page(
        &self,
        id: Uuid,
        after: Option<u64>,
        limit: i64,
        newest_first: bool,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let (sql, bound) = if newest_first {
            (HISTORY_NEWEST_FIRST, after.map_or(i64::MAX, to_sequence))
        } else {
            (HISTORY_OLDEST_FIRST, after.map_or(0, to_sequence))
        };
        self.stored(
            sqlx::query(sql)
                .bind(Ticket::TYPE)
                .bind(id.to_string())
                .bind(bound)
                .bind(limit),
        )
        .await
    }

    /// The ticket's stream up to and including `sequence`, oldest first:
    /// what a state at that version is folded from.
    pub async fn history_through(
        &self,
        id: Uuid,
        sequence: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.stored(
            sqlx::query(HISTORY_THROUGH)
                .bind(Ticket::TYPE)
                .bind(id.to_string())
                .bind(to_sequence(sequence)),
        )
        .await
    }

    async fn stored(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| self.codec.stored_event(row))
            .collect()
    }

    /// Looks up a stored answer for an `Idempotency-Key`.
    pub async fn idempotent_answer(
        &self,
        idem: &Idempotency,
    ) -> Result<Option<StoredResponse>, StoreError> {
        let row = sqlx::query("SELECT request_hash, status, body FROM idempotency_keys WHERE principal = $1 AND key = $2")
            .bind(&idem.principal)
            .bind(&idem.key)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let hash: String = row.try_get("request_hash")?;
                if hash != idem.request_hash {
                    return Err(StoreError::IdempotencyMismatch);
                }
                let status: i16 = row.try_get("status")?;
                Ok(Some(StoredResponse {
                    status: status as u16,
                    body: row.try_get("body")?,
                }))
            }
        }
    }

    /// Handles a command against the ticket's current state and appends what
    /// it decided, atomically with the idempotency key when given.
    /// `respond` renders the answer stored for idempotent replays.
    pub async fn execute(
        &self,
        id: Uuid,
        command: TicketCommand,
        ctx: &CommandContext,
        expected_version: Option<u64>,
        idempotency: Option<&Idempotency>,
        respond: impl FnOnce(&CommandOutcome) -> StoredResponse,
    ) -> Result<(CommandOutcome, StoredResponse), StoreError> {
        if let Some(idem) = idempotency {
            if let Some(answer) = self.idempotent_answer(idem).await? {
                return Err(StoreError::IdempotentReplay(answer));
            }
        }
        // A ticket being opened has a fresh id: nothing to load. Were the id
        // taken, the primary key refuses sequence 1 and we answer "exists".
        let is_open = matches!(command.command, Command::Open(_));
        let mut ticket = if is_open {
            Ticket::default()
        } else {
            self.load(id).await?
        };
        if let Some(expected) = expected_version {
            if ticket.exists() && ticket.version != expected {
                return Err(StoreError::VersionMismatch {
                    expected,
                    actual: ticket.version,
                });
            }
        }
        let base_version = ticket.version;
        let sink = EventSink::<Ticket>::default();
        ticket.handle(command, &self.services, &sink).await?;
        let events = sink.collect().await;

        let mut outcome = CommandOutcome {
            ticket_id: id,
            version: ticket.version,
            ticket,
            events,
            position: None,
        };
        if outcome.events.is_empty() {
            outcome.position = self.last_position(id).await?;
            let answer = respond(&outcome);
            return Ok((outcome, answer));
        }

        let metadata = ctx.metadata(self.services.now());
        let base = base_version;
        let insert = |i: usize, event: &TicketEvent| -> Result<_, StoreError> {
            let payload =
                serde_json::to_value(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(sqlx::query(INSERT_EVENT)
                .bind(Ticket::TYPE)
                .bind(id.to_string())
                .bind((base + 1 + i as u64) as i64)
                .bind(event.event_type())
                .bind(event.event_version())
                .bind(payload)
                .bind(metadata.clone()))
        };
        let refused = |e: sqlx::Error| match constraint_of(&e) {
            Some("events_pkey") if is_open => StoreError::Domain(TicketError::AlreadyExists),
            Some("events_pkey") => StoreError::Conflict,
            _ => StoreError::from(e),
        };
        let claims = fingerprint_changes(&outcome.ticket, &outcome.events);
        if outcome.events.len() == 1 && idempotency.is_none() && claims.is_empty() {
            // One statement is its own transaction: one round trip, not three.
            let row = insert(0, &outcome.events[0])?
                .fetch_one(&self.pool)
                .await
                .map_err(refused)?;
            outcome.position = Some(position_of(&row)?);
            let answer = respond(&outcome);
            self.remember(id, &outcome.ticket);
            self.appended.notify_one();
            return Ok((outcome, answer));
        }
        let mut tx = self.pool.begin().await?;
        let mut last = None;
        for (i, event) in outcome.events.iter().enumerate() {
            let row = insert(i, event)?
                .fetch_one(&mut *tx)
                .await
                .map_err(refused)?;
            last = Some(position_of(&row)?);
        }
        outcome.position = last;
        for change in &claims {
            if let Err(e) = change.apply(id, &mut tx).await {
                if constraint_of(&e) == Some("alert_fingerprints_pkey") {
                    drop(tx);
                    let FingerprintChange::Claim { fingerprint, .. } = change else {
                        return Err(e.into());
                    };
                    let owner: Option<Uuid> = sqlx::query_scalar(
                        "SELECT ticket_id FROM alert_fingerprints WHERE fingerprint = $1",
                    )
                    .bind(fingerprint)
                    .fetch_optional(&self.pool)
                    .await?;
                    // The owner may have been resolved in between: the caller retries.
                    return Err(owner
                        .map(StoreError::FingerprintOwned)
                        .unwrap_or(StoreError::Conflict));
                }
                return Err(e.into());
            }
        }
        let answer = respond(&outcome);
        if let Some(idem) = idempotency {
            let stored = sqlx::query(
                "INSERT INTO idempotency_keys (principal, key, request_hash, status, body) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&idem.principal)
            .bind(&idem.key)
            .bind(&idem.request_hash)
            .bind(answer.status as i16)
            .bind(&answer.body)
            .execute(&mut *tx)
            .await;
            if let Err(e) = stored {
                if constraint_of(&e) == Some("idempotency_keys_pkey") {
                    // A concurrent request with the same key won: ours rolls
                    // back, and we answer what it answered.
                    drop(tx);
                    return match self.idempotent_answer(idem).await? {
                        Some(answer) => Err(StoreError::IdempotentReplay(answer)),
                        None => Err(StoreError::Conflict),
                    };
                }
                return Err(e.into());
            }
        }
        tx.commit().await?;
        self.remember(id, &outcome.ticket);
        self.appended.notify_one();
        Ok((outcome, answer))
    }

    async fn last_position(&self, id: Uuid) -> Result<Option<Position>, StoreError> {
        let row = sqlx::query(
            "SELECT transaction_id::text AS transaction_id, global_position FROM events
              WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
        )
        .bind(Ticket::TYPE)
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| position_of(&r)).transpose()
    }

    /// The ticket as it was after `version` events, or after its last event
    /// recorded at or before `at`: folded from its own stream with the
    /// domain's `apply`, never from a read model.
    pub async fn as_of(
        &self,
        id: Uuid,
        at: Option<DateTime<Utc>>,
        version: Option<u64>,
    ) -> Result<Option<Ticket>, StoreError> {
        let history = self.history(id).await?;
        let events: Vec<&TicketEvent> = history
            .iter()
            .filter(|e| version.is_none_or(|v| e.sequence <= v))
            .filter(|e| at.is_none_or(|t| e.recorded_at <= t))
            .map(|e| &e.payload)
            .collect();
        if events.is_empty() {
            return Ok(None);
        }
        Ok(Some(Ticket::from_events(events)))
    }

    /// Resolves `SOC-<n>` or a UUID to the ticket id.
    pub async fn resolve_reference(&self, reference: &str) -> Result<Option<Uuid>, StoreError> {
        if let Ok(id) = Uuid::parse_str(reference.trim()) {
            return Ok(Some(id));
        }
        let number = reference.trim().to_uppercase();
        let id: Option<String> = sqlx::query_scalar(
            "SELECT aggregate_id FROM events
              WHERE aggregate_type = $1 AND sequence = 1 AND event_type = 'TicketOpened'
                AND payload -> 'TicketOpened' ->> 'number' = $2
              LIMIT 1",
        )
        .bind(Ticket::TYPE)
        .bind(&number)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.and_then(|s| Uuid::parse_str(&s).ok()))
    }
}

pub fn position_of(row: &sqlx::postgres::PgRow) -> Result<Position, StoreError> {
    let tx: String = row.try_get("transaction_id")?;
    let pos: i64 = row.try_get("global_position")?;
    let tx = tx
        .parse::<u64>()
        .map_err(|e| StoreError::Corrupt(format!("transaction id '{tx}': {e}")))?;
    Ok(Position::new(tx, pos))
}

/// What appending `events` does to alert-fingerprint ownership: a ticket
/// opened from an alert claims its fingerprint; resolving releases it (the
/// next such alert opens a new ticket); reopening claims it back when free.
/// SIEM incident keys stay with their ticket for good.
#[derive(Debug, Clone, PartialEq)]
enum FingerprintChange {
    Claim {
        fingerprint: String,
        permanent: bool,
        strict: bool,
    },
    Release,
}

fn fingerprint_changes(after: &Ticket, events: &[TicketEvent]) -> Vec<FingerprintChange> {
    let fingerprint = after.origin.as_ref().and_then(|o| o.fingerprint.clone());
    let permanent = after
        .origin
        .as_ref()
        .is_some_and(|o| o.incident_id.is_some());
    let Some(fingerprint) = fingerprint else {
        return vec![];
    };
    events
        .iter()
        .filter_map(|e| match e {
            TicketEvent::TicketOpened { .. } => Some(FingerprintChange::Claim {
                fingerprint: fingerprint.clone(),
                permanent,
                strict: true,
            }),
            TicketEvent::TicketResolved { .. } if !permanent => Some(FingerprintChange::Release),
            TicketEvent::TicketReopened { .. } if !permanent => Some(FingerprintChange::Claim {
                fingerprint: fingerprint.clone(),
                permanent,
                strict: false,
            }),
            _ => None,
        })
        .collect()
}

impl FingerprintChange {
    async fn apply(&self, ticket: Uuid, tx: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
        match self {
            FingerprintChange::Claim {
                fingerprint,
                permanent,
                strict: true,
            } => {
                sqlx::query("INSERT INTO alert_fingerprints (fingerprint, ticket_id, permanent) VALUES ($1, $2, $3)")
                    .bind(fingerprint)
                    .bind(ticket)
                    .bind(permanent)
                    .execute(tx)
                    .await?;
            }
            FingerprintChange::Claim {
                fingerprint,
                permanent,
                strict: false,
            } => {
                sqlx::query(
                    "INSERT INTO alert_fingerprints (fingerprint, ticket_id, permanent) VALUES ($1, $2, $3)
                     ON CONFLICT (fingerprint) DO NOTHING",
                )
                .bind(fingerprint)
                .bind(ticket)
                .bind(permanent)
                .execute(tx)
                .await?;
            }
            FingerprintChange::Release => {
                sqlx::query(
                    "DELETE FROM alert_fingerprints WHERE ticket_id = $1 AND NOT permanent",
                )
                .bind(ticket)
                .execute(tx)
                .await?;
            }
        }
        Ok(())
    }
}

impl TicketStore {
    /// The ticket that owns an alert fingerprint now, if any.
    pub async fn fingerprint_owner(&self, fingerprint: &str) -> Result<Option<Uuid>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT ticket_id FROM alert_fingerprints WHERE fingerprint = $1")
                .bind(fingerprint)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

/// The hint, one statement and one round trip: its own transaction, whose
/// commit need not wait for a flush (a NOTIFY's transaction takes an xid, so
/// it would): nothing to make durable, the events already are.
const APPENDED_HINT: &str =
    "SELECT set_config('synchronous_commit', 'off', true), pg_notify('events_appended', '')";

/// Tells feed consumers (`LISTEN events_appended`) that events were
/// committed: one NOTIFY per burst of commits (`Notify` coalesces), sent
/// outside the commands' transactions so they never wait on the notify-queue
/// lock. A hint only: consumers poll as well.
async fn send_appended_hints(pool: PgPool, appended: Arc<tokio::sync::Notify>) {
    loop {
        appended.notified().await;
        if pool.is_closed() {
            return;
        }
        let sent = sqlx::query(APPENDED_HINT).execute(&pool).await;
        if let Err(e) = sent {
            if pool.is_closed() {
                return;
            }
            tracing::debug!(error = %e, "events_appended hint not sent; consumers poll anyway");
        }
    }
}
