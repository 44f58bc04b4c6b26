//! What the hub answered survives a restart and a crash.

use tokio_stream::StreamExt;
use xianjie::proto as pb;

use crate::support::*;

#[tokio::test]
async fn a_hub_restarted_on_the_same_data_has_lost_nothing() {
    let hub = TestHub::start().await;
    let sent = hub.client("jcy").await.submit(referral_draft(), vec!["mz".into(), "jy".into()], None).await.unwrap();
    let mz = hub.client("mz").await;
    mz.receive(&sent.referrals[0].id).await.unwrap();
    mz.ack(1).await.unwrap();
    // A live subscription does not hold up the shutdown; it is told to resubscribe.
    let mut live = hub.client("jcy").await.subscribe(Some(1)).await.unwrap();
    let data = hub.stop().await;
    let ended = live.next_within().await.unwrap().unwrap_err();
    assert_eq!(ended.code(), tonic::Code::Unavailable);

    let hub = TestHub::start_on(data).await;
    let case = hub.client("jcy").await.case(&sent.case_id).await.unwrap();
    assert_eq!(case.referrals.len(), 2);
    assert_eq!(case.referrals.iter().find(|r| r.recipient == "mz").unwrap().state, pb::ReferralState::Received as i32);
    let mz = hub.client("mz").await;
    assert_eq!(mz.ack(0).await.unwrap().acked_seq, 1);
    let jcy_inbox = hub.client("jcy").await.subscribe(Some(0)).await.unwrap().next_within().await.unwrap().unwrap();
    assert_eq!(jcy_inbox.kind, pb::InboxEventKind::StateChanged as i32);
}

// Multi-threaded: the test blocks on the child process while the clients' connections
// must go on answering the hub's goodbye.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_submit_survives_a_crash_of_the_hub() {
    let data = Data::fresh().await;
    let dir = data.dir.path();
    let hub = HubProcess::start(&data, T0);
    let jcy = hub.client(dir, "jcy").await;
    let mut answered = Vec::new();
    for _ in 0..20 {
        answered.push(jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id);
    }
    hub.kill();

    let hub = HubProcess::start(&data, T0);
    let jcy = hub.client(dir, "jcy").await;
    for id in &answered {
        assert_eq!(jcy.get(id).await.expect("survived the crash").referral.unwrap().id, *id);
    }
    let mz = hub.client(dir, "mz").await;
    let events: Vec<_> =
        within(mz.subscribe(Some(0)).await.unwrap().take(20).map(|e| e.unwrap().referral_id).collect::<Vec<_>>()).await;
    assert_eq!(events, answered, "each inbox event was committed with its referral");
    assert!(hub.terminate().success(), "SIGTERM stops the hub cleanly");
}

#[tokio::test]
async fn a_stopping_hub_tells_health_checks_it_is_not_serving_while_it_drains() {
    let data = Data { tune: |c| c.shutdown_grace_ms = 2_000, ..Data::fresh().await };
    let mut hub = TestHub::start_on(data).await;
    let identity = (std::fs::read(hub.pki().join("mz.crt")).unwrap(), std::fs::read(hub.pki().join("mz.key")).unwrap());
    let mut health = tonic_health::pb::health_client::HealthClient::new(hub.channel_with(Some(identity)).await);
    let status = |service: &str| tonic_health::pb::HealthCheckRequest { service: service.into() };
    use tonic_health::pb::health_check_response::ServingStatus;
    assert_eq!(health.check(status("")).await.unwrap().into_inner().status, ServingStatus::Serving as i32);
    hub.begin_stop();
    eventually(|| {
        let mut health = health.clone();
        async move { health.check(status("")).await.unwrap().into_inner().status == ServingStatus::NotServing as i32 }
    })
    .await;
    let service = health.check(status("xianjie.v1.ReferralService")).await.unwrap().into_inner();
    assert_eq!(service.status, ServingStatus::NotServing as i32);
    // Still answering during the grace period.
    assert_eq!(hub.client("mz").await.who_am_i().await.unwrap().code, "mz");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_between_a_commit_and_its_answers_answers_the_retries_once() {
    let data = Data::fresh().await;
    let dir = data.dir.path();
    let requests: Vec<pb::SubmitRequest> = (0..9)
        .map(|i| pb::SubmitRequest {
            attachment_ids: vec![],
            request_id: format!("crash-{i}"),
            draft: Some(referral_draft()),
            recipients: vec!["mz".into()],
            case_id: String::new(),
        })
        .collect();
    // The hub exits as soon as the commit of crash-4 is on disk, before it answers.
    let hub = HubProcess::start_with(&data, T0, &[("XIANJIE_FAILPOINT_EXIT_AFTER_COMMIT_OF", "crash-4")]);
    let stub = hub.client(dir, "jcy").await.referral_service();
    let mut calls = Vec::new();
    for request in requests.clone() {
        let mut stub = stub.clone();
        calls.push(tokio::spawn(async move { stub.submit(request).await.map(|r| r.into_inner()) }));
    }
    let mut first = Vec::new();
    for call in calls {
        first.push(call.await.unwrap());
    }
    assert!(first[4].is_err(), "crash-4 was never answered");
    assert_eq!(hub.wait().code(), Some(86), "the hub exited at the failpoint");

    let hub = HubProcess::start(&data, T0);
    let jcy = hub.client(dir, "jcy").await;
    let stored = jcy.list(pb::ListReferralsRequest { page_size: 100, ..Default::default() }).await.unwrap().referrals;
    assert!(!stored.is_empty(), "the batch of crash-4 is on disk though unanswered");
    let mut stub = jcy.referral_service();
    let mut ids = Vec::new();
    for (request, answer) in requests.iter().zip(&first) {
        let retried = stub.submit(request.clone()).await.expect("every retry is answered").into_inner();
        if let Ok(answer) = answer {
            assert_eq!(retried.referrals[0].id, answer.referrals[0].id, "an answered request keeps its referral");
        }
        ids.push(retried.referrals[0].id.clone());
    }
    let after = jcy.list(pb::ListReferralsRequest { page_size: 100, ..Default::default() }).await.unwrap().referrals;
    assert_eq!(after.len(), 9, "no request made a second referral");
    let mut events: Vec<String> = within(
        hub.client(dir, "mz").await.subscribe(Some(0)).await.unwrap().take(9).map(|e| e.unwrap().referral_id).collect(),
    )
    .await;
    events.sort();
    ids.sort();
    assert_eq!(events, ids, "each referral reached the inbox once");
    assert!(hub.terminate().success());
}
