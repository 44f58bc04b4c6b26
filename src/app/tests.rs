//! The application layer in-process, over a real store (SQLite, or PostgreSQL with
//! `XIANJIE_TEST_BACKEND=postgres`): what the gRPC and browser suites see from outside,
//! here without TLS, the clock and the scanner in the test's hand.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use tokio_stream::StreamExt;

use super::{
    harness::{at, key, Harness},
    materials, records, referrals, scan, Answer, AppError, Hub, Plan, Recorded, ATTEMPTS,
};
use crate::{
    domain::{
        deadline::{DeadlineKind, DeadlineState},
        error::DomainError,
        figures::Kept,
        lifecycle::{Action, NoticeKind},
        period::{Period, PeriodInput},
        rule::Rule,
        view::Seen,
        MemberCode,
    },
    store::{Commit, DeadlineUpdate, Discard},
};

fn code(raw: &str) -> MemberCode {
    MemberCode::parse(raw).expect("a member code")
}

/// An answer that records nothing.
#[derive(Debug)]
struct Done;

impl Answer for Done {
    fn record(&self) -> Recorded {
        Recorded::default()
    }

    async fn rebuild(_: &Hub, _: Recorded) -> Result<Self, AppError> {
        Ok(Done)
    }
}

/// A commit that loses its race: it changes a deadline "as read" in a state the
/// deadline is not in.
async fn losing(h: &Harness) -> Commit {
    let sent = h.refer("王五", &["mz"]).await;
    let deadlines = h.hub.store().deadlines(&[sent.referrals[0].id]).await.expect("deadlines");
    let start = deadlines.into_iter().find(|d| d.kind == DeadlineKind::Start).expect("a start deadline");
    let was = crate::domain::deadline::Deadline { reminded: !start.reminded, ..start.clone() };
    Commit { deadline_updates: vec![DeadlineUpdate { deadline: start, was }], ..Commit::default() }
}

#[tokio::test]
async fn a_plan_that_loses_a_race_is_made_again_and_one_that_always_loses_gives_up() {
    let h = Harness::new().await;
    let jcy = h.actor("jcy");
    let lost = losing(&h).await;
    let attempts = AtomicUsize::new(0);
    let answered = h
        .hub
        .once(&jcy, "Test", &key("Test"), || {
            let commit = if attempts.fetch_add(1, Ordering::SeqCst) == 0 { lost.clone() } else { Commit::default() };
            Box::pin(async move { Ok(Plan::new(commit, Done)) })
        })
        .await;
    assert!(answered.is_ok(), "the second plan is written");
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "planned again once");

    let attempts = AtomicUsize::new(0);
    let answered = h
        .hub
        .once(&jcy, "Test", &key("Test"), || {
            attempts.fetch_add(1, Ordering::SeqCst);
            let commit = lost.clone();
            Box::pin(async move { Ok(Plan::new(commit, Done)) })
        })
        .await;
    assert!(matches!(answered, Err(AppError::Contended)), "gives up as contended");
    assert_eq!(attempts.load(Ordering::SeqCst), ATTEMPTS);
    h.close().await;
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_and_a_reused_id_is_refused() {
    let h = Harness::new().await;
    let (jcy, mz) = (h.actor("jcy"), code("mz"));
    let draft = || referrals::Draft {
        kind: crate::domain::referral::ReferralKind::SocialAssistance,
        content: super::harness::content("赵六", crate::domain::referral::ReferralKind::SocialAssistance),
        recipients: vec![mz.clone()],
        case_id: None,
        attachments: Vec::new(),
        note: String::new(),
    };
    let submit = key("Submit");
    let first = referrals::submit(&h.hub, &jcy, &submit, draft()).await.expect("submitted");
    let again = referrals::submit(&h.hub, &jcy, &submit, draft()).await.expect("answered again");
    assert_eq!(again, first, "the same referral, as first answered");
    let inbox = h.hub.store().inbox(&mz, 0, 100).await.expect("mz's inbox");
    assert_eq!(inbox.len(), 1, "one referral arrived: the retry wrote nothing");
    let audit = h.hub.store().audit_log(0, 100).await.expect("the audit log");
    let replayed = audit.iter().filter(|e| e.record.action == "Submit" && e.record.detail == "replayed answer");
    assert_eq!(replayed.count(), 1, "giving the answer again is a read, audited");

    let reused = super::RequestKey { fingerprint: vec![1, 2, 3], ..submit.clone() };
    let refused = referrals::submit(&h.hub, &jcy, &reused, draft()).await;
    assert!(matches!(refused, Err(AppError::RequestReused(_))), "{refused:?}");
    h.close().await;
}

