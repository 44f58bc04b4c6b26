-- 督办函: the office's letters to a member's leader in charge, each listing the member's
-- overdue deadlines. Numbered in the office's own series (gap-free per year, as the
-- members' letters are), the file stored sealed when issued: every download returns
-- those bytes.
CREATE TABLE supervisions (
    id             TEXT PRIMARY KEY,
    member         TEXT NOT NULL,
    year           BIGINT NOT NULL,
    seq            BIGINT NOT NULL,
    number         TEXT NOT NULL,
    attachment_id  TEXT NOT NULL REFERENCES attachments (id),
    issued_at      BIGINT NOT NULL,
    clerk          TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX supervisions_by_member ON supervisions (member, issued_at);
CREATE INDEX supervisions_by_attachment ON supervisions (attachment_id);

-- The deadlines each 督办函 listed: what makes a deadline 已督办.
CREATE TABLE supervision_items (
    referral_id     TEXT NOT NULL REFERENCES referrals (id),
    deadline_kind   TEXT NOT NULL,
    supervision_id  TEXT NOT NULL REFERENCES supervisions (id),
    ordinal         BIGINT NOT NULL,
    PRIMARY KEY (referral_id, deadline_kind, supervision_id)
);
CREATE INDEX supervision_items_by_supervision ON supervision_items (supervision_id, ordinal);
