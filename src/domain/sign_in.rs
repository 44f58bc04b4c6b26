//! 登录 — a clerk's sign-in to the workbench, the second factor beside the certificate:
//! what a password must be, when wrong ones lock the clerk out, and when a session has
//! been idle too long. Plain rules; hashing and storage live elsewhere.

use chrono::{DateTime, Duration, Utc};

use super::rule::Rule;
use super::FieldViolation;

/// The shortest password a clerk may choose.
pub const MIN_PASSWORD: usize = 10;
/// The longest: a bound on the work of hashing it.
pub const MAX_PASSWORD: usize = 128;

/// Whether `new` may replace `old` as a clerk's password: long enough, not only one
/// kind of character, not the old one.
pub fn check_new_password(new: &str, old: &str) -> Result<(), FieldViolation> {
    let count = new.chars().count();
    let rule = if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&count) {
        Some(Rule::PasswordLength { min: MIN_PASSWORD, max: MAX_PASSWORD })
    } else if new.chars().all(|c| c.is_ascii_digit()) || new.chars().all(char::is_alphabetic) {
        Some(Rule::PasswordMixed)
    } else if new == old {
        Some(Rule::PasswordSame)
    } else {
        None
    };
    rule.map_or(Ok(()), |rule| Err(FieldViolation::new("new_password", rule)))
}

/// How sign-ins are held: wrong passwords in a row before a lockout, its length, and
/// how long a session may stay idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInPolicy {
    pub attempts: u32,
    pub lockout: Duration,
    pub idle: Duration,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self { attempts: 5, lockout: Duration::minutes(15), idle: Duration::minutes(30) }
    }
}

/// What a clerk's sign-in record says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The argon2id hash of the password (PHC string).
    pub hash: String,
    /// A password set by the administrator, to be changed at the next sign-in.
    pub must_change: bool,
    /// Wrong passwords in a row since the last right one.
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// After a wrong password: the failures in a row, and until when the clerk is locked
/// out if that made too many.
pub fn after_failure(policy: &SignInPolicy, failures: u32, now: DateTime<Utc>) -> (u32, Option<DateTime<Utc>>) {
    let failures = failures + 1;
    if failures >= policy.attempts {
        (0, Some(now + policy.lockout))
    } else {
        (failures, None)
    }
}

/// Whether a session last seen at `seen` is still open at `now`.
pub fn open_at(policy: &SignInPolicy, seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - seen <= policy.idle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_password_is_long_mixed_and_new() {
        assert!(check_new_password("Jinjiang2026", "initial-pw").is_ok());
        assert!(check_new_password("民政局经办人王芳2026", "").is_ok());
        for (bad, rule) in [
            ("short1", "from 10"),
            ("12345678901", "not only digits"),
            ("abcdefghijk", "only letters"),
            ("same-as-old-1", "not the password"),
        ] {
            let refused = check_new_password(bad, "same-as-old-1").unwrap_err();
            assert_eq!(refused.field, "new_password");
            assert!(refused.description().contains(rule), "{bad}: {}", refused.description());
        }
    }

    #[test]
    fn five_wrong_passwords_in_a_row_lock_for_fifteen_minutes_and_sessions_end_when_idle() {
        let policy = SignInPolicy::default();
        let now: DateTime<Utc> = "2026-11-02T01:00:00Z".parse().expect("a time");
        let mut failures = 0;
        for _ in 0..4 {
            let (n, locked) = after_failure(&policy, failures, now);
            assert_eq!(locked, None);
            failures = n;
        }
        assert_eq!(after_failure(&policy, failures, now), (0, Some(now + Duration::minutes(15))));
        assert!(open_at(&policy, now, now + Duration::minutes(30)));
        assert!(!open_at(&policy, now, now + Duration::minutes(30) + Duration::seconds(1)));
    }
}
