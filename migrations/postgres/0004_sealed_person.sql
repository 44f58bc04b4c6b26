-- A person's data sealed field by field (XChaCha20-Poly1305, `xj1:<key id>:<base64>`),
-- bound to its referral and field; `content` keeps the rest. `sealed_key` names the key
-- of every sealed field of the row (NULL: written before sealing, person in `content`).
ALTER TABLE referrals ADD COLUMN person_name TEXT;
ALTER TABLE referrals ADD COLUMN person_id_number TEXT;
ALTER TABLE referrals ADD COLUMN person_phone TEXT;
ALTER TABLE referrals ADD COLUMN person_address TEXT;
ALTER TABLE referrals ADD COLUMN person_household TEXT;
ALTER TABLE referrals ADD COLUMN narrative TEXT;
ALTER TABLE referrals ADD COLUMN sealed_key TEXT;
-- HMAC-SHA256 of the ID number under the index key: one open referral per person and
-- recipient, found without opening anything.
ALTER TABLE referrals ADD COLUMN person_index TEXT;
CREATE UNIQUE INDEX referrals_open_person ON referrals (recipient, person_index)
    WHERE state IN ('submitted', 'received', 'started', 'concluded');
CREATE INDEX referrals_by_sealed_key ON referrals (sealed_key);
-- The recorded answer to a request holds the referral, person and all: sealed too.
ALTER TABLE requests ADD COLUMN sealed_key TEXT;
CREATE INDEX requests_by_sealed_key ON requests (sealed_key);
