//! Art. 24: a person's data is sealed at rest, seen in full by the parties alone and
//! masked by the office; keys rotate and certificates are revoked while the hub runs.

use std::sync::Arc;

use tonic::Code;
use tonic_types::StatusExt;
use xianjie::{keys::Keyring, pki::authority::Authority, proto as pb};

use crate::support::*;

fn person_of(r: &pb::Referral) -> pb::Person {
    r.person.clone().unwrap()
}

#[tokio::test]
async fn personal_data_is_sealed_at_rest_and_bound_to_its_row() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let draft = referral_draft();
    let person = draft.person.clone().unwrap();
    let sent = jcy.submit(draft.clone(), vec!["mz".into(), "jy".into()], None).await.unwrap();
    let (a, b) = (&sent.referrals[0].id, &sent.referrals[1].id);
    // Free text that names the person: a comment, the conclusion, the feedback, a return.
    let mz = hub.client("mz").await;
    let (comment, summary, feedback, reason) =
        ("请补充张某的病历", "张某已纳入低保", "张某每月领取低保金", "张某户籍不在本县");
    mz.comment(a, comment).await.unwrap();
    mz.receive(a).await.unwrap();
    mz.start(a).await.unwrap();
    let mut conclusion = granted("2026-09-10");
    conclusion.summary = summary.into();
    mz.conclude(a, conclusion, Some(feedback.into())).await.unwrap();
    hub.client("jy").await.return_referral(b, reason).await.unwrap();

    // Nothing of the person is in the database in clear: not in any referral column,
    // and for SQLite not anywhere in its files.
    let rows = sql_texts(
        &hub.data,
        "SELECT content || person_name || person_id_number || person_phone || person_address || person_household \
         || narrative || person_index FROM referrals",
    )
    .await;
    assert_eq!(rows.len(), 2);
    for secret in [&person.name, &person.id_number, &person.phone, &person.household, &draft.narrative] {
        assert!(rows.iter().all(|row| !row.contains(secret.as_str())), "{secret} stored in clear");
    }
    assert!(rows.iter().all(|row| row.contains("xj1:k1:")), "every field names its key");
    let notes = sql_texts(
        &hub.data,
        "SELECT note FROM referral_events UNION ALL SELECT note FROM inbox_events \
         UNION ALL SELECT conclusion || feedback FROM referrals WHERE conclusion IS NOT NULL \
         UNION ALL SELECT closing_reason FROM referrals WHERE closing_reason IS NOT NULL",
    )
    .await;
    assert!(notes.len() >= 10);
    for text in [comment, summary, feedback, reason] {
        assert!(notes.iter().all(|n| !n.contains(text)), "{text} stored in clear");
    }
    assert!(notes.iter().all(|n| n.contains("xj1:k1:")), "every note is sealed, empty ones too");
    if !on_postgres() {
        for file in ["xianjie.db", "xianjie.db-wal"] {
            let bytes = std::fs::read(hub.data.dir.path().join(file)).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            for secret in [person.id_number.as_str(), &person.name, comment, summary, feedback, reason] {
                assert!(!text.contains(secret), "{file} holds {secret}");
            }
        }
    }
    // The parties read it all back.
    let read = jcy.get(a).await.unwrap();
    let referral = read.referral.as_ref().unwrap();
    assert_eq!(
        (referral.feedback.as_str(), referral.conclusion.as_ref().unwrap().summary.as_str()),
        (feedback, summary)
    );
    assert!(read.history.iter().any(|e| e.note == comment));
    assert_eq!(hub.client("jcy").await.get(b).await.unwrap().referral.unwrap().closing_reason, reason);
    let mut inbox = jcy.subscribe(Some(0)).await.unwrap();
    let mut notes_seen = Vec::new();
    for _ in 0..6 {
        notes_seen.push(inbox.next_within().await.unwrap().unwrap().note);
    }
    assert!(notes_seen.iter().any(|n| n == comment) && notes_seen.iter().any(|n| n == reason), "{notes_seen:?}");
    assert_eq!(person_of(&jcy.get(a).await.unwrap().referral.unwrap()), person, "the parties read it in full");

    // A sealed name moved from one referral to another does not open there.
    let moved = sql(
        &hub.data,
        &format!(
            "UPDATE referrals SET person_name = (SELECT person_name FROM referrals WHERE id = '{a}') WHERE id = '{b}'"
        ),
    )
    .await;
    assert_eq!(moved, 1);
    assert_eq!(jcy.get(b).await.unwrap_err().code(), Code::Internal);
    assert_eq!(person_of(&jcy.get(a).await.unwrap().referral.unwrap()).name, person.name);
}

