//! Materials (救助材料) and the written form: files uploaded in pieces and sealed,
//! downloaded whole or not at all, recognised by their content, held to their limits
//! while they stream; the letter with its document number; the dossier an archivist
//! can check without the hub.

use std::path::Path;

use tonic::Code;
use xianjie::{
    documents::{archive, archive::Archive, docx},
    proto as pb,
};

use crate::support::*;

/// A distinctive string inside the test PDF: it must never be found in the database.
const SECRET: &str = "XIANJIE-调查报告-机密-4f7a9c";

/// A PDF of `len` bytes (several chunks) carrying [`SECRET`].
fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    while bytes.len() < len {
        bytes.extend_from_slice(SECRET.as_bytes());
        bytes.extend_from_slice(format!(" {} ", bytes.len()).as_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn zip(names: &[&str]) -> Vec<u8> {
    let mut archive = Archive::new(chrono::NaiveDateTime::default());
    for name in names {
        archive.add(name, b"<x/>", true).unwrap();
    }
    archive.finish().unwrap()
}

/// One file of every kind the hub takes, named as a clerk would.
fn every_kind() -> Vec<(&'static str, Vec<u8>, i32)> {
    vec![
        ("调查核实报告.pdf", pdf(200_000), pb::AttachmentKind::Pdf as i32),
        ("伤情鉴定.jpg", [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7; 5000]].concat(), pb::AttachmentKind::Jpeg as i32),
        ("户口本.png", [&b"\x89PNG\r\n\x1a\n"[..], &[1; 3000]].concat(), pb::AttachmentKind::Png as i32),
        ("困难证明.docx", docx::shipped_template(), pb::AttachmentKind::Docx as i32),
        ("收支明细.xlsx", zip(&["[Content_Types].xml", "xl/workbook.xml"]), pb::AttachmentKind::Xlsx as i32),
        ("判决书.ofd", zip(&["OFD.xml", "Doc_0/Document.xml"]), pb::AttachmentKind::Ofd as i32),
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Uploads `files` as jcy and submits a referral to mz carrying them.
async fn submitted_with(hub: &TestHub, files: &[(&str, Vec<u8>, i32)]) -> (pb::Referral, Vec<pb::Attachment>) {
    let jcy = hub.client("jcy").await;
    let mut uploaded = Vec::new();
    for (name, bytes, _) in files {
        uploaded.push(jcy.upload_file(&write(hub.data.dir.path(), name, bytes)).await.unwrap());
    }
    let ids = uploaded.iter().map(|a| a.id.clone()).collect();
    let referral = jcy.submit_with(referral_draft(), vec!["mz".into()], None, ids).await.unwrap().referrals.remove(0);
    (referral, uploaded)
}

async fn count(data: &Data, table: &str) -> i64 {
    let counted = sql_texts(data, &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await;
    counted[0].parse().unwrap()
}

#[tokio::test]
async fn files_of_every_kind_go_up_and_come_down_whole_and_checked() {
    let hub = TestHub::start().await;
    let files = every_kind();
    let (referral, uploaded) = submitted_with(&hub, &files).await;
    for ((_, _, kind), stored) in files.iter().zip(&uploaded) {
        assert_eq!(stored.kind, *kind, "{}", stored.name);
    }
    let mz = hub.client("mz").await;
    let listed = mz.attachments(&referral.id).await.unwrap();
    assert_eq!(listed.len(), files.len());
    assert!(listed.iter().all(|a| a.attached_by == "jcy" && a.version == 1 && !a.masked));
    let shown = mz.get(&referral.id).await.unwrap();
    assert_eq!(shown.attachments.len(), files.len());
    let out = tempfile::tempdir().unwrap();
    for ((name, bytes, _), stored) in files.iter().zip(&uploaded) {
        let path = out.path().join(name);
        let got = mz.download(&referral.id, &stored.id, &path).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), *bytes, "{name}");
        assert_eq!(got.sha256, xianjie::domain::hex::lower(&sha(bytes)));
    }
    // Every download is a read of personal data in the audit log, with the digest.
    let downloads = sql_texts(&hub.data, "SELECT detail FROM audit_log WHERE action = 'Download'").await;
    assert_eq!(downloads.len(), files.len());
    assert!(downloads.iter().all(|d| d.contains("sha256 ")));
    let uploads = sql_texts(&hub.data, "SELECT detail FROM audit_log WHERE action = 'Upload'").await;
    assert!(uploads.iter().any(|d| d.contains(&uploaded[0].sha256)));
    // A comment carries files too, marked with its step.
    let extra = mz.upload_file(&write(out.path(), "补充说明.pdf", &pdf(1000))).await.unwrap();
    mz.comment_with(&referral.id, "补充收入证明", vec![extra.id.clone()]).await.unwrap();
    let listed = hub.client("jcy").await.attachments(&referral.id).await.unwrap();
    let added = listed.iter().find(|a| a.id == extra.id).unwrap();
    assert_eq!((added.attached_by.as_str(), added.version), ("mz", 2));
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

#[tokio::test]
async fn a_file_is_judged_by_its_content_and_its_size_while_it_streams() {
    let data = Data { tune: |c| c.materials.file_mib = 1, ..Data::fresh().await };
    let hub = TestHub::start_on(data).await;
    let jcy = hub.client("jcy").await;
    let elf = [&b"\x7fELF\x02\x01\x01\0"[..], &[0; 4000]].concat();
    let refused = jcy.upload_file(&write(hub.data.dir.path(), "报告.pdf", &elf)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&refused), ["data"]);
    assert!(!refused.message().contains("ELF"));
    // Over the limit: refused as soon as it passes it, before the rest is sent.
    let mut pieces: Vec<Result<Vec<u8>, tonic::Status>> =
        pdf(1 << 20).chunks(64 << 10).map(|c| Ok(c.to_vec())).collect();
    pieces.extend((0..200).map(|_| Ok(vec![0; 64 << 10])));
    let too_large = jcy.upload_pieces("big-1", ("大文件.pdf", 1 << 20), pieces).await.unwrap_err();
    assert_eq!(too_large.code(), Code::InvalidArgument);
    assert!(too_large.message().contains("at most 1 MiB"), "{}", too_large.message());
    let declared = jcy.upload_pieces("big-2", ("大文件.pdf", 13 << 20), vec![]).await.unwrap_err();
    assert!(declared.message().contains("at most 1 MiB"), "{}", declared.message());
    let empty = jcy.upload_pieces("empty-1", ("空.pdf", 0), vec![]).await.unwrap_err();
    assert_eq!(bad_fields(&empty), ["size"]);
    let short = jcy.upload_pieces("short-1", ("短.pdf", 5000), vec![Ok(pdf(100))]).await.unwrap_err();
    assert_eq!(bad_fields(&short), ["data"]);
    let no_name = jcy.upload_pieces("noname-1", ("", 100), vec![Ok(pdf(100))]).await.unwrap_err();
    assert_eq!(bad_fields(&no_name), ["name"]);
    // A name that reads otherwise than it is: 阿exe.pdf on screen, an .exe underneath.
    let reversed =
        jcy.upload_pieces("rlo-1", ("阿\u{202e}fdp.exe\u{200b}", 100), vec![Ok(pdf(100))]).await.unwrap_err();
    assert_eq!((reversed.code(), bad_fields(&reversed)), (Code::InvalidArgument, vec!["name".to_owned()]));
    assert!(reversed.message().contains("invisible characters") && !reversed.message().contains("fdp"));
    // The command line uploads through the same call, and says what is wrong.
    let hidden = write(hub.data.dir.path(), "报告\u{2066}.pdf", &pdf(100));
    // (tokio's Command: the hub answers on this test's own runtime.)
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["member", "jcy", "--endpoint", &hub.endpoint(), "--pki-dir"])
        .arg(hub.pki())
        .args(["comment", &uuid::Uuid::new_v4().to_string(), "见附件", "--attach"])
        .arg(&hidden)
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("name") && said.contains("invisible characters"), "{said}");
    assert_eq!(count(&hub.data, "attachments").await, 0);
    assert_eq!(count(&hub.data, "attachment_chunks").await, 0);
    // Neither the office nor an admin uploads.
    for who in ["office", "admin"] {
        let denied = hub.client(who).await.upload_pieces("x-1", ("a.pdf", 100), vec![Ok(pdf(100))]).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{who}");
    }
    // A submit naming a file nobody uploaded, or too many files, is refused whole.
    let missing = uuid::Uuid::new_v4().to_string();
    let refused = jcy.submit_with(referral_draft(), vec!["mz".into()], None, vec![missing]).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["attachments[0]"]);
    assert_eq!(count(&hub.data, "referrals").await, 0);
}

