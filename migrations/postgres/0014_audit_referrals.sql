-- Who has seen this person (Art. 24): the audit entries of each referral, found without
-- reading the whole log. Kept by a trigger in the transaction that appends the entry,
-- backfilled here from the log's comma-separated `referrals`.

CREATE TABLE audit_referrals (
    referral_id  TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    PRIMARY KEY (referral_id, seq)
);

INSERT INTO audit_referrals (referral_id, seq)
SELECT DISTINCT r, seq FROM audit_log, unnest(string_to_array(referrals, ',')) AS r
WHERE r <> ''
ON CONFLICT DO NOTHING;

CREATE FUNCTION audit_log_referrals() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_referrals (referral_id, seq)
    SELECT DISTINCT r, NEW.seq FROM unnest(string_to_array(NEW.referrals, ',')) AS r
    WHERE r <> ''
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_referrals AFTER INSERT ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_referrals();