#[tokio::test]
async fn one_open_referral_per_person_and_recipient_found_without_decrypting() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let draft = referral_draft();
    let first = jcy.submit(draft.clone(), vec!["mz".into()], None).await.unwrap().referrals.remove(0);

    let err = jcy.submit(draft.clone(), vec!["jy".into(), "mz".into()], None).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains(&first.id), "the sender is told which: {}", err.message());
    let violation = &err.get_details_precondition_failure().unwrap().violations[0];
    assert_eq!((violation.r#type.as_str(), violation.subject.as_str()), ("OPEN_REFERRAL", "mz"));
    assert!(jcy.list(pb::ListReferralsRequest::default()).await.unwrap().referrals.len() == 1, "nothing half-written");

    // The same person, upper or lower x, to another agency is fine; to mz again once
    // the first referral is closed.
    let mut lower = draft.clone();
    lower.person.as_mut().unwrap().id_number = draft.person.as_ref().unwrap().id_number.to_lowercase();
    jcy.submit(lower, vec!["jy".into()], None).await.unwrap();
    hub.client("mz").await.return_referral(&first.id, "非本部门职责").await.unwrap();
    jcy.submit(draft, vec!["mz".into()], None).await.unwrap();

    // A clue about a person another agency already sent: the second agency learns
    // that there is one, not whose it is.
    let clue = clue_draft(false);
    hub.client("mz").await.submit(clue.clone(), vec!["jcy".into()], None).await.unwrap();
    let err = hub.client("jy").await.submit(clue, vec!["jcy".into()], None).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(err.message(), "the person already has an open referral to jcy");
}

#[tokio::test]
async fn the_office_sees_every_referral_masked_and_admins_see_none() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let mut draft = referral_draft();
    draft.person = Some(pb::Person {
        name: "欧阳娜娜".into(),
        id_number: "350582199001011231".into(),
        phone: "13812345678".into(),
        address: "福建省晋江市青阳街道某某路8号".into(),
        household: "独自抚养两名未成年子女".into(),
    });
    draft.advance = true;
    draft.advance_reason = "被害人病情危急".into();
    draft.investigation_ended_on = String::new();
    let sent = jcy.submit(draft.clone(), vec!["mz".into()], None).await.unwrap();
    let id = &sent.referrals[0].id;
    hub.client("mz").await.comment(id, "请补充张某的病历").await.unwrap();

    let office = hub.client("office").await;
    let got = office.get(id).await.unwrap();
    let seen = got.referral.unwrap();
    assert!(seen.masked);
    assert_eq!(
        person_of(&seen),
        pb::Person {
            name: "欧***".into(),
            id_number: "3505**********1231".into(),
            phone: "138****5678".into(),
            address: "福建省晋江市***".into(),
            household: String::new(),
        }
    );
    assert_eq!((seen.narrative.as_str(), seen.advance_reason.as_str()), ("", ""));
    assert_eq!((seen.sender.as_str(), seen.recipient.as_str(), seen.green_channel), ("jcy", "mz", true));
    assert!(got.history.iter().all(|e| e.note.is_empty()), "notes may name the person");
    assert!(!got.deadlines.is_empty(), "the office sees the dates and deadlines");
    let listed = office.list(pb::ListReferralsRequest::default()).await.unwrap().referrals;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].masked && person_of(&listed[0]).name == "欧***");
    let case = office.case(&seen.case_id).await.unwrap();
    assert!(case.referrals.iter().all(|r| r.masked));

    let contents = sql_texts(&hub.data, "SELECT content FROM referrals").await;
    assert!(contents.iter().all(|c| !c.contains("病情危急") && c.contains("xj1:")), "the advance reason is sealed");

    // The parties see it all.
    let full = jcy.get(id).await.unwrap();
    assert_eq!(full.referral.as_ref().unwrap().advance_reason, "被害人病情危急");
    assert!(!full.referral.as_ref().unwrap().masked);
    assert_eq!(person_of(full.referral.as_ref().unwrap()), draft.person.clone().unwrap());
    assert_eq!(full.history.last().unwrap().note, "请补充张某的病历");

    let admin = hub.client("admin").await;
    assert_eq!(admin.get(id).await.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(admin.list(pb::ListReferralsRequest::default()).await.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(admin.case(&seen.case_id).await.unwrap_err().code(), Code::PermissionDenied);
    // The office reads; it does not act.
    assert_eq!(office.receive(id).await.unwrap_err().code(), Code::PermissionDenied);
}

#[tokio::test]
async fn keys_rotate_while_the_hub_runs_and_the_old_key_is_retired() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id);
    }
    let (ok, refused) = xianjie_status(&hub.data, &["keys", "retire", "k1"]);
    assert!(!ok && refused.contains("active key"), "{refused}");
    // Files are present: each referral's letter, and a scan carried by a comment.
    let out_dir = tempfile::tempdir().unwrap();
    let letter = |i: usize| out_dir.path().join(format!("letter-{i}-{}.docx", uuid::Uuid::new_v4()));
    let letter_before = std::fs::read(jcy.save_letter(&ids[0], &letter(0)).await.unwrap().path).unwrap();
    let scan = out_dir.path().join("scan.pdf");
    std::fs::write(&scan, [&b"%PDF-1.7\n"[..], &vec![b'x'; 200_000]].concat()).unwrap();
    let uploaded = jcy.upload_file(&scan).await.unwrap();
    jcy.comment_with(&ids[0], "补充伤情鉴定", vec![uploaded.id.clone()]).await.unwrap();

    let out = xianjie(&hub.data, &["keys", "rotate"]);
    // 3 referrals, 5 request records (3 submits, the upload, the comment), 4 history
    // entries, 4 inbox events, 3 letters and the scan.
    assert!(out.contains("k2 is the active key") && out.contains("resealed 20 rows"), "{out}");
    // The running hub opens what was resealed under a key it had not loaded.
    for id in &ids {
        assert!(!jcy.get(id).await.unwrap().referral.unwrap().person.unwrap().name.is_empty());
    }
    // It takes up the new key for what it seals next.
    let mut sealed_under = Vec::new();
    for _ in 0..250 {
        let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
        sealed_under = sql_texts(&hub.data, &format!("SELECT sealed_key FROM referrals WHERE id = '{id}'")).await;
        ids.push(id);
        if sealed_under == ["k2"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(sealed_under, ["k2"]);
    xianjie(&hub.data, &["keys", "reseal"]);
    let out = xianjie(&hub.data, &["keys", "retire", "k1"]);
    assert!(out.contains("k1 retired"), "{out}");
    let used = sql_texts(&hub.data, "SELECT DISTINCT sealed_key FROM referrals").await;
    assert_eq!(used, ["k2"]);
    let files = sql_texts(&hub.data, "SELECT DISTINCT sealed_key FROM attachments").await;
    assert_eq!(files, ["k2"], "every file resealed");
    let letter_after = std::fs::read(jcy.save_letter(&ids[0], &letter(1)).await.unwrap().path).unwrap();
    assert_eq!(letter_after, letter_before, "the letter opens under the new key, the same bytes");
    let back = out_dir.path().join("back.pdf");
    let downloaded = hub.client("mz").await.download(&ids[0], &uploaded.id, &back).await.unwrap();
    assert_eq!(
        (downloaded.sha256, std::fs::read(&back).unwrap()),
        (uploaded.sha256.clone(), std::fs::read(&scan).unwrap())
    );
    for id in &ids {
        assert_eq!(jcy.get(id).await.unwrap().referral.unwrap().person.unwrap().name, "李某");
    }
    let listed = xianjie(&hub.data, &["keys", "list"]);
    assert!(listed.contains("k2") && listed.contains("active") && !listed.contains("k1"), "{listed}");
}

#[tokio::test]
async fn a_revoked_member_is_refused_on_open_connections_and_its_stream_ends() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    let jcy = hub.client("jcy").await;
    jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
    let mut inbox = mz.subscribe(None).await.unwrap();
    assert_eq!(inbox.next_within().await.unwrap().unwrap().seq, 1);
    assert_eq!(mz.who_am_i().await.unwrap().code, "mz");

    let authority = Authority::at(hub.pki());
    let day = chrono::NaiveDate::from_ymd_opt(2026, 9, 10).unwrap();
    let serial = authority.revoke("mz", day).unwrap();
    // The stream opened before the revocation ends with UNAUTHENTICATED…
    let ended = inbox.next_within().await.unwrap().unwrap_err();
    assert_eq!(ended.code(), Code::Unauthenticated);
    assert!(ended.message().contains(&serial), "{}", ended.message());
    // …and so does the next call on the connection opened before it.
    let err = mz.who_am_i().await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    // A new connection with the same certificate gets nothing either.
    assert_eq!(hub.client("mz").await.members().await.unwrap_err().code(), Code::Unauthenticated);
    // Others go on; a re-issued certificate works.
    assert_eq!(jcy.who_am_i().await.unwrap().code, "jcy");
    authority.issue(&xianjie::pki::Holder::parse("mz").unwrap()).unwrap();
    assert_eq!(hub.client("mz").await.who_am_i().await.unwrap().code, "mz");
    let listed = authority.list().unwrap();
    assert!(listed.iter().any(|i| i.name == "mz" && !i.revoked && i.serial != serial));
    assert!(authority.revoke("mz", day).is_ok(), "the new certificate can be revoked in turn");
}

