-- Webhooks: subscriber URLs an admin registered, and every delivery to
-- them. The dispatcher follows the change log: `changes.event` names what
-- a publication change meant to the public (published, updated, withdrawn,
-- deleted), decided in the write's transaction; each webhook keeps the
-- sequence number it has enqueued up to, moved in the same transaction as
-- the deliveries it enqueued, so a restart neither loses nor repeats one.
ALTER TABLE changes ADD COLUMN event TEXT;

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    description TEXT NOT NULL,
    enqueued_through BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    publication_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
