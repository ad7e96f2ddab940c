-- Idempotency keys (DECISIONS D90): the first answer to a POST that carried
-- `Idempotency-Key`, per API key, so that a client that timed out can send
-- the same request again and get that answer instead of a second write.
-- `status` is NULL while the first request runs. Rows older than 24 hours
-- are deleted when new ones are made.
CREATE TABLE idempotency_keys (
    holder TEXT COLLATE "C" NOT NULL,
    idempotency_key TEXT COLLATE "C" NOT NULL,
    request_hash TEXT COLLATE "C" NOT NULL,
    status INTEGER,
    headers TEXT,
    body BYTEA,
    created_s BIGINT NOT NULL,
    PRIMARY KEY (holder, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_s);
