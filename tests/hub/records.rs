//! The records of the joint meeting: ledgers (台账) exported over the API and read back
//! by independent readers (openpyxl, Python's csv).

use std::path::Path;

use serde_json::{json, Value};
use xianjie::{
    client::Client,
    domain::date::china,
    proto::{self as pb, DeadlineKind as K, DeadlineState as S},
};

use crate::support::*;

/// Sets the hub's clock to 10:00 in China on `day`.
fn on(hub: &TestHub, day: &str) {
    hub.clock.set(at(&format!("{day}T02:00:00Z")));
}

fn china_day(at: &Option<prost_types::Timestamp>) -> String {
    let at = at.as_ref().expect("a time");
    chrono::DateTime::from_timestamp(at.seconds, 0).unwrap().with_timezone(&china()).date_naive().to_string()
}

fn referral_on(investigation_ended_on: &str, name: &str) -> pb::ReferralDraft {
    pb::ReferralDraft {
        person: Some(person(name)),
        investigation_ended_on: investigation_ended_on.into(),
        ..referral_draft()
    }
}

fn clue_on(day: &str, urgent: bool) -> pb::ReferralDraft {
    pb::ReferralDraft { discovered_on: day.into(), ..clue_draft(urgent) }
}

fn conclusion(outcome: pb::Outcome, on: &str, aid: pb::AidKind, fen: i64) -> pb::Conclusion {
    pb::Conclusion { outcome: outcome as i32, aids: vec![pb::Aid { kind: aid as i32, fen }], ..granted(on) }
}

/// A follow-up visit on `on`.
fn visit(on: &str, method: pb::VisitMethod, aid_in_place: bool, effect: pb::VisitEffect, another: bool) -> pb::Visit {
    pb::Visit {
        visited_on: on.into(),
        method: method as i32,
        visitor: "李明".into(),
        findings: "救助金已到账，生活明显好转".into(),
        aid_in_place,
        effect: effect as i32,
        another_referral: another,
        ..Default::default()
    }
}

async fn first(sent: Result<pb::SubmitResponse, tonic::Status>) -> String {
    sent.unwrap().referrals.remove(0).id
}

/// What the ledger's row of `id` must say, from what the hub answers `reader`.
async fn expected_row(reader: &Client, id: &str, masked: bool) -> Value {
    let got = reader.get(id).await.unwrap();
    let r = got.referral.unwrap();
    let person = r.person.clone().unwrap();
    let mut row = serde_json::Map::new();
    if !masked {
        row.insert("当事人".into(), json!(person.name));
        row.insert("公民身份号码".into(), json!(person.id_number));
        row.insert("联系电话".into(), json!(person.phone));
    }
    row.insert("移送日期".into(), json!(china_day(&r.submitted_at)));
    // 经办人: the clerk of each party's newest entry, 系统 for a unit's own certificate.
    for (column, party) in [("移送经办人", &r.sender), ("承办经办人", &r.recipient)] {
        let newest = got.history.iter().rev().find(|e| &e.actor == party);
        let clerk = newest.map(|e| if e.clerk.is_empty() { "系统".to_owned() } else { e.clerk.clone() });
        row.insert(column.into(), json!(clerk));
    }
    let first_of =
        |kind: pb::ReferralEventKind| got.history.iter().find(|e| e.kind == kind as i32).map(|e| china_day(&e.at));
    row.insert("签收日期".into(), json!(first_of(pb::ReferralEventKind::Received)));
    row.insert("启动日期".into(), json!(first_of(pb::ReferralEventKind::Started)));
    row.insert("反馈日期".into(), json!(first_of(pb::ReferralEventKind::FedBack)));
    let kinds =
        [(K::Send, "移送"), (K::Start, "启动"), (K::Feedback, "反馈"), (K::Urgent, "紧急签收"), (K::Visit, "回访")];
    for (kind, label) in kinds {
        let d = got.deadlines.iter().find(|d| d.kind == kind as i32);
        let state = d.map(|d| match S::try_from(d.state).unwrap() {
            S::Open => "未到期",
            S::Met => "按期",
            S::MetLate => "逾期办理",
            S::Missed if d.closed_on.is_empty() => "已逾期，尚未办理",
            S::Missed => "逾期未办（已退回或撤回）",
            S::Cancelled => "已取消",
            S::Unspecified => "?",
        });
        row.insert(format!("{label}期限到期日"), json!(d.map(|d| d.due_on.clone())));
        row.insert(format!("{label}期限情况"), json!(state));
        row.insert(format!("{label}逾期工作日"), json!(d.map(|d| d.working_days_late)));
    }
    let conclusion = r.conclusion.as_ref();
    row.insert("办结日期".into(), json!(conclusion.map(|c| c.concluded_on.clone())));
    let amount = conclusion.map(|c| c.amount_fen).filter(|&fen| fen > 0).map(|fen| fen as f64 / 100.0);
    row.insert("救助金额合计（元）".into(), json!(amount));
    let kinds: Vec<String> = conclusion
        .map(|c| {
            c.aids
                .iter()
                .map(|a| match (pb::AidKind::try_from(a.kind).unwrap(), a.fen) {
                    (pb::AidKind::Subsistence, fen) => format!("纳入低保 {}.{:02} 元", fen / 100, fen % 100),
                    (pb::AidKind::Temporary, fen) => format!("临时救助 {}.{:02} 元", fen / 100, fen % 100),
                    (pb::AidKind::LegalAid, 0) => "法律援助".into(),
                    (kind, fen) => panic!("no wording for {kind:?} {fen} in this test"),
                })
                .collect()
        })
        .unwrap_or_default();
    row.insert("救助种类及金额".into(), json!(if kinds.is_empty() { None } else { Some(kinds.join("；")) }));
    row.insert("回访次数".into(), json!(got.visits.len()));
    row.insert("末次回访日期".into(), json!(got.visits.last().map(|v| v.visited_on.clone())));
    Value::Object(row)
}

