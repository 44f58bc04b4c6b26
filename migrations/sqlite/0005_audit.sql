-- The audit log: every read or change of a person's data, append-only, each entry
-- chained to the one before by its SHA-256 hash (hex). `referrals` holds UUIDs,
-- comma-separated.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    certificate  TEXT NOT NULL,
    action       TEXT NOT NULL,
    referrals    TEXT NOT NULL,
    detail       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- The newest entry, taken under the row's lock by each commit that appends.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Signed chain heads, also sent to every member's inbox.
CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    head       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    signature  TEXT NOT NULL
);
