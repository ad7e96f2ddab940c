ALTER TABLE variants DROP COLUMN body_format;
