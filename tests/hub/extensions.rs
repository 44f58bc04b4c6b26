//! Deadlines that stand still and deadlines extended: the recipient's request for more
//! materials (补充材料) pauses its start deadline until the sender supplies them, once
//! unless the office allows more, the days paused added in working days; a member asks
//! the office to extend (延期) before its deadline, the office grants or refuses, both
//! recorded and told; on-time is judged against the dates granted, and the figures
//! count extensions and pauses apart.

use tonic::Code;
use xianjie::proto as pb;

use crate::support::*;

fn start(referral: &pb::GetReferralResponse) -> pb::Deadline {
    referral.deadlines.iter().find(|d| d.kind == pb::DeadlineKind::Start as i32).unwrap().clone()
}

#[tokio::test]
async fn materials_asked_pause_the_start_and_an_extension_granted_moves_it() {
    let hub = TestHub::start().await;
    let (jcy, mz, office) = (hub.client("jcy").await, hub.client("mz").await, hub.client("office").await);
    let submitted = jcy.submit(referral_draft(), vec!["mz".into(), "jy".into()], None).await.unwrap();
    let (id, control) = (submitted.referrals[0].id.clone(), submitted.referrals[1].id.clone());
    assert_eq!(start(&mz.get(&id).await.unwrap()).due_on, "2026-09-17");

    // Monday 09-14: 民政 asks for materials; the count stands still.
    hub.clock.set(at("2026-09-14T02:00:00Z"));
    let refused = jcy.ask_materials(&id, "请补充").await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "only the recipient asks for materials");
    mz.ask_materials(&id, "请补充伤情鉴定意见书").await.unwrap();
    let paused = start(&mz.get(&id).await.unwrap());
    assert!(paused.paused && paused.pauses == 1, "{paused:?}");

    // Past the old due date nothing is missed, overdue or late while it stands still.
    hub.clock.set(at("2026-09-21T02:00:00Z"));
    // 教育's, due the same day and not paused, is missed: the scanner has passed.
    eventually(|| async { start(&jcy.get(&control).await.unwrap()).state == pb::DeadlineState::Missed as i32 }).await;
    let waiting = start(&mz.get(&id).await.unwrap());
    assert_eq!((waiting.state, waiting.working_days_late), (pb::DeadlineState::Open as i32, 0));
    let overdue = pb::ListDeadlinesRequest { view: pb::DeadlineView::Overdue as i32, ..Default::default() };
    let listed = office.list_deadlines(overdue).await.unwrap().deadlines;
    assert_eq!(listed.iter().map(|d| d.referral_id.as_str()).collect::<Vec<_>>(), [control.as_str()]);

    // Monday 09-21 the sender supplies them: six working days stood still (09-15 to 09-18,
    // the make-up Sunday 09-20, 09-21), and the due date moves by as many.
    jcy.comment(&id, "已补充伤情鉴定意见书").await.unwrap();
    let running = start(&mz.get(&id).await.unwrap());
    assert_eq!((running.paused, running.paused_days, running.due_on.as_str()), (false, 6, "2026-09-24"));

    // Asked again: no second pause, until the office allows one.
    mz.ask_materials(&id, "请再补充户籍证明").await.unwrap();
    assert!(!start(&mz.get(&id).await.unwrap()).paused, "one pause only");
    let allowed = office.allow_pause(&id).await.unwrap();
    assert_eq!((allowed.pauses, allowed.pauses_allowed), (1, 2));
    assert_eq!(mz.allow_pause(&id).await.unwrap_err().code(), Code::PermissionDenied);

    // 民政 asks to extend by three working days; bad requests say which field.
    let kind = pb::DeadlineKind::Start;
    let bad = mz.ask_extension(&id, kind, 0, "").await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&bad), ["days", "reason"]);
    assert_eq!(jcy.ask_extension(&id, kind, 3, "等待").await.unwrap_err().code(), Code::PermissionDenied);
    let asked = mz.ask_extension(&id, kind, 3, "需入户核查家庭经济状况").await.unwrap();
    assert_eq!((asked.state.as_str(), asked.due_before.as_str()), ("asked", "2026-09-24"));
    let again = mz.ask_extension(&id, kind, 2, "再延").await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "one request waits at a time");

    // The office sees it waiting; refusing needs an answer; it grants three days.
    let waiting = office.extensions("").await.unwrap();
    assert_eq!(waiting.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), [asked.id.as_str()]);
    let refused = office.decide_extension(&asked.id, None, "").await.unwrap_err();
    assert_eq!((refused.code(), bad_fields(&refused)), (Code::InvalidArgument, vec!["answer".to_owned()]));
    assert_eq!(mz.decide_extension(&asked.id, Some(3), "").await.unwrap_err().code(), Code::PermissionDenied);
    let granted = office.decide_extension(&asked.id, Some(3), "同意").await.unwrap();
    assert_eq!((granted.state.as_str(), granted.due_after.as_str()), ("granted", "2026-09-30"));
    let twice = office.decide_extension(&asked.id, None, "不同意").await.unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    assert!(office.extensions("").await.unwrap().is_empty());

    // The deadline says how its date was reached; each side was told.
    let got = mz.get(&id).await.unwrap();
    let extended = start(&got);
    assert_eq!((extended.extended_days, extended.due_on.as_str()), (3, "2026-09-30"));
    assert!(
        extended
            .explanation
            .iter()
            .any(|l| l.contains("另加补充材料暂停计时6个工作日、经联席会议办公室批准延期3个工作日")),
        "{:?}",
        extended.explanation
    );
    let told = |client: &xianjie::client::Client, kind: i32| {
        let client = client.clone();
        async move {
            let mut inbox = client.subscribe(Some(0)).await.unwrap();
            loop {
                let event = within(inbox.message()).await.unwrap().unwrap();
                if event.kind == kind {
                    return event;
                }
            }
        }
    };
    let to_office = told(&office, pb::InboxEventKind::ExtensionAsked as i32).await;
    assert_eq!(to_office.note, "申请延期3个工作日：需入户核查家庭经济状况");
    let to_mz = told(&mz, pb::InboxEventKind::ExtensionDecided as i32).await;
    assert_eq!(to_mz.note, "同意延期3个工作日，期限延至9月30日：同意");
    let to_jcy = told(&jcy, pb::InboxEventKind::MaterialsAsked as i32).await;
    assert_eq!(to_jcy.note, "请补充伤情鉴定意见书");

    // Started on the granted day: in time.
    hub.clock.set(at("2026-09-30T08:00:00Z"));
    mz.receive(&id).await.unwrap();
    mz.start(&id).await.unwrap();
    assert_eq!(start(&mz.get(&id).await.unwrap()).state, pb::DeadlineState::Met as i32);

    // The figures count the extension and the pause apart.
    let figures = office.figures(pb::Period { year: 2026, ..Default::default() }).await.unwrap();
    let line = |label: &str| {
        figures.lines.iter().find(|l| l.label == label).map(|l| l.this_period.clone()).unwrap_or_default()
    };
    assert_eq!(line("申请延期（件）"), "1");
    assert_eq!(line("批准延期（件）"), "1");
    assert_eq!(line("批准延长（工作日）"), "3");
    assert_eq!(line("补充材料暂停计时（次）"), "1");
    assert_eq!(line("暂停计时（工作日）"), "6");
    assert_eq!(line("启动期限按期率"), "50.0%", "民政's in time against the date granted, 教育's missed");
}
