-- Rendered publication details (DECISIONS D88): the JSON of a detail in one
-- language, stored compressed when it is first rendered, so that the next
-- reader of that edition costs one row read instead of four queries, a
-- Markdown rendering and a serialization. Derived data: a row is served only
-- while its content hash and update time equal the publication's and its
-- render key (the vocabulary, the links settings and the format) equals the
-- server's; anything else renders afresh and replaces it.
CREATE TABLE publication_documents (
    publication_id TEXT COLLATE "C" NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    lang TEXT COLLATE "C" NOT NULL,
    content_hash TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    render_key TEXT COLLATE "C" NOT NULL,
    document BYTEA NOT NULL,
    PRIMARY KEY (publication_id, lang)
);
