//! 登录 — the workbench's second factor: a clerk signs in with the password that goes
//! with their certificate, and gets a session bound to that certificate, ended after
//! a while idle or at sign-out. Wrong passwords in a row lock the clerk out for a
//! while. The administrator sets (and resets) an initial password, which the clerk
//! must change at the first sign-in. Units' system certificates do not sign in.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use super::{identity, Actor, AppError, Hub};
use crate::domain::Rule;
use crate::{
    domain::{
        sign_in::{self, Credentials},
        DomainError, Role,
    },
    keys::password,
    pki::p12,
    store::{Session, Store, StoreError},
};

/// Why a sign-in was refused, each with what the clerk should do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A unit's system certificate: the workbench takes clerks' certificates only.
    #[error("the workbench takes clerks' certificates only; ask the administrator for one")]
    NotAClerk,
    #[error("no password is set for this clerk; ask the administrator")]
    NoPassword,
    #[error("wrong password; {left} more tries before the clerk is locked out")]
    WrongPassword { left: u32 },
    #[error("locked out after too many wrong passwords until {until}")]
    Locked { until: DateTime<Utc> },
}

/// A session a sign-in opened: the cookie's value (never stored), and whether the
/// password must be changed before anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub token: String,
    pub must_change: bool,
}

/// Where a session stands at a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Open {
        must_change: bool,
    },
    /// None, ended, idle too long, or opened with another certificate.
    Closed,
}

/// The clerk's holder name (`mz.wangfang`), if the actor is a clerk.
pub fn holder(actor: &Actor) -> Option<String> {
    actor.certificate.clerk.as_ref().map(|clerk| format!("{}.{}", actor.caller.code, clerk.code))
}

fn token_hash(token: &str) -> String {
    crate::domain::hex::lower(&Sha256::digest(token.as_bytes()))
}

async fn hashed(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|_| AppError::Unavailable("stopping".into()))?
        .map_err(|e| AppError::Store(StoreError::Corrupt(e.to_string())))
}

async fn verified(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || password::verify(&password, &hash))
        .await
        .map_err(|_| AppError::Unavailable("stopping".into()))
}

/// A clerk's initial password: the one given, by the rules of a new password, or a new
/// one made up.
pub fn initial_password(given: Option<&str>) -> Result<String, AppError> {
    match given {
        Some(given) => {
            sign_in::check_new_password(given, "").map_err(|v| AppError::invalid("initial_password", v.rule))?;
            Ok(given.to_owned())
        }
        None => Ok(p12::new_password()?),
    }
}

/// Sets `initial` (from [`initial_password`]) as the password of clerk `holder`
/// (`mz.wangfang`), to be changed at the first sign-in, and ends the clerk's sessions.
/// Used when the administrator issues a clerk's certificate or resets the password.
pub async fn set_initial_password(
    store: &dyn Store,
    holder: &str,
    initial: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    store.set_password(holder, &hashed(initial.to_owned()).await?, true, now).await?;
    Ok(store.end_sessions(holder, None).await?)
}

/// Resets clerk `holder`'s password to a new initial one (returned, to be handed over),
/// ending the clerk's sessions; for the administrator, audited.
pub async fn reset_password(hub: &Hub, actor: &Actor, holder: &str, given: Option<&str>) -> Result<String, AppError> {
    identity::role(&actor.caller, Role::Admin)?;
    crate::pki::Holder::parse(holder)
        .ok()
        .filter(|h| h.clerk.is_some())
        .ok_or_else(|| AppError::invalid("holder", Rule::Holder))?;
    let initial = initial_password(given)?;
    set_initial_password(hub.store.as_ref(), holder, &initial, hub.clock.now()).await?;
    hub.audit(&actor.caller.code, &actor.certificate.serial, "ResetPassword", vec![], holder).await?;
    Ok(initial)
}

