-- Deadlines that stand still and deadlines extended: the working days a start deadline
-- stood still while the sender supplied the materials the recipient asked for
-- (补充材料), the day the running pause began, the pauses begun and allowed (one, and
-- more as the office allows), and the working days the office granted (延期). The due
-- day is the period's, later by the days paused and granted.
ALTER TABLE deadlines ADD COLUMN extended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deadlines ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deadlines ADD COLUMN paused_on TEXT;
ALTER TABLE deadlines ADD COLUMN pauses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deadlines ADD COLUMN pauses_allowed INTEGER NOT NULL DEFAULT 1;

-- A member's requests to extend a deadline it owes (延期), and the office's answers.
CREATE TABLE extensions (
    id             TEXT PRIMARY KEY,
    referral_id    TEXT NOT NULL REFERENCES referrals (id),
    deadline_kind  TEXT NOT NULL,
    member         TEXT NOT NULL,
    asked_at       INTEGER NOT NULL,
    asked_by       TEXT NOT NULL,
    days           INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    state          TEXT NOT NULL,
    decided_at     INTEGER,
    decided_by     TEXT NOT NULL DEFAULT '',
    granted_days   INTEGER NOT NULL DEFAULT 0,
    answer         TEXT NOT NULL DEFAULT '',
    due_before     TEXT NOT NULL,
    due_after      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX extensions_by_deadline ON extensions (referral_id, deadline_kind);
-- One request of a deadline waits for the office at a time.
CREATE UNIQUE INDEX extensions_one_asked ON extensions (referral_id, deadline_kind) WHERE state = 'asked';
CREATE INDEX extensions_by_state ON extensions (state, asked_at);