#[tokio::test]
async fn a_renewed_server_certificate_is_served_without_a_restart() {
    let hub = TestHub::start().await;
    let before = served_certificate(&hub).await;
    let authority = Authority::at(hub.pki());
    authority.issue_server(&["localhost".into(), "127.0.0.1".into()]).unwrap();
    let renewed = xianjie::pki::read_certificates(&authority.pair("server").0).unwrap().remove(0).to_vec();
    assert_ne!(before, renewed);
    let (hub_ref, renewed_ref) = (&hub, &renewed);
    eventually(|| async move { served_certificate(hub_ref).await == *renewed_ref }).await;
    assert_eq!(hub.client("jcy").await.who_am_i().await.unwrap().code, "jcy");
}

/// The leaf certificate the hub shows a new TLS connection.
async fn served_certificate(hub: &TestHub) -> Vec<u8> {
    use rustls::pki_types::ServerName;
    let mut roots = rustls::RootCertStore::empty();
    for ca in xianjie::pki::read_certificates(&hub.pki().join("ca.crt")).unwrap() {
        roots.add(ca).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test]
async fn a_database_from_before_sealing_is_read_and_then_sealed() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let draft = referral_draft();
    let person = draft.person.clone().unwrap();
    let id = jcy.submit(draft.clone(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    hub.client("mz").await.comment(&id, "请补充病历").await.unwrap();

    // Put the rows back as a hub before sealing wrote them: the person inside the
    // content's JSON, notes in clear, no key named.
    let stored = sql_texts(&hub.data, &format!("SELECT content FROM referrals WHERE id = '{id}'")).await;
    let mut content: serde_json::Value = serde_json::from_str(&stored[0]).unwrap();
    content["person"] = serde_json::json!({
        "name": person.name, "id_number": person.id_number, "phone": person.phone,
        "address": person.address, "household": person.household,
    });
    content["narrative"] = draft.narrative.clone().into();
    let legacy = content.to_string().replace('\'', "''");
    sql(
        &hub.data,
        &format!(
            "UPDATE referrals SET content = '{legacy}', person_name = NULL, person_id_number = NULL, person_phone = NULL, \
             person_address = NULL, person_household = NULL, narrative = NULL, sealed_key = NULL, person_index = NULL \
             WHERE id = '{id}'"
        ),
    )
    .await;
    sql(&hub.data, "UPDATE referral_events SET note = '请补充病历', sealed_key = NULL WHERE version = 2").await;
    sql(&hub.data, "UPDATE inbox_events SET note = '请补充病历', sealed_key = NULL WHERE kind = 'comment'").await;

    let read = jcy.get(&id).await.unwrap();
    assert_eq!(person_of(read.referral.as_ref().unwrap()), person, "read as it is");
    assert_eq!(read.history.last().unwrap().note, "请补充病历");

    let out = xianjie(&hub.data, &["keys", "reseal"]);
    assert!(out.contains("resealed 3 rows"), "the referral, its note and its inbox copy: {out}");
    let rows = sql_texts(&hub.data, "SELECT content || person_name || note FROM referrals, referral_events").await;
    assert!(rows.iter().all(|r| !r.contains(&person.id_number) && !r.contains("请补充病历")));
    let read = jcy.get(&id).await.unwrap();
    assert_eq!(person_of(read.referral.as_ref().unwrap()), person);
    assert_eq!(read.history.last().unwrap().note, "请补充病历");
    // Sealed, the person counts for the one-open-referral rule again.
    let err = jcy.submit(draft, vec!["mz".into()], None).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn an_expired_certificate_is_refused_on_open_connections_and_its_stream_ends() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
    let mut inbox = mz.subscribe(None).await.unwrap();
    assert_eq!(inbox.next_within().await.unwrap().unwrap().seq, 1);
    // Member certificates of the development CA end on 2036-01-01.
    hub.clock.set(at("2036-01-01T00:00:01Z"));
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match inbox.next_within().await {
                Some(Ok(_)) => continue,
                Some(Err(status)) => return status,
                None => panic!("the stream ended without a status"),
            }
        }
    })
    .await
    .expect("the stream ends within its validity check");
    assert_eq!(ended.code(), Code::Unauthenticated);
    assert!(ended.message().contains("expired"), "{}", ended.message());
    let err = mz.who_am_i().await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "the next call on the open connection: {err:?}");
    assert!(err.message().contains("expired"), "{}", err.message());
}

