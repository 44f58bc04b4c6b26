//! 督办: the office's 督办函 to a member's leader in charge, listing the member's overdue
//! deadlines: numbered gap-free in the office's own series, fixed when issued (the same
//! bytes for the office and the member, their SHA-256 audited), naming no person, told
//! to the member, raising each deadline it lists to 已督办, and counted in the figures.

use sha2::{Digest, Sha256};
use tonic::Code;
use xianjie::{documents::archive, proto as pb};

use crate::support::*;

fn document_text(bytes: &[u8]) -> String {
    let parts = archive::entries(bytes).unwrap();
    String::from_utf8(parts.into_iter().find(|(n, _)| n == "word/document.xml").unwrap().1).unwrap()
}

async fn saved(client: &xianjie::client::Client, id: &str, dir: &std::path::Path) -> Vec<u8> {
    let path = dir.join(format!("{}.docx", uuid::Uuid::new_v4()));
    std::fs::read(client.save_supervision(id, &path).await.unwrap().path).unwrap()
}

#[tokio::test]
async fn the_office_supervises_a_member_with_a_letter_fixed_when_issued() {
    let hub = TestHub::start().await;
    let (jcy, mz, jy, office) =
        (hub.client("jcy").await, hub.client("mz").await, hub.client("jy").await, hub.client("office").await);
    let first = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let second = jcy.submit(referral_draft(), vec!["mz".into(), "jy".into()], None).await.unwrap();
    let (second, to_jy) = (second.referrals[0].id.clone(), second.referrals[1].id.clone());
    jy.receive(&to_jy).await.unwrap();
    jy.start(&to_jy).await.unwrap();

    // Nothing is overdue yet: nothing to supervise, said of the field, nothing issued.
    let refused = office.supervise("mz", "").await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("member"), "{}", refused.message());
    let refused = office.supervise("nobody", "").await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(office.supervisions("").await.unwrap().is_empty());

    // Start was due 09-17; on 09-23 both of 民政's are five working days late. The
    // office chased the first once; 教育 started in time.
    hub.clock.set(at("2026-09-23T02:00:00Z"));
    office.remind(&first, pb::DeadlineKind::Start, "请尽快启动救助程序").await.unwrap();
    let refused = office.supervise("jy", "").await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "教育 has nothing overdue");
    let issued = office.supervise("mz", "请于9月30日前办结并书面反馈。").await.unwrap();
    assert_eq!(issued.number, "晋江衔接办督〔2026〕1号");
    assert_eq!(issued.member, "mz");
    let listed: Vec<(&str, i32)> = issued.deadlines.iter().map(|d| (d.referral_id.as_str(), d.kind)).collect();
    let start = pb::DeadlineKind::Start as i32;
    assert_eq!(listed, vec![(first.as_str(), start), (second.as_str(), start)]);
    let again = office.supervise("mz", "").await.unwrap();
    assert_eq!(again.number, "晋江衔接办督〔2026〕2号", "numbered gap-free in the office's own series");

    // The same bytes for the office and 民政, as issued; nobody else sees it.
    let out = tempfile::tempdir().unwrap();
    let by_office = saved(&office, &issued.id, out.path()).await;
    let by_mz = saved(&mz, &issued.id, out.path()).await;
    assert_eq!(by_office, by_mz);
    let digest: String = Sha256::digest(&by_office).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(issued.sha256, digest);
    let audited = sql_texts(&hub.data, "SELECT detail FROM audit_log WHERE action = 'Supervise'").await;
    assert!(audited.iter().any(|d| d.contains(&issued.number) && d.contains(&digest)), "{audited:?}");
    let path = out.path().join("jy.docx");
    assert_eq!(jy.save_supervision(&issued.id, &path).await.unwrap_err().code(), Code::NotFound);
    assert!(jy.supervisions("").await.unwrap().is_empty());
    assert_eq!(jy.supervisions("mz").await.unwrap().len(), 0, "a member reads only its own");
    assert_eq!(mz.supervisions("").await.unwrap().len(), 2);
    assert_eq!(office.supervisions("mz").await.unwrap()[0].number, again.number, "newest first");
    assert!(office.supervisions("jy").await.unwrap().is_empty());

    // Addressed to 民政's leader in charge, listing each overdue item by its numbers,
    // with the office's note; no person's name or ID number.
    let text = document_text(&by_office);
    let leader = mz.members().await.unwrap().into_iter().find(|m| m.code == "mz").unwrap().contacts.unwrap().leader;
    for expected in [
        format!("晋江市民政局{leader}："),
        "关于督促办理逾期衔接事项的函".to_owned(),
        "晋江衔接办督〔2026〕1号".to_owned(),
        "你单位下列2件衔接事项已超过期限尚未办理".to_owned(),
        "案号晋检刑诉〔2026〕101号：启动期限于9月17日届满，已逾期5个工作日，联席会议办公室已催办1次。".to_owned(),
        "请于9月30日前办结并书面反馈。".to_owned(),
        "晋江市司法救助与社会救助衔接工作联席会议办公室".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected} missing from {text}");
    }
    let person = person("李某");
    assert!(!text.contains(&person.name) && !text.contains(&person.id_number), "the letter names no person");

    // Each deadline it listed stands at 已督办, with the count and the last time.
    let request = pb::ListDeadlinesRequest {
        view: pb::DeadlineView::Overdue as i32,
        responsible: "mz".into(),
        ..Default::default()
    };
    let overdue = office.list_deadlines(request).await.unwrap().deadlines;
    let chased = overdue.iter().find(|d| d.referral_id == first).unwrap();
    assert_eq!((chased.level.as_str(), chased.reminders, chased.supervisions), ("supervised", 1, 2));
    assert!(chased.last_supervised.is_some());
    let got = mz.get(&second).await.unwrap();
    let start = got.deadlines.iter().find(|d| d.kind == start).unwrap();
    assert_eq!((start.level.as_str(), start.reminders, start.supervisions), ("supervised", 0, 2));

    // 民政 is told, in its inbox; the office keeps a copy.
    let mut inbox = mz.subscribe(Some(0)).await.unwrap();
    let mut told = Vec::new();
    while told.len() < 2 {
        let event = within(inbox.message()).await.unwrap().unwrap();
        if event.kind == pb::InboxEventKind::Supervision as i32 {
            told.push(event);
        }
    }
    assert_eq!(
        told[0].note, "晋江衔接办督〔2026〕1号，致民政（2件逾期事项）",
        "the office's 期限动态 names the member"
    );
    assert_eq!(told[0].clerk, "", "the office's system certificate names no clerk");

    // The figures count the 督办函 per member.
    let figures = office.figures(pb::Period { year: 2026, ..Default::default() }).await.unwrap();
    let line = |label: &str| figures.lines.iter().find(|l| l.label == label).map(|l| l.this_period.clone());
    assert_eq!(line("督办函（份）").as_deref(), Some("2"));
    assert_eq!(line("民政：被督办（份）").as_deref(), Some("2"));
}
