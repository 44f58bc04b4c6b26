-- Free text may name the person too: history notes, inbox notes, feedback, closing
-- reasons and conclusion summaries are sealed like the person's fields. `sealed_key`
-- names the key of a row's note (NULL: written before sealing, in clear).
ALTER TABLE referral_events ADD COLUMN sealed_key TEXT;
ALTER TABLE inbox_events ADD COLUMN sealed_key TEXT;
CREATE INDEX referral_events_by_sealed_key ON referral_events (sealed_key);
CREATE INDEX inbox_events_by_sealed_key ON inbox_events (sealed_key);

-- History stays append-only, but a note may be sealed again under a new key.
CREATE FUNCTION append_only_but_reseal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (NEW.referral_id, NEW.version, NEW.kind, NEW.actor, NEW.at, NEW.state)
        IS DISTINCT FROM (OLD.referral_id, OLD.version, OLD.kind, OLD.actor, OLD.at, OLD.state) THEN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER referral_events_append_only ON referral_events;
CREATE TRIGGER referral_events_append_only BEFORE UPDATE OR DELETE ON referral_events
    FOR EACH ROW EXECUTE FUNCTION append_only_but_reseal();
