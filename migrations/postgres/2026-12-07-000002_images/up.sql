-- One image per publication (cover), organisation (logo), project and
-- event: the source's hash, size and media type, alt texts per language,
-- the credit line and the renditions made at upload, as one JSON value
-- (domain::images::ImageRecord). It is read and written whole, like the
-- authors and keywords, so lists and search hits need no extra query.
ALTER TABLE publications ADD COLUMN image TEXT;
ALTER TABLE organisations ADD COLUMN image TEXT;
ALTER TABLE projects ADD COLUMN image TEXT;
ALTER TABLE events ADD COLUMN image TEXT;
