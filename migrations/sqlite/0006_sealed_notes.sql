-- Free text may name the person too: history notes, inbox notes, feedback, closing
-- reasons and conclusion summaries are sealed like the person's fields. `sealed_key`
-- names the key of a row's note (NULL: written before sealing, in clear).
ALTER TABLE referral_events ADD COLUMN sealed_key TEXT;
ALTER TABLE inbox_events ADD COLUMN sealed_key TEXT;
CREATE INDEX referral_events_by_sealed_key ON referral_events (sealed_key);
CREATE INDEX inbox_events_by_sealed_key ON inbox_events (sealed_key);

-- History stays append-only, but a note may be sealed again under a new key.
DROP TRIGGER referral_events_no_update;
CREATE TRIGGER referral_events_no_update BEFORE UPDATE OF referral_id, version, kind, actor, at, state
ON referral_events
BEGIN SELECT RAISE(ABORT, 'referral_events is append-only'); END;
