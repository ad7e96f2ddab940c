-- Reader statistics (DECISIONS D84): views and downloads per publication,
-- language and UTC day, added to by every process that counts (upsert with
-- addition), and all-time totals per publication kept in the same
-- transaction, so a detail reads one row and other replicas can pick up
-- what changed since their last look (updated_at). No reader is stored.
CREATE TABLE publication_stats_daily (
    publication_id TEXT NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    day TEXT NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    downloads BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (publication_id, lang, day)
);
-- Top lists and funder reports read a period of days across publications.
CREATE INDEX publication_stats_daily_day ON publication_stats_daily (day);

CREATE TABLE publication_stats_totals (
    publication_id TEXT PRIMARY KEY REFERENCES publications (id) ON DELETE CASCADE,
    views BIGINT NOT NULL DEFAULT 0,
    downloads BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX publication_stats_totals_updated ON publication_stats_totals (updated_at);