#[tokio::test]
async fn an_interrupted_upload_leaves_nothing_and_is_sent_again_under_its_request_id() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let bytes = pdf(300_000);
    let mut pieces: Vec<Result<Vec<u8>, tonic::Status>> = bytes.chunks(50_000).map(|c| Ok(c.to_vec())).collect();
    pieces.insert(3, Err(tonic::Status::cancelled("the connection dropped")));
    let cut = jcy.upload_pieces("upload-7", ("报告.pdf", 300_000), pieces).await.unwrap_err();
    assert_eq!(cut.code(), Code::Cancelled);
    // Given time to notice, the hub keeps nothing of it.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(count(&hub.data, "attachments").await, 0);
    assert_eq!(count(&hub.data, "attachment_chunks").await, 0);
    let whole = || bytes.chunks(50_000).map(|c| Ok(c.to_vec())).collect();
    let first = jcy.upload_pieces("upload-7", ("报告.pdf", 300_000), whole()).await.unwrap();
    let again = jcy.upload_pieces("upload-7", ("报告.pdf", 300_000), whole()).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(count(&hub.data, "attachments").await, 1);
    let other = jcy.upload_pieces("upload-7", ("另一个.pdf", 300_000), whole()).await.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn only_the_parties_download_and_the_office_sees_the_list_masked() {
    let hub = TestHub::start().await;
    let (referral, uploaded) = submitted_with(&hub, &every_kind()[..1]).await;
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("x.pdf");
    let jy = hub.client("jy").await.download(&referral.id, &uploaded[0].id, &path).await.unwrap_err();
    assert_eq!(jy.code(), Code::NotFound);
    let office = hub.client("office").await;
    let denied = office.download(&referral.id, &uploaded[0].id, &path).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let admin = hub.client("admin").await.download(&referral.id, &uploaded[0].id, &path).await.unwrap_err();
    assert_eq!(admin.code(), Code::PermissionDenied);
    assert!(!path.exists());
    let listed = office.attachments(&referral.id).await.unwrap();
    assert_eq!(listed[0].name, "调***.pdf");
    assert!(listed[0].masked && listed[0].size == 200_000);
    let letter = office.save_letter(&referral.id, &out.path().join("l.docx")).await.unwrap_err();
    assert_eq!(letter.code(), Code::PermissionDenied);
    // Another member's file cannot be attached by naming its id.
    let mz = hub.client("mz").await;
    let stolen = mz.comment_with(&referral.id, "附上", vec![uploaded[0].id.clone()]).await.unwrap_err();
    assert_eq!(bad_fields(&stolen), ["attachments[0]"]);
}

