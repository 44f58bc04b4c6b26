-- The indexes by sealing key are dropped: every submit paid an insert into five of
-- them, and only key rotation read them — resealing scans for rows under another key
-- whatever the index (`sealed_key <> active` is no range), and counting rows by key
-- (`xianjie keys list`) reads the tables whole instead of these indexes.
DROP INDEX IF EXISTS referrals_by_sealed_key;
DROP INDEX IF EXISTS requests_by_sealed_key;
DROP INDEX IF EXISTS referral_events_by_sealed_key;
DROP INDEX IF EXISTS inbox_events_by_sealed_key;
DROP INDEX IF EXISTS attachments_by_sealed_key;
