-- The event store: postgres-es 0.5's `events` table, plus defaulted columns
-- so its INSERT stays untouched (ARCHITECTURE.md, "Event store").
CREATE TABLE events
(
    aggregate_type  text                         NOT NULL,
    aggregate_id    text                         NOT NULL,
    sequence        bigint CHECK (sequence >= 0) NOT NULL,
    event_type      text                         NOT NULL,
    event_version   text                         NOT NULL,
    payload         jsonb                        NOT NULL,
    metadata        jsonb                        NOT NULL,
    -- commit-safe global order: read below pg_snapshot_xmin by (transaction_id, global_position)
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    event_id        uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- the primary key is the optimistic-concurrency check
    CONSTRAINT events_pkey PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    CONSTRAINT events_global_position_key UNIQUE (global_position),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE INDEX events_feed_idx ON events (transaction_id, global_position);
CREATE INDEX events_recorded_at_idx ON events (aggregate_type, aggregate_id, recorded_at);

-- History is never rewritten.
CREATE FUNCTION events_are_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'events are immutable: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_immutable
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();

-- Ticket numbers (SOC-<n>): a sequence never hands out the same number twice.
CREATE SEQUENCE ticket_number_seq START 1;

-- Idempotency-Key of POST commands, written in the same transaction as the
-- events they produced, so a replay returns the first answer across restarts
-- and processes.
CREATE TABLE idempotency_keys
(
    principal    text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       smallint    NOT NULL,
    body         jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
