//! 重点救助对象 (Art. 23 ¶3): the office and the procuratorate mark a case for the joint
//! meeting to study, with the reason, and unmark it; the figures list the cases marked
//! in their period.

use uuid::Uuid;

use super::{Actor, AppError, Hub};
use crate::{
    domain::{
        audit::AuditRecord,
        case::CaseState,
        key_case::{self, KeyCase, KeyCaseLine},
        period::Period,
        MemberCode, Role,
    },
    store::{CaseReferral, Commit, KeyCaseChange},
};

/// The referrals of `case_id` the caller may act on: the office any case's, the
/// procuratorate those of a case it is a party to; anyone else hears the case does not
/// exist.
async fn case_referrals(hub: &Hub, actor: &Actor, case_id: Uuid) -> Result<Vec<CaseReferral>, AppError> {
    key_case::may_mark(&actor.caller)?;
    let referrals = hub.store.case_parties(&[case_id]).await?;
    let code = &actor.caller.code;
    let party = referrals.iter().any(|r| &r.sender == code || &r.recipient == code);
    if referrals.is_empty() || (actor.caller.role != Role::Office && !party) {
        return Err(AppError::NotFound(format!("case {case_id}")));
    }
    Ok(referrals)
}

async fn write(
    hub: &Hub,
    actor: &Actor,
    referrals: &[CaseReferral],
    change: KeyCaseChange,
    action: &str,
) -> Result<(), AppError> {
    let audit = AuditRecord {
        actor: actor.caller.code.clone(),
        certificate: actor.certificate.serial.clone(),
        action: action.to_owned(),
        referrals: Vec::new(),
        detail: format!(
            "case {}, {} referrals",
            referrals.first().map(|r| r.case_id).unwrap_or_default(),
            referrals.len()
        ),
    };
    let commit = Commit { key_case: Some(change), audit: vec![audit], at: hub.clock.now(), ..Commit::default() };
    hub.write(commit).await?;
    Ok(())
}

/// Marks case `case_id` for the joint meeting's study with `reason` (already parsed);
/// marking again replaces the reason. Audited.
pub async fn mark(hub: &Hub, actor: &Actor, case_id: Uuid, reason: String) -> Result<KeyCase, AppError> {
    let referrals = case_referrals(hub, actor, case_id).await?;
    let mark = KeyCase { case_id, reason, marked_by: actor.caller.code.clone(), marked_at: hub.clock.now() };
    write(hub, actor, &referrals, KeyCaseChange::Mark(mark.clone()), "MarkKeyCase").await?;
    Ok(mark)
}

/// Removes the mark of case `case_id`, if it has one. Audited.
pub async fn unmark(hub: &Hub, actor: &Actor, case_id: Uuid) -> Result<(), AppError> {
    let referrals = case_referrals(hub, actor, case_id).await?;
    write(hub, actor, &referrals, KeyCaseChange::Unmark(case_id), "UnmarkKeyCase").await
}

/// The mark of case `case_id`, for a page about one of its referrals.
pub async fn of_case(hub: &Hub, case_id: Uuid) -> Result<Option<KeyCase>, AppError> {
    Ok(hub.store.key_cases(&[case_id]).await?.pop())
}

/// The cases marked within `period` (of those `party` took part in, if named), each
/// with its members (in the directory's order), how many referrals it has and where it
/// stands.
pub async fn lines(hub: &Hub, period: &Period, party: Option<&MemberCode>) -> Result<Vec<KeyCaseLine>, AppError> {
    let marks = hub.store.key_cases_marked(period, party).await?;
    let ids: Vec<Uuid> = marks.iter().map(|k| k.case_id).collect();
    let referrals = hub.store.case_parties(&ids).await?;
    let directory = hub.directory.now();
    Ok(marks
        .into_iter()
        .map(|mark| {
            let of_case: Vec<&CaseReferral> = referrals.iter().filter(|r| r.case_id == mark.case_id).collect();
            let mut members: Vec<MemberCode> = Vec::new();
            for r in &of_case {
                for m in [&r.sender, &r.recipient] {
                    if !members.contains(m) {
                        members.push(m.clone());
                    }
                }
            }
            members.sort_by_key(|m| (directory.place(m), m.clone()));
            KeyCaseLine {
                members,
                referrals: of_case.len() as u64,
                state: CaseState::of(of_case.iter().map(|r| r.state)),
                mark,
            }
        })
        .collect())
}
