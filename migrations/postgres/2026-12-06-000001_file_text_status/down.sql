ALTER TABLE variants DROP COLUMN file_text_error;
ALTER TABLE variants DROP COLUMN file_text_status;