fn check_with_python(expected: &Value, dir: &Path) -> Value {
    let file = dir.join("expected.json");
    std::fs::write(&file, serde_json::to_vec(expected).unwrap()).unwrap();
    let output = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/ledger_check.py"))
        .arg(&file)
        .output()
        .expect("python3 runs (scripts/test.sh installs openpyxl)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the ledgers as openpyxl and csv read them: {stderr}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn ledgers_read_back_by_openpyxl_agree_with_the_hub_over_two_years_with_holidays() {
    let hub = TestHub::start().await;
    let (jcy, mz, jy, office) =
        (hub.client("jcy").await, hub.client("mz").await, hub.client("jy").await, hub.client("office").await);
    let granted_aid = |on: &str, fen| conclusion(pb::Outcome::Granted, on, pb::AidKind::Subsistence, fen);

    // 2025: across National Day, started on the last day of its period.
    on(&hub, "2025-09-26");
    let a = first(jcy.submit(referral_on("2025-09-25", "甲某"), vec!["mz".into()], None).await).await;
    mz.receive(&a).await.unwrap();
    on(&hub, "2025-10-10");
    mz.start(&a).await.unwrap();
    on(&hub, "2025-12-30");
    let late_2025 = first(jcy.submit(referral_on("2025-12-29", "乙某"), vec!["mz".into()], None).await).await;
    // 2026: across the Spring Festival (a Saturday worked, nine days off).
    on(&hub, "2026-02-12");
    let b = first(jcy.submit(referral_on("2026-02-06", "丙某"), vec!["mz".into()], None).await).await;
    on(&hub, "2026-02-13");
    mz.receive(&b).await.unwrap();
    mz.receive(&late_2025).await.unwrap();
    on(&hub, "2026-02-27");
    mz.start(&b).await.unwrap();
    on(&hub, "2026-03-10");
    let mut two_kinds = granted_aid("2026-03-10", 300_000);
    two_kinds.aids.push(pb::Aid { kind: pb::AidKind::LegalAid as i32, fen: 0 });
    mz.conclude(&b, two_kinds, None).await.unwrap();
    on(&hub, "2026-03-02");
    let c = jcy.submit(referral_on("2026-02-27", "丁某"), vec!["mz".into(), "jy".into()], None).await.unwrap();
    let (c_mz, c_jy) = (c.referrals[0].id.clone(), c.referrals[1].id.clone());
    on(&hub, "2026-03-03");
    mz.return_referral(&c_mz, "不属于本单位职责").await.unwrap();
    jy.receive(&c_jy).await.unwrap();
    on(&hub, "2026-03-20");
    mz.feedback(&b, "已纳入低保并反馈").await.unwrap();
    on(&hub, "2026-04-01");
    let d = first(mz.submit(clue_on("2026-04-01", false), vec!["jcy".into()], None).await).await;
    jcy.receive(&d).await.unwrap();
    jcy.start(&d).await.unwrap();
    let refused = pb::Conclusion {
        outcome: pb::Outcome::NotGranted as i32,
        refusal_grounds: vec![pb::RefusalGround::AlreadyAssisted as i32],
        aids: vec![],
        ..granted("2026-04-01")
    };
    jcy.conclude(&d, refused, Some("不予救助：已获赔偿".into())).await.unwrap();
    on(&hub, "2026-05-06");
    let e = first(jcy.submit(referral_on("2026-05-06", "戊某"), vec!["mz".into()], None).await).await;
    on(&hub, "2026-05-07");
    jcy.withdraw(&e, "当事人已获赔偿").await.unwrap();
    on(&hub, "2026-06-01");
    let f = first(jcy.submit(referral_on("2026-06-01", "己某"), vec!["rs".into()], None).await).await;
    // b's follow-up visit, due 06-10 (three months after the conclusion), made on the
    // 18th and recorded on Saturday the 20th, after the Dragon Boat Festival (06-19):
    // recorded late by six working days (06-11 to 06-18).
    on(&hub, "2026-06-20");
    mz.visit(&b, visit("2026-06-18", pb::VisitMethod::Home, true, pb::VisitEffect::Marked, false)).await.unwrap();
    on(&hub, "2026-07-01");
    let g = first(mz.submit(clue_on("2026-07-01", true), vec!["jcy".into()], None).await).await;
    jcy.receive(&g).await.unwrap();
    on(&hub, "2026-09-25");
    let h = first(jcy.submit(referral_on("2026-09-25", "庚某"), vec!["mz".into()], None).await).await;
    mz.receive(&h).await.unwrap();
    on(&hub, "2026-10-09");
    mz.start(&h).await.unwrap();
    let partial = conclusion(pb::Outcome::PartiallyGranted, "2026-10-09", pb::AidKind::Temporary, 123_456);
    mz.conclude(&h, partial, Some("临时救助 1234.56 元".into())).await.unwrap();
    on(&hub, "2026-10-20");
    let i = first(jcy.submit(referral_on("2026-10-19", "辛某"), vec!["mz".into()], None).await).await;
    on(&hub, "2026-11-20");
    // The scanner has marked i's start deadline missed, as the API then says.
    eventually(|| async {
        mz.get(&i).await.unwrap().deadlines.iter().any(|d| d.kind == K::Start as i32 && d.state == S::Missed as i32)
    })
    .await;

    // What a clerk would compute by hand, against the hub: delivered on Thursday 02-12,
    // the start deadline ran over Friday, the Saturday worked (02-14) and, after nine
    // days off, 02-24 to 02-26; started 02-27, one working day late. Feedback was due
    // 03-17 and came 03-20, three working days late; jy never started, missed since its 03-09.
    let got_b = mz.get(&b).await.unwrap().deadlines;
    let of = |all: &[pb::Deadline], kind: K| all.iter().find(|d| d.kind == kind as i32).cloned().unwrap();
    let start = of(&got_b, K::Start);
    assert_eq!((start.due_on.as_str(), start.state, start.working_days_late), ("2026-02-26", S::MetLate as i32, 1));
    let feedback = of(&got_b, K::Feedback);
    assert_eq!(
        (feedback.due_on.as_str(), feedback.state, feedback.working_days_late),
        ("2026-03-17", S::MetLate as i32, 3)
    );
    let visit = of(&got_b, K::Visit);
    assert_eq!((visit.due_on.as_str(), visit.state, visit.working_days_late), ("2026-06-10", S::MetLate as i32, 6));
    let jy_start = of(&jy.get(&c_jy).await.unwrap().deadlines, K::Start);
    assert_eq!((jy_start.due_on.as_str(), jy_start.state), ("2026-03-09", S::Missed as i32));

    let dir = tempfile::tempdir().unwrap();
    let year = |y| pb::Period { year: y, ..Default::default() };
    let mz_2026 = mz.save_ledger(year(2026), pb::TableFormat::Xlsx, dir.path()).await.unwrap();
    assert_eq!(mz_2026.file_name, "台账-mz-2026.xlsx");
    let mz_csv = mz.save_ledger(year(2026), pb::TableFormat::Csv, &dir.path().join("mz.csv")).await.unwrap();
    let mz_2025 = mz.save_ledger(year(2025), pb::TableFormat::Xlsx, &dir.path().join("mz-2025.xlsx")).await.unwrap();
    let office_2026 = office.save_ledger(year(2026), pb::TableFormat::Xlsx, dir.path()).await.unwrap();
    let q1 = pb::Period { year: 2026, quarter: 1, ..Default::default() };
    let mz_q1 = mz.save_ledger(q1, pb::TableFormat::Xlsx, dir.path()).await.unwrap();

    // mz's 2026: what it sent or received, oldest first; not f (jcy → rs).
    let mut mine = Vec::new();
    for id in [&b, &c_mz, &d, &e, &g, &h, &i] {
        mine.push(expected_row(&mz, id, false).await);
    }
    let mut q1_rows = Vec::new();
    for id in [&b, &c_mz] {
        q1_rows.push(expected_row(&mz, id, false).await);
    }
    let mut year_2025 = Vec::new();
    for id in [&a, &late_2025] {
        year_2025.push(expected_row(&mz, id, false).await);
    }
    let mut all = Vec::new();
    // Referrals submitted at the same instant (c's two) follow in the order of their ids.
    let (c_first, c_second) = if c_mz < c_jy { (&c_mz, &c_jy) } else { (&c_jy, &c_mz) };
    for id in [&b, c_first, c_second, &d, &e, &f, &g, &h, &i] {
        all.push(expected_row(&office, id, true).await);
    }
    let expected = json!({"ledgers": [
        {"path": mz_2026.path, "rows": mine},
        {"path": mz_csv.path, "rows": mine},
        {"path": mz_2025.path, "rows": year_2025},
        {"path": mz_q1.path, "rows": q1_rows},
        {"path": office_2026.path, "rows": all, "masked": true},
    ]});
    let seen = check_with_python(&expected, dir.path());
    let headers = &seen[mz_2026.path.to_str().unwrap()]["headers"];
    assert_eq!(headers[0], "序号");
    assert!(headers.as_array().unwrap().iter().any(|h| h == "启动期限情况"));
    assert_eq!(seen[mz_2026.path.to_str().unwrap()]["title"], "晋江市民政局救助衔接台账（2026年）");

    // The money, to the fen, and the aid named.
    let csv = std::fs::read_to_string(&mz_csv.path).unwrap();
    assert!(csv.contains(",纳入低保 3000.00 元；法律援助,3000.00,"), "{csv}");
    assert!(csv.contains(",临时救助 1234.56 元,1234.56,"), "{csv}");
    assert!(!csv.contains("己某"), "another member's referral is not in mz's ledger");
}

#[tokio::test]
async fn a_ledger_refuses_a_bad_period_by_its_field_and_the_admin() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    let dir = tempfile::tempdir().unwrap();
    for (period, field) in [
        (pb::Period::default(), "period.year"),
        (pb::Period { year: 2026, quarter: 5, ..Default::default() }, "period.quarter"),
        (pb::Period { year: 2026, month: 13, ..Default::default() }, "period.month"),
        (pb::Period { from: "2026-03-01".into(), to: "2026-02-01".into(), ..Default::default() }, "period.to"),
        (pb::Period { from: "2026-02-30".into(), to: "2026-03-01".into(), ..Default::default() }, "period.from"),
    ] {
        let refused = mz.save_ledger(period, pb::TableFormat::Xlsx, dir.path()).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert_eq!(bad_fields(&refused), [field]);
    }
    let year = pb::Period { year: 2026, ..Default::default() };
    let refused = mz.save_ledger(year.clone(), pb::TableFormat::Unspecified, dir.path()).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["format"]);
    let admin = hub.client("admin").await.save_ledger(year, pb::TableFormat::Xlsx, dir.path()).await.unwrap_err();
    assert_eq!(admin.code(), tonic::Code::PermissionDenied);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
}

