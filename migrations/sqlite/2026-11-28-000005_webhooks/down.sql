DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
ALTER TABLE changes DROP COLUMN event;
