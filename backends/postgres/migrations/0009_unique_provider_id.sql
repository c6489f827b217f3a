-- One provider message is one outbox row: a delivery status names the message by the id
-- its provider gave it. An id an older Vista recorded on several rows stays on the first
-- (the one its statuses reached); the audit trail keeps it for the others.
UPDATE outbox o SET provider_id = NULL
WHERE provider_id IS NOT NULL
  AND message_id > (SELECT min(f.message_id) FROM outbox f WHERE f.provider_id = o.provider_id);
DROP INDEX IF EXISTS outbox_provider;
CREATE UNIQUE INDEX outbox_provider ON outbox (provider_id) WHERE provider_id IS NOT NULL;
