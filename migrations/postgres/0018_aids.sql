-- Several kinds of aid per conclusion (纳入低保 and 临时救助, say), each with its amount:
-- a conclusion's `aid` and `amount_fen` become `aids`, a list of {aid, fen}. The figures
-- count conclusions by outcome and grounds, and the aid granted by kind in a table of its
-- own, so that a conclusion with two kinds counts once as a conclusion and once under
-- each kind.
DROP TRIGGER figure_referral_written ON referrals;

UPDATE referrals SET conclusion = (conclusion::jsonb - 'aid' - 'amount_fen' || jsonb_build_object('aids',
    CASE WHEN conclusion::jsonb ->> 'aid' IS NULL THEN '[]'::jsonb
    ELSE jsonb_build_array(jsonb_build_object('aid', conclusion::jsonb ->> 'aid',
        'fen', COALESCE((conclusion::jsonb ->> 'amount_fen')::bigint, 0))) END))::text
WHERE conclusion IS NOT NULL;

DROP TABLE figure_conclusions;
CREATE TABLE figure_conclusions (
    day              TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    refusal_grounds  TEXT NOT NULL,
    conclusions      BIGINT NOT NULL,
    PRIMARY KEY (day, sender, recipient, outcome, refusal_grounds)
);
CREATE TABLE figure_aids (
    day        TEXT NOT NULL,
    sender     TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    aid        TEXT NOT NULL,
    grants     BIGINT NOT NULL,
    fen        BIGINT NOT NULL,
    PRIMARY KEY (day, sender, recipient, aid)
);

CREATE OR REPLACE FUNCTION figure_count_conclusion(r referrals, delta BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE c JSONB := r.conclusion::jsonb;
BEGIN
    IF r.conclusion IS NULL THEN RETURN; END IF;
    INSERT INTO figure_conclusions VALUES (c ->> 'concluded_on', r.sender, r.recipient, c ->> 'outcome',
        COALESCE((c -> 'refusal_grounds')::text, '[]'), delta)
    ON CONFLICT (day, sender, recipient, outcome, refusal_grounds)
    DO UPDATE SET conclusions = figure_conclusions.conclusions + excluded.conclusions;
    INSERT INTO figure_aids
    SELECT c ->> 'concluded_on', r.sender, r.recipient, a ->> 'aid', delta, delta * (a ->> 'fen')::bigint
    FROM jsonb_array_elements(COALESCE(c -> 'aids', '[]'::jsonb)) a
    ON CONFLICT (day, sender, recipient, aid)
    DO UPDATE SET grants = figure_aids.grants + excluded.grants, fen = figure_aids.fen + excluded.fen;
END $$;

CREATE TRIGGER figure_referral_written AFTER INSERT OR UPDATE ON referrals
FOR EACH ROW EXECUTE FUNCTION figure_referral_written();

-- What was written before.
INSERT INTO figure_conclusions
SELECT conclusion::jsonb ->> 'concluded_on', sender, recipient, conclusion::jsonb ->> 'outcome',
    COALESCE((conclusion::jsonb -> 'refusal_grounds')::text, '[]'), COUNT(*)
FROM referrals WHERE conclusion IS NOT NULL GROUP BY 1, 2, 3, 4, 5;
INSERT INTO figure_aids
SELECT r.conclusion::jsonb ->> 'concluded_on', r.sender, r.recipient, a ->> 'aid', COUNT(*), SUM((a ->> 'fen')::bigint)
FROM referrals r, jsonb_array_elements(r.conclusion::jsonb -> 'aids') a
WHERE r.conclusion IS NOT NULL GROUP BY 1, 2, 3, 4;