/// A ledger longer than its pages of 2,000 (all submitted in the same instant, so that
/// the pages follow one another by id) lists each referral once, oldest first, its
/// person's name, ID number and phone opened for the member, and the export is audited
/// as a read of every referral it lists.
#[tokio::test]
async fn a_ledger_longer_than_a_page_lists_each_referral_once_and_audits_them_all() {
    const COUNT: usize = 2_150;
    let data = Data {
        tune: |c| {
            c.requests_per_second = 1_000_000;
            c.request_burst = 1_000_000;
        },
        ..Data::fresh().await
    };
    let hub = TestHub::start_on(data).await;
    let jcy = hub.client("jcy").await;
    let mut sending = tokio::task::JoinSet::new();
    for first in 0..16 {
        let jcy = jcy.clone();
        sending.spawn(async move {
            let mut ids = Vec::new();
            for _ in (first..COUNT).step_by(16) {
                let sent = jcy.submit(referral_draft(), vec!["mz".into()], None).await;
                ids.push(sent.unwrap().referrals.remove(0).id);
            }
            ids
        });
    }
    let mut sent = Vec::new();
    while let Some(ids) = sending.join_next().await {
        sent.extend(ids.unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let year = pb::Period { year: 2026, ..Default::default() };
    let saved = jcy.save_ledger(year, pb::TableFormat::Csv, dir.path()).await.unwrap();
    let text = std::fs::read_to_string(&saved.path).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let headers: Vec<&str> = lines.next().expect("a header row").split(',').collect();
    let column = |name: &str| headers.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), COUNT, "one row per referral");
    let serials: Vec<String> = rows.iter().map(|r| r[column("序号")].to_owned()).collect();
    assert_eq!(serials, (1..=COUNT).map(|n| n.to_string()).collect::<Vec<_>>());
    let numbers: std::collections::HashSet<&str> = rows.iter().map(|r| r[column("文号")]).collect();
    assert_eq!(numbers.len(), COUNT, "no referral twice");
    for row in &rows {
        assert_eq!((row[column("当事人")], row[column("联系电话")]), ("李某", "13800000000"));
        assert_eq!(row[column("公民身份号码")].len(), 18);
        assert_eq!(row[column("启动期限到期日")].len(), "2026-01-01".len(), "each page's deadlines read with it");
    }

    let audited = sql_texts(&hub.data, "SELECT referrals FROM audit_log WHERE action = 'ExportLedger'").await;
    assert_eq!(audited.len(), 1, "one entry for a ledger of fewer than 20,000");
    let mut listed: Vec<&str> = audited[0].split(',').collect();
    listed.sort_unstable();
    sent.sort_unstable();
    assert_eq!(listed, sent, "the entry names every referral listed");
}

