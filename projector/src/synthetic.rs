//! Synthetic history for benchmarks and tests: many tickets' events written
//! straight with SQL (`generate_series`), in the exact JSON shapes of the
//! domain's events, far faster than through the command side.
//!
//! Each ticket lives the same ten events: opened (two in three from a SIEM
//! rule, with an alert), assigned, started (every seventh has its severity
//! changed instead), commented, an observable, correlated alerts, tagged,
//! commented, resolved, closed. Ticket `t`'s `k`-th event happens at tick
//! `t + k * window`, so about `window` tickets are in flight at any time and
//! the feed interleaves them as a real SOC's would.

use sqlx::PgConnection;

/// Events per synthetic ticket.
pub const EVENTS_PER_TICKET: i64 = 10;

const INSERT_SQL: &str = r#"
WITH ev AS (
    SELECT t, k,
           md5('synthetic-' || $5 || '-' || t)::uuid AS id,
           timestamptz '2026-01-05 08:00:00+00' + make_interval(secs => 3 * (t + k * $4)) AS at,
           (ARRAY['LOW','MEDIUM','HIGH','CRITICAL'])[1 + t % 4] AS severity,
           'analyst' || (t % 5) AS analyst
      FROM generate_series(1, 10) AS k,
           LATERAL generate_series(greatest(1, $1 - k * $4), least($3, $2 - 1 - k * $4)) AS t
), shaped AS (
    SELECT t, k, id, severity, analyst, at,
           to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts
      FROM ev
)
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT 'Ticket', id::text, k,
       (ARRAY['TicketOpened','TicketAssigned',
              CASE WHEN t % 7 = 0 THEN 'SeverityChanged' ELSE 'WorkStarted' END,
              'CommentAdded','ObservableAdded','AlertsCorrelated','TagsAdded','CommentAdded',
              'TicketResolved','TicketClosed'])[k],
       CASE WHEN k = 1 THEN '2.0' ELSE '1.0' END,
       CASE k
         WHEN 1 THEN jsonb_build_object('TicketOpened', jsonb_build_object(
             'ticket_id', id, 'number', 'SOC-' || ($6 + t),
             'title', 'Suspicious activity from 10.' || (t / 65536) % 256 || '.' || (t / 256) % 256 || '.' || t % 256,
             'description', 'Synthetic ticket ' || t || ': repeated authentication failures followed by a successful login from an unusual location; investigate the account and the host.',
             'severity', severity,
             'source', CASE WHEN t % 3 = 0 THEN 'MANUAL' ELSE 'WEBHOOK' END,
             'source_ip', '10.' || (t / 65536) % 256 || '.' || (t / 256) % 256 || '.' || t % 256,
             'destination_ip', '192.0.2.' || t % 250,
             'tags', CASE WHEN t % 2 = 0 THEN '["auth"]'::jsonb ELSE '["auth","vpn"]'::jsonb END,
             'origin', CASE WHEN t % 3 = 0 THEN NULL ELSE jsonb_build_object(
                 'vendor', 'Fortinet', 'product', 'FortiGate', 'rule_name', 'rule-' || t % 50,
                 'fingerprint', md5('fp' || t), 'event_time', NULL,
                 'raw', 'date=2026-01-05 time=08:00:00 devname=fw01 type=utm subtype=ips srcip=10.0.0.1 dstip=192.0.2.1 action=blocked attack="Brute.Force"') END,
             'by', CASE WHEN t % 3 = 0 THEN analyst ELSE 'fortisiem' END, 'at', ts))
         WHEN 2 THEN jsonb_build_object('TicketAssigned', jsonb_build_object(
             'assignee', analyst, 'assignee_name', 'Analyst ' || (t % 5), 'previous', NULL,
             'by', 'lead0', 'at', ts))
         WHEN 3 THEN CASE WHEN t % 7 = 0
             THEN jsonb_build_object('SeverityChanged', jsonb_build_object(
                 'from', severity, 'to', CASE WHEN severity = 'CRITICAL' THEN 'HIGH' ELSE 'CRITICAL' END,
                 'reason', 'asset is a domain controller', 'by', analyst, 'at', ts))
             ELSE jsonb_build_object('WorkStarted', jsonb_build_object('by', analyst, 'at', ts)) END
         WHEN 4 THEN jsonb_build_object('CommentAdded', jsonb_build_object(
             'comment_id', md5('c1-' || t)::uuid,
             'body', 'Checked the VPN logs: the login came from a residential range; contacting the user to confirm.',
             'by', analyst, 'at', ts))
         WHEN 5 THEN jsonb_build_object('ObservableAdded', jsonb_build_object(
             'kind', 'IP', 'value', '198.51.100.' || t % 250, 'by', analyst, 'at', ts))
         WHEN 6 THEN jsonb_build_object('AlertsCorrelated', jsonb_build_object(
             'batch', jsonb_build_object('count', 1 + t % 9, 'first_seen', ts, 'last_seen', ts,
                 'samples', '["srcip=10.0.0.1 dstip=192.0.2.1 action=blocked"]'::jsonb),
             'by', 'fortisiem', 'at', ts))
         WHEN 7 THEN jsonb_build_object('TagsAdded', jsonb_build_object(
             'tags', '["triaged"]'::jsonb, 'by', analyst, 'at', ts))
         WHEN 8 THEN jsonb_build_object('CommentAdded', jsonb_build_object(
             'comment_id', md5('c2-' || t)::uuid,
             'body', 'User confirmed travel; password reset and MFA re-enrolled.',
             'by', analyst, 'at', ts))
         WHEN 9 THEN jsonb_build_object('TicketResolved', jsonb_build_object(
             'from', CASE WHEN t % 7 = 0 THEN 'NEW' ELSE 'IN_PROGRESS' END,
             'resolution', (ARRAY['TRUE_POSITIVE','FALSE_POSITIVE','BENIGN'])[1 + t % 3],
             'summary', 'Credential misuse contained.', 'duplicate_of', NULL,
             'duplicate_of_number', NULL, 'by', analyst, 'at', ts))
         ELSE jsonb_build_object('TicketClosed', jsonb_build_object(
             'note', 'Reviewed by the shift lead.', 'by', 'lead0', 'at', ts))
       END,
       jsonb_build_object('actor', CASE WHEN k IN (1, 6) AND t % 3 <> 0 THEN 'fortisiem'
                                        WHEN k IN (2, 10) THEN 'lead0' ELSE analyst END,
                          'actor_kind', CASE WHEN k IN (1, 6) AND t % 3 <> 0 THEN 'client' ELSE 'user' END,
                          'command_id', md5('cmd-' || $5 || '-' || t || '-' || k)::uuid,
                          'correlation_id', 'synthetic',
                          'channel', CASE WHEN k IN (1, 6) AND t % 3 <> 0 THEN 'webhook' ELSE 'ui' END,
                          'occurred_at', ts)
  FROM shaped
 ORDER BY t + k * $4, k
