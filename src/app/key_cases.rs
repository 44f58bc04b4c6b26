//! 重点救助对象 (Art. 23 ¶3): the office and the procuratorate mark a case for the joint
//! meeting to study, with the reason, and unmark it; the figures list the cases marked
//! in their period.

use uuid::Uuid;

use super::{Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey};
use crate::{
    domain::{
        case::CaseState,
        key_case::{self, KeyCase, KeyCaseLine},
        period::Period,
        MemberCode,
    },
    store::{CaseReferral, Commit, KeyCaseChange, StoreError},
};

impl Answer for KeyCase {
    fn record(&self) -> Recorded {
        Recorded { case: Some(self.case_id), key_case: Some(self.clone()), ..Recorded::default() }
    }

    async fn rebuild(_hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        record.key_case.ok_or_else(|| AppError::Store(StoreError::Corrupt("a mark's record".into())))
    }
}

/// The answer to an unmark: the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmarked(pub Uuid);

impl Answer for Unmarked {
    fn record(&self) -> Recorded {
        Recorded { case: Some(self.0), ..Recorded::default() }
    }

    async fn rebuild(_hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        record.case.map(Unmarked).ok_or_else(|| AppError::Store(StoreError::Corrupt("an unmark's record".into())))
    }
}

/// Checks that the caller may mark case `case_id`: the office any case, the
/// procuratorate a case it is a party to; anyone else hears the case does not exist.
async fn markable(hub: &Hub, actor: &Actor, case_id: Uuid) -> Result<(), AppError> {
    key_case::may_mark(&actor.caller)?;
    super::referrals::case_members(hub, actor, case_id).await.map(drop)
}

/// Marks case `case_id` for the joint meeting's study with `reason` (already parsed),
/// once per request id; marking again replaces the reason. Audited.
pub async fn mark(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    case_id: Uuid,
    reason: String,
) -> Result<KeyCase, AppError> {
    markable(hub, actor, case_id).await?;
    let reason = &reason;
    hub.once(actor, "MarkKeyCase", key, move || {
        Box::pin(async move {
            let at = hub.clock.now();
            let mark = KeyCase { case_id, reason: reason.clone(), marked_by: actor.caller.code.clone(), marked_at: at };
            let commit = Commit { key_case: Some(KeyCaseChange::Mark(mark.clone())), ..Commit::default() };
            Ok(Plan { detail: format!("case {case_id}"), ..Plan::new(commit, mark) })
        })
    })
    .await
}

/// Removes the mark of case `case_id`, if it has one, once per request id. Audited.
pub async fn unmark(hub: &Hub, actor: &Actor, key: &RequestKey, case_id: Uuid) -> Result<Unmarked, AppError> {
    markable(hub, actor, case_id).await?;
    hub.once(actor, "UnmarkKeyCase", key, move || {
        Box::pin(async move {
            let commit = Commit { key_case: Some(KeyCaseChange::Unmark(case_id)), ..Commit::default() };
            Ok(Plan { detail: format!("case {case_id}"), ..Plan::new(commit, Unmarked(case_id)) })
        })
    })
    .await
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
