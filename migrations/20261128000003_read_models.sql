-- Read models: one schema per projection, so that `projector rebuild` can
-- build a fresh copy beside the live one and swap them by renaming schemas in
-- one transaction (queries never see an empty or half-built model). Each
-- schema carries its own checkpoint, which therefore swaps with it.
--
-- Wake-up hint for feed consumers: one NOTIFY per writing transaction,
-- delivered at commit (NOTIFY alone is lossy: consumers also poll).
CREATE FUNCTION events_notify_appended() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('events_appended', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_appended
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify_appended();

-- The `tickets` projection: list and detail, full-text search, timeline.
CREATE FUNCTION rm_create_tickets_schema(target name) RETURNS void
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
            updated_at      timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO %1$I.checkpoint DEFAULT VALUES;

        CREATE TABLE %1$I.tickets (
            id                 uuid PRIMARY KEY,
            number             text        NOT NULL UNIQUE,
            number_n           bigint      NOT NULL,
            title              text        NOT NULL,
            description        text        NOT NULL,
            status             text        NOT NULL,
            severity           text        NOT NULL,
            resolution         text,
            resolution_summary text,
            duplicate_of       uuid,
            source             text        NOT NULL,
            source_ip          inet,
            destination_ip     inet,
            rule_name          text,
            fingerprint        text,
            vendor             text,
            assignee           text,
            assignee_name      text,
            tags               text[]      NOT NULL DEFAULT '{}',
            observables        jsonb       NOT NULL DEFAULT '[]',
            comment_count      integer     NOT NULL DEFAULT 0,
            alert_count        bigint      NOT NULL DEFAULT 0,
            first_seen         timestamptz,
            last_seen          timestamptz,
            asset              jsonb,
            created_at         timestamptz NOT NULL,
            updated_at         timestamptz NOT NULL,
            acknowledged_at    timestamptz,
            resolved_at        timestamptz,
            version            bigint      NOT NULL,
            last_position_tx   xid8        NOT NULL,
            last_position      bigint      NOT NULL,
            search_text        text        NOT NULL DEFAULT '',
            search             tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED
        );
        CREATE INDEX ON %1$I.tickets (status, severity, created_at DESC, id DESC);
        CREATE INDEX ON %1$I.tickets (severity, created_at DESC, id DESC);
        CREATE INDEX ON %1$I.tickets (created_at DESC, id DESC);
        CREATE INDEX ON %1$I.tickets (updated_at DESC, id DESC);
        CREATE INDEX ON %1$I.tickets (assignee, created_at DESC);
        CREATE INDEX ON %1$I.tickets (source, created_at DESC);
        CREATE INDEX ON %1$I.tickets USING gin (tags);
        CREATE INDEX ON %1$I.tickets USING gin (search);

        CREATE TABLE %1$I.timeline (
            ticket_id       uuid        NOT NULL,
            sequence        bigint      NOT NULL,
            transaction_id  xid8        NOT NULL,
            global_position bigint      NOT NULL,
            event_type      text        NOT NULL,
            actor           text        NOT NULL,
            actor_kind      text        NOT NULL,
            channel         text,
            at              timestamptz NOT NULL,
            recorded_at     timestamptz NOT NULL,
            summary         text        NOT NULL,
            payload         jsonb       NOT NULL,
            PRIMARY KEY (ticket_id, sequence)
        );
    $ddl$, target);
END;
$$;

-- The `stats` projection: dashboard figures kept as counters.
CREATE FUNCTION rm_create_stats_schema(target name) RETURNS void
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
            updated_at      timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO %1$I.checkpoint DEFAULT VALUES;

        -- What the counters need to know of each ticket's previous state.
        CREATE TABLE %1$I.ticket_state (
            ticket_id       uuid PRIMARY KEY,
            status          text        NOT NULL,
            severity        text        NOT NULL,
            rule_name       text,
            created_at      timestamptz NOT NULL,
            acknowledged_at timestamptz
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
            ack_seconds_sum     double precision NOT NULL DEFAULT 0,
            resolve_seconds_sum double precision NOT NULL DEFAULT 0
        );
        CREATE TABLE %1$I.rules (
            rule_name text   PRIMARY KEY,
            tickets   bigint NOT NULL DEFAULT 0,
            alerts    bigint NOT NULL DEFAULT 0
        );
    $ddl$, target);
END;
$$;

SELECT rm_create_tickets_schema('rm_tickets');
SELECT rm_create_stats_schema('rm_stats');