"#;

/// Appends `tickets` synthetic tickets (`EVENTS_PER_TICKET` events each),
/// numbered from `first_number + 1`, in transactions of about
/// `events_per_transaction` events. `run` makes ids unique across calls;
/// `window` is how many tickets are in flight at once. Returns the events
/// written.
pub async fn insert_tickets(
    conn: &mut PgConnection,
    run: &str,
    tickets: i64,
    first_number: i64,
    window: i64,
    events_per_transaction: i64,
) -> Result<u64, sqlx::Error> {
    let window = window.max(1);
    // Ticks run from 1 + window to tickets + 10 * window; a chunk of ticks
    // holds about EVENTS_PER_TICKET events per tick while all are in flight.
    let step = (events_per_transaction / EVENTS_PER_TICKET).max(1);
    let last_tick = tickets + EVENTS_PER_TICKET * window + 1;
    let mut lo = 1;
    let mut written = 0;
    while lo <= last_tick {
        let hi = lo + step;
        let done = sqlx::query(INSERT_SQL)
            .bind(lo)
            .bind(hi)
            .bind(tickets)
            .bind(window)
            .bind(run)
            .bind(first_number)
            .execute(&mut *conn)
            .await?;
        written += done.rows_affected();
        lo = hi;
    }
    Ok(written)
}