/// A story over two years whose figures were counted by hand.
async fn two_years(hub: &TestHub) -> [Client; 6] {
    let [jcy, mz, jy, rs, fl, office] = [
        hub.client("jcy").await,
        hub.client("mz").await,
        hub.client("jy").await,
        hub.client("rs").await,
        hub.client("fl").await,
        hub.client("office").await,
    ];
    let groups = |draft: pb::ReferralDraft, groups: &[pb::PriorityGroup]| pb::ReferralDraft {
        priority_groups: groups.iter().map(|g| *g as i32).collect(),
        ..draft
    };
    let p1 = person("周某");
    // 2025.
    on(hub, "2025-03-03");
    let draft = pb::ReferralDraft { person: Some(p1.clone()), ..referral_on("2025-02-28", "") };
    let r1 = first(jcy.submit(draft, vec!["mz".into()], None).await).await;
    on(hub, "2025-03-05");
    mz.receive(&r1).await.unwrap();
    mz.start(&r1).await.unwrap();
    on(hub, "2025-03-10");
    mz.conclude(&r1, conclusion(pb::Outcome::Granted, "2025-03-10", pb::AidKind::Subsistence, 200_000), None)
        .await
        .unwrap();
    on(hub, "2025-03-12");
    mz.feedback(&r1, "已纳入低保").await.unwrap();
    on(hub, "2025-04-01");
    let draft = groups(referral_on("2025-03-31", "吴某"), &[pb::PriorityGroup::Minor]);
    let r2 = jcy.submit(draft, vec!["mz".into(), "jy".into()], None).await.unwrap();
    on(hub, "2025-04-03");
    let r2_mz = r2.referrals.iter().find(|r| r.recipient == "mz").unwrap().id.clone();
    mz.receive(&r2_mz).await.unwrap();
    mz.start(&r2_mz).await.unwrap();
    on(hub, "2025-04-07");
    jcy.mark_key_case(&r2.case_id, "同一家庭多名未成年子女，需多部门共同帮扶").await.unwrap();
    on(hub, "2025-06-02");
    let r3 = first(mz.submit(clue_on("2025-06-02", false), vec!["jcy".into()], None).await).await;
    on(hub, "2025-06-03");
    jcy.receive(&r3).await.unwrap();
    jcy.start(&r3).await.unwrap();
    on(hub, "2025-06-04");
    let aid = conclusion(pb::Outcome::Granted, "2025-06-04", pb::AidKind::JudicialAssistance, 1_000_000);
    jcy.conclude(&r3, aid, Some("已发放司法救助金".into())).await.unwrap();
    // 2026: the same person again, to two agencies at once.
    on(hub, "2026-03-02");
    let draft = pb::ReferralDraft { person: Some(p1), ..referral_on("2026-02-27", "") };
    let r4 = jcy.submit(draft, vec!["mz".into(), "jy".into()], None).await.unwrap();
    let of = |to: &str| r4.referrals.iter().find(|r| r.recipient == to).unwrap().id.clone();
    let (r4_mz, r4_jy) = (of("mz"), of("jy"));
    on(hub, "2026-03-06");
    mz.receive(&r4_mz).await.unwrap();
    mz.start(&r4_mz).await.unwrap();
    on(hub, "2026-03-10");
    // Two kinds of aid in one conclusion: one conclusion, counted under each kind.
    let mut aid = conclusion(pb::Outcome::Granted, "2026-03-10", pb::AidKind::Temporary, 123_456);
    aid.aids.push(pb::Aid { kind: pb::AidKind::Medical as i32, fen: 20_000 });
    mz.conclude(&r4_mz, aid, Some("临时救助及医疗救助".into())).await.unwrap();
    on(hub, "2026-03-12");
    jy.receive(&r4_jy).await.unwrap();
    jy.start(&r4_jy).await.unwrap();
    on(hub, "2026-03-13");
    let aid = conclusion(pb::Outcome::Granted, "2026-03-13", pb::AidKind::Schooling, 50_000);
    jy.conclude(&r4_jy, aid, Some("助学金".into())).await.unwrap();
    on(hub, "2026-03-20");
    office.mark_key_case(&r4.case_id, "三年内第三次移送，困难仍未缓解").await.unwrap();
    on(hub, "2026-05-06");
    let draft = groups(referral_on("2026-05-05", "郑某"), &[pb::PriorityGroup::Disabled, pb::PriorityGroup::Minor]);
    let r5 = first(jcy.submit(draft, vec!["rs".into()], None).await).await;
    on(hub, "2026-05-07");
    rs.return_referral(&r5, "请转残联").await.unwrap();
    on(hub, "2026-06-01");
    let r6 = first(mz.submit(clue_on("2026-06-01", false), vec!["jcy".into()], None).await).await;
    on(hub, "2026-06-02");
    jcy.receive(&r6).await.unwrap();
    jcy.start(&r6).await.unwrap();
    on(hub, "2026-06-03");
    let refused = pb::Conclusion {
        outcome: pb::Outcome::NotGranted as i32,
        refusal_grounds: vec![pb::RefusalGround::AlreadyAssisted as i32],
        aids: vec![],
        ..granted("2026-06-03")
    };
    jcy.conclude(&r6, refused, Some("不予救助".into())).await.unwrap();
    // Follow-up visits of 2026: 民政 on time (due 06-10), 教育 late (due 06-15); those of
    // 2025 (r1 due 06-10, r3 due 09-04) were never made.
    on(hub, "2026-06-08");
    mz.visit(&r4_mz, visit("2026-06-05", pb::VisitMethod::Home, true, pb::VisitEffect::Marked, false)).await.unwrap();
    on(hub, "2026-07-01");
    let urgent = groups(clue_on("2026-07-01", true), &[pb::PriorityGroup::Woman]);
    let r7 = first(fl.submit(urgent, vec!["jcy".into()], None).await).await;
    jcy.receive(&r7).await.unwrap();
    on(hub, "2026-07-02");
    jy.visit(&r4_jy, visit("2026-07-02", pb::VisitMethod::Phone, false, pb::VisitEffect::Some, true)).await.unwrap();
    on(hub, "2026-11-20");
    // The office chases the procuratorate's start of the urgent clue.
    office.remind(&r7, pb::DeadlineKind::Start, "请尽快启动司法救助程序").await.unwrap();
    [jcy, mz, jy, rs, fl, office]
}

