-- The delivery log keeps why an attempt got no answer as a coarse class
-- (refused, timeout, tls, forbidden_target, dns, other) instead of the
-- error's text: what an operating system says about a connection (refused
-- at once, or no answer) would let an admin map the inside network through
-- webhooks. Old failures without an HTTP status become `other`; those with
-- one keep just the status.
ALTER TABLE webhook_deliveries ADD COLUMN error_class TEXT;
UPDATE webhook_deliveries SET error_class = 'other'
    WHERE last_error IS NOT NULL AND last_status IS NULL;
ALTER TABLE webhook_deliveries DROP COLUMN last_error;
