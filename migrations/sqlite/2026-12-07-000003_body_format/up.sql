-- How a variant's body is written: 'plain' (every body before this) or
-- 'markdown' (domain::markup::BodyFormat). Read with the body to render
-- it, and with the head of the body to make list excerpts without syntax.
ALTER TABLE variants ADD COLUMN body_format TEXT NOT NULL DEFAULT 'plain';
