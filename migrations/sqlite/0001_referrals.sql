-- Referrals, their append-only history, member inboxes and request ids.
-- Times are microseconds since the Unix epoch (UTC); ids are UUID text.

CREATE TABLE cases (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- The projection of each referral's history; `version` counts its events.
CREATE TABLE referrals (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    sender          TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    urgent          INTEGER NOT NULL,
    green_channel   INTEGER NOT NULL,
    content         TEXT NOT NULL,
    submitted_at    INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    started_at      INTEGER,
    conclusion      TEXT,
    feedback        TEXT,
    closing_reason  TEXT,
    version         INTEGER NOT NULL
);
CREATE INDEX referrals_by_sender ON referrals (sender, submitted_at DESC, id DESC);
CREATE INDEX referrals_by_recipient ON referrals (recipient, submitted_at DESC, id DESC);
CREATE INDEX referrals_by_case ON referrals (case_id);

CREATE TABLE referral_events (
    referral_id  TEXT NOT NULL REFERENCES referrals (id),
    version      INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           INTEGER NOT NULL,
    state        TEXT NOT NULL,
    note         TEXT NOT NULL,
    PRIMARY KEY (referral_id, version)
);
CREATE TRIGGER referral_events_no_update BEFORE UPDATE ON referral_events
BEGIN SELECT RAISE(ABORT, 'referral_events is append-only'); END;
CREATE TRIGGER referral_events_no_delete BEFORE DELETE ON referral_events
BEGIN SELECT RAISE(ABORT, 'referral_events is append-only'); END;

-- One row per member: the newest sequence number of its inbox and its acknowledgement.
CREATE TABLE inbox_heads (
    member     TEXT PRIMARY KEY,
    last_seq   INTEGER NOT NULL,
    acked_seq  INTEGER NOT NULL
);

CREATE TABLE inbox_events (
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
    PRIMARY KEY (member, seq)
);

-- The first answer to each request id, replayed on retry.
CREATE TABLE requests (
    member       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    fingerprint  BLOB NOT NULL,
    response     BLOB NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (member, request_id)
);
