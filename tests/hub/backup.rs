//! Backups that restore: a clean stop leaves one database file, `xianjie backup` copies
//! a running hub, `xianjie restore` puts a copy back under a new inbox epoch, and a
//! member's client resyncs instead of skipping the events numbered again.

use tokio_stream::StreamExt;
use xianjie::client::{changed_epoch, Cursor};

use crate::support::*;

/// Submits one referral from jcy to mz and returns its id.
async fn refer(jcy: &xianjie::client::Client) -> String {
    jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id
}

async fn count_referrals(database: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    db.query_row("SELECT COUNT(*) FROM referrals", [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn a_clean_stop_leaves_everything_in_the_database_file_alone() {
    let hub = TestHub::start_on(Data::sqlite()).await;
    let jcy = hub.client("jcy").await;
    for _ in 0..20 {
        refer(&jcy).await;
    }
    let data = hub.stop().await;
    let wal = data.dir.path().join("xianjie.db-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0), "the write-ahead log was folded in");
    // The cold backup of docs/operations.md: the database file copied alone.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(data.dir.path().join("xianjie.db"), copy.path().join("xianjie.db")).unwrap();
    assert_eq!(count_referrals(&copy.path().join("xianjie.db")).await, 20);
}

#[tokio::test]
async fn a_backup_of_a_running_hub_restores_with_a_new_epoch_and_members_resync() {
    let hub = TestHub::start_on(Data::sqlite()).await;
    let jcy = hub.client("jcy").await;
    let mut before = Vec::new();
    for _ in 0..5 {
        before.push(refer(&jcy).await);
    }
    let mz = hub.client("mz").await;
    mz.ack(3).await.unwrap();
    let backup = hub.data.dir.path().join("nightly.db");
    let out = xianjie(&hub.data, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(out.contains("5 referrals"), "{out}");
    let (ok, out) = xianjie_status(&hub.data, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(!ok && out.contains("already exists"), "an existing file is not overwritten: {out}");
    let mut after = Vec::new();
    for _ in 0..3 {
        after.push(refer(&jcy).await);
    }
    // mz has read all eight events when the hub goes down.
    let mut inbox = mz.follow(Cursor::new("", Some(0)));
    for _ in 0..8 {
        within(inbox.next()).await.unwrap().unwrap();
    }
    let cursor = inbox.cursor().clone();
    assert_eq!(cursor.after_seq, Some(8));
    let old_epoch = cursor.epoch.clone();
    assert!(!old_epoch.is_empty());
    drop(inbox);

    let (ok, out) = xianjie_status(&hub.data, &["restore", backup.to_str().unwrap()]);
    assert!(!ok && out.contains("a hub is running"), "no restore under a running hub: {out}");
    let data = hub.stop().await;
    let out = xianjie(&data, &["restore", backup.to_str().unwrap()]);
    assert!(out.contains("5 referrals") && out.contains("new inbox epoch"), "{out}");
    assert!(xianjie(&data, &["audit", "verify"]).contains("intact"), "the restored audit log verifies");

    let hub = TestHub::start_on(data).await;
    let jcy = hub.client("jcy").await;
    for id in &before {
        assert_eq!(jcy.get(id).await.expect("restored").referral.unwrap().id, *id);
    }
    for id in &after {
        assert_eq!(jcy.get(id).await.unwrap_err().code(), tonic::Code::NotFound, "after the backup: lost");
    }
    let new = vec![refer(&jcy).await, refer(&jcy).await];

    let mz = hub.client("mz").await;
    let refused = mz
        .inbox_service()
        .subscribe(xianjie::proto::SubscribeRequest { after_seq: Some(8), epoch: old_epoch.clone() })
        .await
        .unwrap_err();
    let epoch = changed_epoch(&refused).expect("told the epoch changed");
    assert_ne!(epoch, old_epoch);
    assert_eq!(mz.ack_in(8, &old_epoch).await.unwrap_err().code(), tonic::Code::FailedPrecondition);

    // The client resyncs from the restored acknowledgement (3) and drops the events it
    // had already seen (4 and 5): only the two new referrals come through.
    let mut inbox = mz.follow(cursor);
    let mut got = Vec::new();
    for _ in 0..2 {
        let event = within(inbox.next()).await.unwrap().unwrap();
        assert_eq!(event.epoch, epoch);
        got.push(event.referral_id);
    }
    assert_eq!(got, new);
    assert_eq!(inbox.renumbered(), 1);
    // Seen raw, the new epoch numbers them 6 and 7: numbers mz had for other events.
    let raw: Vec<_> =
        within(mz.subscribe(Some(5)).await.unwrap().take(2).map(|e| e.unwrap().seq).collect::<Vec<_>>()).await;
    assert_eq!(raw, [6, 7]);
    hub.stop().await;
}

#[tokio::test]
async fn a_restore_refuses_a_file_that_is_not_a_backup() {
    let data = Data::sqlite();
    let bogus = data.dir.path().join("bogus.db");
    std::fs::write(&bogus, b"%PDF-1.7 not a database").unwrap();
    let (ok, out) = xianjie_status(&data, &["restore", bogus.to_str().unwrap()]);
    assert!(!ok && out.contains("is not a xianjie database"), "{out}");
    assert!(!data.dir.path().join("xianjie.db").exists(), "nothing was put in place");
}

/// The restore drill: last night's backup, a crash (SIGKILL), the restore, and then
/// a new client, an old one with its epoch and an old one without: each sees every
/// referral made after the restore, and none acknowledges an event it did not receive.
#[tokio::test]
async fn after_a_crash_and_a_restore_no_client_skips_or_acknowledges_what_it_did_not_see() {
    let data = Data::sqlite();
    let dir = data.dir.path().to_owned();
    let hub = HubProcess::start(&data, "2026-09-10T02:00:00Z");
    let jcy = hub.client(&dir, "jcy").await;
    for _ in 0..5 {
        refer(&jcy).await;
    }
    let mz = hub.client(&dir, "mz").await;
    mz.ack(3).await.unwrap();
    let backup = dir.join("nightly.db");
    xianjie(&data, &["backup", "--out", backup.to_str().unwrap()]);
    for _ in 0..3 {
        refer(&jcy).await;
    }
    // Both old clients have read all eight events.
    let mut inbox = mz.follow(Cursor::new("", Some(0)));
    for _ in 0..8 {
        within(inbox.next()).await.unwrap().unwrap();
    }
    let with_epoch = inbox.cursor().clone();
    drop(inbox);
    hub.kill();

    let out = xianjie(&data, &["restore", backup.to_str().unwrap()]);
    assert!(out.contains("5 referrals"), "{out}");
    let hub = HubProcess::start(&data, "2026-09-10T03:00:00Z");
    let jcy = hub.client(&dir, "jcy").await;
    let new = [refer(&jcy).await, refer(&jcy).await];
    let mz = hub.client(&dir, "mz").await;

    // Without an epoch, a cursor or acknowledgement from before is beyond the inbox's
    // end (7 now): refused, naming the end, and nothing is acknowledged.
    let refused = mz
        .inbox_service()
        .subscribe(xianjie::proto::SubscribeRequest { after_seq: Some(8), epoch: String::new() })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(refused.message().contains("beyond the inbox head 7"), "{}", refused.message());
    assert!(xianjie::client::beyond_head(&refused));
    let refused = mz.ack(8).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused:?}");
    assert_eq!(mz.ack(0).await.unwrap().acked_seq, 3, "the acknowledgement stays where the backup had it");

    // Each client sees both new referrals.
    let followers = [
        ("new", Cursor::new("", None)),
        ("old with its epoch", with_epoch),
        ("old without an epoch", Cursor::new("", Some(8))),
    ];
    for (who, cursor) in followers {
        let mut inbox = mz.follow(cursor);
        let mut seen = Vec::new();
        while !new.iter().all(|id| seen.contains(id)) {
            let event = within(inbox.next()).await.unwrap().unwrap();
            seen.push(event.referral_id);
        }
        assert!(seen.len() <= 4, "{who}: only what came after the acknowledgement: {seen:?}");
    }

    // The command line says so, and shows what came after the acknowledgement.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["member", "mz", "--endpoint", hub.endpoint(), "--pki-dir"])
        .arg(dir.join("pki"))
        .args(["inbox", "--after", "8"])
        .output()
        .await
        .unwrap();
    let (shown, said) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{said}");
    assert!(said.contains("--after 8 is beyond the inbox's end (7)"), "{said}");
    assert!(new.iter().all(|id| shown.contains(id.as_str())), "{shown}");
    hub.kill();
}
