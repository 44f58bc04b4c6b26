-- Who has seen this person (Art. 24): the audit entries of each referral, found without
-- reading the whole log. Kept by a trigger in the transaction that appends the entry,
-- backfilled here from the log's comma-separated `referrals`.

CREATE TABLE audit_referrals (
    referral_id  TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (referral_id, seq)
) WITHOUT ROWID;

INSERT OR IGNORE INTO audit_referrals (referral_id, seq)
SELECT value, seq FROM audit_log, json_each('["' || replace(referrals, ',', '","') || '"]')
WHERE referrals <> '';

CREATE TRIGGER audit_log_referrals AFTER INSERT ON audit_log WHEN NEW.referrals <> ''
BEGIN
    INSERT OR IGNORE INTO audit_referrals (referral_id, seq)
    SELECT value, NEW.seq FROM json_each('["' || replace(NEW.referrals, ',', '","') || '"]');
END;