#[tokio::test]
async fn an_act_rewrites_only_what_it_changes_and_a_row_under_an_old_key_whole() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let mz = hub.client("mz").await;
    let person_name = |id: &str| format!("SELECT person_name || ' ' || sealed_key FROM referrals WHERE id = '{id}'");
    let old = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let before = sql_texts(&hub.data, &person_name(&old)).await;
    mz.receive(&old).await.unwrap();
    assert_eq!(sql_texts(&hub.data, &person_name(&old)).await, before, "the person's columns are not sealed again");

    // A new key, taken up by the running hub, with `old` still sealed under k1.
    let path = hub.data.dir.path().join("keyring.toml");
    let mut keyring = Keyring::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(keyring.rotate().unwrap(), "k2");
    xianjie::keys::write(&path, &keyring).unwrap();
    let mut sealed_under = Vec::new();
    for _ in 0..250 {
        let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
        sealed_under = sql_texts(&hub.data, &format!("SELECT sealed_key FROM referrals WHERE id = '{id}'")).await;
        if sealed_under == ["k2"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(sealed_under, ["k2"]);
    assert!(sql_texts(&hub.data, &person_name(&old)).await[0].ends_with(" k1"));
    mz.start(&old).await.unwrap();
    let after = sql_texts(&hub.data, &person_name(&old)).await;
    assert!(after[0].ends_with(" k2"), "the row under the old key was sealed whole under the new one");
    let shown = jcy.get(&old).await.unwrap().referral.unwrap();
    assert_eq!((shown.person.unwrap().name, shown.state), ("李某".to_owned(), pb::ReferralState::Started as i32));
}

/// Everything a story of one person leaves that could name them: the person's fields,
/// and every text people wrote about them.
const SECRETS: [&str; 13] = [
    "秀英",           // the name, beyond its surname
    "19850315",       // the birth date inside the ID number
    "13912348765",    // the phone
    "梅岭路",         // the address, beyond the county
    "丈夫因伤去世",   // the household
    "驾车撞伤",       // the case summary
    "急需手术费",     // the advance reason
    "补充秀英的病历", // a comment
    "纳入低保每月",   // the conclusion's summary
    "领取低保金",     // the feedback
    "户籍不在本县",   // a return's reason
    "仍需心理疏导",   // what the visit found
    "伤情鉴定秀英",   // a file's name
];

fn leaks(what: &str, shown: &str) {
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{what} shows {secret}");
    }
}

