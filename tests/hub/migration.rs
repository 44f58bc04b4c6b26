//! Moving a county from SQLite to PostgreSQL loses nothing.

use xianjie::{
    keys::Keys,
    proto::{self as pb, DeadlineKind as K},
    store::migrate,
};

use crate::support::*;

#[tokio::test]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn migrate_store_copies_everything_and_the_hub_goes_on_from_postgres() {
    assert!(on_postgres(), "moving to PostgreSQL needs a cluster: run under scripts/with-postgres.sh");
    let target = Data::fresh().await;
    let sqlite = Data { database_url: None, ..target.clone() };
    let hub = TestHub::start_on(sqlite.clone()).await;
    let sent = hub.client("jcy").await.submit(referral_draft(), vec!["mz".into(), "jy".into()], None).await.unwrap();
    let mz = hub.client("mz").await;
    mz.receive(&sent.referrals[0].id).await.unwrap();
    mz.ack(1).await.unwrap();
    hub.stop().await;
    // A clerk's workbench password, as `xianjie pki issue` keeps it.
    sql(
        &sqlite,
        "INSERT INTO clerk_passwords (holder, hash, must_change, failures, locked_until, changed_at) \
         VALUES ('mz.wangfang', '$argon2id$v=19$x', 1, 0, NULL, 0)",
    )
    .await;

    let from = format!("sqlite://{}", sqlite.dir.path().join("xianjie.db").display());
    let to = target.database_url.clone().unwrap();
    let keys = std::sync::Arc::new(Keys::from_file(&sqlite.dir.path().join("keyring.toml")).unwrap());
    let counts = migrate::sqlite_to_postgres(&from, &to, keys.clone()).await.unwrap();
    let rows = |table: &str| counts.iter().find(|(t, _)| *t == table).unwrap().1;
    assert_eq!((rows("referrals"), rows("referral_events"), rows("inbox_events")), (2, 3, 3));
    assert_eq!(rows("deadlines"), 4, "send and start, for each referral");
    assert_eq!((rows("letter_numbers"), rows("directory_versions")), (2, 1), "documents and the directory too");
    assert_eq!(rows("clerk_passwords"), 1, "clerks keep their passwords");
    let again = migrate::sqlite_to_postgres(&from, &to, keys).await.unwrap_err();
    assert!(again.to_string().contains("must be empty"), "{again}");

    let hub = TestHub::start_on(target).await;
    let mz = hub.client("mz").await;
    assert_eq!(mz.ack(0).await.unwrap().acked_seq, 1);
    let got = mz.get(&sent.referrals[0].id).await.unwrap();
    assert_eq!(got.referral.unwrap().state, pb::ReferralState::Received as i32);
    assert!(got.deadlines.iter().any(|d| d.kind == K::Start as i32));
    let mut inbox = mz.subscribe(None).await.unwrap();
    hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
    assert_eq!(inbox.next_within().await.unwrap().unwrap().seq, 2, "numbering goes on where SQLite left it");
}