/// Ways someone with the database (not the keys) could change a stored file `a`,
/// with `b` another file.
fn tamperings(a: &str, b: &str) -> Vec<(&'static str, Vec<String>)> {
    let zeroed = if on_postgres() {
        format!("UPDATE attachment_chunks SET sealed = decode(repeat('00', length(sealed)), 'hex') WHERE attachment_id = '{a}' AND position = 2")
    } else {
        format!("UPDATE attachment_chunks SET sealed = zeroblob(length(sealed)) WHERE attachment_id = '{a}' AND position = 2")
    };
    vec![
        ("altered", vec![zeroed]),
        (
            "reordered",
            vec![
                format!("UPDATE attachment_chunks SET position = -1 WHERE attachment_id = '{a}' AND position = 0"),
                format!("UPDATE attachment_chunks SET position = 0 WHERE attachment_id = '{a}' AND position = 1"),
                format!("UPDATE attachment_chunks SET position = 1 WHERE attachment_id = '{a}' AND position = -1"),
            ],
        ),
        (
            "swapped in from another file",
            vec![
                format!("DELETE FROM attachment_chunks WHERE attachment_id = '{a}' AND position = 1"),
                format!(
                    "UPDATE attachment_chunks SET attachment_id = '{a}' WHERE attachment_id = '{b}' AND position = 1"
                ),
            ],
        ),
        (
            "cut short",
            vec![
                format!("DELETE FROM attachment_chunks WHERE attachment_id = '{a}' AND position = 3"),
                format!("UPDATE attachments SET chunks = 3 WHERE id = '{a}'"),
            ],
        ),
    ]
}