/// The day the story begins.
const STORY_STARTS: &str = "2026-03-02T02:00:00Z";

/// A story of one person told in full: referred with a file to mz and jy, commented,
/// concluded with aid and fed back by mz, returned by jy, visited; its ids.
async fn story(hub: &TestHub) -> (String, String, String) {
    let jcy = hub.client("jcy").await;
    hub.clock.set(at(STORY_STARTS));
    let path = hub.data.dir.path().join("伤情鉴定秀英.pdf");
    std::fs::write(&path, b"%PDF-1.7\n1 0 obj\n").unwrap();
    let file = jcy.upload_file(&path).await.unwrap();
    let draft = pb::ReferralDraft {
        person: Some(pb::Person {
            name: "欧阳秀英".into(),
            id_number: "35058219850315123X".into(),
            phone: "13912348765".into(),
            address: "福建省晋江市青阳街道梅岭路18号".into(),
            household: "丈夫因伤去世，独自抚养两名子女".into(),
        }),
        narrative: "被告人驾车撞伤被害人后逃逸".into(),
        advance: true,
        advance_reason: "被害人急需手术费".into(),
        investigation_ended_on: String::new(),
        ..referral_draft()
    };
    let sent = jcy.submit_with(draft, vec!["mz".into(), "jy".into()], None, vec![file.id]).await.unwrap();
    let (a, b) = (sent.referrals[0].id.clone(), sent.referrals[1].id.clone());
    let mz = hub.client("mz").await;
    mz.comment(&a, "请补充秀英的病历").await.unwrap();
    mz.receive(&a).await.unwrap();
    mz.start(&a).await.unwrap();
    let conclusion = pb::Conclusion {
        summary: "纳入低保每月发放".into(),
        aids: vec![pb::Aid { kind: pb::AidKind::Subsistence as i32, fen: 300_000 }],
        ..granted("2026-03-05")
    };
    hub.clock.set(at("2026-03-05T02:00:00Z"));
    mz.conclude(&a, conclusion, Some("领取低保金自四月起".into())).await.unwrap();
    hub.client("jy").await.return_referral(&b, "户籍不在本县").await.unwrap();
    hub.clock.set(at("2026-04-01T02:00:00Z"));
    let visit = pb::Visit {
        visited_on: "2026-04-01".into(),
        method: pb::VisitMethod::Home as i32,
        visitor: "李明".into(),
        findings: "低保到位，仍需心理疏导".into(),
        aid_in_place: true,
        effect: pb::VisitEffect::Some as i32,
        another_referral: false,
        ..Default::default()
    };
    mz.visit(&a, visit).await.unwrap();
    // The parties read it all, so the strings are there to leak.
    let read = format!("{:?}", jcy.get(&a).await.unwrap());
    for secret in ["欧阳秀英", "梅岭路", "补充秀英的病历", "仍需心理疏导", "领取低保金", "急需手术费"]
    {
        assert!(read.contains(secret), "the sender reads {secret}");
    }
    (sent.case_id, a, b)
}