/// 2026-09-10: 张三 to 民政; 李四 to 民政 and 教育 (1+N). 民政 starts 张三's the next
/// day; nobody starts 李四's, due 09-17 (five working days from 09-10: 11, 14, 15, 16,
/// 17). The scanner, run by hand, reminds on 09-16 and finds both missed at midnight
/// in China as 09-18 begins. The investigations ended 09-01, so each was to be sent by
/// 09-08: the three went late.
#[tokio::test]
async fn the_scanner_runs_when_told_and_the_figures_count_the_story_by_hand() {
    let h = Harness::new().await;
    let zhang = h.refer("张三", &["mz"]).await;
    let li = h.refer("李四", &["mz", "jy"]).await;
    let mz = h.actor("mz");
    h.clock.set(at("2026-09-11T02:00:00Z"));
    let id = zhang.referrals[0].id;
    for action in [Action::Receive, Action::Start] {
        referrals::act(&h.hub, &mz, &key("Act"), id, action).await.expect("acted");
    }
    let starts = h.hub.store().deadlines(&[li.referrals[0].id, li.referrals[1].id]).await.expect("deadlines");
    let due: Vec<NaiveDate> = starts.iter().filter(|d| d.kind == DeadlineKind::Start).map(|d| d.due).collect();
    assert_eq!(due, vec![NaiveDate::from_ymd_opt(2026, 9, 17).expect("a day"); 2]);

    h.clock.set(at("2026-09-15T02:00:00Z"));
    assert_eq!(scan::scan(&h.hub).await.expect("a pass"), scan::Pass::default(), "nothing yet on 09-15");
    h.clock.set(at("2026-09-16T02:00:00Z"));
    assert_eq!(scan::scan(&h.hub).await.expect("a pass"), scan::Pass { reminded: 2, missed: 0 });
    assert_eq!(scan::scan(&h.hub).await.expect("a pass"), scan::Pass::default(), "reminded once");
    h.clock.set(at("2026-09-17T15:59:00Z"));
    assert_eq!(scan::scan(&h.hub).await.expect("a pass"), scan::Pass::default(), "09-17 23:59 in China: not yet");
    h.clock.set(at("2026-09-17T16:00:00Z"));
    assert_eq!(scan::scan(&h.hub).await.expect("a pass"), scan::Pass { reminded: 0, missed: 2 });
    assert_eq!(scan::catch_up(&h.hub).await.expect("passes"), scan::Pass::default(), "missed once");
    let told = |member: &str| {
        let store = h.hub.store().clone();
        let member = code(member);
        async move {
            let events = store.inbox(&member, 0, 100).await.expect("an inbox");
            events.into_iter().map(|e| e.notice.kind).filter(|k| *k != NoticeKind::NewReferral).collect::<Vec<_>>()
        }
    };
    assert_eq!(told("jy").await, vec![NoticeKind::DueSoon, NoticeKind::DeadlineMissed]);
    assert_eq!(told("office").await, vec![NoticeKind::DeadlineMissed, NoticeKind::DeadlineMissed]);

    let period = Period::parse(PeriodInput { year: 2026, quarter: 0, month: 9, from: "", to: "" }).expect("a month");
    let office = records::figures(&h.hub, &h.actor("office"), &period).await.expect("the office's figures");
    let t = &office.this;
    assert_eq!((t.referrals, t.clues, t.persons, t.one_plus_n), (3, 0, 2, 1));
    let flows = |m: &str| t.members.get(&code(m)).cloned().unwrap_or_default();
    assert_eq!(flows("jcy").referrals_sent, 3);
    assert_eq!((flows("mz").referrals_received, flows("jy").referrals_received), (2, 1));
    let kept = |m: &str, kind| t.kept.get(&(code(m), kind)).copied().unwrap_or_default();
    assert_eq!(kept("mz", DeadlineKind::Start), Kept { met: 1, late: 0, missed: 1 });
    assert_eq!(kept("jy", DeadlineKind::Start), Kept { met: 0, late: 0, missed: 1 });
    assert_eq!(kept("jcy", DeadlineKind::Send), Kept { met: 0, late: 3, missed: 0 }, "sent after 09-08");
    assert_eq!(office.before.referrals, 0, "nothing a year before");

    let own = records::figures(&h.hub, &mz, &period).await.expect("民政's figures");
    assert_eq!((own.this.referrals, own.this.persons, own.this.one_plus_n), (2, 2, 1), "民政's own two");
    assert_eq!(own.this.kept.get(&(code("jy"), DeadlineKind::Start)), None, "no other member's deadlines");
    let states: Vec<DeadlineState> = h
        .hub
        .store()
        .deadlines(&[li.referrals[0].id])
        .await
        .expect("deadlines")
        .into_iter()
        .filter(|d| d.kind == DeadlineKind::Start)
        .map(|d| d.state)
        .collect();
    assert_eq!(states, vec![DeadlineState::Missed]);
    h.close().await;
}