#[tokio::test]
async fn a_file_tampered_with_in_the_database_is_refused_and_nothing_of_it_is_kept() {
    let two = [("甲.pdf", pdf(200_000), 0), ("乙.pdf", pdf(150_000), 0)];
    let out = tempfile::tempdir().unwrap();
    for what in ["altered", "reordered", "swapped in from another file", "cut short"] {
        let hub = TestHub::start().await;
        let (referral, uploaded) = submitted_with(&hub, &two).await;
        let (a, b) = (&uploaded[0].id, &uploaded[1].id);
        let mz = hub.client("mz").await;
        // Whole before.
        mz.download(&referral.id, a, &out.path().join("before")).await.unwrap();
        std::fs::remove_file(out.path().join("before")).unwrap();
        let (_, statements) = tamperings(a, b).into_iter().find(|(w, _)| *w == what).unwrap();
        for statement in statements {
            assert!(sql(&hub.data, &statement).await >= 1, "{what}: {statement}");
        }
        let path = out.path().join("after.pdf");
        let refused = mz.download(&referral.id, a, &path).await.unwrap_err();
        assert_eq!(refused.code(), Code::DataLoss, "{what}: {}", refused.message());
        assert!(refused.message().contains("integrity"), "{what}: {}", refused.message());
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "{what}: nothing written, no partial file");
        hub.stop().await;
    }
}

#[tokio::test]
async fn no_plaintext_of_a_file_is_in_the_database_files() {
    if on_postgres() {
        return; // The embedded store's files are what can be read here.
    }
    let hub = TestHub::start().await;
    submitted_with(&hub, &every_kind()[..1]).await;
    let data = hub.stop().await;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(data.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("xianjie.db") {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "{}", path.display());
            assert!(!bytes.windows("调查核实报告".len()).any(|w| w == "调查核实报告".as_bytes()), "{}", path.display());
            found.push(path);
        }
    }
    assert!(!found.is_empty());
}

