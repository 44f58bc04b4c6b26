-- 经办人: the clerk who made each act (a history entry) and each notice it sent (an
-- inbox event), by name; empty for a unit's own system certificate (系统) and the hub's
-- own work. Staff, not the person: kept in clear.
ALTER TABLE referral_events ADD COLUMN clerk TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox_events ADD COLUMN clerk TEXT NOT NULL DEFAULT '';
