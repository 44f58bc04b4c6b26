-- Document numbers a hub process has handed to a letter not yet written, seen by every
-- process on the store so that two replicas never hand out the same one. A claim is
-- dropped by the commit that writes its number; one whose process is gone lapses at
-- `until`, and its number is handed out again. (A SQLite store has one process, whose
-- own pool is exact: it keeps the table empty, so that both stores have one schema.)
CREATE TABLE letter_number_claims (
    sender  TEXT NOT NULL,
    year    INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    holder  TEXT NOT NULL,
    until   INTEGER NOT NULL,
    PRIMARY KEY (sender, year, seq)
) WITHOUT ROWID;