/// A conclusion with two kinds of aid is counted once, by outcome and by each kind with
/// its amount, and stays counted once as the referral moves on (feedback) and is sealed
/// again under a new key: its row is written three times, its counts once.
#[tokio::test]
async fn a_conclusion_is_counted_once_however_often_its_referral_is_written() {
    use crate::domain::{
        draft::{conclusion, ConclusionInput},
        vocabulary::{AidKind, Outcome},
    };
    let h = Harness::new().await;
    let mz = h.actor("mz");
    let sent = h.refer("周九", &["mz"]).await;
    let id = sent.referrals[0].id;
    let granted = conclusion(ConclusionInput {
        outcome: Outcome::Granted as i32,
        concluded_on: "2026-09-11",
        summary: "纳入低保并给予临时救助",
        refusal_grounds: &[],
        aids: &[(AidKind::Subsistence as i32, 300_000), (AidKind::Temporary as i32, 50_000)],
    })
    .expect("a conclusion");
    h.clock.set(at("2026-09-11T02:00:00Z"));
    let conclude = Action::Conclude { conclusion: granted, feedback: None };
    for action in [Action::Receive, Action::Start, conclude, Action::Feedback("已领取".into())] {
        referrals::act(&h.hub, &mz, &key("Act"), id, action).await.expect("acted");
    }
    let period = Period::parse(PeriodInput { year: 2026, quarter: 0, month: 9, from: "", to: "" }).expect("a month");
    let counted = || async {
        let t = records::figures(&h.hub, &h.actor("office"), &period).await.expect("the figures").this;
        (t.outcomes, t.amounts, t.granted_fen)
    };
    let once = (
        [(Outcome::Granted, 1)].into(),
        [(AidKind::Subsistence, (1, 300_000)), (AidKind::Temporary, (1, 50_000))].into(),
        350_000,
    );
    assert_eq!(counted().await, once, "concluded, then fed back");

    let (_, resealed) = h.rotate_and_reseal(10).await;
    assert!(resealed > 0, "the referral was sealed again");
    assert_eq!(counted().await, once, "sealed again under the new key");
    h.close().await;
}

