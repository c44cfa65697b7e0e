-- Users, OAuth2 clients, refresh tokens, revocations, signing keys, login throttling.
CREATE TABLE users
(
    id                   uuid PRIMARY KEY     DEFAULT gen_random_uuid(),
    username             text        NOT NULL,
    display_name         text        NOT NULL,
    password_hash        text        NOT NULL,
    role                 text        NOT NULL CHECK (role IN ('admin', 'lead', 'analyst', 'auditor', 'integration')),
    enabled              boolean     NOT NULL DEFAULT true,
    -- access tokens issued before this instant are refused (logout everywhere, disable, password reset)
    tokens_valid_after   timestamptz NOT NULL DEFAULT '-infinity',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- Who changed which user, when: never updated, never deleted.
CREATE TABLE user_audit
(
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username   text        NOT NULL,
    action     text        NOT NULL,
    detail     jsonb       NOT NULL DEFAULT '{}',
    actor      text        NOT NULL,
    request_id text,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_audit_username_idx ON user_audit (lower(username), at);

CREATE TABLE oauth_clients
(
    client_id          text PRIMARY KEY,
    name               text        NOT NULL,
    secret_hash        text        NOT NULL,
    role               text        NOT NULL CHECK (role IN ('admin', 'lead', 'analyst', 'auditor', 'integration')),
    enabled            boolean     NOT NULL DEFAULT true,
    tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity',
    created_by         text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens rotate: each use spends one and issues its successor in the
-- same family; presenting a spent one revokes the whole family.
CREATE TABLE refresh_tokens
(
    token_hash  bytea PRIMARY KEY,
    family_id   uuid        NOT NULL,
    username    text        NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    spent_at    timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE revoked_access_tokens
(
    jti        uuid PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- Ed25519 signing keys shared by every process; retired keys stay published
-- until the tokens they signed have expired.
CREATE TABLE signing_keys
(
    kid          text PRIMARY KEY,
    private_der  bytea       NOT NULL,
    public_key   bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz
);

-- Failed-login windows per account and per address.
CREATE TABLE login_failures
(
    key          text PRIMARY KEY,
    failures     integer     NOT NULL,
    window_start timestamptz NOT NULL
);
