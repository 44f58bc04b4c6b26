-- The workbench's second factor: each clerk's password (an argon2id hash), the wrong
-- ones in a row and the lockout they caused, and the sessions a sign-in opens (kept
-- as the SHA-256 of their cookie, bound to the certificate that signed in).
CREATE TABLE clerk_passwords (
    holder        TEXT PRIMARY KEY,
    hash          TEXT NOT NULL,
    must_change   BOOLEAN NOT NULL,
    failures      BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    changed_at    BIGINT NOT NULL
);

CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    serial      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    seen_at     BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_holder ON web_sessions (holder);
