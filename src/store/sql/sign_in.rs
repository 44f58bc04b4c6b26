//! Clerks' passwords and the workbench's sessions: single statements both backends run,
//! outside any commit (a sign-in changes no referral).

use chrono::{DateTime, Utc};

use super::{Backend, Cells, Query, SqlStore};
use crate::{
    domain::sign_in::Credentials,
    store::{
        rows::{from_micros, micros},
        Session, StoreError,
    },
};

fn credentials(mut row: Cells) -> Result<Credentials, StoreError> {
    Ok(Credentials {
        hash: row.text("hash")?,
        must_change: row.bool("must_change")?,
        failures: u32::try_from(row.int("failures")?).unwrap_or(u32::MAX),
        locked_until: row.opt_int("locked_until")?.map(from_micros).transpose()?,
    })
}

impl<B: Backend> SqlStore<B> {
    pub(super) async fn credentials(&self, holder: &str) -> Result<Option<Credentials>, StoreError> {
        let query =
            Query::new("SELECT hash, must_change, failures, locked_until FROM clerk_passwords WHERE holder = $1")
                .bind(holder);
        self.fetch_one(query).await?.map(credentials).transpose()
    }

    pub(super) async fn set_password(
        &self,
        holder: &str,
        hash: &str,
        must_change: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = Query::new(
            "INSERT INTO clerk_passwords (holder, hash, must_change, failures, locked_until, changed_at) \
             VALUES ($1, $2, $3, 0, NULL, $4) ON CONFLICT (holder) DO UPDATE SET hash = excluded.hash, \
             must_change = excluded.must_change, failures = 0, locked_until = NULL, changed_at = excluded.changed_at",
        )
        .bind(holder)
        .bind(hash)
        .bind(must_change)
        .bind(micros(at));
        self.backend.execute(query).await.map(drop)
    }

    pub(super) async fn set_failures(
        &self,
        holder: &str,
        failures: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let query = Query::new("UPDATE clerk_passwords SET failures = $1, locked_until = $2 WHERE holder = $3")
            .bind(i64::from(failures))
            .bind(locked_until.map(micros))
            .bind(holder);
        self.backend.execute(query).await.map(drop)
    }

    pub(super) async fn start_session(&self, session: &Session) -> Result<(), StoreError> {
        let query = Query::new(
            "INSERT INTO web_sessions (token_hash, holder, serial, started_at, seen_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(&session.token_hash)
        .bind(&session.holder)
        .bind(&session.serial)
        .bind(micros(session.seen_at));
        self.backend.execute(query).await.map(drop)
    }

    pub(super) async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let query = Query::new("SELECT token_hash, holder, serial, seen_at FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash);
        self.fetch_one(query)
            .await?
            .map(|mut row| {
                Ok(Session {
                    token_hash: row.text("token_hash")?,
                    holder: row.text("holder")?,
                    serial: row.text("serial")?,
                    seen_at: from_micros(row.int("seen_at")?)?,
                })
            })
            .transpose()
    }

    pub(super) async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let query = Query::new("UPDATE web_sessions SET seen_at = $1 WHERE token_hash = $2 AND seen_at < $1")
            .bind(micros(at))
            .bind(token_hash);
        self.backend.execute(query).await.map(drop)
    }

    /// Ends one session, or every session of `holder` when `token_hash` is `None`.
    pub(super) async fn end_sessions(&self, holder: &str, token_hash: Option<&str>) -> Result<(), StoreError> {
        let query = match token_hash {
            Some(token) => {
                Query::new("DELETE FROM web_sessions WHERE holder = $1 AND token_hash = $2").bind(holder).bind(token)
            }
            None => Query::new("DELETE FROM web_sessions WHERE holder = $1").bind(holder),
        };
        self.backend.execute(query).await.map(drop)
    }
}
