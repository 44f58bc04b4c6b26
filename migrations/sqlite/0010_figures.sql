-- The figures for the joint meeting (Art. 23). What a conclusion recorded and a
-- referral's priority groups are kept in clear in the JSON of `conclusion` and
-- `content` (the summary inside is sealed; nothing here is personal data). Counts by
-- day are kept up to date by triggers in the transaction of every write, so that the
-- figures of any period over a million referrals add up a few thousand rows instead of
-- reading every referral. Days are China's (UTC+8).

-- Referrals submitted, by day, kind, parties and priority groups.
CREATE TABLE figure_flows (
    day              TEXT NOT NULL,
    kind             TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    priority_groups  TEXT NOT NULL,
    referrals        INTEGER NOT NULL,
    PRIMARY KEY (day, kind, sender, recipient, priority_groups)
);
-- Cases: the day of their first referral, and how many they have (1+N when more than one).
CREATE TABLE figure_cases (
    case_id    TEXT PRIMARY KEY,
    day        TEXT NOT NULL,
    referrals  INTEGER NOT NULL
);
CREATE INDEX figure_cases_one_plus_n ON figure_cases (day) WHERE referrals > 1;
-- Conclusions, by their date, parties and what they granted or refused.
CREATE TABLE figure_conclusions (
    day              TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    aid              TEXT NOT NULL,
    refusal_grounds  TEXT NOT NULL,
    conclusions      INTEGER NOT NULL,
    fen              INTEGER NOT NULL,
    PRIMARY KEY (day, sender, recipient, outcome, aid, refusal_grounds)
);
-- Deadlines, by due date, member, kind, state and whether their referral closed while
-- one was missed (then it waits for nothing: not overdue now).
CREATE TABLE figure_deadlines (
    due_on       TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    closed       INTEGER NOT NULL,
    deadlines    INTEGER NOT NULL,
    PRIMARY KEY (due_on, responsible, kind, state, closed)
);
-- Deadlines met, by the day met, kind, member and the day they ran from.
CREATE TABLE figure_met (
    met_on       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    runs_from    TEXT NOT NULL,
    deadlines    INTEGER NOT NULL,
    PRIMARY KEY (met_on, kind, responsible, runs_from)
);

CREATE TRIGGER figure_referral_inserted AFTER INSERT ON referrals
BEGIN
    INSERT INTO figure_flows VALUES (date(NEW.submitted_at / 1000000, 'unixepoch', '+8 hours'), NEW.kind,
        NEW.sender, NEW.recipient, COALESCE(json_extract(NEW.content, '$.priority_groups'), '[]'), 1)
    ON CONFLICT (day, kind, sender, recipient, priority_groups) DO UPDATE SET referrals = referrals + 1;
    INSERT INTO figure_cases VALUES (NEW.case_id, date(NEW.submitted_at / 1000000, 'unixepoch', '+8 hours'), 1)
    ON CONFLICT (case_id) DO UPDATE SET referrals = referrals + 1;
    INSERT INTO figure_conclusions SELECT json_extract(NEW.conclusion, '$.concluded_on'), NEW.sender, NEW.recipient,
        json_extract(NEW.conclusion, '$.outcome'), COALESCE(json_extract(NEW.conclusion, '$.aid'), ''),
        COALESCE(json_extract(NEW.conclusion, '$.refusal_grounds'), '[]'), 1,
        COALESCE(json_extract(NEW.conclusion, '$.amount_fen'), 0)
    WHERE NEW.conclusion IS NOT NULL
    ON CONFLICT (day, sender, recipient, outcome, aid, refusal_grounds)
    DO UPDATE SET conclusions = conclusions + 1, fen = fen + excluded.fen;
END;

