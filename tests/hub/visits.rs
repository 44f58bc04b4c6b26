//! Follow-up visits (回访, Art. 25): owed after aid was granted, reminded, missed, made,
//! seen by the other party, listed apart from the statutory deadlines.

use tonic::{Code, Streaming};
use xianjie::proto::{self as pb, DeadlineKind as K, DeadlineState as S, InboxEventKind as E};

use crate::support::*;

/// The next event of `kind` in `stream`, skipping others.
async fn next_of(stream: &mut Streaming<pb::InboxEvent>, kind: E) -> pb::InboxEvent {
    loop {
        let event = stream.next_within().await.expect("the stream stays open").expect("an event");
        if event.kind == kind as i32 {
            return event;
        }
    }
}

fn visit(on: &str) -> pb::Visit {
    pb::Visit {
        visited_on: on.into(),
        method: pb::VisitMethod::Home as i32,
        visitor: "李明".into(),
        findings: "低保金按月到账，子女已复学；仍需法律援助追讨赔偿".into(),
        aid_in_place: true,
        effect: pb::VisitEffect::Some as i32,
        another_referral: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_visit_is_owed_after_aid_reminded_missed_made_and_seen_by_the_sender() {
    let hub = TestHub::start().await;
    let (jcy, mz, office) = (hub.client("jcy").await, hub.client("mz").await, hub.client("office").await);
    hub.clock.set(at("2026-03-02T02:00:00Z"));
    let draft = pb::ReferralDraft { investigation_ended_on: "2026-02-27".into(), ..referral_draft() };
    let id = jcy.submit(draft, vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    mz.receive(&id).await.unwrap();
    mz.start(&id).await.unwrap();
    // Before the conclusion, no visit is owed and none can be made.
    let early = mz.visit(&id, visit("2026-03-02")).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
    hub.clock.set(at("2026-03-10T02:00:00Z"));
    mz.conclude(&id, granted("2026-03-10"), Some("已纳入低保".into())).await.unwrap();

    // Owed by 民政, three months on: Wednesday 06-10.
    let owed = mz.get(&id).await.unwrap().deadlines.into_iter().find(|d| d.kind == K::Visit as i32).unwrap();
    assert_eq!(
        (owed.responsible.as_str(), owed.runs_from.as_str(), owed.due_on.as_str()),
        ("mz", "2026-03-10", "2026-06-10")
    );
    assert_eq!(owed.state, S::Open as i32);

    let mut mz_inbox = mz.subscribe(Some(0)).await.unwrap();
    let mut office_inbox = office.subscribe(Some(0)).await.unwrap();
    // A working day before, 民政 is reminded.
    hub.clock.set(at("2026-06-09T02:00:00Z"));
    let soon = next_of(&mut mz_inbox, E::DueSoon).await;
    assert_eq!((soon.deadline_kind.as_str(), soon.due_on.as_str()), ("visit", "2026-06-10"));
    // Passed unmet: 民政 and the office hear of it; the office lists it, as a visit.
    hub.clock.set(at("2026-06-11T02:00:00Z"));
    let missed = next_of(&mut mz_inbox, E::DeadlineMissed).await;
    assert_eq!((missed.deadline_kind.as_str(), missed.referral_id.as_str()), ("visit", id.as_str()));
    assert_eq!(next_of(&mut office_inbox, E::DeadlineMissed).await.deadline_kind, "visit");
    let overdue = pb::ListDeadlinesRequest { view: pb::DeadlineView::Overdue as i32, ..Default::default() };
    let listed = office.list_deadlines(overdue).await.unwrap().deadlines;
    assert_eq!(listed.iter().map(|d| (d.kind, d.responsible.as_str())).collect::<Vec<_>>(), [(K::Visit as i32, "mz")]);

    // Only the member that granted the aid visits; bad visits name their fields.
    assert_eq!(jcy.visit(&id, visit("2026-06-11")).await.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(office.visit(&id, visit("2026-06-11")).await.unwrap_err().code(), Code::PermissionDenied);
    let bad = pb::Visit { method: 0, effect: 7, ..visit("2026-06-11") };
    let refused = mz.visit(&id, bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&refused), ["visit.method", "visit.effect"]);
    assert!(!refused.message().contains("低保金"), "{}", refused.message());
    let before = mz.visit(&id, visit("2026-03-09")).await.unwrap_err();
    assert_eq!(bad_fields(&before), ["visit.visited_on"]);
    assert!(before.message().contains("before the conclusion"), "{}", before.message());
    let ahead = mz.visit(&id, visit("2026-06-12")).await.unwrap_err();
    assert_eq!(bad_fields(&ahead), ["visit.visited_on"]);

    // Made: the deadline is met late; the procuratorate hears of it and sees it.
    let mut jcy_inbox = jcy.subscribe(Some(0)).await.unwrap();
    let after = mz.visit(&id, visit("2026-06-11")).await.unwrap();
    assert_eq!(after.state, pb::ReferralState::FedBack as i32, "a visit leaves the state as it was");
    let told = next_of(&mut jcy_inbox, E::Visited).await;
    assert_eq!((told.actor.as_str(), told.note.as_str()), ("mz", "低保金按月到账，子女已复学；仍需法律援助追讨赔偿"));
    let seen = jcy.get(&id).await.unwrap();
    let v = &seen.visits[0];
    assert_eq!(
        (v.visited_on.as_str(), v.method, v.effect),
        ("2026-06-11", pb::VisitMethod::Home as i32, pb::VisitEffect::Some as i32)
    );
    assert!(v.aid_in_place && v.another_referral && v.by == "mz");
    assert_eq!(v.findings, "低保金按月到账，子女已复学；仍需法律援助追讨赔偿");
    let kept = seen.deadlines.iter().find(|d| d.kind == K::Visit as i32).unwrap();
    assert_eq!((kept.state, kept.working_days_late), (S::MetLate as i32, 1));
    assert!(seen.history.iter().any(|e| e.kind == pb::ReferralEventKind::Visited as i32));
    // The office sees that a visit was made, not what it found.
    let masked = office.get(&id).await.unwrap();
    assert_eq!((masked.visits.len(), masked.visits[0].findings.as_str()), (1, ""));
    // A second visit is recorded too; the deadline stays as the first left it.
    mz.visit(&id, pb::Visit { effect: pb::VisitEffect::Marked as i32, another_referral: false, ..visit("2026-06-11") })
        .await
        .unwrap();
    let again = jcy.get(&id).await.unwrap();
    assert_eq!(again.visits.len(), 2);
    assert_eq!(again.deadlines.iter().find(|d| d.kind == K::Visit as i32).unwrap().state, S::MetLate as i32);
}

#[tokio::test]
async fn no_visit_is_owed_when_no_aid_was_granted() {
    let hub = TestHub::start().await;
    let (mz, jcy) = (hub.client("mz").await, hub.client("jcy").await);
    hub.clock.set(at("2026-09-15T02:00:00Z"));
    let id = mz.submit(clue_draft(false), vec!["jcy".into()], None).await.unwrap().referrals.remove(0).id;
    jcy.receive(&id).await.unwrap();
    jcy.start(&id).await.unwrap();
    let refused = pb::Conclusion {
        outcome: pb::Outcome::NotGranted as i32,
        refusal_grounds: vec![pb::RefusalGround::AlreadyAssisted as i32],
        aids: vec![],
        ..granted("2026-09-15")
    };
    jcy.conclude(&id, refused, None).await.unwrap();
    let got = jcy.get(&id).await.unwrap();
    assert!(got.deadlines.iter().all(|d| d.kind != K::Visit as i32), "{:?}", got.deadlines);
    let err = jcy.visit(&id, visit("2026-09-15")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("without aid"), "{}", err.message());
}
