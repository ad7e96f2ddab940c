-- The content model: organisations, fields of work, projects, events,
-- publications and their language variants, plus the change log that the
-- search indexer, the change feed and OAI-PMH read.
--
-- Ids are UUID v7 as TEXT; dates are ISO `YYYY-MM-DD` TEXT and timestamps
-- RFC 3339 UTC TEXT with a fixed width, so both sort as text on both backends.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL,
    website TEXT,
    ror TEXT,
    content_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE fields (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE projects (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    starts_on TEXT,
    ends_on TEXT,
    content_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE project_funders (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    grant_number TEXT,
    position INTEGER NOT NULL,
    PRIMARY KEY (project_id, organisation_id)
);
CREATE INDEX project_funders_organisation ON project_funders (organisation_id);

CREATE TABLE project_partners (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (project_id, organisation_id)
);
CREATE INDEX project_partners_organisation ON project_partners (organisation_id);

CREATE TABLE project_fields (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    field_id TEXT NOT NULL REFERENCES fields (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (project_id, field_id)
);

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    place TEXT,
    project_id TEXT REFERENCES projects (id),
    content_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE event_organisers (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (event_id, organisation_id)
);

-- Names, labels, titles and descriptions of the vocabulary entities, one row
-- per (owner, attribute, language tag). Publications keep their text in
-- `variants` instead.
CREATE TABLE texts (
    owner_id TEXT NOT NULL,
    attribute TEXT NOT NULL,
    lang TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (owner_id, attribute, lang)
);

CREATE TABLE publications (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    withdrawn_reason TEXT,
    published_on TEXT,
    project_id TEXT REFERENCES projects (id),
    event_id TEXT REFERENCES events (id),
    authors TEXT NOT NULL,
    keywords TEXT NOT NULL,
    sort_title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX publications_status_published_on ON publications (status, published_on, id);
CREATE INDEX publications_status_updated_at ON publications (status, updated_at, id);
CREATE INDEX publications_status_sort_title ON publications (status, sort_title, id);
CREATE INDEX publications_project ON publications (project_id);
CREATE INDEX publications_event ON publications (event_id);

CREATE TABLE publication_fields (
    publication_id TEXT NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    field_id TEXT NOT NULL REFERENCES fields (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (publication_id, field_id)
);
CREATE INDEX publication_fields_field ON publication_fields (field_id);

CREATE TABLE variants (
    publication_id TEXT NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    file_sha256 TEXT,
    file_size BIGINT,
    file_media_type TEXT,
    file_name TEXT,
    file_text TEXT,
    PRIMARY KEY (publication_id, lang)
);
CREATE INDEX variants_lang ON variants (lang);

CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX changes_entity ON changes (entity_id);
