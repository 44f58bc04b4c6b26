-- Notifications away from the workbench: each inbox event worth telling becomes one
-- message per channel its member chose, queued here, then sent by the hub with
-- retries. The inbox events are the outbox (written in the commit of the act they
-- tell of); a member's cursor says which of them were routed into messages. Routing
-- starts at each inbox's head as it stands now: nothing from before is told.
CREATE TABLE notify_cursors (
    member  TEXT PRIMARY KEY,
    seq     BIGINT NOT NULL
);
INSERT INTO notify_cursors (member, seq) SELECT member, last_seq FROM inbox_heads;

CREATE TABLE notifications (
    -- The inbox event's id, the channel and the stage: the idempotency key.
    id             TEXT PRIMARY KEY,
    member         TEXT NOT NULL,
    event          TEXT NOT NULL,
    channel        TEXT NOT NULL,
    -- The liaison's e-mail or mobile, or the webhook's address, when queued.
    address        TEXT NOT NULL,
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    referral_id    TEXT NOT NULL,
    -- For the reminder on the morning of a due day: sent only while this deadline
    -- is still open.
    deadline_kind  TEXT,
    created_at     BIGINT NOT NULL,
    next_at        BIGINT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    -- pending, sent, failed (given up), void (no longer due).
    state          TEXT NOT NULL,
    last_error     TEXT NOT NULL DEFAULT '',
    done_at        BIGINT
);
CREATE INDEX notifications_due ON notifications (next_at) WHERE state = 'pending';
CREATE INDEX notifications_by_time ON notifications (created_at);
-- Those given up on: counted for the metric at every pass of the notifier, and listed.
CREATE INDEX notifications_failed ON notifications (created_at) WHERE state = 'failed';

-- Every attempt to send, with its outcome.
CREATE TABLE notification_attempts (
    notification_id  TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    at               BIGINT NOT NULL,
    ok               BOOLEAN NOT NULL,
    error            TEXT NOT NULL,
    PRIMARY KEY (notification_id, attempt)
);
