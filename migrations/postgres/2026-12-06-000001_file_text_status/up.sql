-- What became of each variant file's text: `extracted`, `no_text`, or
-- `failed` with a reason (`extract_timeout`, `extract_crashed`,
-- `extract_memory`, `extract_too_large`, `encrypted`, `extract_failed`).
-- Files stored before extraction ran out of process count as extracted
-- when they have text, and as having none otherwise (what the API said of
-- them until now).
ALTER TABLE variants ADD COLUMN file_text_status TEXT;
ALTER TABLE variants ADD COLUMN file_text_error TEXT;
UPDATE variants
SET file_text_status = CASE
    WHEN file_text IS NOT NULL AND file_text <> '' THEN 'extracted'
    ELSE 'no_text'
END
WHERE file_sha256 IS NOT NULL;
