-- The CMDB assets on the ticket: `TicketOpened` records the asset of the
-- destination and of the source as the CMDB had them when the ticket
-- opened; the `tickets` read model now keeps both (`asset` is the
-- destination's, as GraphQL's `Ticket.asset`; `source_asset` is new). They
-- are what the ticket was opened with: a later CMDB edit does not change
-- them (docs/ingest.md, "Assets on the ticket").
--
-- Fresh copies (`rm_create_tickets_schema`: `projector rebuild`, tests)
-- get the column from the function, whose body is the previous one plus
-- `source_asset`; the live copy gets it here, and its rows both values from
-- their `TicketOpened` event, as the projection would have written them
-- (so the live copy equals a rebuild without one).
CREATE OR REPLACE FUNCTION rm_create_tickets_schema(target name, indexed boolean DEFAULT true) RETURNS void
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
            source_asset       jsonb,
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

ALTER TABLE rm_tickets.tickets ADD COLUMN IF NOT EXISTS source_asset jsonb;

UPDATE rm_tickets.tickets AS t
   SET asset = NULLIF(e.payload -> 'TicketOpened' -> 'destination_asset', 'null'::jsonb),
       source_asset = NULLIF(e.payload -> 'TicketOpened' -> 'source_asset', 'null'::jsonb)
  FROM events AS e
 WHERE e.aggregate_id = t.id::text
   AND e.event_type = 'TicketOpened'
   AND (e.payload -> 'TicketOpened' ? 'destination_asset'
        OR e.payload -> 'TicketOpened' ? 'source_asset');