#[tokio::test]
async fn every_letter_is_numbered_once_in_its_senders_year_and_lists_its_files() {
    let hub = TestHub::start().await;
    let (first, _) = submitted_with(&hub, &every_kind()[..2]).await;
    let jcy = hub.client("jcy").await;
    let second = jcy.submit(referral_draft(), vec!["mz".into(), "jy".into()], None).await.unwrap();
    let clue = hub.client("mz").await.submit(clue_draft(false), vec!["jcy".into()], None).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let text = |path: &Path| {
        let parts = archive::entries(&std::fs::read(path).unwrap()).unwrap();
        let document = parts.into_iter().find(|(n, _)| n == "word/document.xml").unwrap().1;
        String::from_utf8(document).unwrap()
    };
    let saved = jcy.save_letter(&first.id, out.path()).await.unwrap();
    assert_eq!(saved.file_name, "检察院移〔2026〕1号-社会救助移送函.docx");
    let letter = text(&saved.path);
    for expected in [
        "晋江市人民检察院",
        "检察院移〔2026〕1号",
        "社会救助移送函",
        "晋江市民政局：",
        "李某",
        "附件：1. 调查核实报告.pdf",
        "2. 伤情鉴定.jpg",
    ] {
        assert!(letter.contains(expected), "{expected} missing");
    }
    // The recipient gets the same letter.
    let theirs = hub.client("mz").await.save_letter(&first.id, &out.path().join("mz.docx")).await.unwrap();
    assert_eq!(std::fs::read(&theirs.path).unwrap(), std::fs::read(&saved.path).unwrap());
    for (referral, number) in second.referrals.iter().zip(["〔2026〕2号", "〔2026〕3号"]) {
        let saved = jcy.save_letter(&referral.id, &out.path().join(format!("{number}.docx"))).await.unwrap();
        assert!(text(&saved.path).contains(number), "{number}");
    }
    // An agency's clue is its own sequence.
    let saved = jcy.save_letter(&clue.referrals[0].id, &out.path().join("clue.docx")).await.unwrap();
    let letter = text(&saved.path);
    assert!(letter.contains("民政移〔2026〕1号") && letter.contains("司法救助线索移送函"));
    let stranger = hub.client("jy").await.save_letter(&first.id, &out.path().join("x.docx")).await.unwrap_err();
    assert_eq!(stranger.code(), Code::NotFound);
}

/// The dossier with its parts changed by `change`, zipped again.
fn rezipped(bytes: &[u8], change: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let mut parts = archive::entries(bytes).unwrap();
    change(&mut parts);
    let mut again = Archive::new(chrono::NaiveDateTime::default());
    for (name, data) in &parts {
        again.add(name, data, true).unwrap();
    }
    again.finish().unwrap()
}

/// A change to one part's bytes.
type Edit = Box<dyn Fn(&mut Vec<u8>)>;

fn verified(bytes: &[u8], key: &[u8]) -> Result<String, String> {
    xianjie::audit::dossier::verify(std::io::Cursor::new(bytes), key)
}

