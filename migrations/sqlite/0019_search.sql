-- Finding a person's referrals by full name, ID number or case reference (案号): the
-- name has a blind index as the ID number has (exact match, no name in clear), written
-- with every referral and, for those written before, by the hub when it opens the
-- store; the case reference, in clear in the content, is read out of it.
ALTER TABLE referrals ADD COLUMN name_index TEXT;
ALTER TABLE referrals ADD COLUMN case_reference TEXT
    GENERATED ALWAYS AS (NULLIF(json_extract(content, '$.case_reference'), '')) VIRTUAL;
CREATE INDEX referrals_by_name ON referrals (name_index);
CREATE INDEX referrals_by_case_reference ON referrals (case_reference);
CREATE INDEX referrals_unindexed ON referrals (id) WHERE name_index IS NULL;
-- The office's 催办 of a referral, as its to-do row shows them.
CREATE INDEX inbox_events_reminders ON inbox_events (referral_id) WHERE kind = 'reminder';
