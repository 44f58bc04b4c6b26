//! Durable inboxes: nothing is lost while a member is offline or its stream drops.

use tokio_stream::StreamExt;
use tonic::Code;
use xianjie::proto as pb;

use crate::support::*;

async fn refer(hub: &TestHub, n: usize) -> Vec<String> {
    let jcy = hub.client("jcy").await;
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id);
    }
    ids
}

#[tokio::test]
async fn an_agency_offline_while_three_referrals_arrive_gets_exactly_those_in_order() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    // Something already seen and acknowledged before going offline.
    refer(&hub, 1).await;
    assert_eq!(mz.ack(1).await.unwrap().acked_seq, 1);

    let missed = refer(&hub, 3).await;
    let mut inbox = mz.subscribe(None).await.expect("resume after the acknowledgement");
    let mut got = Vec::new();
    for _ in 0..3 {
        let event = inbox.next_within().await.unwrap().unwrap();
        got.push((event.seq, event.referral_id));
    }
    assert_eq!(got, vec![(2, missed[0].clone()), (3, missed[1].clone()), (4, missed[2].clone())]);
    // The next event is the next live one: nothing else was pending.
    let live = refer(&hub, 1).await;
    let event = inbox.next_within().await.unwrap().unwrap();
    assert_eq!((event.seq, event.referral_id), (5, live[0].clone()));

    let position = mz.ack(4).await.unwrap();
    assert_eq!((position.acked_seq, position.head_seq), (4, 5));
    assert_eq!(mz.ack(2).await.unwrap().acked_seq, 4, "an acknowledgement never goes back");
    // Past the newest event: a number from before a restore, refused rather than taken
    // for everything (it would acknowledge what was never received).
    let beyond = mz.ack(99).await.unwrap_err();
    assert_eq!(beyond.code(), tonic::Code::FailedPrecondition);
    assert!(beyond.message().contains("beyond the inbox head 5"), "{}", beyond.message());
    assert_eq!(mz.ack(0).await.unwrap().acked_seq, 4, "nothing acknowledged");
}

#[tokio::test]
async fn a_subscriber_that_drops_and_resumes_misses_nothing() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    let mut inbox = mz.subscribe(Some(0)).await.unwrap();
    let first = refer(&hub, 2).await;
    let a = inbox.next_within().await.unwrap().unwrap();
    assert_eq!((a.seq, &a.referral_id), (1, &first[0]));
    drop(inbox);

    let more = refer(&hub, 2).await;
    let mut resumed = mz.subscribe(Some(a.seq)).await.unwrap();
    let ids: Vec<_> = within((&mut resumed).take(3).map(|e| e.unwrap()).collect::<Vec<_>>()).await;
    let seqs: Vec<u64> = ids.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [2, 3, 4]);
    assert_eq!(ids[0].referral_id, first[1]);
    assert_eq!([ids[1].referral_id.clone(), ids[2].referral_id.clone()], [more[0].clone(), more[1].clone()]);

    // Redelivery keeps the event id stable.
    let again = mz.subscribe(Some(1)).await.unwrap().next_within().await.unwrap().unwrap();
    assert_eq!((again.seq, &again.event_id), (2, &ids[0].event_id));
}