#[tokio::test]
async fn a_dossier_exported_a_minute_after_an_act_verifies_alone_and_every_change_to_it_is_named() {
    // Checkpoints hourly: none covers the case when it is exported.
    let hub = TestHub::start().await;
    let (referral, uploaded) = submitted_with(&hub, &every_kind()[..2]).await;
    let (jcy, mz) = (hub.client("jcy").await, hub.client("mz").await);
    mz.receive(&referral.id).await.unwrap();
    jcy.correct_letter(&referral.id).await.unwrap();
    // Another case's traffic between: none of it enters this dossier.
    let other = mz.submit(clue_draft(false), vec!["jcy".into()], None).await.unwrap().referrals.remove(0);
    for _ in 0..20 {
        jcy.get(&other.id).await.unwrap();
    }
    hub.clock.advance(chrono::Duration::minutes(1));
    let out = tempfile::tempdir().unwrap();
    let saved = jcy.save_dossier(&referral.case_id, out.path()).await.unwrap();
    let bytes = std::fs::read(&saved.path).unwrap();
    let parts = archive::entries(&bytes).unwrap();
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "移送函/检察院移〔2026〕1号-社会救助移送函.docx",
        "移送函/检察院移〔2026〕1号（更正1）-社会救助移送函.docx",
        "材料/01-调查核实报告.pdf",
        "材料/02-伤情鉴定.jpg",
        "办理经过.txt",
        "审计/manifest.json",
        "审计/entries.jsonl",
        "审计/checkpoint.json",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let part = |name: &str| parts.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let record = String::from_utf8(part("办理经过.txt")).unwrap();
    assert!(record.contains(&uploaded[0].sha256) && record.contains("已签收"));
    // Only the case's own entries, each naming its referral.
    let lines = String::from_utf8(part("审计/entries.jsonl")).unwrap();
    assert!(lines.lines().all(|l| l.contains(&referral.id)), "{lines}");
    assert!(!lines.contains(&other.id));
    let key = xianjie::audit::read_public_key(&hub.data.dir.path().join("audit-signing.pub")).unwrap();
    let report = verified(&bytes, &key).unwrap();
    assert!(report.contains("2 letters and 2 files match"), "{report}");

    // Each change to it is found and named.
    let first_seq = |lines: &str| {
        lines.lines().next().unwrap().split("\"seq\":").nth(1).unwrap().split(',').next().unwrap().to_owned()
    };
    let seq = first_seq(&lines);
    let letter = "移送函/检察院移〔2026〕1号-社会救助移送函.docx";
    let other_case = jcy.save_dossier(&other.case_id, &out.path().join("other.zip")).await.unwrap();
    let foreign = archive::entries(&std::fs::read(&other_case.path).unwrap()).unwrap();
    let foreign_line = String::from_utf8(foreign.iter().find(|(n, _)| n == "审计/entries.jsonl").unwrap().1.clone())
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let edit = |name: &'static str, f: Edit| {
        move |parts: &mut Vec<(String, Vec<u8>)>| f(&mut parts.iter_mut().find(|(n, _)| n == name).unwrap().1)
    };
    let cases: Vec<(Vec<u8>, String)> = vec![
        (rezipped(&bytes, |p| p.retain(|(n, _)| n != letter)), format!("{letter} is missing")),
        (
            rezipped(&bytes, edit("材料/01-调查核实报告.pdf", Box::new(|b| b[100] ^= 1))),
            "材料/01-调查核实报告.pdf was altered".into(),
        ),
        (
            rezipped(&bytes, edit("办理经过.txt", Box::new(|b| b.extend_from_slice("补记".as_bytes())))),
            "办理经过.txt was altered".into(),
        ),
        (rezipped(&bytes, |p| p.push(("材料/03-补充.pdf".into(), pdf(500)))), "材料/03-补充.pdf was added".into()),
        (
            rezipped(
                &bytes,
                edit(
                    "审计/entries.jsonl",
                    Box::new(|b| {
                        let text = String::from_utf8(b.clone()).unwrap();
                        *b = text.lines().skip(1).map(|l| format!("{l}\n")).collect::<String>().into_bytes();
                    }),
                ),
            ),
            format!("audit entry {seq} of the case is missing"),
        ),
        (
            rezipped(
                &bytes,
                edit(
                    "审计/entries.jsonl",
                    Box::new(|b| {
                        *b = String::from_utf8(b.clone())
                            .unwrap()
                            .replacen("\"Submit\"", "\"Withdraw\"", 1)
                            .into_bytes();
                    }),
                ),
            ),
            format!("audit entry {seq} was altered"),
        ),
        (
            rezipped(
                &bytes,
                edit(
                    "审计/entries.jsonl",
                    Box::new(move |b| b.extend_from_slice(format!("{foreign_line}\n").as_bytes())),
                ),
            ),
            "is not in the log the checkpoint signed".into(),
        ),
        (
            rezipped(&bytes, edit("审计/manifest.json", Box::new(|b| b.push(b' ')))),
            "审计/manifest.json was altered".into(),
        ),
    ];
    for (changed, expected) in cases {
        let broken = verified(&changed, &key).unwrap_err();
        assert!(broken.contains(&expected), "expected {expected:?}, got {broken:?}");
    }
    assert!(verified(&bytes, &[7; 32]).unwrap_err().contains("not signed by the hub's key"));
    // The command an archivist runs.
    let pub_key = hub.data.dir.path().join("audit-signing.pub").display().to_string();
    let (ok, said) = xianjie_status(
        &hub.data,
        &["audit", "verify-dossier", &saved.path.display().to_string(), "--public-key", &pub_key],
    );
    assert!(ok && said.contains("dossier intact"), "{said}");
    let broken = write(out.path(), "broken.zip", &rezipped(&bytes, |p| p.retain(|(n, _)| n != letter)));
    let (ok, said) = xianjie_status(
        &hub.data,
        &["audit", "verify-dossier", &broken.display().to_string(), "--public-key", &pub_key],
    );
    assert!(!ok && said.contains("is missing"), "{said}");
    // Only a party exports it.
    let stranger = hub.client("jy").await.save_dossier(&referral.case_id, out.path()).await.unwrap_err();
    assert_eq!(stranger.code(), Code::NotFound);
}

