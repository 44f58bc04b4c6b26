-- The figures' counts and the audit log's index of referrals kept once a statement
-- rather than once a row. The group commit writes a batch's referrals, deadlines and
-- audit entries each as one statement; a row trigger ran its PL/pgSQL and two or three
-- upserts for every row of them. A statement's trigger reads the rows it wrote from
-- transition tables and adds each count once, grouped. PostgreSQL gives transition
-- tables only to triggers of one event, so inserts and updates have their own. An
-- update counts what its rows were as -1 and what they became as +1: a count that comes
-- to nothing (a row whose counted columns did not change) is left alone. Each count is
-- taken in the order of its key, so that two hubs' batches adding to the same counts
-- lock them in one order and never wait on each other in a ring.

DROP TRIGGER figure_referral_written ON referrals;
DROP TRIGGER figure_deadline_written ON deadlines;
DROP TRIGGER audit_log_referrals ON audit_log;
DROP FUNCTION figure_referral_written();
DROP FUNCTION figure_deadline_written();
DROP FUNCTION figure_count_deadline(deadlines, BIGINT);
DROP FUNCTION figure_count_conclusion(referrals, BIGINT);
DROP FUNCTION audit_log_referrals();

-- The conclusions and aid of referrals as they were (`was`, counted -1) and became
-- (`became`, +1).
CREATE FUNCTION figure_count_conclusions(was referrals[], became referrals[]) RETURNS VOID LANGUAGE SQL AS $$
    WITH counted AS (
        SELECT r.sender, r.recipient, r.conclusion::jsonb AS c, -1 AS delta FROM unnest(was) r
        WHERE r.conclusion IS NOT NULL
        UNION ALL
        SELECT r.sender, r.recipient, r.conclusion::jsonb, 1 FROM unnest(became) r WHERE r.conclusion IS NOT NULL
    ), by_outcome AS (
        INSERT INTO figure_conclusions
        SELECT c ->> 'concluded_on', sender, recipient, c ->> 'outcome',
            COALESCE((c -> 'refusal_grounds')::text, '[]'), SUM(delta)
        FROM counted GROUP BY 1, 2, 3, 4, 5 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (day, sender, recipient, outcome, refusal_grounds)
        DO UPDATE SET conclusions = figure_conclusions.conclusions + excluded.conclusions
    )
    INSERT INTO figure_aids
    SELECT c ->> 'concluded_on', sender, recipient, a ->> 'aid', SUM(delta), SUM(delta * (a ->> 'fen')::bigint)
    FROM counted, jsonb_array_elements(COALESCE(c -> 'aids', '[]'::jsonb)) a
    GROUP BY 1, 2, 3, 4 HAVING SUM(delta) <> 0 OR SUM(delta * (a ->> 'fen')::bigint) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, sender, recipient, aid)
    DO UPDATE SET grants = figure_aids.grants + excluded.grants, fen = figure_aids.fen + excluded.fen
$$;

-- The deadlines as they were (-1) and became (+1), by state and by the day each was met.
CREATE FUNCTION figure_count_deadlines(was deadlines[], became deadlines[]) RETURNS VOID LANGUAGE SQL AS $$
    WITH counted AS (
        SELECT d.due_on, d.responsible, d.kind, d.state, d.closed_on, d.met_on, d.runs_from, -1 AS delta
        FROM unnest(was) d
        UNION ALL
        SELECT d.due_on, d.responsible, d.kind, d.state, d.closed_on, d.met_on, d.runs_from, 1 FROM unnest(became) d
    ), by_state AS (
        INSERT INTO figure_deadlines
        SELECT due_on, responsible, kind, state, closed_on IS NOT NULL, SUM(delta)
        FROM counted GROUP BY 1, 2, 3, 4, 5 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (due_on, responsible, kind, state, closed)
        DO UPDATE SET deadlines = figure_deadlines.deadlines + excluded.deadlines
    )
    INSERT INTO figure_met
    SELECT met_on, kind, responsible, runs_from, SUM(delta)
    FROM counted WHERE met_on IS NOT NULL GROUP BY 1, 2, 3, 4 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (met_on, kind, responsible, runs_from) DO UPDATE SET deadlines = figure_met.deadlines + excluded.deadlines
$$;

CREATE FUNCTION figure_referrals_added() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO figure_flows
    SELECT figure_day(submitted_at), kind, sender, recipient,
        COALESCE((content::jsonb -> 'priority_groups')::text, '[]'), COUNT(*)
    FROM added GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, kind, sender, recipient, priority_groups)
    DO UPDATE SET referrals = figure_flows.referrals + excluded.referrals;
    INSERT INTO figure_cases
    SELECT case_id, figure_day(MIN(submitted_at)), COUNT(*) FROM added GROUP BY case_id ORDER BY case_id
    ON CONFLICT (case_id) DO UPDATE SET referrals = figure_cases.referrals + excluded.referrals;
    IF EXISTS (SELECT FROM added WHERE conclusion IS NOT NULL) THEN
        PERFORM figure_count_conclusions('{}',
            ARRAY(SELECT ROW(r.*)::referrals FROM added r WHERE r.conclusion IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER figure_referrals_added AFTER INSERT ON referrals REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION figure_referrals_added();

CREATE FUNCTION figure_referrals_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM was WHERE conclusion IS NOT NULL) OR EXISTS (SELECT FROM became WHERE conclusion IS NOT NULL)
    THEN
        PERFORM figure_count_conclusions(ARRAY(SELECT ROW(r.*)::referrals FROM was r WHERE r.conclusion IS NOT NULL),
            ARRAY(SELECT ROW(r.*)::referrals FROM became r WHERE r.conclusion IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER figure_referrals_changed AFTER UPDATE ON referrals REFERENCING OLD TABLE AS was NEW TABLE AS became
FOR EACH STATEMENT EXECUTE FUNCTION figure_referrals_changed();

CREATE FUNCTION figure_deadlines_added() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM figure_count_deadlines('{}', ARRAY(SELECT ROW(d.*)::deadlines FROM added d));
    RETURN NULL;
END $$;
CREATE TRIGGER figure_deadlines_added AFTER INSERT ON deadlines REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION figure_deadlines_added();

CREATE FUNCTION figure_deadlines_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM figure_count_deadlines(ARRAY(SELECT ROW(d.*)::deadlines FROM was d),
        ARRAY(SELECT ROW(d.*)::deadlines FROM became d));
    RETURN NULL;
END $$;
CREATE TRIGGER figure_deadlines_changed AFTER UPDATE ON deadlines REFERENCING OLD TABLE AS was NEW TABLE AS became
FOR EACH STATEMENT EXECUTE FUNCTION figure_deadlines_changed();

CREATE FUNCTION audit_log_referrals() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_referrals (referral_id, seq)
    SELECT DISTINCT r, a.seq FROM added a, unnest(string_to_array(a.referrals, ',')) AS r WHERE r <> ''
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_log_referrals AFTER INSERT ON audit_log REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_referrals();
