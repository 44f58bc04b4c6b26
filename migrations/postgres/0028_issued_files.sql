-- The documents the hub issues (letters, 督办函) are files kept for good: each is now
-- marked as issued when written, and the discard pass reads an index of the other
-- files alone (members' uploads), where it read an index of every file, one for each
-- referral sent, and asked of each whether a referral, a letter or a 督办函 carried it.
ALTER TABLE attachments ADD COLUMN issued BIGINT NOT NULL DEFAULT 0;
UPDATE attachments SET issued = 1
WHERE id IN (SELECT attachment_id FROM letters UNION ALL SELECT attachment_id FROM supervisions);
DROP INDEX attachments_by_uploaded_at;
CREATE INDEX attachments_loose ON attachments (uploaded_at) WHERE issued = 0;
