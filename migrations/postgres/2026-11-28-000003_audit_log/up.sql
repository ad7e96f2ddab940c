-- Who changed what through the API: one row per write, in the write's
-- transaction. Keys are named as they were at the time (a key can be
-- revoked, its rows stay).
CREATE TABLE audit_log (
    seq BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    key_name TEXT NOT NULL,
    role TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    operation TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity_id);
