//! The statutory deadlines through the real hub, with its clock set by the test.

use chrono::Duration;
use tonic::{Code, Streaming};
use xianjie::proto::{self as pb, DeadlineKind as K, DeadlineState as S, InboxEventKind as E};

use crate::support::*;

async fn next(stream: &mut Streaming<pb::InboxEvent>) -> pb::InboxEvent {
    stream.next_within().await.expect("the stream stays open").expect("an event")
}

fn deadline(all: &[pb::Deadline], kind: K) -> pb::Deadline {
    all.iter().find(|d| d.kind == kind as i32).cloned().expect("the deadline exists")
}

#[tokio::test]
async fn a_referral_received_the_day_before_national_day_is_due_after_the_holiday() {
    let hub = TestHub::start().await;
    hub.clock.set(at("2026-09-30T02:00:00Z"));
    let jcy = hub.client("jcy").await;
    let draft = pb::ReferralDraft { investigation_ended_on: "2026-09-21".into(), ..referral_draft() };
    let id = jcy.submit(draft, vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let deadlines = hub.client("mz").await.get(&id).await.unwrap().deadlines;
    let start = deadline(&deadlines, K::Start);
    assert_eq!((start.runs_from.as_str(), start.due_on.as_str()), ("2026-09-30", "2026-10-13"));
    assert_eq!((start.responsible.as_str(), start.state, start.provisional), ("mz", S::Open as i32, false));
    assert_eq!(start.due_at.unwrap().seconds, at("2026-10-13T16:00:00Z").timestamp(), "24:00 China time");
    // It says how: from the day after, the holiday passed over by name, to its end.
    let explained = start.explanation.join("\n");
    assert!(explained.starts_with("收到移送：9月30日（周三）\n自次日起算"), "{explained}");
    assert!(explained.contains("\n计入：10月8日（周四）、10月9日（周五）、10月10日（周六）（国庆节调休上班）、10月12日（周一）、10月13日（周二）\n"), "{explained}");
    assert!(
        explained.contains("\n不计：10月1日（周四）至10月7日（周三），国庆节放假\n不计：10月11日（周日），周末\n"),
        "{explained}"
    );
    assert!(explained.ends_with("期限届满：10月13日（周二） 24时"), "{explained}");
    // The investigation ended 09-21; sending on 09-30 missed its 09-29 deadline by one day.
    let send = deadline(&deadlines, K::Send);
    assert_eq!((send.due_on.as_str(), send.state, send.working_days_late), ("2026-09-29", S::MetLate as i32, 1));
    assert_eq!(send.responsible, "jcy");
}

#[tokio::test]
async fn the_scanner_reminds_and_reports_a_miss_exactly_once_also_across_restarts() {
    let hub = TestHub::start().await;
    let id =
        hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let mut mz = hub.client("mz").await.subscribe(Some(0)).await.unwrap();
    assert_eq!(next(&mut mz).await.kind, E::NewReferral as i32);

    // Start due Thursday 09-17: on Wednesday one working day is left.
    hub.clock.set(at("2026-09-16T02:00:00Z"));
    let soon = next(&mut mz).await;
    assert_eq!(
        (soon.kind, soon.deadline_kind.as_str(), soon.due_on.as_str()),
        (E::DueSoon as i32, "start", "2026-09-17")
    );
    assert_eq!((soon.referral_id.as_str(), soon.actor.as_str()), (id.as_str(), "hub"));
    let start = deadline(&hub.client("mz").await.get(&id).await.unwrap().deadlines, K::Start);
    assert_eq!(start.level, "near", "临期: one working day left");
    drop(mz);

    let data = hub.stop().await;
    let hub = TestHub::start_on(data).await;
    let mut mz = hub.client("mz").await.subscribe(Some(soon.seq)).await.unwrap();
    let mut office = hub.client("office").await.watch(Some(0)).await.unwrap();
    hub.clock.set(at("2026-09-18T02:00:00Z"));
    let missed = next(&mut mz).await;
    assert_eq!((missed.kind, missed.seq), (E::DeadlineMissed as i32, soon.seq + 1), "no second reminder came first");
    let seen = next(&mut office).await;
    assert_eq!(
        (seen.kind, seen.referral_id.as_str(), seen.deadline_kind.as_str()),
        (E::DeadlineMissed as i32, id.as_str(), "start")
    );
    drop((mz, office));

    let data = hub.stop().await;
    let hub = TestHub::start_on(data).await;
    hub.clock.advance(Duration::days(3));
    // Something new arrives: it comes right after the miss, with nothing repeated between.
    hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
    let mut mz = hub.client("mz").await.subscribe(Some(missed.seq)).await.unwrap();
    let fresh = next(&mut mz).await;
    assert_eq!((fresh.kind, fresh.seq), (E::NewReferral as i32, missed.seq + 1));
    let mut office = hub.client("office").await.watch(Some(seen.seq)).await.unwrap();
    hub.clock.set(at("2026-10-20T02:00:00Z"));
    let second = next(&mut office).await;
    assert_ne!(second.referral_id, id, "the first miss is not reported again");

    let start = deadline(&hub.client("mz").await.get(&id).await.unwrap().deadlines, K::Start);
    assert_eq!(start.state, S::Missed as i32);
}

#[tokio::test]
async fn late_feedback_is_recorded_as_met_late() {
    let hub = TestHub::start().await;
    let id =
        hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let mz = hub.client("mz").await;
    mz.receive(&id).await.unwrap();
    mz.start(&id).await.unwrap();
    mz.conclude(&id, granted("2026-09-10"), None).await.unwrap();
    let feedback = deadline(&mz.get(&id).await.unwrap().deadlines, K::Feedback);
    assert_eq!((feedback.runs_from.as_str(), feedback.due_on.as_str()), ("2026-09-10", "2026-09-17"));
    // Fed back on Tuesday 09-22: 09-18, the make-up Sunday 09-20, 09-21, 09-22.
    hub.clock.set(at("2026-09-22T02:00:00Z"));
    mz.feedback(&id, "已办结").await.unwrap();
    let all = mz.get(&id).await.unwrap().deadlines;
    let feedback = deadline(&all, K::Feedback);
    assert_eq!(
        (feedback.state, feedback.met_on.as_str(), feedback.working_days_late),
        (S::MetLate as i32, "2026-09-22", 4)
    );
    assert_eq!(deadline(&all, K::Start).state, S::Met as i32);
}

#[tokio::test]
async fn the_office_lists_what_is_overdue_with_working_days_late_and_reminds() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let late = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let on_time = jcy.submit(referral_draft(), vec!["jy".into()], None).await.unwrap().referrals.remove(0).id;
    let jy = hub.client("jy").await;
    jy.receive(&on_time).await.unwrap();
    jy.start(&on_time).await.unwrap();
    let withdrawn = jcy.submit(referral_draft(), vec!["fl".into()], None).await.unwrap().referrals.remove(0).id;
    jcy.withdraw(&withdrawn, "重复移送").await.unwrap();

    // Start due 09-17; on Wednesday 09-23 that is 09-18, 09-20 (make-up), 09-21, 09-22, 09-23.
    hub.clock.set(at("2026-09-23T02:00:00Z"));
    let office = hub.client("office").await;
    let overdue = office
        .list_deadlines(pb::ListDeadlinesRequest { view: pb::DeadlineView::Overdue as i32, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(overdue.today, "2026-09-23");
    assert!(overdue.deadlines.iter().all(|d| d.level == "overdue"), "{:?}", overdue.deadlines);
    let rows: Vec<_> = overdue
        .deadlines
        .iter()
        .map(|d| (d.referral_id.as_str(), d.kind, d.responsible.as_str(), d.working_days_late))
        .collect();
    assert_eq!(rows, [(late.as_str(), K::Start as i32, "mz", 5)]);
    let by_jy = office
        .list_deadlines(pb::ListDeadlinesRequest {
            view: pb::DeadlineView::All as i32,
            responsible: "jy".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_jy.deadlines.len(), 1);
    assert_eq!(by_jy.deadlines[0].state, S::Met as i32);
    let fl = office
        .list_deadlines(pb::ListDeadlinesRequest {
            view: pb::DeadlineView::All as i32,
            responsible: "fl".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fl.deadlines[0].state, S::Cancelled as i32);

    let reminded = office.remind(&late, pb::DeadlineKind::Start, "请尽快启动救助程序").await.unwrap();
    assert_eq!(reminded.working_days_late, 5);
    let mut inbox = hub.client("mz").await.subscribe(Some(1)).await.unwrap();
    let mut event = next(&mut inbox).await;
    while event.kind != E::Reminder as i32 {
        event = next(&mut inbox).await;
    }
    assert_eq!((event.note.as_str(), event.actor.as_str()), ("请尽快启动救助程序", "office"));
    // Chased twice: the overdue list and the referral say how often and when last.
    hub.clock.set(at("2026-09-24T02:00:00Z"));
    office.remind(&late, pb::DeadlineKind::Start, "再次催办").await.unwrap();
    let overdue = office
        .list_deadlines(pb::ListDeadlinesRequest { view: pb::DeadlineView::Overdue as i32, ..Default::default() })
        .await
        .unwrap();
    let chased = &overdue.deadlines[0];
    assert_eq!((chased.reminders, chased.last_reminded.unwrap().seconds), (2, at("2026-09-24T02:00:00Z").timestamp()));
    assert_eq!(chased.level, "chased", "the ladder's step after 逾期");
    let start = deadline(&hub.client("mz").await.get(&late).await.unwrap().deadlines, K::Start);
    assert_eq!(start.reminders, 2);
    let never = deadline(&hub.client("jy").await.get(&on_time).await.unwrap().deadlines, K::Start);
    assert_eq!((never.reminders, never.last_reminded, never.level.as_str()), (0, None, ""), "met: off the ladder");

    let err = office.remind(&on_time, pb::DeadlineKind::Start, "催办").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "a met deadline needs no reminder");
    let err = hub.client("mz").await.list_deadlines(pb::ListDeadlinesRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = office
        .list_deadlines(pb::ListDeadlinesRequest { due_from: "tomorrow".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["due_from"]);
}

const NEW_YEAR_2027: &str = r#"{"year": 2027, "papers": [], "days": [
    {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
    {"name": "元旦", "date": "2027-01-02", "isOffDay": true},
    {"name": "元旦", "date": "2027-01-03", "isOffDay": true}]}"#;

#[tokio::test]
async fn loading_the_new_year_moves_a_provisional_deadline_and_announces_it() {
    let hub = TestHub::start().await;
    hub.clock.set(at("2026-12-28T02:00:00Z"));
    let id =
        hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let mz = hub.client("mz").await;
    let start = deadline(&mz.get(&id).await.unwrap().deadlines, K::Start);
    assert_eq!((start.due_on.as_str(), start.provisional), ("2027-01-04", true), "counted on weekdays alone");
    let admin = hub.client("admin").await;
    assert!(!admin.year_status(2027).await.unwrap().official);

    let err = mz.load_schedule(NEW_YEAR_2027, "国办发明电〔2026〕").await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = admin
        .load_schedule(r#"{"year": 2027, "days": [{"name": "x", "date": "2027-01-04", "isOffDay": false}]}"#, "x")
        .await
        .unwrap_err();
    assert_eq!((err.code(), bad_fields(&err)), (Code::InvalidArgument, vec!["content".to_owned()]));

    let loaded = admin.load_schedule(NEW_YEAR_2027, "国办发明电〔2026〕").await.unwrap();
    assert_eq!((loaded.year, loaded.version, loaded.moved.len()), (2027, 1, 1));
    assert_eq!((loaded.moved[0].was_due_on.as_str(), loaded.moved[0].due_on.as_str()), ("2027-01-04", "2027-01-05"));
    let start = deadline(&mz.get(&id).await.unwrap().deadlines, K::Start);
    assert_eq!((start.due_on.as_str(), start.provisional), ("2027-01-05", false));

    let mut inbox = mz.subscribe(Some(1)).await.unwrap();
    let moved = next(&mut inbox).await;
    assert_eq!((moved.kind, moved.due_on.as_str()), (E::DeadlineMoved as i32, "2027-01-05"));
    assert!(moved.note.contains("2027-01-04"), "{}", moved.note);
    let office = next(&mut hub.client("office").await.watch(Some(0)).await.unwrap()).await;
    assert_eq!((office.kind, office.referral_id.as_str()), (E::DeadlineMoved as i32, id.as_str()));

    let status = admin.year_status(2027).await.unwrap();
    assert_eq!((status.official, status.version, status.loaded_by.as_str()), (true, 1, "admin"));
    assert_eq!(hub.client("mz").await.add_working_days("2026-12-31", 1).await.unwrap().date, "2027-01-04");
    // A second version replaces the first; nothing moves again.
    let again = admin.load_schedule(NEW_YEAR_2027, "重新导入").await.unwrap();
    assert_eq!((again.version, again.moved.len()), (2, 0));
}

async fn overdue(office: &xianjie::client::Client) -> Vec<pb::Deadline> {
    let request = pb::ListDeadlinesRequest { view: pb::DeadlineView::Overdue as i32, ..Default::default() };
    office.list_deadlines(request).await.unwrap().deadlines
}

#[tokio::test]
async fn a_missed_deadline_of_a_returned_referral_stays_missed_but_is_no_longer_overdue() {
    let hub = TestHub::start().await;
    hub.clock.set(at("2026-10-29T02:00:00Z"));
    let jcy = hub.client("jcy").await;
    let sent = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
    let id = sent.referrals[0].id.clone();
    let office = hub.client("office").await;
    // Start due 11-05; on 11-20 it is eleven working days late and listed.
    hub.clock.set(at("2026-11-20T02:00:00Z"));
    eventually(|| async { deadline(&office.get(&id).await.unwrap().deadlines, K::Start).state == S::Missed as i32 })
        .await;
    assert_eq!(overdue(&office).await.iter().map(|d| d.referral_id.as_str()).collect::<Vec<_>>(), [id.as_str()]);

    hub.client("mz").await.return_referral(&id, "不属本单位职责").await.unwrap();
    hub.clock.set(at("2026-12-21T02:00:00Z"));
    assert!(overdue(&office).await.is_empty(), "a returned referral waits for no act");
    let start = deadline(&office.get(&id).await.unwrap().deadlines, K::Start);
    assert_eq!((start.state, start.closed_on.as_str()), (S::Missed as i32, "2026-11-20"), "missed in the record");
    assert_eq!(start.working_days_late, 11, "late until the return, not until today");
    let err = office.remind(&id, K::Start, "请尽快启动").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "no 催办 on a closed referral");

    let case = jcy.case(&sent.case_id).await.unwrap();
    assert_eq!(case.state, pb::CaseState::Closed as i32, "all returned is not 已全部办结反馈");
    assert!(case.complete);
}

#[tokio::test]
async fn urgent_clues_are_listed_before_the_green_channel() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let green = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    hub.clock.advance(Duration::hours(1));
    let urgent = hub.client("fl").await.submit(clue_draft(true), vec!["jcy".into()], None).await.unwrap();
    let urgent = urgent.referrals[0].id.clone();
    hub.clock.set(at("2026-09-25T02:00:00Z"));
    let office = hub.client("office").await;
    eventually(|| async { overdue(&office).await.len() >= 3 }).await;
    let order: Vec<_> =
        overdue(&office).await.into_iter().map(|d| (d.referral_id, d.urgent, d.green_channel)).collect();
    assert_eq!(order[0].0, urgent, "{order:?}");
    assert_eq!(order[1].0, urgent, "{order:?}");
    assert_eq!(order[2].0, green, "{order:?}");
}

#[tokio::test]
async fn loading_a_year_recounts_a_provisional_deadline_already_marked_missed() {
    let hub = TestHub::start().await;
    hub.clock.set(at("2026-12-28T02:00:00Z"));
    let id =
        hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let office = hub.client("office").await;
    // Due 2027-01-04 by weekdays alone; on 01-05 it is marked missed.
    hub.clock.set(at("2027-01-05T02:00:00Z"));
    eventually(|| async { deadline(&office.get(&id).await.unwrap().deadlines, K::Start).state == S::Missed as i32 })
        .await;
    // The schedule makes 01-01 to 01-03 holidays: due 01-05, so it is not missed after all.
    let loaded = hub.client("admin").await.load_schedule(NEW_YEAR_2027, "国办发明电〔2026〕").await.unwrap();
    assert_eq!(loaded.moved.len(), 1);
    let start = deadline(&office.get(&id).await.unwrap().deadlines, K::Start);
    assert_eq!((start.due_on.as_str(), start.provisional, start.state), ("2027-01-05", false, S::Open as i32));
    assert!(overdue(&office).await.is_empty());
}
