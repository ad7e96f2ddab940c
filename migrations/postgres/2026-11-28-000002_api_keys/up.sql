-- API keys: only a SHA-256 of each key is kept; the key itself is shown
-- once, when it is made. `prefix` (the key's first characters) lets people
-- tell keys apart in listings without revealing them.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