#[tokio::test]
async fn uploads_are_written_as_they_arrive_and_files_nothing_carries_are_discarded_after_a_day() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let dir = hub.data.dir.path();
    // Three megabytes go up staged a megabyte at a time and come down whole.
    let big = pdf(3 << 20);
    let carried = jcy.upload_file(&write(dir, "卷宗.pdf", &big)).await.unwrap();
    let referral =
        jcy.submit_with(referral_draft(), vec!["mz".into()], None, vec![carried.id.clone()]).await.unwrap().referrals;
    let back = dir.join("back.pdf");
    hub.client("mz").await.download(&referral[0].id, &carried.id, &back).await.unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), big);
    // One uploaded and never attached; one cut short after two megabytes, staged only.
    jcy.upload_file(&write(dir, "草稿.pdf", &pdf(10_000))).await.unwrap();
    let mut pieces: Vec<_> = pdf(2 << 20).chunks(64 << 10).map(|piece| Ok(piece.to_vec())).collect();
    pieces.push(Err(tonic::Status::cancelled("gone")));
    jcy.upload_pieces(&uuid::Uuid::new_v4().to_string(), ("半截.pdf", 3 << 20), pieces).await.unwrap_err();
    let staged = |hub: &TestHub| {
        let data = hub.data.clone();
        async move {
            sql_texts(
                &data,
                "SELECT CAST(COUNT(*) AS TEXT) FROM attachment_chunks c JOIN attachments a \
                              ON a.id = c.attachment_id WHERE a.staged = 1",
            )
            .await[0]
                .parse::<i64>()
                .unwrap()
        }
    };
    eventually(|| async { staged(&hub).await >= 16 }).await;
    // Not a file: nothing lists or attaches it.
    let ids = sql_texts(&hub.data, "SELECT id FROM attachments WHERE staged = 1").await;
    let refused = jcy.submit_with(referral_draft(), vec!["jy".into()], None, ids.clone()).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["attachments[0]"]);
    // The carried file, the letter, the draft and the half: four; a day later two.
    assert_eq!(count(&hub.data, "attachments").await, 4);
    hub.clock.advance(chrono::Duration::hours(25));
    eventually(|| async { count(&hub.data, "attachments").await == 2 }).await;
    assert_eq!(staged(&hub).await, 0);
    // The removal and its audit entry are one commit: seen together.
    let discarded = "SELECT detail FROM audit_log WHERE action = 'DiscardFiles'";
    let left = sql_texts(&hub.data, "SELECT id FROM attachments ORDER BY id").await;
    assert!(left.contains(&carried.id), "the carried file stays");
    let audited = sql_texts(&hub.data, discarded).await;
    assert!(audited.len() == 1 && audited[0].starts_with("2 files"), "{audited:?}");
    let scraped = crate::metrics::scrape(&hub).await;
    assert_eq!(crate::metrics::sample(&scraped, "xianjie_files_discarded_total"), 2.0);
    hub.client("mz").await.download(&referral[0].id, &carried.id, &back).await.unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), big);
}
