-- The next document number of each sender and year, for hub processes that share a
-- store: each takes its next number from here, in one statement with its claim, so that
-- two processes numbering one sender's letters at once never reach for the same number
-- (before, each handed out its own pool's next and most of their claims collided). A
-- number never written (its commit failed, its process gone) is found below the counter
-- when a pool is rebuilt, and handed out again. (A SQLite store has one process, whose
-- own pool is exact: it keeps the table empty, so that both stores have one schema.)
CREATE TABLE letter_number_next (
    sender  TEXT NOT NULL,
    year    INTEGER NOT NULL,
    next    INTEGER NOT NULL,
    PRIMARY KEY (sender, year)
) WITHOUT ROWID;
