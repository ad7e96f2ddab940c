-- Idempotency keys (DECISIONS D90): the first answer to a POST that carried
-- `Idempotency-Key`, per API key, so that a client that timed out can send
-- the same request again and get that answer instead of a second write.
-- `status` is NULL while the first request runs. Rows older than 24 hours
-- are deleted when new ones are made.
CREATE TABLE idempotency_keys (
    holder TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    headers TEXT,
    body BLOB,
    created_s BIGINT NOT NULL,
    PRIMARY KEY (holder, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_s);
