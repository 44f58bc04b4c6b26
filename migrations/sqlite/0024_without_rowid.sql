-- Small tables a submit writes, keyed by text, are kept in their primary key's B-tree
-- alone (WITHOUT ROWID), not in a table and an index of its key: each saves about a
-- page written to the log per commit that inserts into it. Deadlines stay as they
-- are (their three indexes would carry the text key in place of a row number, and
-- grew by more than the table saved), and so do requests (keyed by the client's random
-- id, the one B-tree's page costs what the two did). Each table is rebuilt in SQLite's
-- way (a new table, its rows copied, the old dropped, the new renamed), with its
-- indexes and triggers made again. The hub runs migrations with foreign keys off and
-- checks them before each commits; renaming leaves the triggers of other tables, which
-- name these by name, as they are.
PRAGMA legacy_alter_table = ON;

CREATE TABLE cases_rebuilt (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO cases_rebuilt SELECT id, owner, created_at FROM cases;
DROP TABLE cases;
ALTER TABLE cases_rebuilt RENAME TO cases;

CREATE TABLE referral_events_rebuilt (
    referral_id  TEXT NOT NULL REFERENCES referrals (id),
    version      INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           INTEGER NOT NULL,
    state        TEXT NOT NULL,
    note         TEXT NOT NULL,
    sealed_key   TEXT,
    clerk        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (referral_id, version)
) WITHOUT ROWID;
INSERT INTO referral_events_rebuilt SELECT referral_id, version, kind, actor, at, state, note, sealed_key, clerk
FROM referral_events;
DROP TABLE referral_events;
ALTER TABLE referral_events_rebuilt RENAME TO referral_events;
CREATE TRIGGER referral_events_no_delete BEFORE DELETE ON referral_events
BEGIN SELECT RAISE(ABORT, 'referral_events is append-only'); END;
CREATE TRIGGER referral_events_no_update BEFORE UPDATE OF referral_id, version, kind, actor, at, state
ON referral_events
BEGIN SELECT RAISE(ABORT, 'referral_events is append-only'); END;

CREATE TABLE inbox_events_rebuilt (
    member         TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    event_id       TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    referral_id    TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    referral_kind  TEXT NOT NULL,
    state          TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             INTEGER NOT NULL,
    note           TEXT NOT NULL,
    urgent         INTEGER NOT NULL,
    green_channel  INTEGER NOT NULL,
    deadline_kind  TEXT,
    due_on         TEXT,
    sealed_key     TEXT,
    clerk          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (member, seq)
) WITHOUT ROWID;
INSERT INTO inbox_events_rebuilt SELECT member, seq, event_id, kind, referral_id, case_id, referral_kind, state,
    actor, at, note, urgent, green_channel, deadline_kind, due_on, sealed_key, clerk
FROM inbox_events;
DROP TABLE inbox_events;
ALTER TABLE inbox_events_rebuilt RENAME TO inbox_events;
CREATE INDEX inbox_events_reminders ON inbox_events (referral_id) WHERE kind = 'reminder';

CREATE TABLE inbox_heads_rebuilt (
    member     TEXT PRIMARY KEY,
    last_seq   INTEGER NOT NULL,
    acked_seq  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO inbox_heads_rebuilt SELECT member, last_seq, acked_seq FROM inbox_heads;
DROP TABLE inbox_heads;
ALTER TABLE inbox_heads_rebuilt RENAME TO inbox_heads;

CREATE TABLE letters_rebuilt (
    referral_id    TEXT NOT NULL REFERENCES referrals (id),
    version        INTEGER NOT NULL,
    number         TEXT NOT NULL,
    attachment_id  TEXT NOT NULL REFERENCES attachments (id),
    issued_at      INTEGER NOT NULL,
    by_member      TEXT NOT NULL,
    clerk          TEXT NOT NULL,
    PRIMARY KEY (referral_id, version)
) WITHOUT ROWID;
INSERT INTO letters_rebuilt SELECT referral_id, version, number, attachment_id, issued_at, by_member, clerk
FROM letters;
DROP TABLE letters;
ALTER TABLE letters_rebuilt RENAME TO letters;
CREATE INDEX letters_by_attachment ON letters (attachment_id);

CREATE TABLE letter_numbers_rebuilt (
    referral_id  TEXT PRIMARY KEY REFERENCES referrals (id),
    sender       TEXT NOT NULL,
    year         INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    prefix       TEXT NOT NULL,
    UNIQUE (sender, year, seq)
) WITHOUT ROWID;
INSERT INTO letter_numbers_rebuilt SELECT referral_id, sender, year, seq, prefix FROM letter_numbers;
DROP TABLE letter_numbers;
ALTER TABLE letter_numbers_rebuilt RENAME TO letter_numbers;

CREATE TABLE figure_flows_rebuilt (
    day              TEXT NOT NULL,
    kind             TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    priority_groups  TEXT NOT NULL,
    referrals        INTEGER NOT NULL,
    PRIMARY KEY (day, kind, sender, recipient, priority_groups)
) WITHOUT ROWID;
INSERT INTO figure_flows_rebuilt SELECT day, kind, sender, recipient, priority_groups, referrals FROM figure_flows;
DROP TABLE figure_flows;
ALTER TABLE figure_flows_rebuilt RENAME TO figure_flows;

CREATE TABLE figure_cases_rebuilt (
    case_id    TEXT PRIMARY KEY,
    day        TEXT NOT NULL,
    referrals  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO figure_cases_rebuilt SELECT case_id, day, referrals FROM figure_cases;
DROP TABLE figure_cases;
ALTER TABLE figure_cases_rebuilt RENAME TO figure_cases;
CREATE INDEX figure_cases_one_plus_n ON figure_cases (day) WHERE referrals > 1;

CREATE TABLE figure_deadlines_rebuilt (
    due_on       TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    closed       INTEGER NOT NULL,
    deadlines    INTEGER NOT NULL,
    PRIMARY KEY (due_on, responsible, kind, state, closed)
) WITHOUT ROWID;
INSERT INTO figure_deadlines_rebuilt SELECT due_on, responsible, kind, state, closed, deadlines FROM figure_deadlines;
DROP TABLE figure_deadlines;
ALTER TABLE figure_deadlines_rebuilt RENAME TO figure_deadlines;

CREATE TABLE figure_met_rebuilt (
    met_on       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    runs_from    TEXT NOT NULL,
    deadlines    INTEGER NOT NULL,
    PRIMARY KEY (met_on, kind, responsible, runs_from)
) WITHOUT ROWID;
INSERT INTO figure_met_rebuilt SELECT met_on, kind, responsible, runs_from, deadlines FROM figure_met;
DROP TABLE figure_met;
ALTER TABLE figure_met_rebuilt RENAME TO figure_met;

CREATE TABLE figure_conclusions_rebuilt (
    day              TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    refusal_grounds  TEXT NOT NULL,
    conclusions      INTEGER NOT NULL,
    PRIMARY KEY (day, sender, recipient, outcome, refusal_grounds)
) WITHOUT ROWID;
INSERT INTO figure_conclusions_rebuilt SELECT day, sender, recipient, outcome, refusal_grounds, conclusions
FROM figure_conclusions;
DROP TABLE figure_conclusions;
ALTER TABLE figure_conclusions_rebuilt RENAME TO figure_conclusions;

CREATE TABLE figure_aids_rebuilt (
    day        TEXT NOT NULL,
    sender     TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    aid        TEXT NOT NULL,
    grants     INTEGER NOT NULL,
    fen        INTEGER NOT NULL,
    PRIMARY KEY (day, sender, recipient, aid)
) WITHOUT ROWID;
INSERT INTO figure_aids_rebuilt SELECT day, sender, recipient, aid, grants, fen FROM figure_aids;
DROP TABLE figure_aids;
ALTER TABLE figure_aids_rebuilt RENAME TO figure_aids;

PRAGMA legacy_alter_table = OFF;
