-- Materials (救助材料) and the written form: files sealed in chunks, the files each
-- referral carries, and each referral's document number (文号).

-- A file as uploaded: its name sealed, its digest, and what opening its chunks needs
-- (the key and the random nonce prefix of the STREAM construction).
CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    chunks        BIGINT NOT NULL,
    nonce_prefix  BYTEA NOT NULL,
    sealed_key    TEXT NOT NULL,
    uploaded_at   BIGINT NOT NULL
);
CREATE INDEX attachments_by_sealed_key ON attachments (sealed_key);

-- A file's sealed chunks, in order from 0.
CREATE TABLE attachment_chunks (
    attachment_id  TEXT NOT NULL REFERENCES attachments (id),
    position       BIGINT NOT NULL,
    sealed         BYTEA NOT NULL,
    PRIMARY KEY (attachment_id, position)
);

-- The files a referral carries, each with the history entry it came with.
CREATE TABLE attachment_links (
    referral_id    TEXT NOT NULL REFERENCES referrals (id),
    attachment_id  TEXT NOT NULL REFERENCES attachments (id),
    version        BIGINT NOT NULL,
    ordinal        BIGINT NOT NULL,
    by_member      TEXT NOT NULL,
    PRIMARY KEY (referral_id, attachment_id)
);
CREATE INDEX attachment_links_by_attachment ON attachment_links (attachment_id);

-- Document numbers: each sender's own sequence per year, assigned once with the
-- referral, gap-free (the unique index refuses a second writer of the same number).
CREATE TABLE letter_numbers (
    referral_id  TEXT PRIMARY KEY REFERENCES referrals (id),
    sender       TEXT NOT NULL,
    year         BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    prefix       TEXT NOT NULL,
    UNIQUE (sender, year, seq)
);
