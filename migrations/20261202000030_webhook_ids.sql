-- Standard Webhooks ids of signed webhook calls, each kept while a replay of
-- its call would still be inside the timestamp window (ingest/src/webhook.rs):
-- a second call with the same id is refused (409). Expired rows are deleted
-- by ingest's housekeeping task (platform/src/housekeeping.rs).
CREATE TABLE webhook_ids
(
    id         text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX webhook_ids_expires_at_idx ON webhook_ids (expires_at);
