//! Everything the hub refuses, with the code and the fields a client needs, and
//! nothing written.

use tonic::Code;
use xianjie::{
    client::request_id,
    pki::{authority::Authority, Identity},
    proto::{self as pb, directory_service_client::DirectoryServiceClient},
};

use crate::support::*;

#[tokio::test]
async fn only_the_procuratorate_refers_and_clues_go_only_to_it() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    let jcy = hub.client("jcy").await;
    let err = mz.submit(referral_draft(), vec!["jy".into()], None).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = jcy.submit(clue_draft(false), vec!["jcy".into()], None).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = mz.submit(clue_draft(false), vec!["jy".into()], None).await.unwrap_err();
    assert_eq!((err.code(), bad_fields(&err)), (Code::InvalidArgument, vec!["recipients[0]".to_owned()]));
    let err = jcy.submit(referral_draft(), vec!["mz".into(), "xx".into(), "mz".into()], None).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["recipients[1]", "recipients[2]"]);
    // Nothing of the refused submits was written.
    let all = jcy.list(pb::ListReferralsRequest::default()).await.unwrap();
    assert!(all.referrals.is_empty());
    let office = hub.client("office").await;
    let err = office.submit(referral_draft(), vec!["mz".into()], None).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn transitions_from_the_wrong_state_or_by_the_wrong_party_are_refused() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let mz = hub.client("mz").await;
    let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let err = mz.start(&id).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("submitted"), "names the current state: {}", err.message());
    let err = jcy.receive(&id).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = mz.withdraw(&id, "不是我们的").await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    mz.receive(&id).await.unwrap();
    let err = mz.receive(&id).await.unwrap_err();
    assert!(err.message().contains("received"), "{}", err.message());
    let err = mz.feedback(&id, "提前反馈").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = mz.comment(&id, "").await.unwrap_err();
    assert_eq!(bad_fields(&err), ["text"]);
}

