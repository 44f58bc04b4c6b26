-- The inbox epoch: a name for this history of inbox sequence numbers. A restore or a
-- migration gives the store a new one, so that a member holding a cursor from before
-- is told so instead of silently skipping the events numbered again.

CREATE TABLE hub_meta (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  TEXT NOT NULL
);
