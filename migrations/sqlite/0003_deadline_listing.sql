-- The office's listings read deadlines alone: the referral's flags are copied onto its
-- deadlines (they never change), and pending deadlines are indexed in the order the
-- office sees them (green channel first, then by due date).

ALTER TABLE deadlines ADD COLUMN referral_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE deadlines ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deadlines ADD COLUMN green_channel INTEGER NOT NULL DEFAULT 0;
UPDATE deadlines SET
    referral_kind = (SELECT r.kind FROM referrals r WHERE r.id = deadlines.referral_id),
    urgent = (SELECT r.urgent FROM referrals r WHERE r.id = deadlines.referral_id),
    green_channel = (SELECT r.green_channel FROM referrals r WHERE r.id = deadlines.referral_id);

ALTER TABLE deadlines ADD COLUMN pending INTEGER GENERATED ALWAYS AS (state IN ('open', 'missed')) VIRTUAL;
CREATE INDEX deadlines_pending ON deadlines (pending, green_channel DESC, due_on);
