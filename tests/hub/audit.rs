//! Art. 24–25: every read and change is in a hash-chained audit log, members hold
//! signed checkpoints of it, and `xianjie audit verify` finds every kind of tampering.

use std::sync::Arc;

use xianjie::{
    domain::{
        audit::{chain_hash, Checkpoint},
        hex,
    },
    keys::Keys,
    proto as pb,
    store::{self, Store},
};

use crate::support::*;

/// A hub that signs a checkpoint every 50 ms.
async fn hub() -> TestHub {
    let data = Data { checkpoint_interval_ms: 50, ..Data::fresh().await };
    TestHub::start_on(data).await
}

/// Some traffic, then the first checkpoint that reaches mz's inbox, as mz would keep it.
async fn traffic_and_a_checkpoint(hub: &TestHub) -> (String, Checkpoint) {
    let jcy = hub.client("jcy").await;
    let mz = hub.client("mz").await;
    let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    mz.receive(&id).await.unwrap();
    mz.get(&id).await.unwrap();
    hub.client("office").await.get(&id).await.unwrap();
    let mut inbox = mz.subscribe(Some(0)).await.unwrap();
    loop {
        let event = inbox.next_within().await.unwrap().unwrap();
        if let Some(c) = event.checkpoint {
            assert_eq!(event.kind, pb::InboxEventKind::AuditCheckpoint as i32);
            assert!(event.referral_id.is_empty());
            let checkpoint = Checkpoint {
                seq: c.seq,
                head: c.head,
                at: c.at.parse().unwrap(),
                signature: c.signature,
                root: c.root,
            };
            if checkpoint.seq >= 4 {
                return (id, checkpoint);
            }
        }
    }
}

fn save(data: &Data, checkpoint: &Checkpoint) -> String {
    let path = data.dir.path().join(format!("checkpoint-{}.json", checkpoint.seq));
    std::fs::write(&path, serde_json::to_string(checkpoint).unwrap()).unwrap();
    path.display().to_string()
}

fn verify(data: &Data, checkpoint: &str) -> (bool, String) {
    xianjie_status(data, &["audit", "verify", "--checkpoint", checkpoint])
}

/// Lets statements change the log, as someone with the database (not the signing key)
/// could.
async fn lift_append_only(data: &Data) {
    if on_postgres() {
        sql(data, "DROP TRIGGER audit_log_append_only ON audit_log").await;
    } else {
        sql(data, "DROP TRIGGER audit_log_no_update").await;
        sql(data, "DROP TRIGGER audit_log_no_delete").await;
    }
}

async fn open_store(data: &Data) -> Arc<dyn Store> {
    let keys = Arc::new(Keys::from_file(&data.dir.path().join("keyring.toml")).unwrap());
    let url = data.config().database_url();
    store::open(&url, keys).await.unwrap()
}

#[tokio::test]
async fn every_read_and_change_is_recorded_with_its_certificate() {
    let hub = hub().await;
    let (id, checkpoint) = traffic_and_a_checkpoint(&hub).await;
    let rows = sql_texts(
        &hub.data,
        "SELECT actor || ' ' || action || ' ' || referrals || ' ' || certificate || ' ' || detail FROM audit_log \
         ORDER BY seq",
    )
    .await;
    let serial = |who: &str| {
        let der = xianjie::pki::read_certificates(&hub.pki().join(format!("{who}.crt"))).unwrap().remove(0);
        xianjie::pki::serial(&der).unwrap()
    };
    // The submit's entry holds its letter's digest.
    let submit = format!("jcy Submit {id} {} letter {id} v1 检察院移〔2026〕1号 sha256 ", serial("jcy"));
    assert!(rows[0].starts_with(&submit), "{}", rows[0]);
    assert_eq!(
        rows[1..4],
        [
            format!("mz Receive {id} {} ", serial("mz")),
            format!("mz Get {id} {} ", serial("mz")),
            format!("office Get {id} {} masked", serial("office")),
        ]
    );
    assert!(checkpoint.seq >= 4);
    // Append-only: the hub's own database refuses to change an entry.
    let store = open_store(&hub.data).await;
    assert_eq!(store.audit_log(0, 100).await.unwrap().len(), rows.len());
    let refused = match &hub.data.database_url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query("UPDATE audit_log SET action = 'x' WHERE seq = 1").execute(&pool).await.unwrap_err().to_string()
        }
        None => {
            let db = rusqlite::Connection::open(hub.data.dir.path().join("xianjie.db")).unwrap();
            db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            db.execute("DELETE FROM audit_log WHERE seq = 1", []).unwrap_err().to_string()
        }
    };
    assert!(refused.contains("append-only"), "{refused}");
    let (ok, out) = verify(&hub.data, &save(&hub.data, &checkpoint));
    assert!(ok && out.contains("audit log intact"), "{out}");
}