fn line<'a>(figures: &'a pb::Figures, label: &str) -> &'a pb::FigureLine {
    figures.lines.iter().find(|l| l.label == label).unwrap_or_else(|| panic!("no line {label}"))
}

#[tokio::test]
async fn the_figures_of_two_years_agree_with_a_count_by_hand() {
    let hub = TestHub::start().await;
    let [_, mz, _, _, _, office] = two_years(&hub).await;
    let year = pb::Period { year: 2026, ..Default::default() };
    let f = office.figures(year.clone()).await.unwrap();
    assert_eq!(f.title, "关于2026年司法救助与社会救助衔接工作情况的通报");
    let (this, before) = (f.this_period.clone().unwrap(), f.year_before.clone().unwrap());
    assert_eq!(
        (before.from.as_str(), before.to.as_str(), before.label.as_str()),
        ("2025-01-01", "2025-12-31", "2025年")
    );
    // Referrals and clues each way; 周某 twice in 2026 (and once in 2025) is one person.
    assert_eq!((this.referrals, this.clues, this.persons, this.one_plus_n_cases), (3, 2, 4, 1));
    assert_eq!((before.referrals, before.clues, before.persons, before.one_plus_n_cases), (3, 1, 3, 1));
    let flows = |set: &pb::FigureSet, m: &str| {
        let f = set.members.iter().find(|f| f.member == m).cloned().unwrap_or_default();
        (f.referrals_sent, f.referrals_received, f.clues_sent, f.clues_received)
    };
    assert_eq!(flows(&this, "jcy"), (3, 0, 0, 2));
    assert_eq!(flows(&this, "mz"), (0, 1, 1, 0));
    assert_eq!(flows(&this, "fl"), (0, 0, 1, 0));
    // Outcomes, refusals and the money to the fen.
    assert_eq!(this.outcomes.get("granted"), Some(&2));
    assert_eq!(this.outcomes.get("not_granted"), Some(&1));
    assert_eq!(this.refusal_grounds.get("already_assisted"), Some(&1));
    assert_eq!(this.granted_fen, 123_456 + 20_000 + 50_000);
    assert_eq!(before.granted_fen, 200_000 + 1_000_000);
    let amount = |set: &pb::FigureSet, aid: pb::AidKind| {
        set.amounts.iter().find(|a| a.aid == aid as i32).map(|a| (a.count, a.fen))
    };
    assert_eq!(amount(&this, pb::AidKind::Temporary), Some((1, 123_456)));
    assert_eq!(amount(&this, pb::AidKind::Medical), Some((1, 20_000)));
    assert_eq!(amount(&this, pb::AidKind::Schooling), Some((1, 50_000)));
    assert_eq!(amount(&before, pb::AidKind::JudicialAssistance), Some((1, 1_000_000)));
    // Start deadlines falling due in 2026: mz and jcy (r6) on time, jy three days late,
    // jcy never started the urgent clue (missed); rs's was cancelled by the return.
    let kept = |m: &str, kind: K| {
        let k = this.kept.iter().find(|k| k.member == m && k.kind == kind as i32).cloned().unwrap_or_default();
        (k.met, k.met_late, k.missed)
    };
    assert_eq!(kept("mz", K::Start), (1, 0, 0));
    assert_eq!(kept("jy", K::Start), (0, 1, 0));
    assert_eq!(kept("jcy", K::Start), (1, 0, 1));
    assert_eq!(kept("rs", K::Start), (0, 0, 0));
    assert_eq!(line(&f, "启动期限按期率").this_period, "50.0%");
    assert_eq!((line(&f, "催办（次）").this_period.as_str(), line(&f, "催办（次）").year_before.as_str()), ("1", "0"));
    assert_eq!(line(&f, "检察院：被催办（次）").this_period, "1");
    assert_eq!(line(&f, "反馈期限按期率").this_period, "100.0%");
    // Working days to start: 1 (r6), 4 (mz), 8 (jy): median 4, 90th percentile 8;
    // the year before 1, 2, 2 (Qingming did not fall within).
    let days = |set: &pb::FigureSet| set.days_to_start.map(|d| (d.count, d.median, d.p90)).unwrap();
    assert_eq!(days(&this), (3, 4, 8));
    assert_eq!(days(&before), (3, 2, 2));
    assert_eq!(this.days_to_feedback.map(|d| (d.count, d.median)), Some((3, 0)));
    assert_eq!(this.priority_groups.get("woman"), Some(&3));
    assert_eq!(this.priority_groups.get("minor"), Some(&1));
    assert_eq!(before.priority_groups.get("minor"), Some(&2));
    // The year-on-year change, as the report says it.
    assert_eq!(line(&f, "涉及人数（人，按身份证号去重）").change, "上升 33.3%");
    assert_eq!(line(&f, "社会救助移送（件）").change, "持平");
    let total = line(&f, "救助金额合计");
    assert_eq!((total.this_period.as_str(), total.year_before.as_str()), ("1934.56 元", "12000.00 元"));
    assert_eq!(total.change, "下降 83.9%");
    // Overdue now: jy's start of 2025 and jcy's start of the urgent clue; apart, the
    // visits of 2025 never made (mz's of r1, jcy's of r3).
    let overdue = |kind: K| f.overdue_now.iter().filter(|o| o.kind == kind as i32).map(|o| o.count).sum::<u64>();
    assert_eq!(overdue(K::Start) + overdue(K::Urgent), 2);
    assert_eq!(overdue(K::Visit), 2);
    // Follow-up visits: due in 2026 mz's (on time) and jy's (late); in 2025 two missed.
    assert_eq!(kept("mz", K::Visit), (1, 0, 0));
    assert_eq!(kept("jy", K::Visit), (0, 1, 0));
    assert_eq!(line(&f, "应回访（件，回访期限在本期届满）").this_period, "2");
    assert_eq!(line(&f, "按期回访率").this_period, "50.0%");
    assert_eq!(line(&f, "逾期未回访（件）").year_before, "2");
    assert_eq!(line(&f, "按期回访率").year_before, "0.0%");
    let visits = this.visits.clone().unwrap();
    assert_eq!((visits.visits, visits.aid_in_place, visits.another_referral), (2, 1, 1));
    assert_eq!((visits.effects.get("marked"), visits.effects.get("some")), (Some(&1), Some(&1)));
    assert_eq!(before.visits.unwrap().visits, 0);
    assert_eq!(line(&f, "明显改善（次）").this_period, "1");
    assert!(f.lines.iter().all(|l| l.label != "回访期限按期率"), "visits are listed apart from the statutory");
    // Key persons: the office's mark of 2026, the procuratorate's of 2025.
    assert_eq!((this.key_cases, before.key_cases), (1, 1));
    assert_eq!(f.key_cases.len(), 1);
    let key = &f.key_cases[0];
    assert_eq!((key.reason.as_str(), key.marked_by.as_str()), ("三年内第三次移送，困难仍未缓解", "office"));
    assert_eq!(
        (key.members.clone(), key.referrals, key.state),
        (vec!["jcy".to_owned(), "jy".into(), "mz".into()], 2, pb::CaseState::FedBack as i32),
    );

    // 民政's own: only what it sent, received or answered for.
    let own = mz.figures(year).await.unwrap();
    assert_eq!(own.title, "晋江市民政局2026年司法救助与社会救助衔接工作情况");
    let set = own.this_period.unwrap();
    assert_eq!((set.referrals, set.clues, set.persons, set.granted_fen), (1, 1, 2, 143_456));
    assert!(set.kept.iter().all(|k| k.member == "mz"));
    assert_eq!(own.overdue_now.iter().map(|o| (o.kind, o.count)).collect::<Vec<_>>(), [(K::Visit as i32, 1)]);
    assert!(own.key_cases.is_empty() || own.key_cases.iter().all(|k| k.members.contains(&"mz".to_owned())));
}

