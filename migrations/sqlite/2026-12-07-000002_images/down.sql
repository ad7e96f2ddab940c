ALTER TABLE publications DROP COLUMN image;
ALTER TABLE organisations DROP COLUMN image;
ALTER TABLE projects DROP COLUMN image;
ALTER TABLE events DROP COLUMN image;