/// Signs the actor's clerk in with `password`: a session bound to the certificate,
/// audited; wrong passwords in a row lock the clerk out, audited too.
pub async fn sign_in(hub: &Hub, actor: &Actor, password: &str) -> Result<Result<Opened, Refused>, AppError> {
    let Some(holder) = holder(actor) else {
        return Ok(Err(Refused::NotAClerk));
    };
    let now = hub.clock.now();
    let Some(Credentials { hash, must_change, failures, locked_until }) = hub.store.credentials(&holder).await? else {
        return Ok(Err(Refused::NoPassword));
    };
    if let Some(until) = locked_until.filter(|until| *until > now) {
        return Ok(Err(Refused::Locked { until }));
    }
    let policy = &hub.sign_in;
    if !verified(password.to_owned(), hash).await? {
        let (failures, locked) = sign_in::after_failure(policy, failures, now);
        hub.store.set_failures(&holder, failures, locked).await?;
        let serial = &actor.certificate.serial;
        return Ok(Err(match locked {
            Some(until) => {
                hub.audit(&actor.caller.code, serial, "SignInLocked", vec![], &holder).await?;
                Refused::Locked { until }
            }
            None => {
                hub.audit(&actor.caller.code, serial, "SignInFailed", vec![], &holder).await?;
                Refused::WrongPassword { left: policy.attempts - failures }
            }
        }));
    }
    if failures > 0 || locked_until.is_some() {
        hub.store.set_failures(&holder, 0, None).await?;
    }
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| AppError::Unavailable("no random numbers".into()))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let session = Session {
        token_hash: token_hash(&token),
        holder: holder.clone(),
        serial: actor.certificate.serial.clone(),
        seen_at: now,
    };
    hub.store.start_session(&session).await?;
    hub.audit(&actor.caller.code, &actor.certificate.serial, "SignIn", vec![], &holder).await?;
    Ok(Ok(Opened { token, must_change }))
}

/// Where the session of cookie `token` stands for the actor now; an open one is seen
/// again (its idle time starts over).
pub async fn session(hub: &Hub, actor: &Actor, token: &str) -> Result<Standing, AppError> {
    let Some(holder) = holder(actor) else {
        return Ok(Standing::Closed);
    };
    let now = hub.clock.now();
    let found = hub.store.session(&token_hash(token)).await?;
    let Some(session) = found.filter(|s| s.holder == holder && s.serial == actor.certificate.serial) else {
        return Ok(Standing::Closed);
    };
    if !sign_in::open_at(&hub.sign_in, session.seen_at, now) {
        hub.store.end_sessions(&holder, Some(&session.token_hash)).await?;
        return Ok(Standing::Closed);
    }
    // Seen again at most once a minute: a page's every request need not write.
    if now - session.seen_at >= chrono::Duration::minutes(1) {
        hub.store.touch_session(&session.token_hash, now).await?;
    }
    let must_change = hub.store.credentials(&holder).await?.is_none_or(|c| c.must_change);
    Ok(Standing::Open { must_change })
}

/// Changes the signed-in clerk's password: the current one, and a new one by the
/// rules; audited.
pub async fn change_password(hub: &Hub, actor: &Actor, current: &str, new: &str) -> Result<(), AppError> {
    let holder = holder(actor).ok_or_else(|| AppError::PermissionDenied(Refused::NotAClerk.to_string()))?;
    let credentials = hub
        .store
        .credentials(&holder)
        .await?
        .ok_or_else(|| AppError::PermissionDenied(Refused::NoPassword.to_string()))?;
    if !verified(current.to_owned(), credentials.hash).await? {
        return Err(AppError::invalid("current_password", Rule::NotCurrentPassword));
    }
    sign_in::check_new_password(new, current).map_err(DomainError::from)?;
    hub.store.set_password(&holder, &hashed(new.to_owned()).await?, false, hub.clock.now()).await?;
    hub.audit(&actor.caller.code, &actor.certificate.serial, "ChangePassword", vec![], &holder).await
}

/// Ends the session of cookie `token`.
pub async fn sign_out(hub: &Hub, actor: &Actor, token: &str) -> Result<(), AppError> {
    if let Some(holder) = holder(actor) {
        hub.store.end_sessions(&holder, Some(&token_hash(token))).await?;
        hub.audit(&actor.caller.code, &actor.certificate.serial, "SignOut", vec![], &holder).await?;
    }
    Ok(())
}