#[tokio::test]
async fn the_figures_are_saved_as_a_table_and_printed_by_the_command_line() {
    let hub = TestHub::start().await;
    let [.., office] = two_years(&hub).await;
    let dir = tempfile::tempdir().unwrap();
    let q1 = pb::Period { year: 2026, quarter: 1, ..Default::default() };
    let saved = office.save_figures(q1.clone(), pb::TableFormat::Xlsx, dir.path()).await.unwrap();
    assert_eq!(saved.file_name, "数据-office-2026Q1.xlsx");
    let f = office.figures(q1).await.unwrap();
    let lines = f.lines.len() + f.key_cases.len();
    let read = std::process::Command::new("python3")
        .args([
            "-c",
            "import openpyxl,sys; s=openpyxl.load_workbook(sys.argv[1]).worksheets[0]; \
                      r=list(s.iter_rows(values_only=True)); print(len(r)-1, r[0][2], r[0][3], r[1][1], r[1][2])",
        ])
        .arg(&saved.path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&read.stdout);
    assert_eq!(text.trim(), format!("{lines} 2026年第一季度 2025年第一季度 社会救助移送（件） 2"));
    // Awaited: the hub serves from this test's own runtime.
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["office", "--endpoint", &hub.endpoint(), "--pki-dir"])
        .arg(hub.pki())
        .args(["figures", "--year", "2026"])
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.starts_with("关于2026年司法救助与社会救助衔接工作情况的通报"), "{out}");
    assert!(out.contains("救助金额合计") && out.contains("1934.56 元") && out.contains("下降 83.9%"), "{out}");
    assert!(
        out.contains("重点救助对象（提请联席会议研究）\n  1. jcy、jy、mz  三年内第三次移送，困难仍未缓解"),
        "{out}"
    );
    assert!(out.contains("逾期未办的法定期限 2 项；逾期未回访 2 件"), "{out}");
    // `--xlsx FILE`, as the office would spell it.
    let file = dir.path().join("数据.xlsx");
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["office", "figures", "--year", "2026", "--endpoint", &hub.endpoint(), "--pki-dir"])
        .arg(hub.pki())
        .arg("--xlsx")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(std::fs::read(&file).unwrap().starts_with(b"PK"), "an XLSX (zip) file");
}

