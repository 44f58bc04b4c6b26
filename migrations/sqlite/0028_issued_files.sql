-- The documents the hub issues (letters, 督办函) are files kept for good: each is now
-- marked as issued when written, and the discard pass reads an index of the other
-- files alone (members' uploads), where it read an index of every file, one for each
-- referral sent, and asked of each whether a referral, a letter or a 督办函 carried
-- it. The files' table is kept in its primary key's B-tree alone (WITHOUT ROWID; see
-- 0024): each file written, a submit's letter among them, writes a page fewer. Rebuilt
-- in SQLite's way, as in 0024. The chunks stay as they are: rebuilding them would copy
-- every file a county ever stored, inside the migration, for under half a page a file.
PRAGMA legacy_alter_table = ON;

CREATE TABLE attachments_rebuilt (
    id            TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    chunks        INTEGER NOT NULL,
    nonce_prefix  BLOB NOT NULL,
    sealed_key    TEXT NOT NULL,
    uploaded_at   INTEGER NOT NULL,
    staged        INTEGER NOT NULL DEFAULT 0,
    issued        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO attachments_rebuilt
SELECT id, owner, name, kind, size, sha256, chunks, nonce_prefix, sealed_key, uploaded_at, staged,
    id IN (SELECT attachment_id FROM letters UNION ALL SELECT attachment_id FROM supervisions)
FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_rebuilt RENAME TO attachments;
CREATE INDEX attachments_loose ON attachments (uploaded_at) WHERE issued = 0;
