-- Referrals, their append-only history, member inboxes and request ids.
-- Times are microseconds since the Unix epoch (UTC); ids are UUID text. The same
-- columns as the SQLite schema, so that one set of queries serves both.

CREATE TABLE cases (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The projection of each referral's history; `version` counts its events.
CREATE TABLE referrals (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    sender          TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    urgent          BOOLEAN NOT NULL,
    green_channel   BOOLEAN NOT NULL,
    content         TEXT NOT NULL,
    submitted_at    BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    started_at      BIGINT,
    conclusion      TEXT,
    feedback        TEXT,
    closing_reason  TEXT,
    version         BIGINT NOT NULL
);
CREATE INDEX referrals_by_sender ON referrals (sender, submitted_at DESC, id DESC);
CREATE INDEX referrals_by_recipient ON referrals (recipient, submitted_at DESC, id DESC);
CREATE INDEX referrals_by_case ON referrals (case_id);

CREATE TABLE referral_events (
    referral_id  TEXT NOT NULL REFERENCES referrals (id),
    version      BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           BIGINT NOT NULL,
    state        TEXT NOT NULL,
    note         TEXT NOT NULL,
    PRIMARY KEY (referral_id, version)
);

CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER referral_events_append_only BEFORE UPDATE OR DELETE ON referral_events
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- One row per member: the newest sequence number of its inbox and its acknowledgement.
-- Writers take this row's lock to number an event, so numbers commit in order, gap-free.
CREATE TABLE inbox_heads (
    member     TEXT PRIMARY KEY,
    last_seq   BIGINT NOT NULL,
    acked_seq  BIGINT NOT NULL
);

CREATE TABLE inbox_events (
    member         TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    event_id       TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    referral_id    TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    referral_kind  TEXT NOT NULL,
    state          TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             BIGINT NOT NULL,
    note           TEXT NOT NULL,
    urgent         BOOLEAN NOT NULL,
    green_channel  BOOLEAN NOT NULL,
    PRIMARY KEY (member, seq)
);

-- The first answer to each request id, replayed on retry.
CREATE TABLE requests (
    member       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    fingerprint  BYTEA NOT NULL,
    response     BYTEA NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (member, request_id)
);
