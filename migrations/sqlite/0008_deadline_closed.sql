-- A deadline missed on a referral that was then returned or withdrawn stays missed in
-- the record, but waits for no act: `closed_on` is the day its referral closed, and
-- such a deadline is no longer pending. Urgent clues are listed first, then the green
-- channel.

DROP INDEX deadlines_pending;
ALTER TABLE deadlines DROP COLUMN pending;
ALTER TABLE deadlines ADD COLUMN closed_on TEXT;
UPDATE deadlines SET closed_on = (
    SELECT date(r.updated_at / 1000000 + 8 * 3600, 'unixepoch') FROM referrals r WHERE r.id = deadlines.referral_id
) WHERE state = 'missed'
  AND referral_id IN (SELECT id FROM referrals WHERE state IN ('returned', 'withdrawn'));
ALTER TABLE deadlines ADD COLUMN pending INTEGER
    GENERATED ALWAYS AS (state IN ('open', 'missed') AND closed_on IS NULL) VIRTUAL;
CREATE INDEX deadlines_pending ON deadlines (pending, urgent DESC, green_channel DESC, due_on);
