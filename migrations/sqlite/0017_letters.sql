-- Letters fixed when issued: every version of a referral's letter (移送函) is a stored
-- file, sealed like any other: version 1 when the referral is submitted, 2 and on for
-- each correction (更正) its sender issues. A download returns exactly those bytes.
CREATE TABLE letters (
    referral_id    TEXT NOT NULL REFERENCES referrals (id),
    version        INTEGER NOT NULL,
    number         TEXT NOT NULL,
    attachment_id  TEXT NOT NULL REFERENCES attachments (id),
    issued_at      INTEGER NOT NULL,
    by_member      TEXT NOT NULL,
    clerk          TEXT NOT NULL,
    PRIMARY KEY (referral_id, version)
);
CREATE INDEX letters_by_attachment ON letters (attachment_id);

-- An upload being received is written as it arrives (staged = 1) and completed by the
-- commit that records it; staged and never-attached files are discarded after a while.
ALTER TABLE attachments ADD COLUMN staged INTEGER NOT NULL DEFAULT 0;
CREATE INDEX attachments_by_uploaded_at ON attachments (uploaded_at);
