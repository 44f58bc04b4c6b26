-- 重点救助对象 (Art. 23 ¶3): cases the office or the procuratorate marked for the joint
-- meeting to study, with the reason, who marked it and when. Unmarking removes the row
-- (the audit log keeps both acts).

CREATE TABLE key_cases (
    case_id    TEXT PRIMARY KEY REFERENCES cases (id),
    reason     TEXT NOT NULL,
    marked_by  TEXT NOT NULL,
    marked_at  INTEGER NOT NULL
);
CREATE INDEX key_cases_by_time ON key_cases (marked_at);
