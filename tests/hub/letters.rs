//! Letters fixed when issued: written once at submit, sealed and stored, the same bytes
//! for every party and every download whatever changes after; each recipient's letter
//! asks for what that recipient serves; a correction is a new version beside the old;
//! the template is checked when the hub starts and when it changes.

use std::path::Path;

use sha2::{Digest, Sha256};
use tonic::Code;
use xianjie::{
    documents::{archive, archive::Archive, docx},
    proto as pb,
};

use crate::support::*;

fn document_text(bytes: &[u8]) -> String {
    let parts = archive::entries(bytes).unwrap();
    String::from_utf8(parts.into_iter().find(|(n, _)| n == "word/document.xml").unwrap().1).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

async fn saved(client: &xianjie::client::Client, id: &str, version: u32, dir: &Path) -> Vec<u8> {
    let name = format!("{}-{version}-{}.docx", &id[..8], uuid::Uuid::new_v4());
    let saved = client.save_letter_version(id, version, &dir.join(name)).await.unwrap();
    std::fs::read(saved.path).unwrap()
}

/// The shipped template with `marker` as a paragraph before the body.
fn template_with(marker: &str) -> Vec<u8> {
    let parts = archive::entries(&docx::shipped_template()).unwrap();
    let mut out = Archive::new(chrono::NaiveDateTime::default());
    for (name, bytes) in parts {
        let bytes = if name == "word/document.xml" {
            let xml = String::from_utf8(bytes).unwrap();
            xml.replacen(
                "<w:p><w:r><w:t>{{主送机关}}",
                &format!("<w:p><w:r><w:t>{marker}</w:t></w:r></w:p><w:p><w:r><w:t>{{{{主送机关}}}}"),
                1,
            )
            .into_bytes()
        } else {
            bytes
        };
        out.add(&name, &bytes, true).unwrap();
    }
    out.finish().unwrap()
}

#[tokio::test]
async fn a_letter_is_written_once_for_its_recipient_and_a_correction_keeps_the_original() {
    let hub = TestHub::start().await;
    let (jcy, mz, jy) = (hub.client("jcy").await, hub.client("mz").await, hub.client("jy").await);
    let admin = hub.client("admin").await;
    let contacts = pb::Contacts {
        leader: "王副检察长".into(),
        department: "第八检察部".into(),
        liaison: "李明".into(),
        office_phone: "0595-85601234".into(),
        mobile: String::new(),
        email: String::new(),
    };
    jcy.update_contacts("jcy", contacts).await.unwrap();
    // 1+N: 低保, 学生资助 and 妇女帮扶 asked of 民政 and 教育.
    let submitted = jcy.submit(referral_draft(), vec!["mz".into(), "jy".into()], None).await.unwrap();
    let (to_mz, to_jy) = (&submitted.referrals[0].id, &submitted.referrals[1].id);
    let out = tempfile::tempdir().unwrap();
    let first = saved(&jcy, to_mz, 0, out.path()).await;
    let text = document_text(&first);
    for expected in [
        "在办理晋检刑诉〔2026〕101号案件过程中",
        "予以最低生活保障等社会救助",
        "（联系人：李明，联系电话：0595-85601234）",
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    assert!(!text.contains("学生资助") && !text.contains("妇女关爱帮扶"), "民政 is asked only for what it serves");
    let jy_text = document_text(&saved(&jy, to_jy, 0, out.path()).await);
    assert!(jy_text.contains("予以学生资助等社会救助") && !jy_text.contains("最低生活保障"), "{jy_text}");
    let footer = archive::entries(&first).unwrap().into_iter().find(|(n, _)| n == "word/footer1.xml").unwrap().1;
    assert!(String::from_utf8(footer).unwrap().contains("PAGE"), "page numbers at the foot");

    // The submit's audit entry holds each letter's SHA-256.
    let details = sql_texts(&hub.data, "SELECT detail FROM audit_log WHERE action = 'Submit'").await;
    assert!(
        details[0].contains(&format!("letter {to_mz} v1 检察院移〔2026〕1号 sha256 {}", hex(&first))),
        "{details:?}"
    );

    // The sender is renamed and its liaison changes: the letter stays what it was, for
    // every party.
    admin.rename_member("jcy", "晋江市检察院（新名）", "检察院").await.unwrap();
    jcy.update_contacts(
        "jcy",
        pb::Contacts { liaison: "张华".into(), mobile: "13905950000".into(), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(saved(&jcy, to_mz, 0, out.path()).await, first);
    assert_eq!(saved(&mz, to_mz, 0, out.path()).await, first);
    assert_eq!(saved(&mz, to_mz, 1, out.path()).await, first);

    // The recipient may not correct it; the sender issues a correction beside it.
    assert_eq!(mz.correct_letter(to_mz).await.unwrap_err().code(), Code::PermissionDenied);
    let corrected = jcy.correct_letter(to_mz).await.unwrap();
    assert_eq!((corrected.version, corrected.number.as_str()), (2, "检察院移〔2026〕1号（更正1）"));
    let second = saved(&mz, to_mz, 0, out.path()).await;
    assert_eq!(corrected.sha256, hex(&second));
    assert_ne!(second, first);
    let text = document_text(&second);
    assert!(text.contains("晋江市检察院（新名）") && text.contains("联系人：张华"), "{text}");
    assert_eq!(saved(&mz, to_mz, 1, out.path()).await, first, "the original stays");
    let listed = mz.letters(to_mz).await.unwrap();
    let numbers: Vec<_> = listed.iter().map(|l| (l.version, l.number.as_str(), l.sha256.clone())).collect();
    assert_eq!(
        numbers,
        vec![(1, "检察院移〔2026〕1号", hex(&first)), (2, "检察院移〔2026〕1号（更正1）", hex(&second))]
    );
    let audited = sql_texts(&hub.data, "SELECT detail FROM audit_log WHERE action = 'CorrectLetter'").await;
    assert!(audited[0].contains(&hex(&second)), "{audited:?}");
    // A version that was never issued, and a stranger, are told apart from nothing.
    let missing = mz.save_letter_version(to_mz, 3, &out.path().join("x.docx")).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(hub.client("sf").await.letters(to_mz).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(hub.client("office").await.letters(to_mz).await.unwrap_err().code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_broken_template_stops_the_hub_at_start_and_is_refused_while_it_runs() {
    // At start: the hub says what is wrong and does not start.
    let data =
        Data { tune: |c| c.materials.letter_template = Some(c.data_dir.join("letter.docx")), ..Data::fresh().await };
    let path = data.dir.path().join("letter.docx");
    std::fs::write(&path, b"not a docx").unwrap();
    let refused =
        xianjie::app::Hub::open(&data.config(), data.clock.clone(), xianjie::app::assembly::Surroundings::none())
            .await
            .err()
            .expect("refused");
    let said = format!("{refused:#}");
    assert!(said.contains("letter.docx") && said.contains("not a DOCX file"), "{said}");

    // A good one is taken up; a broken replacement is refused and the good one stays.
    std::fs::write(&path, template_with("县级模板甲")).unwrap();
    let hub = TestHub::start_on(data).await;
    let jcy = hub.client("jcy").await;
    let out = tempfile::tempdir().unwrap();
    let first = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0);
    assert!(document_text(&saved(&jcy, &first.id, 0, out.path()).await).contains("县级模板甲"));
    let mut broken = Archive::new(chrono::NaiveDateTime::default());
    broken.add("word/document.xml", "<w:p><w:r><w:t>{{文号}}</w:t></w:r></w:p>".as_bytes(), true).unwrap();
    std::fs::write(&path, broken.finish().unwrap()).unwrap();
    bump_mtime(&path);
    let second = jcy.submit(referral_draft(), vec!["jy".into()], None).await.unwrap().referrals.remove(0);
    assert!(document_text(&saved(&jcy, &second.id, 0, out.path()).await).contains("县级模板甲"), "the last good one");
    // A new good one is taken up by the next letter.
    std::fs::write(&path, template_with("县级模板乙")).unwrap();
    bump_mtime(&path);
    let third = jcy.submit(referral_draft(), vec!["fl".into()], None).await.unwrap().referrals.remove(0);
    assert!(document_text(&saved(&jcy, &third.id, 0, out.path()).await).contains("县级模板乙"));
    // Letters issued before are untouched.
    assert!(document_text(&saved(&jcy, &first.id, 0, out.path()).await).contains("县级模板甲"));
}

/// Moves a file's modification time on, so a change within the same second is seen.
fn bump_mtime(path: &Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(rand_secs());
    file.set_modified(later).unwrap();
}

fn rand_secs() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(10);
    NEXT.fetch_add(10, Ordering::Relaxed)
}
