//! 待办 and the search of the lists: every referral awaiting a member's act, one row
//! each, the most urgent first, the true total in pages; found by full name, ID number
//! or case reference through the blind indexes.

use tonic::Code;
use xianjie::proto as pb;

use crate::support::*;

fn to_do(search: &str) -> pb::ToDoRequest {
    pb::ToDoRequest { search: search.into(), ..Default::default() }
}

fn awaits(to_do: &pb::ToDoResponse) -> Vec<(String, String)> {
    to_do.items.iter().map(|i| (i.referral.as_ref().unwrap().id.clone(), i.awaits.clone())).collect()
}

fn named(name: &str, case_reference: &str) -> pb::ReferralDraft {
    pb::ReferralDraft { person: Some(person(name)), case_reference: case_reference.into(), ..referral_draft() }
}

#[tokio::test]
async fn the_to_do_list_is_every_act_awaited_one_row_a_referral_the_most_urgent_first() {
    let hub = TestHub::start().await;
    let (jcy, mz, jy, fl, office) = (
        hub.client("jcy").await,
        hub.client("mz").await,
        hub.client("jy").await,
        hub.client("fl").await,
        hub.client("office").await,
    );
    let a =
        jcy.submit(named("张三", "晋检刑诉〔2026〕7号"), vec!["mz".into()], None).await.unwrap().referrals.remove(0);
    let b =
        jcy.submit(named("李四", "晋检刑诉〔2026〕8号"), vec!["jy".into()], None).await.unwrap().referrals.remove(0);
    // 民政: A to receive, its start deadline running.
    let seen = mz.to_do(to_do("")).await.unwrap();
    assert_eq!((seen.total, awaits(&seen)), (1, vec![(a.id.clone(), "receive".into())]));
    assert_eq!(seen.items[0].deadline.as_ref().map(|d| d.kind), Some(pb::DeadlineKind::Start as i32));

    // 教育 returns B: the procuratorate must re-route it, though no deadline runs.
    jy.return_referral(&b.id, "不属于本单位职责").await.unwrap();
    // 民政 asks for materials on A, later: the procuratorate must supply them.
    hub.clock.set(at("2026-09-10T03:00:00Z"));
    mz.comment(&a.id, "请补充伤情鉴定书").await.unwrap();
    // An urgent clue from 妇联: one row though two deadlines run, and first.
    let urgent = fl.submit(clue_draft(true), vec!["jcy".into()], None).await.unwrap().referrals.remove(0);
    let seen = jcy.to_do(to_do("")).await.unwrap();
    assert_eq!(seen.total, 3, "{seen:?}");
    assert_eq!(
        awaits(&seen),
        [(urgent.id.clone(), "receive".into()), (b.id.clone(), "reroute".into()), (a.id.clone(), "reply".into())],
        "the deadline first, then the longest waiting"
    );
    assert_eq!(seen.items[0].deadline.as_ref().map(|d| d.kind), Some(pb::DeadlineKind::Urgent as i32));
    assert!(seen.items[2].deadline.is_none() && seen.items[2].reply);

    // A page of one after the first; the total stays the whole.
    let page = jcy.to_do(pb::ToDoRequest { page_size: 1, offset: 1, ..Default::default() }).await.unwrap();
    assert_eq!((page.total, awaits(&page)), (3, vec![(b.id.clone(), "reroute".into())]));

    // Re-routed in the same case, B is done; answered, A too.
    let rerouted = pb::ReferralDraft { person: b.person.clone(), ..named("李四", "晋检刑诉〔2026〕8号") };
    jcy.submit(rerouted, vec!["mz".into()], Some(b.case_id.clone())).await.unwrap();
    jcy.comment(&a.id, "已补充，见附件").await.unwrap();
    let seen = jcy.to_do(to_do("")).await.unwrap();
    assert_eq!(awaits(&seen), [(urgent.id.clone(), "receive".into())]);

    // Started, A awaits its conclusion; the office's 催办 marks a row.
    mz.receive(&a.id).await.unwrap();
    mz.start(&a.id).await.unwrap();
    hub.clock.set(at("2026-10-12T02:00:00Z"));
    let seen = mz.to_do(to_do("")).await.unwrap();
    let conclude = seen.items.iter().find(|i| i.referral.as_ref().unwrap().id == a.id).unwrap();
    assert_eq!((conclude.awaits.as_str(), conclude.deadline.is_none()), ("conclude", true));
    let late = seen.items.iter().find(|i| i.awaits == "receive").expect("the re-routed one, overdue");
    assert!(late.deadline.as_ref().unwrap().working_days_late > 0);
    assert_eq!(seen.items[0].awaits, "receive", "overdue before what has no deadline");
    let late_id = late.referral.as_ref().unwrap().id.clone();
    office.remind(&late_id, pb::DeadlineKind::Start, "请尽快签收").await.unwrap();
    let seen = mz.to_do(to_do("")).await.unwrap();
    assert!(seen.items.iter().any(|i| i.referral.as_ref().unwrap().id == late_id && i.reminded));

    // Members only.
    let err = office.to_do(to_do("")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
}

#[tokio::test]
async fn a_person_is_found_by_full_name_id_number_or_case_reference_and_by_the_days_submitted() {
    let hub = TestHub::start().await;
    let (jcy, mz, office) = (hub.client("jcy").await, hub.client("mz").await, hub.client("office").await);
    let zhang =
        jcy.submit(named("张 三", "晋检刑诉〔2026〕7号"), vec!["mz".into()], None).await.unwrap().referrals.remove(0);
    hub.clock.set(at("2026-09-15T02:00:00Z"));
    let li =
        jcy.submit(named("李四", "晋检刑诉〔2026〕8号"), vec!["mz".into()], None).await.unwrap().referrals.remove(0);
    let id_number = zhang.person.as_ref().unwrap().id_number.clone();
    let ids =
        |r: &pb::ToDoResponse| r.items.iter().map(|i| i.referral.as_ref().unwrap().id.clone()).collect::<Vec<_>>();
    // The whole name (spaces do not count), the ID number, the case reference.
    for search in ["张三", " 张 三 ", id_number.as_str(), "晋检刑诉〔2026〕7号"] {
        assert_eq!(ids(&mz.to_do(to_do(search)).await.unwrap()), [zhang.id.as_str()], "{search}");
    }
    // A part finds nothing: nothing is opened to search.
    for search in ["张", "晋检刑诉", &id_number[..17]] {
        assert_eq!(mz.to_do(to_do(search)).await.unwrap().total, 0, "{search}");
    }
    let days = |from: &str, to: &str| pb::ToDoRequest {
        submitted_from: from.into(),
        submitted_to: to.into(),
        ..Default::default()
    };
    assert_eq!(ids(&mz.to_do(days("2026-09-11", "")).await.unwrap()), [li.id.as_str()]);
    assert_eq!(ids(&mz.to_do(days("", "2026/9/10")).await.unwrap()), [zhang.id.as_str()]);

    // The lists search alike.
    let list = |search: &str| pb::ListReferralsRequest {
        direction: pb::Direction::Sent as i32,
        search: search.into(),
        ..Default::default()
    };
    let listed = jcy.list(list("李四")).await.unwrap().referrals;
    assert_eq!(listed.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [li.id.as_str()]);
    // The office sees no person: it finds by case reference, never by name.
    let office_list = |search: &str| pb::ListReferralsRequest { search: search.into(), ..Default::default() };
    assert!(office.list(office_list("李四")).await.unwrap().referrals.is_empty());
    assert!(office.list(office_list(&id_number)).await.unwrap().referrals.is_empty());
    let by_case = office.list(office_list("晋检刑诉〔2026〕8号")).await.unwrap().referrals;
    assert_eq!(by_case.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [li.id.as_str()]);

    // The office's deadlines, by 案号 (the view of every outstanding one).
    let deadlines = |reference: &str| pb::ListDeadlinesRequest {
        view: pb::DeadlineView::Unspecified as i32,
        case_reference: reference.into(),
        ..Default::default()
    };
    let found = office.list_deadlines(deadlines("晋检刑诉〔2026〕7号")).await.unwrap().deadlines;
    assert!(!found.is_empty() && found.iter().all(|d| d.referral_id == zhang.id), "{found:?}");
    assert!(office.list_deadlines(deadlines("晋检刑诉〔2026〕9号")).await.unwrap().deadlines.is_empty());
    let err = office.list_deadlines(deadlines(&"号".repeat(101))).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["case_reference"]);

    // Bad input: each field named, no value echoed.
    let bad = pb::ToDoRequest {
        search: "张".repeat(101),
        submitted_from: "2026-09-12".into(),
        submitted_to: "2026-09-11".into(),
        page_size: 500,
        ..Default::default()
    };
    let err = mz.to_do(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&err), ["search", "submitted_to", "page_size"]);
    assert!(!err.message().contains("张张"), "{}", err.message());
    let err = jcy.list(pb::ListReferralsRequest { submitted_from: "2026-13-01".into(), ..list("") }).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["submitted_from"]);
}

#[tokio::test]
async fn referrals_written_before_names_had_a_blind_index_are_found_by_name_after_a_restart() {
    let hub = TestHub::start_on(Data::sqlite()).await;
    let jcy = hub.client("jcy").await;
    let wang =
        jcy.submit(named("王五", "晋检刑诉〔2026〕5号"), vec!["mz".into()], None).await.unwrap().referrals.remove(0);
    let data = hub.stop().await;
    // As a store written before the index was: no name indexed.
    let db = rusqlite::Connection::open(data.dir.path().join("xianjie.db")).unwrap();
    assert_eq!(db.execute("UPDATE referrals SET name_index = NULL", []).unwrap(), 1);
    drop(db);
    let hub = TestHub::start_on(data).await;
    let mz = hub.client("mz").await;
    let found = mz.to_do(to_do("王五")).await.unwrap();
    assert_eq!(awaits(&found), [(wang.id.clone(), "receive".to_owned())]);
}
