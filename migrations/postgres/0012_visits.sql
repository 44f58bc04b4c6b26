-- 回访 — follow-up visits (Art. 25): one row per visit, beside the history entry it was
-- recorded with (whose sealed note holds what the visit found). The visit deadline
-- itself is a row of `deadlines` of kind `visit`.

CREATE TABLE visits (
    referral_id       TEXT NOT NULL REFERENCES referrals (id),
    version           BIGINT NOT NULL,
    visited_on        TEXT NOT NULL,
    method            TEXT NOT NULL,
    visitor           TEXT NOT NULL,
    aid_in_place      BOOLEAN NOT NULL,
    effect            TEXT NOT NULL,
    another_referral  BOOLEAN NOT NULL,
    by_member         TEXT NOT NULL,
    at                BIGINT NOT NULL,
    PRIMARY KEY (referral_id, version)
);
-- The figures count the visits of a period by the day made.
CREATE INDEX visits_by_day ON visits (visited_on, by_member);