CREATE TRIGGER figure_conclusion_changed AFTER UPDATE OF conclusion ON referrals
WHEN OLD.conclusion IS NOT NEW.conclusion
BEGIN
    UPDATE figure_conclusions SET conclusions = conclusions - 1,
        fen = fen - COALESCE(json_extract(OLD.conclusion, '$.amount_fen'), 0)
    WHERE OLD.conclusion IS NOT NULL AND day = json_extract(OLD.conclusion, '$.concluded_on')
        AND sender = OLD.sender AND recipient = OLD.recipient
        AND outcome = json_extract(OLD.conclusion, '$.outcome')
        AND aid = COALESCE(json_extract(OLD.conclusion, '$.aid'), '')
        AND refusal_grounds = COALESCE(json_extract(OLD.conclusion, '$.refusal_grounds'), '[]');
    INSERT INTO figure_conclusions SELECT json_extract(NEW.conclusion, '$.concluded_on'), NEW.sender, NEW.recipient,
        json_extract(NEW.conclusion, '$.outcome'), COALESCE(json_extract(NEW.conclusion, '$.aid'), ''),
        COALESCE(json_extract(NEW.conclusion, '$.refusal_grounds'), '[]'), 1,
        COALESCE(json_extract(NEW.conclusion, '$.amount_fen'), 0)
    WHERE NEW.conclusion IS NOT NULL
    ON CONFLICT (day, sender, recipient, outcome, aid, refusal_grounds)
    DO UPDATE SET conclusions = conclusions + 1, fen = fen + excluded.fen;
END;

CREATE TRIGGER figure_deadline_inserted AFTER INSERT ON deadlines
BEGIN
    INSERT INTO figure_deadlines VALUES (NEW.due_on, NEW.responsible, NEW.kind, NEW.state, NEW.closed_on IS NOT NULL, 1)
    ON CONFLICT (due_on, responsible, kind, state, closed) DO UPDATE SET deadlines = deadlines + 1;
    INSERT INTO figure_met SELECT NEW.met_on, NEW.kind, NEW.responsible, NEW.runs_from, 1 WHERE NEW.met_on IS NOT NULL
    ON CONFLICT (met_on, kind, responsible, runs_from) DO UPDATE SET deadlines = deadlines + 1;
END;

CREATE TRIGGER figure_deadline_changed AFTER UPDATE OF due_on, responsible, kind, state, met_on, runs_from, closed_on
ON deadlines
BEGIN
    UPDATE figure_deadlines SET deadlines = deadlines - 1
    WHERE due_on = OLD.due_on AND responsible = OLD.responsible AND kind = OLD.kind AND state = OLD.state
        AND closed = (OLD.closed_on IS NOT NULL);
    INSERT INTO figure_deadlines VALUES (NEW.due_on, NEW.responsible, NEW.kind, NEW.state, NEW.closed_on IS NOT NULL, 1)
    ON CONFLICT (due_on, responsible, kind, state, closed) DO UPDATE SET deadlines = deadlines + 1;
    UPDATE figure_met SET deadlines = deadlines - 1
    WHERE OLD.met_on IS NOT NULL AND met_on = OLD.met_on AND kind = OLD.kind AND responsible = OLD.responsible
        AND runs_from = OLD.runs_from;
    INSERT INTO figure_met SELECT NEW.met_on, NEW.kind, NEW.responsible, NEW.runs_from, 1 WHERE NEW.met_on IS NOT NULL
    ON CONFLICT (met_on, kind, responsible, runs_from) DO UPDATE SET deadlines = deadlines + 1;
END;

-- What was written before.
INSERT INTO figure_flows
SELECT date(submitted_at / 1000000, 'unixepoch', '+8 hours'), kind, sender, recipient,
    COALESCE(json_extract(content, '$.priority_groups'), '[]'), COUNT(*)
FROM referrals GROUP BY 1, 2, 3, 4, 5;
INSERT INTO figure_cases
SELECT case_id, date(MIN(submitted_at) / 1000000, 'unixepoch', '+8 hours'), COUNT(*) FROM referrals GROUP BY case_id;
INSERT INTO figure_conclusions
SELECT json_extract(conclusion, '$.concluded_on'), sender, recipient, json_extract(conclusion, '$.outcome'),
    COALESCE(json_extract(conclusion, '$.aid'), ''), COALESCE(json_extract(conclusion, '$.refusal_grounds'), '[]'),
    COUNT(*), COALESCE(SUM(json_extract(conclusion, '$.amount_fen')), 0)
FROM referrals WHERE conclusion IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO figure_deadlines SELECT due_on, responsible, kind, state, closed_on IS NOT NULL, COUNT(*) FROM deadlines
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO figure_met SELECT met_on, kind, responsible, runs_from, COUNT(*) FROM deadlines
WHERE met_on IS NOT NULL GROUP BY 1, 2, 3, 4;

-- Distinct persons of a period: the blind index in order, so that counting them needs
-- no sort.
CREATE INDEX referrals_by_person ON referrals (person_index, submitted_at, sender, recipient);
