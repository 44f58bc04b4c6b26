-- Two kinds of index entry every submit wrote and no read needs:
--
-- The office's listing of pending deadlines reads an index of every deadline, pending
-- or not; each submit added its referral's "send" deadline, met as it is submitted,
-- and a deadline met or closed moved to the index's other end rather than leaving it.
-- It now holds the pending deadlines alone.
--
-- A sender's and a recipient's referrals were indexed newest first, so that each new
-- referral went in at the head of its member's run of the index, where the page is
-- full: SQLite rebalanced that page with its neighbours on most submits (four or five
-- pages written for one entry). In time order, a new entry goes at the end of the run,
-- and a listing newest first reads the index backwards.
DROP INDEX deadlines_pending;
CREATE INDEX deadlines_pending ON deadlines (urgent DESC, green_channel DESC, due_on) WHERE pending = TRUE;
DROP INDEX referrals_by_sender;
CREATE INDEX referrals_by_sender ON referrals (sender, submitted_at, id);
DROP INDEX referrals_by_recipient;
CREATE INDEX referrals_by_recipient ON referrals (recipient, submitted_at, id);
