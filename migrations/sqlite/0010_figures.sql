-- The figures for the joint meeting (Art. 23) read what a conclusion recorded and the
-- priority groups of a referral, kept in clear in the JSON of `conclusion` and `content`
-- (the summary inside is sealed; nothing here is personal data). Columns derived by the
-- database from that JSON, and indexes that cover the figures' queries, so that they
-- count a million referrals without reading a row's JSON.
ALTER TABLE referrals ADD COLUMN concluded_on TEXT
    GENERATED ALWAYS AS (json_extract(conclusion, '$.concluded_on')) VIRTUAL;
ALTER TABLE referrals ADD COLUMN outcome TEXT
    GENERATED ALWAYS AS (json_extract(conclusion, '$.outcome')) VIRTUAL;
ALTER TABLE referrals ADD COLUMN aid TEXT
    GENERATED ALWAYS AS (json_extract(conclusion, '$.aid')) VIRTUAL;
ALTER TABLE referrals ADD COLUMN amount_fen INTEGER
    GENERATED ALWAYS AS (json_extract(conclusion, '$.amount_fen')) VIRTUAL;
ALTER TABLE referrals ADD COLUMN refusal_grounds TEXT
    GENERATED ALWAYS AS (json_extract(conclusion, '$.refusal_grounds')) VIRTUAL;
ALTER TABLE referrals ADD COLUMN priority_groups TEXT
    GENERATED ALWAYS AS (json_extract(content, '$.priority_groups')) VIRTUAL;
CREATE INDEX referrals_submitted_figures
    ON referrals (submitted_at, kind, sender, recipient, case_id, person_index, priority_groups);
CREATE INDEX referrals_concluded_figures
    ON referrals (concluded_on, kind, sender, recipient, outcome, aid, amount_fen, refusal_grounds);
CREATE INDEX deadlines_due_figures ON deadlines (due_on, responsible, kind, state);
CREATE INDEX deadlines_met_figures ON deadlines (met_on, kind, responsible, runs_from);
