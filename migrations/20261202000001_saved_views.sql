-- Saved queue views: a named queue URL (its search string) per user, kept
-- on the server so a view follows the analyst from browser to browser.
CREATE TABLE saved_views (
    id         uuid        PRIMARY KEY,
    owner      text        NOT NULL,
    name       text        NOT NULL,
    query      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT saved_views_owner_name_key UNIQUE (owner, name)
);
