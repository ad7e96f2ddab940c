-- What OAI-PMH harvesters see: one row per publication that has ever been
-- public, kept in the writer's transaction. A publication that is
-- withdrawn, unpublished or deleted keeps its row with `deleted` set, so
-- harvesters learn of it forever; a draft that was never published has no
-- row at all.
--
-- `seq` is the change-log sequence number of the record's newest change:
-- lists run in (seq, publication_id) order, so a resumption token is just
-- the last pair sent and a record changed during a harvest comes again at
-- the end instead of being skipped. `datestamp` is that change's time to
-- the second. `sets` holds the record's set tokens between spaces
-- (` kind:report field:<id> language:sq `), fields and projects by id so a
-- renamed slug does not strand them.
CREATE TABLE harvest_records (
    publication_id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    datestamp TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    sets TEXT NOT NULL
);
CREATE INDEX harvest_records_seq ON harvest_records (seq, publication_id);
CREATE INDEX harvest_records_datestamp ON harvest_records (datestamp);
