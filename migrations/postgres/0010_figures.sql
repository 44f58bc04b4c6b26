-- The figures for the joint meeting (Art. 23). What a conclusion recorded and a
-- referral's priority groups are kept in clear in the JSON of `conclusion` and
-- `content` (the summary inside is sealed; nothing here is personal data). Counts by
-- day are kept up to date by triggers in the transaction of every write, so that the
-- figures of any period over a million referrals add up a few thousand rows instead of
-- reading every referral. Days are China's (UTC+8).
CREATE FUNCTION figure_day(micros BIGINT) RETURNS TEXT LANGUAGE SQL IMMUTABLE AS $$
    SELECT to_char(to_timestamp(micros / 1000000) AT TIME ZONE 'UTC' + INTERVAL '8 hours', 'YYYY-MM-DD')
$$;

CREATE TABLE figure_flows (
    day              TEXT NOT NULL,
    kind             TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    priority_groups  TEXT NOT NULL,
    referrals        BIGINT NOT NULL,
    PRIMARY KEY (day, kind, sender, recipient, priority_groups)
);
CREATE TABLE figure_cases (
    case_id    TEXT PRIMARY KEY,
    day        TEXT NOT NULL,
    referrals  BIGINT NOT NULL
);
CREATE INDEX figure_cases_one_plus_n ON figure_cases (day) WHERE referrals > 1;
CREATE TABLE figure_conclusions (
    day              TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    aid              TEXT NOT NULL,
    refusal_grounds  TEXT NOT NULL,
    conclusions      BIGINT NOT NULL,
    fen              BIGINT NOT NULL,
    PRIMARY KEY (day, sender, recipient, outcome, aid, refusal_grounds)
);
CREATE TABLE figure_deadlines (
    due_on       TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    closed       BOOLEAN NOT NULL,
    deadlines    BIGINT NOT NULL,
    PRIMARY KEY (due_on, responsible, kind, state, closed)
);
CREATE TABLE figure_met (
    met_on       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    runs_from    TEXT NOT NULL,
    deadlines    BIGINT NOT NULL,
    PRIMARY KEY (met_on, kind, responsible, runs_from)
);

CREATE FUNCTION figure_count_conclusion(r referrals, delta BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE c JSONB := r.conclusion::jsonb;
BEGIN
    IF r.conclusion IS NULL THEN RETURN; END IF;
    INSERT INTO figure_conclusions VALUES (c ->> 'concluded_on', r.sender, r.recipient, c ->> 'outcome',
        COALESCE(c ->> 'aid', ''), COALESCE((c -> 'refusal_grounds')::text, '[]'), delta,
        delta * COALESCE((c ->> 'amount_fen')::bigint, 0))
    ON CONFLICT (day, sender, recipient, outcome, aid, refusal_grounds)
    DO UPDATE SET conclusions = figure_conclusions.conclusions + excluded.conclusions,
        fen = figure_conclusions.fen + excluded.fen;
END $$;

CREATE FUNCTION figure_referral_written() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO figure_flows VALUES (figure_day(NEW.submitted_at), NEW.kind, NEW.sender, NEW.recipient,
            COALESCE((NEW.content::jsonb -> 'priority_groups')::text, '[]'), 1)
        ON CONFLICT (day, kind, sender, recipient, priority_groups)
        DO UPDATE SET referrals = figure_flows.referrals + 1;
        INSERT INTO figure_cases VALUES (NEW.case_id, figure_day(NEW.submitted_at), 1)
        ON CONFLICT (case_id) DO UPDATE SET referrals = figure_cases.referrals + 1;
        PERFORM figure_count_conclusion(NEW, 1);
    ELSIF OLD.conclusion IS DISTINCT FROM NEW.conclusion THEN
        PERFORM figure_count_conclusion(OLD, -1);
        PERFORM figure_count_conclusion(NEW, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER figure_referral_written AFTER INSERT OR UPDATE ON referrals
FOR EACH ROW EXECUTE FUNCTION figure_referral_written();

CREATE FUNCTION figure_count_deadline(d deadlines, delta BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO figure_deadlines VALUES (d.due_on, d.responsible, d.kind, d.state, d.closed_on IS NOT NULL, delta)
    ON CONFLICT (due_on, responsible, kind, state, closed)
    DO UPDATE SET deadlines = figure_deadlines.deadlines + delta;
    IF d.met_on IS NOT NULL THEN
        INSERT INTO figure_met VALUES (d.met_on, d.kind, d.responsible, d.runs_from, delta)
        ON CONFLICT (met_on, kind, responsible, runs_from) DO UPDATE SET deadlines = figure_met.deadlines + delta;
    END IF;
END $$;

CREATE FUNCTION figure_deadline_written() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (OLD.due_on, OLD.responsible, OLD.kind, OLD.state, OLD.met_on, OLD.runs_from, OLD.closed_on)
            IS NOT DISTINCT FROM
            (NEW.due_on, NEW.responsible, NEW.kind, NEW.state, NEW.met_on, NEW.runs_from, NEW.closed_on) THEN
            RETURN NULL;
        END IF;
        PERFORM figure_count_deadline(OLD, -1);
    END IF;
    PERFORM figure_count_deadline(NEW, 1);
    RETURN NULL;
END $$;
CREATE TRIGGER figure_deadline_written AFTER INSERT OR UPDATE ON deadlines
FOR EACH ROW EXECUTE FUNCTION figure_deadline_written();

-- What was written before.
INSERT INTO figure_flows
SELECT figure_day(submitted_at), kind, sender, recipient, COALESCE((content::jsonb -> 'priority_groups')::text, '[]'),
    COUNT(*)
FROM referrals GROUP BY 1, 2, 3, 4, 5;
INSERT INTO figure_cases SELECT case_id, figure_day(MIN(submitted_at)), COUNT(*) FROM referrals GROUP BY case_id;
INSERT INTO figure_conclusions
SELECT conclusion::jsonb ->> 'concluded_on', sender, recipient, conclusion::jsonb ->> 'outcome',
    COALESCE(conclusion::jsonb ->> 'aid', ''), COALESCE((conclusion::jsonb -> 'refusal_grounds')::text, '[]'),
    COUNT(*), COALESCE(SUM((conclusion::jsonb ->> 'amount_fen')::bigint), 0)
FROM referrals WHERE conclusion IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO figure_deadlines SELECT due_on, responsible, kind, state, closed_on IS NOT NULL, COUNT(*) FROM deadlines
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO figure_met SELECT met_on, kind, responsible, runs_from, COUNT(*) FROM deadlines
WHERE met_on IS NOT NULL GROUP BY 1, 2, 3, 4;

CREATE INDEX referrals_by_person ON referrals (person_index, submitted_at, sender, recipient);