/// A key rotated with a file stored: every referral and file is sealed again under the
/// new key, the old one seals nothing, and the file comes back byte for byte.
#[tokio::test]
async fn resealing_reaches_the_files_and_they_still_open() {
    let h = Harness::new().await;
    let (jcy, mz) = (h.actor("jcy"), h.actor("mz"));
    let scan = [&b"%PDF-1.7\n"[..], &vec![b'x'; 300_000]].concat();
    let pieces: materials::Pieces<'static> =
        Box::pin(tokio_stream::iter(scan.chunks(65_536).map(|c| Ok(c.to_vec())).collect::<Vec<_>>()));
    let file = materials::upload(&h.hub, &jcy, &uuid::Uuid::new_v4().to_string(), "病历.pdf", None, pieces)
        .await
        .expect("uploaded");
    let draft = referrals::Draft {
        kind: crate::domain::referral::ReferralKind::SocialAssistance,
        content: super::harness::content("钱七", crate::domain::referral::ReferralKind::SocialAssistance),
        recipients: vec![code("mz")],
        case_id: None,
        attachments: vec![file.id],
        note: String::new(),
    };
    let sent = referrals::submit(&h.hub, &jcy, &key("Submit"), draft).await.expect("submitted");
    let id = sent.referrals[0].id;

    let old = h.hub.keys().current().active().to_owned();
    let (new, resealed) = h.rotate_and_reseal(2).await;
    assert!(resealed > 0, "something was resealed");
    let usage = h.hub.store().key_usage().await.expect("key usage");
    assert!(usage.iter().all(|(key, _)| key.as_deref() != Some(old.as_str())), "{old} seals nothing: {usage:?}");
    assert!(usage.iter().any(|(key, n)| key.as_deref() == Some(new.as_str()) && *n > 0), "{usage:?}");

    let shown = referrals::get(&h.hub, &mz, id).await.expect("read");
    assert!(matches!(&shown.referral.content.person, Seen::Full(p) if p.name == "钱七"), "the person opens");
    let download = materials::download(&h.hub, &mz, id, file.id).await.expect("a download");
    let mut bytes = Vec::new();
    let mut pieces = download.pieces;
    while let Some(piece) = pieces.next().await {
        bytes.extend(piece.expect("a piece opens"));
    }
    assert_eq!(bytes, scan, "the file as uploaded");
    h.close().await;
}

/// The discard pass removes a file nothing carries just as an act that attaches it
/// commits (the plan read the file; the commit finds it gone): the act is planned
/// again and refused naming the file's field, not failed as the store's error.
#[tokio::test]
async fn a_file_discarded_between_a_plan_and_its_commit_is_refused_by_name() {
    let h = Harness::new().await;
    let jcy = h.actor("jcy");
    let sent = h.refer("孙八", &["mz"]).await;
    let referral = &sent.referrals[0];
    let scan = [&b"%PDF-1.7\n"[..], &[b'x'; 1_000]].concat();
    let pieces: materials::Pieces<'static> = Box::pin(tokio_stream::iter(vec![Ok(scan)]));
    let file = materials::upload(&h.hub, &jcy, &uuid::Uuid::new_v4().to_string(), "病历.pdf", None, pieces)
        .await
        .expect("uploaded");
    let (hub, by, attempts) = (&h.hub, &jcy.caller.code, AtomicUsize::new(0));
    let answered = h
        .hub
        .once(&jcy, "Attach", &key("Attach"), || {
            let first = attempts.fetch_add(1, Ordering::SeqCst) == 0;
            Box::pin(async move {
                let files = materials::uploaded(hub, &[file.id]).await?;
                if first {
                    let long_after = hub.clock.now() + chrono::Duration::days(2);
                    let discard = Discard { id: file.id, staged_before: long_after, unattached_before: long_after };
                    let gone = Commit { discards: vec![discard], at: hub.clock.now(), ..Commit::default() };
                    hub.store().commit(gone).await.expect("the file discarded");
                }
                let links = materials::links(&files, &[referral.id], referral.version, by);
                Ok(Plan::new(Commit { links, ..Commit::default() }, Done))
            })
        })
        .await;
    let Err(AppError::Domain(DomainError::Invalid(violations))) = answered else {
        panic!("refused as invalid, not {answered:?}")
    };
    let fields: Vec<_> = violations.iter().map(|v| (v.field.as_str(), v.rule.clone())).collect();
    assert_eq!(fields, [("attachments[0]", Rule::NoSuchUpload)]);
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "planned again once, after the commit found the file gone");
    let carried = h.hub.store().carried(&[referral.id]).await.expect("the referral's files");
    assert!(carried.is_empty(), "nothing half-written: {carried:?}");
    h.close().await;
}
