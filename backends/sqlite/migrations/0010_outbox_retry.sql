-- An operator may send a failed reply again (`retry_message`). Whether the provider refused
-- it decides the idempotency key of the new attempt: a refused message (or one the provider
-- accepted and then reported failed) goes out under a fresh key, so that no provider takes it
-- for the old one; one given up after unanswered attempts keeps its key, so that a provider
-- that did take it after all recognises the duplicate.
ALTER TABLE outbox ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