#[tokio::test]
async fn a_member_sees_nothing_of_other_members_referrals() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let jy = hub.client("jy").await;
    let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let case_id = jcy.get(&id).await.unwrap().referral.unwrap().case_id;
    assert_eq!(jy.get(&id).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(jy.receive(&id).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(jy.comment(&id, "看看").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(jy.case(&case_id).await.unwrap_err().code(), Code::NotFound);
    assert!(jy.list(pb::ListReferralsRequest::default()).await.unwrap().referrals.is_empty());
    // A case of another member cannot be extended either.
    let err = hub.client("mz").await.submit(clue_draft(false), vec!["jcy".into()], Some(case_id)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn without_a_valid_certificate_of_a_member_the_hub_answers_unauthenticated() {
    let hub = TestHub::start().await;
    let who_am_i =
        |channel| async move { DirectoryServiceClient::new(channel).who_am_i(pb::WhoAmIRequest {}).await.unwrap_err() };
    let err = who_am_i(hub.channel_with(None).await).await;
    assert_eq!(err.code(), Code::Unauthenticated, "no certificate: {err:?}");

    let foreign = tempfile::tempdir().unwrap();
    let other_ca = Authority::at(foreign.path());
    other_ca.create("另一联席会议", &["localhost".into()], &[Identity::parse("mz").unwrap()]).unwrap();
    let pem = |name: &str| std::fs::read(foreign.path().join(name)).unwrap();
    let err = who_am_i(hub.channel_with(Some((pem("mz.crt"), pem("mz.key")))).await).await;
    assert_eq!(err.code(), Code::Unauthenticated, "certificate of another CA: {err:?}");

    Authority::at(hub.pki()).issue(&Identity::parse("zz").unwrap().into()).unwrap();
    let own = |name: &str| std::fs::read(hub.pki().join(name)).unwrap();
    let err = who_am_i(hub.channel_with(Some((own("zz.crt"), own("zz.key")))).await).await;
    assert_eq!(err.code(), Code::Unauthenticated, "unknown member: {err:?}");
    assert!(err.message().contains("zz"), "{}", err.message());

    // Health and reflection are behind the same door.
    let mut health = tonic_health::pb::health_client::HealthClient::new(hub.channel_with(None).await);
    let err = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut health = tonic_health::pb::health_client::HealthClient::new(
        hub.channel_with(Some((own("mz.crt"), own("mz.key")))).await,
    );
    let status = health
        .check(tonic_health::pb::HealthCheckRequest { service: "xianjie.v1.ReferralService".into() })
        .await
        .unwrap();
    assert_eq!(status.into_inner().status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
}

#[tokio::test]
async fn a_request_id_answers_once_and_refuses_another_payload() {
    let hub = TestHub::start().await;
    let mut stub = hub.client("jcy").await.referral_service();
    let request = pb::SubmitRequest {
        attachment_ids: vec![],
        request_id: request_id(),
        draft: Some(referral_draft()),
        recipients: vec!["mz".into()],
        case_id: String::new(),
    };
    let first = stub.submit(request.clone()).await.unwrap().into_inner();
    let retry = stub.submit(request.clone()).await.unwrap().into_inner();
    assert_eq!(first, retry, "the retry gets the first answer");
    let mut other = request.clone();
    other.recipients = vec!["jy".into()];
    let err = stub.submit(other).await.unwrap_err();
    assert_eq!((err.code(), bad_fields(&err)), (Code::AlreadyExists, vec!["request_id".to_owned()]));
    let jcy = hub.client("jcy").await;
    assert_eq!(jcy.list(pb::ListReferralsRequest::default()).await.unwrap().referrals.len(), 1);

    // A transition retried with its id is not applied twice, and is not refused as a
    // transition from the wrong state.
    let id = first.referrals[0].id.clone();
    let mut mz = hub.client("mz").await.referral_service();
    let receive = pb::TransitionRequest { request_id: request_id(), referral_id: id.clone() };
    let once = mz.receive(receive.clone()).await.unwrap().into_inner();
    let twice = mz.receive(receive).await.unwrap().into_inner();
    assert_eq!((once.version, twice.version), (2, 2));
    assert_eq!(jcy.get(&id).await.unwrap().history.len(), 2);
    let err = mz.start(pb::TransitionRequest { request_id: String::new(), referral_id: id }).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["request_id"]);
}

#[tokio::test]
async fn bad_input_names_each_field_at_fault() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let mut bad_id = referral_draft();
    bad_id.person.as_mut().unwrap().id_number = "110105194912310021".into();
    let err = jcy.submit(bad_id, vec!["mz".into()], None).await.unwrap_err();
    assert_eq!((err.code(), bad_fields(&err)), (Code::InvalidArgument, vec!["draft.person.id_number".to_owned()]));
    assert!(err.message().contains("check digit"), "{}", err.message());

    let advance = pb::ReferralDraft { advance: true, investigation_ended_on: String::new(), ..referral_draft() };
    let err = jcy.submit(advance, vec!["mz".into()], None).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["draft.advance_reason"]);
    let advance = pb::ReferralDraft {
        advance: true,
        advance_reason: "当事人无住所，需先行安置".into(),
        investigation_ended_on: String::new(),
        ..referral_draft()
    };
    assert!(jcy.submit(advance, vec!["mz".into()], None).await.unwrap().referrals[0].advance);

    // 2026-09-11 is tomorrow in China at T0.
    let future = pb::ReferralDraft { investigation_ended_on: "2026-09-11".into(), ..referral_draft() };
    let err = jcy.submit(future, vec!["mz".into()], None).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["draft.investigation_ended_on"]);
    let clue = pb::ReferralDraft { discovered_on: "2026-09-11".into(), ..clue_draft(false) };
    let err = hub.client("mz").await.submit(clue, vec!["jcy".into()], None).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["draft.discovered_on"]);

    let empty = pb::ReferralDraft {
        kind: 0,
        person: None,
        situations: vec![99],
        needs: vec![],
        narrative: String::new(),
        ..Default::default()
    };
    let err = jcy.submit(empty, vec![], None).await.unwrap_err();
    let fields = bad_fields(&err);
    for field in ["draft.kind", "draft.person", "draft.situations[0]", "draft.needs", "draft.narrative"] {
        assert!(fields.contains(&field.to_owned()), "{field} missing from {fields:?}");
    }

    let mz = hub.client("mz").await;
    let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    mz.receive(&id).await.unwrap();
    mz.start(&id).await.unwrap();
    let err = mz.conclude(&id, granted("2026-09-11"), None).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["conclusion.concluded_on"]);
    let err = mz.conclude(&id, granted("2026-09-09"), None).await.unwrap_err();
    assert!(err.message().contains("before the procedure started"), "{}", err.message());
    let no_outcome = pb::Conclusion { outcome: 0, summary: String::new(), ..granted("2026-09-31") };
    let err = mz.conclude(&id, no_outcome, None).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["conclusion.outcome", "conclusion.concluded_on", "conclusion.summary"]);
    // Kinds of aid: each at most once, a known kind, no negative amount, at least one when
    // granted, none when not.
    let aid = |kind: i32, fen| pb::Aid { kind, fen };
    let subsistence = pb::AidKind::Subsistence as i32;
    let aids = vec![aid(subsistence, 300_000), aid(99, 0), aid(subsistence, 100), aid(pb::AidKind::Medical as i32, -1)];
    let err = mz.conclude(&id, pb::Conclusion { aids, ..granted("2026-09-10") }, None).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&err), ["conclusion.aids[1]", "conclusion.aids[2]", "conclusion.aids[3]"]);
    assert!(err.message().contains("each kind of aid at most once"), "{}", err.message());
    let none = pb::Conclusion { aids: vec![], ..granted("2026-09-10") };
    assert_eq!(bad_fields(&mz.conclude(&id, none, None).await.unwrap_err()), ["conclusion.aids"]);
    let refused = pb::Conclusion { outcome: pb::Outcome::NotGranted as i32, ..granted("2026-09-10") };
    assert_eq!(bad_fields(&mz.conclude(&id, refused, None).await.unwrap_err()), ["conclusion.aids"]);
    assert_eq!(jcy.get(&id).await.unwrap().referral.unwrap().state, pb::ReferralState::Started as i32);
}

