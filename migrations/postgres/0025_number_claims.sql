-- Document numbers a hub process has handed to a letter not yet written, seen by every
-- process on the store so that two replicas never hand out the same one. A claim is
-- dropped by the commit that writes its number; one whose process is gone lapses at
-- `until`, and its number is handed out again.
CREATE TABLE letter_number_claims (
    sender  TEXT NOT NULL,
    year    BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    holder  TEXT NOT NULL,
    until   BIGINT NOT NULL,
    PRIMARY KEY (sender, year, seq)
);
