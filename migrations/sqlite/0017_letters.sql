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

-- The audit log's Merkle tree (RFC 9162): the hash of every complete subtree above the
-- leaves (a leaf is its entry's chain hash, hashed), written before the checkpoint that
-- signs the tree's root beside the chain's head.
CREATE TABLE audit_nodes (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hash   TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);
ALTER TABLE audit_checkpoints ADD COLUMN root TEXT NOT NULL DEFAULT '';

-- Every member's referrals in the order they were sent: the office's ledger of a period
-- reads them a page at a time, oldest first.
CREATE INDEX referrals_by_submitted ON referrals (submitted_at, id);
