//! 重点救助对象 (Art. 23 ¶3): a case the office or the procuratorate marks for the joint
//! meeting to study its aid measures, with the reason. The marks of a period are part of
//! the meeting's figures. A reason says why the case needs study, not who the person
//! is: the office reads it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{case::CaseState, person::text, Caller, DomainError, MemberCode, Role};

/// A case marked for the joint meeting's study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCase {
    pub case_id: Uuid,
    pub reason: String,
    pub marked_by: MemberCode,
    pub marked_at: DateTime<Utc>,
}

/// A marked case as the figures list it: the mark and where its referrals stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCaseLine {
    pub mark: KeyCase,
    /// The members its referrals went between, sender first.
    pub members: Vec<MemberCode>,
    pub referrals: u64,
    /// Where the case stands.
    pub state: CaseState,
}

const MAX_REASON: usize = 200;

/// Parses the reason of a mark: 1–200 characters.
pub fn reason(raw: &str) -> Result<String, DomainError> {
    text("reason", raw, 1, MAX_REASON).map_err(DomainError::from)
}

/// Whether `caller` may mark cases: the office, any; the procuratorate, those it is a
/// party to (the caller checks that).
pub fn may_mark(caller: &Caller) -> Result<(), DomainError> {
    match caller.role {
        Role::Office | Role::Procuratorate => Ok(()),
        _ => Err(DomainError::Forbidden("only the office and the procuratorate mark key cases".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_office_and_the_procuratorate_mark_and_agencies_do_not() {
        let caller = |code: &str, role| Caller { code: MemberCode::parse(code).unwrap(), role };
        assert!(may_mark(&caller("jcy", Role::Procuratorate)).is_ok());
        assert!(may_mark(&Caller { code: MemberCode::office(), role: Role::Office }).is_ok());
        assert!(matches!(may_mark(&caller("mz", Role::Agency)), Err(DomainError::Forbidden(_))));
        assert!(matches!(
            may_mark(&Caller { code: MemberCode::admin(), role: Role::Admin }),
            Err(DomainError::Forbidden(_))
        ));
        assert_eq!(reason(" 多次移送，困难仍未缓解 ").unwrap(), "多次移送，困难仍未缓解");
        assert!(reason("").unwrap_err().to_string().contains("reason: required"));
        assert!(reason(&"难".repeat(201)).unwrap_err().to_string().contains("at most 200"));
    }
}
