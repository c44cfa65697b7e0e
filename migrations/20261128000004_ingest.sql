-- CMDB: assets by IP or network. Lookups pick the most specific network.
CREATE TABLE assets
(
    id            uuid PRIMARY KEY     DEFAULT gen_random_uuid(),
    network       cidr        NOT NULL,
    hostname      text,
    owner         text,
    business_unit text,
    criticality   text        NOT NULL DEFAULT 'MEDIUM' CHECK (criticality IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_network_key UNIQUE (network)
);
CREATE INDEX assets_network_gist ON assets USING gist (network inet_ops);

-- Exactly one open ticket per alert fingerprint, enforced here (not by an
-- in-process lock): the claim is written in the same transaction as the
-- TicketOpened event, released with the TicketResolved event. SIEM incident
-- keys are permanent: the same incident is always the same ticket.
CREATE TABLE alert_fingerprints
(
    fingerprint text PRIMARY KEY,
    ticket_id   uuid        NOT NULL,
    permanent   boolean     NOT NULL DEFAULT false,
    claimed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_fingerprints_ticket_idx ON alert_fingerprints (ticket_id);

-- Input that could not be parsed: kept, bounded, with the reason.
CREATE TABLE dead_letters
(
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    transport   text        NOT NULL,
    peer        text,
    reason      text        NOT NULL,
    raw         bytea       NOT NULL
);
CREATE INDEX dead_letters_received_at_idx ON dead_letters (received_at);