#[tokio::test]
async fn nothing_of_a_person_reaches_the_office_an_outsider_or_an_admin_over_any_rpc() {
    // The hub starts on the story's first day: a clock set back after the start could
    // meet a pass of the scanner begun before, which takes the story's file (uploaded
    // months before that pass's clock) for one nothing carried for a day and removes it.
    let data = Data::fresh().await;
    data.clock.set(at(STORY_STARTS));
    let hub = TestHub::start_on(data).await;
    let (case_id, a, b) = story(&hub).await;
    let dir = tempfile::tempdir().unwrap();
    let year = || pb::Period { year: 2026, ..Default::default() };
    // A start deadline missed, so that the office has deadline events to read.
    let clue = pb::ReferralDraft { discovered_on: "2026-04-01".into(), ..clue_draft(false) };
    let clue = hub.client("fl").await.submit(clue, vec!["jcy".into()], None).await.unwrap();
    hub.clock.set(at("2026-05-06T02:00:00Z"));

    let office = hub.client("office").await;
    for id in [&a, &b] {
        let got = office.get(id).await.unwrap();
        assert!(got.referral.as_ref().unwrap().masked);
        assert!(!got.history.is_empty() && !got.visits.is_empty() || id == &b);
        leaks("the office's Get", &format!("{got:?}"));
        leaks("the office's ListAttachments", &format!("{:?}", office.attachments(id).await.unwrap()));
        let refused = office.download(id, &office.attachments(id).await.unwrap()[0].id, dir.path()).await;
        leaks("the office's refused download", &format!("{refused:?}"));
        assert!(refused.is_err());
        let letter = office.save_letter(id, dir.path()).await;
        assert!(letter.is_err());
        leaks("the office's refused letter", &format!("{letter:?}"));
    }
    let listed = office.list(pb::ListReferralsRequest::default()).await.unwrap();
    assert_eq!(listed.referrals.len(), 3);
    leaks("the office's List", &format!("{listed:?}"));
    leaks("the office's GetCase", &format!("{:?}", office.case(&case_id).await.unwrap()));
    assert!(office.save_dossier(&case_id, dir.path()).await.is_err());
    let all = pb::ListDeadlinesRequest { view: pb::DeadlineView::All as i32, ..Default::default() };
    leaks("the office's ListDeadlines", &format!("{:?}", office.list_deadlines(all).await.unwrap()));
    leaks("the office's figures", &format!("{:?}", office.figures(year()).await.unwrap()));
    leaks(
        "the office's 催办",
        &format!("{:?}", office.remind(&clue.referrals[0].id, pb::DeadlineKind::Start, "请尽快").await),
    );
    for (format, name) in [(pb::TableFormat::Csv, "office.csv"), (pb::TableFormat::Xlsx, "office.xlsx")] {
        let saved = office.save_ledger(year(), format, &dir.path().join(name)).await.unwrap();
        let text = file_text(&saved.path);
        assert!(text.contains("欧***"), "the ledger lists the person masked");
        leaks("the office's ledger", &text);
        let figures = office.save_figures(year(), format, &dir.path().join(format!("figures-{name}"))).await.unwrap();
        leaks("the office's figures file", &file_text(&figures.path));
    }
    let mut events = Vec::new();
    for stream in [office.subscribe(Some(0)).await.unwrap(), office.watch(Some(0)).await.unwrap()] {
        let mut stream = stream;
        while let Ok(Some(event)) = tokio::time::timeout(std::time::Duration::from_secs(1), stream.next_within()).await
        {
            events.push(event.unwrap());
        }
    }
    assert!(events.iter().any(|e| e.kind == pb::InboxEventKind::DeadlineMissed as i32), "{events:?}");
    leaks("the office's events", &format!("{events:?}"));

    // A member party to none of it: nothing, and errors that name nothing of it.
    let sf = hub.client("sf").await;
    for id in [&a, &b] {
        let err = sf.get(id).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        leaks("an outsider's Get", &format!("{err:?}"));
        assert_eq!(sf.attachments(id).await.unwrap_err().code(), Code::NotFound);
        assert_eq!(sf.save_letter(id, dir.path()).await.unwrap_err().code(), Code::NotFound);
    }
    assert_eq!(sf.case(&case_id).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(sf.save_dossier(&case_id, dir.path()).await.unwrap_err().code(), Code::NotFound);
    assert!(sf.list(pb::ListReferralsRequest::default()).await.unwrap().referrals.is_empty());
    let saved = sf.save_ledger(year(), pb::TableFormat::Csv, &dir.path().join("sf.csv")).await.unwrap();
    leaks("an outsider's ledger", &file_text(&saved.path));
    leaks("an outsider's figures", &format!("{:?}", sf.figures(year()).await.unwrap()));
    let mut inbox = sf.subscribe(Some(0)).await.unwrap();
    while let Ok(Some(event)) = tokio::time::timeout(std::time::Duration::from_secs(1), inbox.next_within()).await {
        leaks("an outsider's inbox", &format!("{event:?}"));
    }

    // The admin reads no referral at all.
    let admin = hub.client("admin").await;
    for refused in [
        format!("{:?}", admin.get(&a).await.unwrap_err()),
        format!("{:?}", admin.list(pb::ListReferralsRequest::default()).await.unwrap_err()),
        format!("{:?}", admin.case(&case_id).await.unwrap_err()),
        format!("{:?}", admin.attachments(&a).await.unwrap_err()),
        format!("{:?}", admin.save_ledger(year(), pb::TableFormat::Csv, dir.path()).await.unwrap_err()),
    ] {
        assert!(refused.contains("PermissionDenied"), "{refused}");
        leaks("the admin", &refused);
    }
}

/// The text of a CSV file, or of every part of an XLSX one.
fn file_text(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    if !bytes.starts_with(b"PK") {
        return String::from_utf8(bytes).unwrap();
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    for i in 0..archive.len() {
        std::io::Read::read_to_string(&mut archive.by_index(i).unwrap(), &mut text).unwrap();
    }
    text
}

/// What a new connection with the certificate and key files `name` of `pki` is told
/// (a success panics).
async fn refused_with(hub: &TestHub, pki: &std::path::Path, name: Option<&str>) -> tonic::Status {
    answered_with(hub, pki, name).await.unwrap_err()
}

/// Who a new connection with the certificate and key files `name` of `pki` is.
async fn answered_with(
    hub: &TestHub,
    pki: &std::path::Path,
    name: Option<&str>,
) -> Result<pb::WhoAmIResponse, tonic::Status> {
    let identity = name.map(|n| {
        (std::fs::read(pki.join(format!("{n}.crt"))).unwrap(), std::fs::read(pki.join(format!("{n}.key"))).unwrap())
    });
    let channel = hub.channel_with(identity).await;
    let mut whoami = pb::directory_service_client::DirectoryServiceClient::new(channel);
    whoami.who_am_i(pb::WhoAmIRequest::default()).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_reissued_certificate_revokes_the_old_one_unless_kept_and_any_can_be_revoked_by_serial() {
    let hub = TestHub::start().await;
    let pki = hub.pki();
    let saved = tempfile::tempdir().unwrap();
    let keep = |name: &str| {
        for ext in ["crt", "key"] {
            std::fs::copy(pki.join(format!("{name}.{ext}")), saved.path().join(format!("{name}.{ext}"))).unwrap();
        }
    };
    let pki_cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
            .arg("pki")
            .args(args)
            .arg("--dir")
            .arg(&pki)
            .env("XIANJIE_CLOCK_START", "2026-09-10T02:00:00Z")
            .output()
            .unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{said}");
        said
    };
    let serial_of = |dir: &std::path::Path, name: &str| {
        let der = xianjie::pki::read_certificates(&dir.join(format!("{name}.crt"))).unwrap().remove(0);
        xianjie::pki::serial(&der).unwrap()
    };

    // Re-issued: the old certificate is revoked, and a new connection with it is told so.
    keep("mz");
    let old = serial_of(saved.path(), "mz");
    let said = pki_cli(&["issue", "mz"]);
    assert!(said.contains(&format!("revoked the previous certificate {old}")), "{said}");
    let (hub_ref, saved_ref) = (&hub, saved.path());
    eventually(|| async move { answered_with(hub_ref, saved_ref, Some("mz")).await.is_err() }).await;
    let status = refused_with(&hub, saved.path(), Some("mz")).await;
    assert_eq!(
        status.message(),
        format!("client certificate {old} is revoked; ask the administrator for a new one"),
        "said as revoked, not as a stranger's"
    );
    assert_eq!(hub.client("mz").await.who_am_i().await.unwrap().code, "mz", "the new one works");

    // Kept: both work until the old one is revoked by its serial number.
    keep("jy");
    let kept = serial_of(saved.path(), "jy");
    let said = pki_cli(&["issue", "jy", "--keep-previous"]);
    assert!(said.contains(&format!("{kept} stays valid until 2036-01-01")), "{said}");
    assert_eq!(answered_with(&hub, saved.path(), Some("jy")).await.unwrap().code, "jy", "the kept one works");
    let listed = pki_cli(&["list"]);
    let jy: Vec<&str> = listed.lines().filter(|l| l.starts_with("jy ")).collect();
    assert_eq!(jy.len(), 2, "{listed}");
    assert!(jy[0].ends_with("valid") && jy[1].contains(&kept) && jy[1].contains("superseded"), "{jy:?}");
    assert!(listed.lines().any(|l| l.starts_with("mz ") && l.contains(&old) && l.ends_with("revoked")), "{listed}");

    pki_cli(&["revoke", "--serial", &kept]);
    let (hub_ref, saved_ref) = (&hub, saved.path());
    eventually(|| async move { answered_with(hub_ref, saved_ref, Some("jy")).await.is_err() }).await;
    assert_eq!(refused_with(&hub, saved.path(), Some("jy")).await.code(), Code::Unauthenticated);
    assert_eq!(hub.client("jy").await.who_am_i().await.unwrap().code, "jy", "the new one works");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["pki", "revoke", "--serial", "0badc0de", "--dir"])
        .arg(&pki)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no certificate with serial number 0badc0de was issued here"));

    // No certificate, and another joint meeting's: each told what it is.
    let missing = refused_with(&hub, &pki, None).await;
    assert_eq!(missing.message(), "a client certificate is required; ask the administrator for one");
    let other = tempfile::tempdir().unwrap();
    xianjie::pki::authority::Authority::at(other.path())
        .create("另一个联席会议", &["localhost".into()], &[xianjie::pki::Identity::parse("mz").unwrap()])
        .unwrap();
    let foreign = refused_with(&hub, other.path(), Some("mz")).await;
    assert!(
        foreign.message().starts_with("client certificate refused: not issued by this joint meeting"),
        "{foreign:?}"
    );

    // Past its end, on a new connection.
    hub.clock.set(at("2036-01-02T00:00:00Z"));
    let expired = refused_with(&hub, &pki, Some("fl")).await;
    let serial = serial_of(&pki, "fl");
    assert_eq!(
        expired.message(),
        format!("client certificate {serial} has expired; ask the administrator for a new one")
    );
}
