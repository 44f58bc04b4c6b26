-- 成员单位目录 — every version of the directory of members (Art. 22): the change that
-- made it (as JSON and in words), who made it and when, and the whole directory after
-- it as JSON. The newest version is the directory every hub on this database serves;
-- version 0 is the list the first hub started with. A second change numbered the same
-- fails on the key, so two hubs changing the directory at once take turns.

CREATE TABLE directory_versions (
    version      BIGINT PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    change       TEXT NOT NULL,
    description  TEXT NOT NULL,
    directory    TEXT NOT NULL
);
