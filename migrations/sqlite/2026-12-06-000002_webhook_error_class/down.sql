ALTER TABLE webhook_deliveries ADD COLUMN last_error TEXT;
UPDATE webhook_deliveries SET last_error = error_class WHERE error_class IS NOT NULL;
ALTER TABLE webhook_deliveries DROP COLUMN error_class;
