-- Statutory deadlines (Art. 19–21), one row per referral and kind; holiday schedules
-- loaded at run time, every version kept; deadline details on inbox events.
-- Dates are `YYYY-MM-DD` text, which sorts as dates do. The same columns as SQLite.

CREATE TABLE deadlines (
    referral_id  TEXT NOT NULL REFERENCES referrals (id),
    kind         TEXT NOT NULL,
    case_id      TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    runs_from    TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    provisional  BOOLEAN NOT NULL,
    state        TEXT NOT NULL,
    met_on       TEXT,
    reminded     BOOLEAN NOT NULL,
    PRIMARY KEY (referral_id, kind)
);
CREATE INDEX deadlines_by_state ON deadlines (state, due_on);
CREATE INDEX deadlines_by_responsible ON deadlines (responsible, state, due_on);

CREATE TABLE calendar_schedules (
    year       BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    schedule   TEXT NOT NULL,
    source     TEXT NOT NULL,
    loaded_by  TEXT NOT NULL,
    loaded_at  BIGINT NOT NULL,
    PRIMARY KEY (year, version)
);

ALTER TABLE inbox_events ADD COLUMN deadline_kind TEXT;
ALTER TABLE inbox_events ADD COLUMN due_on TEXT;
