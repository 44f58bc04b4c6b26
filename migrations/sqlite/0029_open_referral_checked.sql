-- One open referral a person to each recipient, kept by a check as a referral is
-- written rather than by an index of its own. The partial unique index on (recipient,
-- person's blind index) took a leaf of its own, at random, with every submit and again
-- with every change of state: at 64 submits in flight, an eighth of the pages a commit
-- wrote. The check reads `referrals_by_person`, whose leaf the same write already holds.
-- SQLite has one writer, so no other write comes between a check and its write;
-- PostgreSQL, where hubs write side by side, keeps the index. The message names the rule
-- for the writer to tell this refusal from the others. (`+recipient`: the person's
-- index, not the recipient's, which holds all of its referrals.)
DROP INDEX referrals_open_person;
CREATE TRIGGER referrals_open_person_inserted BEFORE INSERT ON referrals
WHEN NEW.state IN ('submitted', 'received', 'started', 'concluded')
BEGIN
    SELECT RAISE(ABORT, 'referrals_open_person') FROM referrals
    WHERE person_index = NEW.person_index AND +recipient = NEW.recipient
        AND state IN ('submitted', 'received', 'started', 'concluded');
END;
CREATE TRIGGER referrals_open_person_changed BEFORE UPDATE OF state, recipient, person_index ON referrals
WHEN NEW.state IN ('submitted', 'received', 'started', 'concluded')
BEGIN
    SELECT RAISE(ABORT, 'referrals_open_person') FROM referrals
    WHERE person_index = NEW.person_index AND +recipient = NEW.recipient AND id <> NEW.id
        AND state IN ('submitted', 'received', 'started', 'concluded');
END;
