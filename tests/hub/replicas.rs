//! Two hub processes on one PostgreSQL database, both serving at once.

use tokio_stream::StreamExt;
use tonic::Code;
use xianjie::{config::Config, proto as pb, server};

use crate::support::*;

/// Fresh PostgreSQL data with its development PKI made before any hub starts, so that
/// two hubs can start together.
async fn shared_data() -> Data {
    assert!(
        on_postgres(),
        "two replicas need PostgreSQL: run under scripts/with-postgres.sh with XIANJIE_TEST_BACKEND=postgres"
    );
    let data = Data::fresh().await;
    let config: Config = data.config();
    server::ensure_dev_pki(&config, &config.directory().unwrap()).unwrap();
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn an_event_caused_on_one_hub_reaches_a_subscriber_of_the_other_live() {
    let data = shared_data().await;
    let dir = data.dir.path();
    let (a, b) = (HubProcess::start(&data, T0), HubProcess::start(&data, T0));
    let mut on_a = a.client(dir, "mz").await.subscribe(Some(0)).await.unwrap();
    let sent = b.client(dir, "jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
    let event = on_a.next_within().await.unwrap().unwrap();
    assert_eq!((event.seq, event.referral_id.as_str()), (1, sent.referrals[0].id.as_str()));
    // And back: the agency acts on A, the procuratorate hears it on B.
    let mut on_b = b.client(dir, "jcy").await.subscribe(Some(0)).await.unwrap();
    a.client(dir, "mz").await.receive(&sent.referrals[0].id).await.unwrap();
    assert_eq!(on_b.next_within().await.unwrap().unwrap().kind, pb::InboxEventKind::StateChanged as i32);
    a.kill();
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn the_same_transition_on_two_hubs_succeeds_once() {
    let data = shared_data().await;
    let dir = data.dir.path();
    let (a, b) = (HubProcess::start(&data, T0), HubProcess::start(&data, T0));
    let jcy = a.client(dir, "jcy").await;
    let (mz_a, mz_b) = (a.client(dir, "mz").await, b.client(dir, "mz").await);
    for _ in 0..10 {
        let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
        let (on_a, on_b) = tokio::join!(mz_a.receive(&id), mz_b.receive(&id));
        let outcomes = [on_a.map(|_| ()), on_b.map(|_| ())];
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
        let refused = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert_eq!(jcy.get(&id).await.unwrap().history.len(), 2);
    }
    a.kill();
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn inbox_numbers_stay_gap_free_and_ordered_under_writers_on_both_hubs() {
    let data = shared_data().await;
    let dir = data.dir.path();
    let (a, b) = (HubProcess::start(&data, T0), HubProcess::start(&data, T0));
    let mut live = a.client(dir, "mz").await.subscribe(Some(0)).await.unwrap();
    let (jcy_a, jcy_b) = (a.client(dir, "jcy").await, b.client(dir, "jcy").await);
    let submit = |client: xianjie::client::Client| async move {
        let mut ids = Vec::new();
        for _ in 0..40 {
            ids.push(client.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id);
        }
        ids
    };
    let (from_a, from_b) = tokio::join!(submit(jcy_a), submit(jcy_b));
    let mut seen = Vec::new();
    for _ in 0..80 {
        seen.push(live.next_within().await.unwrap().unwrap());
    }
    let seqs: Vec<u64> = seen.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=80).collect::<Vec<_>>(), "the live subscriber saw every number once, in order");
    let mut ids: Vec<String> = seen.into_iter().map(|e| e.referral_id).collect();
    let mut sent: Vec<String> = from_a.into_iter().chain(from_b).collect();
    ids.sort();
    sent.sort();
    assert_eq!(ids, sent);
    a.kill();
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn two_scanners_report_each_missed_deadline_once() {
    let data = shared_data().await;
    let dir = data.dir.path();
    let first = HubProcess::start(&data, T0);
    let jcy = first.client(dir, "jcy").await;
    for _ in 0..10 {
        jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
    }
    assert!(first.terminate().success());

    // Both start on 09-18, after every start deadline (09-17) passed, and race. Each has
    // made a full pass over the deadlines before it listens.
    let late = "2026-09-18T02:00:00Z";
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| HubProcess::start(&data, late));
        let b = s.spawn(|| HubProcess::start(&data, late));
        (a.join().unwrap(), b.join().unwrap())
    });
    let office = b.client(dir, "office").await;
    let mut watch = office.watch(Some(0)).await.unwrap();
    for _ in 0..10 {
        assert_eq!(watch.next_within().await.unwrap().unwrap().kind, pb::InboxEventKind::DeadlineMissed as i32);
    }
    let mz = a.client(dir, "mz").await;
    // Acknowledging 0 reads the inbox position: exactly one event per miss, no more.
    assert_eq!(office.ack(0).await.unwrap().head_seq, 10);
    assert_eq!(mz.ack(0).await.unwrap().head_seq, 20, "10 new referrals and 10 misses");
    a.kill();
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn submits_naming_the_same_members_in_opposite_orders_on_two_hubs_all_succeed() {
    let data = shared_data().await;
    let dir = data.dir.path();
    let (a, b) = (HubProcess::start(&data, T0), HubProcess::start(&data, T0));
    let (jcy_a, jcy_b) = (a.client(dir, "jcy").await, b.client(dir, "jcy").await);
    let members: Vec<String> = ["mz", "jy", "fl", "cl", "sf", "rs"].iter().map(|m| m.to_string()).collect();
    let reversed: Vec<String> = members.iter().rev().cloned().collect();
    for _ in 0..40 {
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let (client, to) =
                    if i % 2 == 0 { (jcy_a.clone(), members.clone()) } else { (jcy_b.clone(), reversed.clone()) };
                tokio::spawn(async move { client.submit(referral_draft(), to, None).await })
            })
            .collect();
        for task in tasks {
            let sent =
                task.await.unwrap().expect("no submit fails: inbox heads are locked in one order, lost races retried");
            assert_eq!(sent.referrals.len(), 6);
        }
    }
    // Every inbox got all 160 referrals, numbered without gaps.
    let mz = a.client(dir, "mz").await;
    let seqs: Vec<u64> =
        within(mz.subscribe(Some(0)).await.unwrap().take(160).map(|e| e.unwrap().seq).collect::<Vec<_>>()).await;
    assert_eq!(seqs, (1..=160).collect::<Vec<u64>>());
    a.kill();
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn document_numbers_stay_gap_free_per_sender_with_submits_on_both_hubs() {
    let data = shared_data().await;
    let dir = data.dir.path();
    let (a, b) = (HubProcess::start(&data, T0), HubProcess::start(&data, T0));
    let (jcy_a, jcy_b, mz_b) = (a.client(dir, "jcy").await, b.client(dir, "jcy").await, b.client(dir, "mz").await);
    // The procuratorate on both hubs, twelve submits at a time on each, eight in a row
    // (1+N submits take one number per referral), and an agency's clues meanwhile: each
    // hub hands out numbers the other has claimed and not yet written.
    let tasks: Vec<_> = (0..36)
        .map(|i| {
            let (client, to) = match i % 3 {
                0 => (jcy_a.clone(), vec!["mz".to_owned(), "jy".to_owned()]),
                1 => (jcy_b.clone(), vec!["mz".to_owned()]),
                _ => (mz_b.clone(), vec!["jcy".to_owned()]),
            };
            tokio::spawn(async move {
                let mut sent = Vec::new();
                for _ in 0..8 {
                    let draft = if i % 3 == 2 { clue_draft(false) } else { referral_draft() };
                    sent.push(client.submit(draft, to.clone(), None).await);
                }
                sent
            })
        })
        .collect();
    let mut sent = Vec::new();
    for task in tasks {
        for submitted in task.await.unwrap() {
            let submitted = submitted.expect("every submit succeeds: a number claimed elsewhere is left to it");
            sent.extend(submitted.referrals.into_iter().map(|r| (r.sender, r.id)));
        }
    }
    assert_eq!(sent.len(), 12 * 8 * (2 + 1 + 1));
    // Each letter, read from the hub the sender did not write through, has its number.
    let out = tempfile::tempdir().unwrap();
    let (jcy_b, mz_a) = (b.client(dir, "jcy").await, a.client(dir, "mz").await);
    let mut numbers: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for (sender, id) in &sent {
        let reader = if sender == "jcy" { &jcy_b } else { &mz_a };
        let letter = reader.save_letter(id, &out.path().join(format!("{id}.docx"))).await.unwrap();
        let number = letter.file_name.split('〕').nth(1).and_then(|rest| rest.split('号').next()).unwrap();
        numbers.entry(sender.clone()).or_default().push(number.parse().unwrap());
        assert!(letter.file_name.contains("〔2026〕"), "{}", letter.file_name);
    }
    for (sender, mut seen) in numbers {
        seen.sort_unstable();
        assert_eq!(seen, (1..=seen.len() as u32).collect::<Vec<_>>(), "{sender}: gap-free, each once");
    }
    a.kill();
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn a_directory_changed_through_one_hub_is_served_by_the_other() {
    let data = shared_data().await;
    let dir = data.dir.path();
    let quick = [("XIANJIE_RELOAD_INTERVAL_MS", "50")];
    let (a, b) = (HubProcess::start_with(&data, T0, &quick), HubProcess::start_with(&data, T0, &quick));
    let mut jcy_on_b = b.client(dir, "jcy").await.subscribe(Some(0)).await.unwrap();
    let liaison = |name: &str| pb::Contacts { liaison: name.into(), ..Default::default() };
    // Two changes at once through both hubs take turns: versions 1 and 2, both kept.
    let (mz_a, sf_b) = (a.client(dir, "mz").await, b.client(dir, "sf").await);
    let (x, y) = tokio::join!(mz_a.update_contacts("mz", liaison("李明")), sf_b.update_contacts("sf", liaison("吴敏")));
    let mut versions = [x.unwrap().version, y.unwrap().version];
    versions.sort_unstable();
    assert_eq!(versions, [1, 2]);
    // Suspended through A: B refuses the member as soon as it looks again.
    let mz_b = b.client(dir, "mz").await;
    assert_eq!(mz_b.who_am_i().await.unwrap().code, "mz");
    a.client(dir, "admin").await.set_member_active("mz", false).await.unwrap();
    let mz_b = &mz_b;
    eventually(|| async move { mz_b.who_am_i().await.is_err_and(|e| e.code() == Code::Unauthenticated) }).await;
    let listed = b.client(dir, "jcy").await.directory().await.unwrap();
    assert_eq!(listed.version, 3);
    assert!(!listed.members.iter().find(|m| m.code == "mz").unwrap().active);
    let mut notes = Vec::new();
    while notes.len() < 3 {
        let event = jcy_on_b.next_within().await.unwrap().unwrap();
        assert_eq!(event.kind, pb::InboxEventKind::DirectoryChanged as i32);
        notes.push(event.note);
    }
    assert!(notes[2].contains("晋江市民政局 暂停参与衔接"), "{notes:?}");
    a.kill();
    b.kill();
}