#[tokio::test]
async fn members_get_only_their_own_events() {
    let hub = TestHub::start().await;
    refer(&hub, 2).await;
    let jy = hub.client("jy").await;
    let position = jy.ack(0).await.unwrap();
    assert_eq!((position.acked_seq, position.head_seq), (0, 0));
    let jcy = hub.client("jcy").await;
    jcy.submit(referral_draft(), vec!["jy".into()], None).await.unwrap();
    let event = jy.subscribe(Some(0)).await.unwrap().next_within().await.unwrap().unwrap();
    assert_eq!((event.seq, event.kind), (1, pb::InboxEventKind::NewReferral as i32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submits_sharing_commits_each_get_their_own_answer() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let stub = jcy.referral_service();
    // A person for each request id, so that the two sends of one id are the same request.
    let drafts: std::collections::HashMap<String, pb::ReferralDraft> = (0..64)
        .map(|i| format!("distinct-{i}"))
        .chain((0..8).map(|i| format!("twice-{i}")))
        .map(|id| (id, referral_draft()))
        .collect();
    let request = |id: String| pb::SubmitRequest {
        attachment_ids: vec![],
        draft: Some(drafts[&id].clone()),
        request_id: id,
        recipients: vec!["mz".into()],
        case_id: String::new(),
    };
    // 64 distinct submits, and 8 ids each sent twice at once: commits that fail inside a
    // shared transaction (the second of a pair) must not take the others with them.
    let mut calls = Vec::new();
    for i in 0..64 {
        let mut stub = stub.clone();
        let id = format!("distinct-{i}");
        let sent = request(id.clone());
        calls.push(tokio::spawn(async move { (id, stub.submit(sent).await.map(|r| r.into_inner())) }));
    }
    for i in 0..8 {
        for _ in 0..2 {
            let mut stub = stub.clone();
            let id = format!("twice-{i}");
            let sent = request(id.clone());
            calls.push(tokio::spawn(async move { (id, stub.submit(sent).await.map(|r| r.into_inner())) }));
        }
    }
    let mut answers = std::collections::HashMap::<String, Vec<pb::SubmitResponse>>::new();
    for call in calls {
        let (id, answer) = call.await.unwrap();
        answers.entry(id).or_default().push(answer.expect("every submit is answered"));
    }
    assert_eq!(answers.len(), 72);
    for (id, got) in &answers {
        assert!(got.windows(2).all(|w| w[0] == w[1]), "{id}: a retry gets the first answer");
    }
    let mut inbox = hub.client("mz").await.subscribe(Some(0)).await.unwrap();
    let mut seqs = Vec::new();
    for _ in 0..72 {
        seqs.push(inbox.next_within().await.unwrap().unwrap().seq);
    }
    assert_eq!(seqs, (1..=72).collect::<Vec<u64>>());
    let position = hub.client("mz").await.ack(0).await.unwrap();
    assert_eq!(position.head_seq, 72, "one referral per request id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_request_id_fails_alone_in_a_shared_commit_and_the_others_are_delivered_in_order() {
    let hub = TestHub::start().await;
    let stub = hub.client("jcy").await.referral_service();
    let request = |id: String| pb::SubmitRequest {
        attachment_ids: vec![],
        draft: Some(referral_draft()),
        request_id: id,
        recipients: vec!["mz".into()],
        case_id: String::new(),
    };
    // 48 distinct submits, and 8 ids each sent twice at once with two different people:
    // the second of a pair fails inside the shared transaction, and alone.
    let mut calls = Vec::new();
    let ids = (0..48).map(|i| format!("distinct-{i}")).chain((0..16).map(|i| format!("reused-{}", i / 2)));
    for id in ids {
        let mut stub = stub.clone();
        let sent = request(id.clone());
        calls.push(tokio::spawn(async move { (id, stub.submit(sent).await.map(|r| r.into_inner())) }));
    }
    let mut answered = Vec::new();
    let mut refused = std::collections::HashMap::<String, usize>::new();
    for call in calls {
        match call.await.unwrap() {
            (_, Ok(answer)) => answered.push(answer.referrals[0].id.clone()),
            (id, Err(status)) => {
                assert_eq!(status.code(), Code::AlreadyExists, "{id}: {status:?}");
                assert!(id.starts_with("reused-"), "{id} was refused");
                *refused.entry(id).or_default() += 1;
            }
        }
    }
    assert_eq!(answered.len(), 56, "every distinct submit and one of each reused pair");
    assert_eq!(refused.len(), 8);
    assert!(refused.values().all(|&n| n == 1));
    let mut inbox = hub.client("mz").await.subscribe(Some(0)).await.unwrap();
    let mut delivered = Vec::new();
    for expected in 1..=56u64 {
        let event = inbox.next_within().await.unwrap().unwrap();
        assert_eq!(event.seq, expected, "gap-free and in order");
        delivered.push(event.referral_id);
    }
    delivered.sort();
    answered.sort();
    assert_eq!(delivered, answered, "exactly the answered referrals, once each");
    assert_eq!(hub.client("mz").await.ack(0).await.unwrap().head_seq, 56);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submits_to_several_members_at_once_number_each_inbox_gap_free_and_live() {
    let hub = TestHub::start().await;
    let stub = hub.client("jcy").await.referral_service();
    let members = ["jy", "mz", "rs"];
    let mut live = Vec::new();
    for member in members {
        live.push(hub.client(member).await.subscribe(None).await.expect("a live stream"));
    }
    // Recipients named in every order, and some submits to one member alone: the events
    // of one shared commit reach several inboxes, several to one inbox.
    let orders: [&[&str]; 5] = [&["mz", "jy"], &["jy", "mz", "rs"], &["rs"], &["rs", "mz"], &["mz"]];
    let mut calls = Vec::new();
    for i in 0..60 {
        let mut stub = stub.clone();
        let recipients: Vec<String> = orders[i % orders.len()].iter().map(|m| m.to_string()).collect();
        let request = pb::SubmitRequest {
            attachment_ids: vec![],
            draft: Some(referral_draft()),
            request_id: format!("spread-{i}"),
            recipients,
            case_id: String::new(),
        };
        calls.push(tokio::spawn(async move { stub.submit(request).await.map(|r| r.into_inner()) }));
    }
    let mut sent: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for call in calls {
        for referral in call.await.unwrap().expect("every submit is answered").referrals {
            let member = members.iter().find(|m| **m == referral.recipient).expect("a recipient named");
            sent.entry(member).or_default().push(referral.id);
        }
    }
    for (member, stream) in members.iter().zip(&mut live) {
        let expected = sent[member].len() as u64;
        let mut got = Vec::new();
        for seq in 1..=expected {
            let event = stream.next_within().await.unwrap().unwrap();
            assert_eq!(event.seq, seq, "{member}'s inbox, live: gap-free and in order");
            got.push(event.referral_id);
        }
        got.sort();
        let mut answered = sent[member].clone();
        answered.sort();
        assert_eq!(got, answered, "{member} gets exactly the referrals sent to it");
        assert_eq!(hub.client(member).await.ack(0).await.unwrap().head_seq, expected, "{member}'s head");
    }
}
