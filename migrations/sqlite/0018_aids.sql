-- Several kinds of aid per conclusion (纳入低保 and 临时救助, say), each with its amount:
-- a conclusion's `aid` and `amount_fen` become `aids`, a list of {aid, fen}. The figures
-- count conclusions by outcome and grounds, and the aid granted by kind in a table of its
-- own, so that a conclusion with two kinds counts once as a conclusion and once under
-- each kind.
DROP TRIGGER figure_referral_inserted;
DROP TRIGGER figure_conclusion_changed;

UPDATE referrals SET conclusion = json_set(json_remove(conclusion, '$.aid', '$.amount_fen'), '$.aids',
    json(CASE WHEN json_extract(conclusion, '$.aid') IS NULL THEN '[]'
    ELSE json_array(json_object('aid', json_extract(conclusion, '$.aid'),
        'fen', COALESCE(json_extract(conclusion, '$.amount_fen'), 0))) END))
WHERE conclusion IS NOT NULL;

DROP TABLE figure_conclusions;
CREATE TABLE figure_conclusions (
    day              TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    refusal_grounds  TEXT NOT NULL,
    conclusions      INTEGER NOT NULL,
    PRIMARY KEY (day, sender, recipient, outcome, refusal_grounds)
);
CREATE TABLE figure_aids (
    day        TEXT NOT NULL,
    sender     TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    aid        TEXT NOT NULL,
    grants     INTEGER NOT NULL,
    fen        INTEGER NOT NULL,
    PRIMARY KEY (day, sender, recipient, aid)
);

CREATE TRIGGER figure_referral_inserted AFTER INSERT ON referrals
BEGIN
    INSERT INTO figure_flows VALUES (date(NEW.submitted_at / 1000000, 'unixepoch', '+8 hours'), NEW.kind,
        NEW.sender, NEW.recipient, COALESCE(json_extract(NEW.content, '$.priority_groups'), '[]'), 1)
    ON CONFLICT (day, kind, sender, recipient, priority_groups) DO UPDATE SET referrals = referrals + 1;
    INSERT INTO figure_cases VALUES (NEW.case_id, date(NEW.submitted_at / 1000000, 'unixepoch', '+8 hours'), 1)
    ON CONFLICT (case_id) DO UPDATE SET referrals = referrals + 1;
    INSERT INTO figure_conclusions SELECT json_extract(NEW.conclusion, '$.concluded_on'), NEW.sender, NEW.recipient,
        json_extract(NEW.conclusion, '$.outcome'), COALESCE(json_extract(NEW.conclusion, '$.refusal_grounds'), '[]'), 1
    WHERE NEW.conclusion IS NOT NULL
    ON CONFLICT (day, sender, recipient, outcome, refusal_grounds) DO UPDATE SET conclusions = conclusions + 1;
    INSERT INTO figure_aids SELECT json_extract(NEW.conclusion, '$.concluded_on'), NEW.sender, NEW.recipient,
        json_extract(value, '$.aid'), 1, json_extract(value, '$.fen')
    FROM json_each(NEW.conclusion, '$.aids') WHERE NEW.conclusion IS NOT NULL
    ON CONFLICT (day, sender, recipient, aid) DO UPDATE SET grants = grants + 1, fen = fen + excluded.fen;
END;

CREATE TRIGGER figure_conclusion_changed AFTER UPDATE OF conclusion ON referrals
WHEN OLD.conclusion IS NOT NEW.conclusion
BEGIN
    UPDATE figure_conclusions SET conclusions = conclusions - 1
    WHERE OLD.conclusion IS NOT NULL AND day = json_extract(OLD.conclusion, '$.concluded_on')
        AND sender = OLD.sender AND recipient = OLD.recipient
        AND outcome = json_extract(OLD.conclusion, '$.outcome')
        AND refusal_grounds = COALESCE(json_extract(OLD.conclusion, '$.refusal_grounds'), '[]');
    UPDATE figure_aids SET grants = grants - 1, fen = fen - (
        SELECT json_extract(value, '$.fen') FROM json_each(OLD.conclusion, '$.aids')
        WHERE json_extract(value, '$.aid') = figure_aids.aid)
    WHERE OLD.conclusion IS NOT NULL AND day = json_extract(OLD.conclusion, '$.concluded_on')
        AND sender = OLD.sender AND recipient = OLD.recipient
        AND aid IN (SELECT json_extract(value, '$.aid') FROM json_each(OLD.conclusion, '$.aids'));
    INSERT INTO figure_conclusions SELECT json_extract(NEW.conclusion, '$.concluded_on'), NEW.sender, NEW.recipient,
        json_extract(NEW.conclusion, '$.outcome'), COALESCE(json_extract(NEW.conclusion, '$.refusal_grounds'), '[]'), 1
    WHERE NEW.conclusion IS NOT NULL
    ON CONFLICT (day, sender, recipient, outcome, refusal_grounds) DO UPDATE SET conclusions = conclusions + 1;
    INSERT INTO figure_aids SELECT json_extract(NEW.conclusion, '$.concluded_on'), NEW.sender, NEW.recipient,
        json_extract(value, '$.aid'), 1, json_extract(value, '$.fen')
    FROM json_each(NEW.conclusion, '$.aids') WHERE NEW.conclusion IS NOT NULL
    ON CONFLICT (day, sender, recipient, aid) DO UPDATE SET grants = grants + 1, fen = fen + excluded.fen;
END;

-- What was written before.
INSERT INTO figure_conclusions
SELECT json_extract(conclusion, '$.concluded_on'), sender, recipient, json_extract(conclusion, '$.outcome'),
    COALESCE(json_extract(conclusion, '$.refusal_grounds'), '[]'), COUNT(*)
FROM referrals WHERE conclusion IS NOT NULL GROUP BY 1, 2, 3, 4, 5;
INSERT INTO figure_aids
SELECT json_extract(r.conclusion, '$.concluded_on'), r.sender, r.recipient, json_extract(a.value, '$.aid'),
    COUNT(*), SUM(json_extract(a.value, '$.fen'))
FROM referrals r, json_each(r.conclusion, '$.aids') a WHERE r.conclusion IS NOT NULL GROUP BY 1, 2, 3, 4;