#[tokio::test]
async fn an_oversize_message_is_refused_and_nothing_is_written() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let huge = pb::ReferralDraft { narrative: "案".repeat(400_000), ..referral_draft() };
    let err = jcy.submit(huge, vec!["mz".into()], None).await.unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    let long = pb::ReferralDraft { narrative: "案".repeat(10_001), ..referral_draft() };
    let err = jcy.submit(long, vec!["mz".into()], None).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["draft.narrative"]);
    assert!(jcy.list(pb::ListReferralsRequest::default()).await.unwrap().referrals.is_empty());
}

#[tokio::test]
async fn a_retry_after_later_acts_gets_the_first_answer_as_it_was() {
    let hub = TestHub::start().await;
    let mut jcy = hub.client("jcy").await.referral_service();
    let submit = pb::SubmitRequest {
        attachment_ids: vec![],
        request_id: request_id(),
        draft: Some(referral_draft()),
        recipients: vec!["mz".into()],
        case_id: String::new(),
    };
    let first = jcy.submit(submit.clone()).await.unwrap().into_inner();
    let id = first.referrals[0].id.clone();
    let mut mz = hub.client("mz").await.referral_service();
    let receive = pb::TransitionRequest { request_id: request_id(), referral_id: id.clone() };
    let received = mz.receive(receive.clone()).await.unwrap().into_inner();
    mz.start(pb::TransitionRequest { request_id: request_id(), referral_id: id.clone() }).await.unwrap();
    // The referral has moved on twice; each retry still gets the answer it first got.
    assert_eq!(jcy.submit(submit).await.unwrap().into_inner(), first);
    assert_eq!(mz.receive(receive).await.unwrap().into_inner(), received);
    assert_eq!(received.state, pb::ReferralState::Received as i32);
}

/// Submits that arrive together are written together; those refused among them (the
/// same person referred to the same agency at once) leave the others written, and
/// nothing of their own.
#[tokio::test]
async fn submits_refused_among_others_written_at_once_leave_the_others_whole() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let twice = referral_draft();
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let (jcy, draft) = (jcy.clone(), if i % 2 == 0 { twice.clone() } else { referral_draft() });
            tokio::spawn(async move { jcy.submit(draft, vec!["mz".into()], None).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let refused: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(refused.len(), 11, "one of the twelve submits of the same person is written");
    assert!(refused.iter().all(|e| e.code() == Code::FailedPrecondition), "{refused:?}");
    let all = jcy.list(pb::ListReferralsRequest::default()).await.unwrap();
    assert_eq!(all.referrals.len(), 13);
    let mz = hub.client("mz").await;
    assert_eq!(mz.ack(0).await.unwrap().head_seq, 13, "an inbox event for each, none for the refused");
}
