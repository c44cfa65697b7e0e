-- `tickets(orderBy: {field: NUMBER})` pages with `ORDER BY number_n, id`
-- (ascending or descending) after a keyset `(number_n, id) > ($1, $2)`; no
-- index had that order, so every page sorted the whole read model. The
-- index serves both directions (read backwards for DESC).
--
-- It goes where every other index of a `tickets` schema is made, so that
-- fresh copies (`rm_create_tickets_schema`) and rebuilt ones (`projector
-- rebuild` indexes its copy in bulk with this function, part 'other') have
-- it too; the body is the previous one plus that index. Then the live copy
-- gets it here: inside the migration's transaction, so writes to it (the
-- projector) wait while it is built, reads do not.
CREATE OR REPLACE FUNCTION rm_index_tickets_schema(target name, part text DEFAULT 'all') RETURNS void
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
            CREATE INDEX tickets_number_n_id_idx ON %1$I.tickets (number_n, id);
            CREATE INDEX ON %1$I.tickets (assignee, created_at DESC);
            CREATE INDEX ON %1$I.tickets (source, created_at DESC);
            CREATE INDEX ON %1$I.tickets USING gin (tags);
            ALTER TABLE %1$I.timeline ADD CONSTRAINT timeline_pkey PRIMARY KEY (ticket_id, sequence);
        $ddl$, target);
    END IF;
END;
$$;

CREATE INDEX IF NOT EXISTS tickets_number_n_id_idx ON rm_tickets.tickets (number_n, id);
