-- Read models: one schema per projection, so that `projector rebuild` can
-- build a fresh copy beside the live one and swap them by renaming schemas in
-- one transaction (queries never see an empty or half-built model). Each
-- schema carries its own checkpoint, which therefore swaps with it.
--
-- Feed consumers are woken by polling with backoff, and by a NOTIFY on
-- `events_appended` that the event store sends after commits, outside the
-- appending transaction: a NOTIFY inside it (e.g. from a trigger) holds
-- Postgres's notify-queue lock until the commit is flushed, and every
-- concurrent command would then commit one at a time.

-- The `tickets` projection: list and detail, full-text search, timeline.
-- `indexed => false` leaves out every index but the tickets' primary key:
-- a rebuild fills the tables first and indexes them once, in bulk, with
-- `rm_index_tickets_schema` (far faster than maintaining them row by row).
CREATE FUNCTION rm_create_tickets_schema(target name, indexed boolean DEFAULT true) RETURNS void
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

        CREATE TABLE %1$I.tickets (
            id                 uuid PRIMARY KEY,
            number             text        NOT NULL,
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
            payload         jsonb       NOT NULL
        );
    $ddl$, target);
    IF indexed THEN
        PERFORM rm_index_tickets_schema(target);
    END IF;
END;
$$;

-- The indexes (and the constraints backed by one) of a `tickets` schema:
-- `part` 'search' (the full-text index, the slowest to build), 'other', or
-- 'all'; a rebuild builds the two parts concurrently.
CREATE FUNCTION rm_index_tickets_schema(target name, part text DEFAULT 'all') RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    IF part NOT IN ('search', 'other', 'all') THEN
        RAISE EXCEPTION 'part must be search, other or all, not %', part;
    END IF;
    IF part IN ('search', 'all') THEN
        EXECUTE format('CREATE INDEX ON %I.tickets USING gin (search)', target);
    END IF;
    IF part IN ('other', 'all') THEN
        EXECUTE format($ddl$
            -- A unique index, not a constraint: ALTER TABLE would lock
            -- out the concurrent build of the search index.
            CREATE UNIQUE INDEX tickets_number_key ON %1$I.tickets (number);
            CREATE INDEX ON %1$I.tickets (status, severity, created_at DESC, id DESC);
            CREATE INDEX ON %1$I.tickets (severity, created_at DESC, id DESC);
            CREATE INDEX ON %1$I.tickets (created_at DESC, id DESC);
            CREATE INDEX ON %1$I.tickets (updated_at DESC, id DESC);
            CREATE INDEX ON %1$I.tickets (assignee, created_at DESC);
            CREATE INDEX ON %1$I.tickets (source, created_at DESC);
            CREATE INDEX ON %1$I.tickets USING gin (tags);
            ALTER TABLE %1$I.timeline ADD CONSTRAINT timeline_pkey PRIMARY KEY (ticket_id, sequence);
        $ddl$, target);
    END IF;
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
    $ddl$, target);
END;
$$;

-- Numbers of rebuilt schemas (`rm_tickets_build_<n>`, `rm_tickets_old_<n>`).
CREATE SEQUENCE rm_build_seq;

-- Swaps a rebuilt schema in: the live one becomes `old`, `build` becomes
-- `live`. Called by `projector rebuild` in the transaction that holds the
-- live checkpoint row, so it commits atomically with the last events.
CREATE FUNCTION rm_swap_schemas(live name, build name, old name) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = live) THEN
        EXECUTE format('ALTER SCHEMA %I RENAME TO %I', live, old);
    END IF;
    EXECUTE format('ALTER SCHEMA %I RENAME TO %I', build, live);
END;
$$;

-- Drops a retired or abandoned copy; refuses anything else, so a slip can
-- never drop a live read model.
CREATE FUNCTION rm_drop_schema(target name) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    IF target !~ '^rm_[a-z]+_(build|old)_[0-9]+$' THEN
        RAISE EXCEPTION 'refusing to drop schema %: not a rebuilt or retired read model', target;
    END IF;
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', target);
END;
$$;

SELECT rm_create_tickets_schema('rm_tickets');
SELECT rm_create_stats_schema('rm_stats');