#[tokio::test]
async fn the_office_and_the_procuratorate_mark_key_cases_for_the_meeting_and_agencies_cannot() {
    let hub = TestHub::start().await;
    let (jcy, mz, office) = (hub.client("jcy").await, hub.client("mz").await, hub.client("office").await);
    on(&hub, "2026-09-15");
    let sent = jcy.submit(referral_on("2026-09-14", "周某"), vec!["mz".into(), "sf".into()], None).await.unwrap();
    let case = sent.case_id.clone();
    let mark = jcy.mark_key_case(&case, "  家中两名未成年子女无人照料  ").await.unwrap();
    assert_eq!((mark.reason.as_str(), mark.marked_by.as_str()), ("家中两名未成年子女无人照料", "jcy"));
    // The office replaces the reason; an agency may not mark; bad requests name the field.
    office.mark_key_case(&case, "需民政、司法共同研究帮扶措施").await.unwrap();
    assert_eq!(mz.mark_key_case(&case, "理由").await.unwrap_err().code(), tonic::Code::PermissionDenied);
    let empty = office.mark_key_case(&case, " ").await.unwrap_err();
    assert_eq!(bad_fields(&empty), ["reason"]);
    assert_eq!(bad_fields(&office.mark_key_case("not-a-case", "理由").await.unwrap_err()), ["case_id"]);
    let unknown = office.mark_key_case(&uuid::Uuid::nil().to_string(), "理由").await.unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    let year = pb::Period { year: 2026, ..Default::default() };
    let f = office.figures(year.clone()).await.unwrap();
    let listed: Vec<_> = f.key_cases.iter().map(|k| (k.reason.as_str(), k.marked_by.as_str(), k.state)).collect();
    assert_eq!(listed, [("需民政、司法共同研究帮扶措施", "office", pb::CaseState::Open as i32)]);
    assert_eq!(jcy.figures(year.clone()).await.unwrap().key_cases.len(), 1, "the procuratorate's own case");
    assert!(hub.client("jy").await.figures(year.clone()).await.unwrap().key_cases.is_empty(), "not jy's case");
    // The ledger says it too, in its own column.
    let dir = tempfile::tempdir().unwrap();
    let saved = mz.save_ledger(year.clone(), pb::TableFormat::Csv, dir.path()).await.unwrap();
    let text = std::fs::read_to_string(&saved.path).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",联席会议重点救助对象"), "{text}");
    assert!(text.lines().nth(1).unwrap().ends_with(",需民政、司法共同研究帮扶措施"), "{text}");

    office.unmark_key_case(&case).await.unwrap();
    assert!(office.figures(year).await.unwrap().key_cases.is_empty());
    let audit = sql_texts(&hub.data, "SELECT action FROM audit_log WHERE action LIKE '%KeyCase' ORDER BY seq").await;
    assert_eq!(audit, ["MarkKeyCase", "MarkKeyCase", "UnmarkKeyCase"]);
}