/// What verify says after `tamper` changed the log of a stopped hub.
async fn verify_after<F, Fut>(tamper: F) -> String
where
    F: FnOnce(Data, Checkpoint) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let hub = hub().await;
    let (_, checkpoint) = traffic_and_a_checkpoint(&hub).await;
    let data = hub.stop().await;
    let kept = save(&data, &checkpoint);
    let (ok, out) = verify(&data, &kept);
    assert!(ok, "intact before tampering: {out}");
    lift_append_only(&data).await;
    tamper(data.clone(), checkpoint).await;
    let (ok, out) = verify(&data, &kept);
    assert!(!ok, "tampering went unnoticed: {out}");
    out
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let out = verify_after(|data, _| async move {
        sql(&data, "UPDATE audit_log SET actor = 'jy' WHERE seq = 3").await;
    })
    .await;
    assert!(out.contains("entry 3 was altered"), "{out}");
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    let out = verify_after(|data, _| async move {
        sql(&data, "DELETE FROM audit_log WHERE seq = 2").await;
    })
    .await;
    assert!(out.contains("entry 2 is missing"), "{out}");
}

#[tokio::test]
async fn reordered_entries_are_found() {
    let out = verify_after(|data, _| async move {
        sql(&data, "UPDATE audit_log SET seq = -2 WHERE seq = 2").await;
        sql(&data, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
        sql(&data, "UPDATE audit_log SET seq = 3 WHERE seq = -2").await;
    })
    .await;
    assert!(out.contains("entry 2 does not chain"), "{out}");
}

#[tokio::test]
async fn a_truncated_log_contradicts_the_checkpoint() {
    let out = verify_after(|data, checkpoint| async move {
        sql(&data, &format!("DELETE FROM audit_log WHERE seq >= {}", checkpoint.seq)).await;
        sql(&data, "DELETE FROM audit_checkpoints").await;
    })
    .await;
    assert!(out.contains("cut short"), "{out}");
}

#[tokio::test]
async fn a_chain_rewritten_without_the_key_contradicts_what_members_hold() {
    let out = verify_after(|data, checkpoint| async move {
        // Drop entry 1's referral and chain everything after it afresh: the chain is
        // consistent again, and the stored checkpoints are removed with it.
        let store = open_store(&data).await;
        let mut entries = store.audit_log(0, 1000).await.unwrap();
        store.close().await;
        entries[0].record.referrals.clear();
        let mut prev = entries[0].prev;
        for e in &mut entries {
            e.prev = prev;
            e.hash = chain_hash(&prev, e.seq, e.at, &e.record);
            prev = e.hash;
            sql(
                &data,
                &format!(
                    "UPDATE audit_log SET referrals = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
                    e.record.referrals.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
                    hex::lower(&e.prev),
                    hex::lower(&e.hash),
                    e.seq
                ),
            )
            .await;
        }
        sql(&data, "DELETE FROM audit_checkpoints").await;
        assert!(checkpoint.seq <= entries.len() as u64);
    })
    .await;
    assert!(out.contains("were rewritten"), "{out}");
}

#[tokio::test]
async fn a_checkpoint_not_signed_by_the_hub_is_refused() {
    let hub = hub().await;
    let (_, checkpoint) = traffic_and_a_checkpoint(&hub).await;
    let forged = Checkpoint { seq: checkpoint.seq - 1, ..checkpoint };
    let (ok, out) = verify(&hub.data, &save(&hub.data, &forged));
    assert!(!ok && out.contains("not signed by the hub's key"), "{out}");
}

#[tokio::test]
async fn notes_read_from_the_inbox_and_replayed_answers_are_audited_reads() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    jcy.comment(&id, "请补充伤情鉴定书").await.unwrap();
    let entries = || {
        sql_texts(
            &hub.data,
            "SELECT actor || ' ' || action || ' ' || referrals || ' ' || detail FROM audit_log ORDER BY seq",
        )
    };
    let before = entries().await.len();
    // mz reads its inbox: the new referral (no note) and the comment (a note).
    let mut inbox = hub.client("mz").await.subscribe(Some(0)).await.unwrap();
    for _ in 0..2 {
        inbox.next_within().await.unwrap().unwrap();
    }
    let rows = entries().await;
    assert_eq!(rows[before..], [format!("mz Subscribe {id} inbox notes")], "one entry for the batch with a note");

    // A retry of a request id reads the recorded answer, which repeats the person.
    let request = pb::TransitionRequest { request_id: "receive-once".into(), referral_id: id.clone() };
    let mut stub = hub.client("mz").await.referral_service();
    stub.receive(request.clone()).await.unwrap();
    let before = entries().await.len();
    let again = stub.receive(request).await.unwrap().into_inner();
    assert_eq!(again.person.unwrap().name, "李某");
    let rows = entries().await;
    assert_eq!(rows[before..], [format!("mz Receive {id} replayed answer")]);
}

