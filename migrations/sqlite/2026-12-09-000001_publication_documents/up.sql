-- Rendered publication details (DECISIONS D88): the JSON of a detail in one
-- language, stored compressed when it is first rendered, so that the next
-- reader of that edition costs one row read instead of four queries, a
-- Markdown rendering and a serialization. Derived data: a row is served only
-- while its content hash and update time equal the publication's and its
-- render key (the vocabulary, the links settings and the format) equals the
-- server's; anything else renders afresh and replaces it. Without a rowid,
-- a document is found in one B-tree rather than an index and then a table.
CREATE TABLE publication_documents (
    publication_id TEXT NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    render_key TEXT NOT NULL,
    document BLOB NOT NULL,
    PRIMARY KEY (publication_id, lang)
) WITHOUT ROWID;
