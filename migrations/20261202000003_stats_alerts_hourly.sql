-- Ingest throughput for the dashboard (GraphQL `stats.alerts(hours)`): the
-- `stats` projection counts alerts per UTC hour of the event that carried
-- them: a ticket opened from an alert is one, a correlated batch its
-- `count`, a SIEM incident update one.
--
-- Fresh copies (`projector rebuild`, tests) get the table from the
-- function, whose body is the previous one plus `alerts_hourly`; the live
-- copy gets it here, filled from the events it has already applied (up to
-- its checkpoint), so that it equals a rebuild.
CREATE OR REPLACE FUNCTION rm_create_stats_schema(target name) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', target);
    EXECUTE format($ddl$
        CREATE TABLE %1$I.checkpoint (
            only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            transaction_id  xid8        NOT NULL DEFAULT '0',
            global_position bigint      NOT NULL DEFAULT 0,
            events_applied  bigint      NOT NULL DEFAULT 0,
            last_recorded_at timestamptz,
            updated_at      timestamptz NOT NULL DEFAULT now(),
            -- Set by `projector rebuild` in the transaction that swaps a
            -- rebuilt schema in: a leader whose batch was waiting on this
            -- row sees it and rolls back instead of writing to the old copy.
            retired         boolean     NOT NULL DEFAULT false
        );
        INSERT INTO %1$I.checkpoint DEFAULT VALUES;

        -- What the counters need to know of each ticket's previous state.
        CREATE TABLE %1$I.ticket_state (
            ticket_id       uuid PRIMARY KEY,
            status          text        NOT NULL,
            severity        text        NOT NULL,
            rule_name       text,
            created_at      timestamptz NOT NULL,
            acknowledged_at timestamptz,
            -- The ticket's alert count, so that a SIEM repeat count (which
            -- replaces rather than adds) moves its rule's total correctly.
            alert_count     bigint      NOT NULL DEFAULT 0
        );
        CREATE TABLE %1$I.open_by_status_severity (
            status   text   NOT NULL,
            severity text   NOT NULL,
            tickets  bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (status, severity)
        );
        CREATE TABLE %1$I.daily (
            day                 date   PRIMARY KEY,
            opened              bigint NOT NULL DEFAULT 0,
            resolved            bigint NOT NULL DEFAULT 0,
            acknowledged        bigint NOT NULL DEFAULT 0,
            -- Sums of whole seconds (from creation to acknowledgement, to
            -- resolution): integers add exactly in any order, so a rebuild
            -- equals the incremental result bit for bit.
            ack_seconds_sum     double precision NOT NULL DEFAULT 0,
            resolve_seconds_sum double precision NOT NULL DEFAULT 0
        );
        CREATE TABLE %1$I.rules (
            rule_name text   PRIMARY KEY,
            tickets   bigint NOT NULL DEFAULT 0,
            alerts    bigint NOT NULL DEFAULT 0
        );
        -- Ingest throughput: alerts per UTC hour of the event.
        CREATE TABLE %1$I.alerts_hourly (
            hour   timestamptz PRIMARY KEY,
            alerts bigint      NOT NULL DEFAULT 0
        );
    $ddl$, target);
END;
$$;

CREATE TABLE rm_stats.alerts_hourly (
    hour   timestamptz PRIMARY KEY,
    alerts bigint      NOT NULL DEFAULT 0
);

INSERT INTO rm_stats.alerts_hourly (hour, alerts)
SELECT date_trunc('hour', a.at), sum(a.n)
  FROM (SELECT (e.payload -> e.event_type ->> 'at')::timestamptz AS at,
               CASE e.event_type
                   WHEN 'AlertsCorrelated' THEN (e.payload -> 'AlertsCorrelated' -> 'batch' ->> 'count')::bigint
                   ELSE 1
               END AS n
          FROM events e, rm_stats.checkpoint c
         WHERE e.aggregate_type = 'Ticket'
           AND (e.transaction_id, e.global_position) <= (c.transaction_id, c.global_position)
           AND (e.event_type IN ('AlertsCorrelated', 'SiemIncidentUpdated')
                OR (e.event_type = 'TicketOpened'
                    AND jsonb_typeof(e.payload -> 'TicketOpened' -> 'origin') = 'object'))) a
 GROUP BY 1;