#[tokio::test]
async fn a_signed_root_that_is_not_the_trees_is_found() {
    // Signed with the hub's key over the right head, but for another tree: a log whose
    // entries were rearranged under the same head could only be signed so.
    let hub = hub().await;
    let (_, checkpoint) = traffic_and_a_checkpoint(&hub).await;
    let signer = xianjie::audit::Signer::open_or_create(&hub.data.dir.path().join("audit-signing.key")).unwrap();
    let other = signer.sign(checkpoint.seq, checkpoint.head.clone(), "ab".repeat(32), checkpoint.at);
    let (ok, out) = verify(&hub.data, &save(&hub.data, &other));
    assert!(!ok && out.contains("has another root"), "{out}");
}

/// Waits for a stored checkpoint that covers more than `seq`.
async fn checkpoint_beyond(hub: &TestHub, seq: u64) {
    eventually(|| async {
        let stored = sql_texts(&hub.data, "SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM audit_checkpoints").await;
        stored[0].parse::<u64>().unwrap() > seq
    })
    .await;
}

#[tokio::test]
async fn a_member_proves_the_log_it_kept_was_only_appended_to() {
    let hub = hub().await;
    let (id, kept) = traffic_and_a_checkpoint(&hub).await;
    assert_eq!(kept.root.len(), 64, "checkpoints sign the tree's root");
    let mz = hub.client("mz").await;
    for _ in 0..5 {
        mz.get(&id).await.unwrap();
    }
    checkpoint_beyond(&hub, kept.seq).await;
    let public_key = xianjie::audit::read_public_key(&hub.data.dir.path().join("audit-signing.pub")).unwrap();
    let (newest, proof) = mz.prove_consistency(&kept).await.unwrap();
    assert!(newest.seq > kept.seq && !proof.is_empty());
    let report = xianjie::audit::consistent(&kept, &newest, &proof, &public_key).unwrap();
    assert!(report.contains("extends the one you kept"), "{report}");

    // A checkpoint the hub signed for another log of the same length (the key is the
    // hub's, the log is not what it now holds): the proof does not join them.
    let signer = xianjie::audit::Signer::open_or_create(&hub.data.dir.path().join("audit-signing.key")).unwrap();
    let other = signer.sign(kept.seq, kept.head.clone(), "ab".repeat(32), kept.at);
    let (newest, proof) = mz.prove_consistency(&other).await.unwrap();
    let broken = xianjie::audit::consistent(&other, &newest, &proof, &public_key).unwrap_err();
    assert!(broken.contains("does not extend"), "{broken}");
    // One covering more than the hub's log: cut short, or restored.
    let ahead = signer.sign(newest.seq + 1000, kept.head.clone(), kept.root.clone(), kept.at);
    let refused = mz.prove_consistency(&ahead).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(refused.message().contains("cut short or restored"), "{}", refused.message());
    // Admins keep no checkpoints.
    assert_eq!(
        hub.client("admin").await.prove_consistency(&kept).await.unwrap_err().code(),
        tonic::Code::PermissionDenied
    );

    // The command a member runs.
    let path = save(&hub.data, &kept);
    let pki = hub.pki();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["member", "mz", "--endpoint", &hub.endpoint(), "--pki-dir"])
        .arg(&pki)
        .args(["audit-consistency", "--checkpoint", &path, "--public-key"])
        .arg(hub.data.dir.path().join("audit-signing.pub"))
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("audit log consistent"), "{said}");
}
