//! Requests a hostile or broken client sends: huge repeated fields, answers that must
//! stay small, bytes that are not UTF-8, and personal data where an id should be. Each
//! is INVALID_ARGUMENT naming the field, bounded, without repeating the value, and
//! nothing is written.

use tonic::Code;
use xianjie::proto as pb;

use crate::support::*;

#[tokio::test]
async fn a_submit_with_a_hundred_thousand_recipients_is_refused_whole_by_its_count() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let err = jcy.submit(referral_draft(), vec!["mz".to_owned(); 116_000], None).await.unwrap_err();
    assert_eq!((err.code(), bad_fields(&err)), (Code::InvalidArgument, vec!["recipients".to_owned()]));
    assert!(err.message().contains("at most 12"), "{}", err.message());
    let many_needs = pb::ReferralDraft { needs: vec![1; 200_000], ..referral_draft() };
    let err = jcy.submit(many_needs, vec!["mz".into()], None).await.unwrap_err();
    assert_eq!((err.code(), bad_fields(&err)), (Code::InvalidArgument, vec!["draft.needs".to_owned()]));
    let states = pb::ListReferralsRequest { states: vec![1; 100_000], ..Default::default() };
    assert_eq!(bad_fields(&jcy.list(states).await.unwrap_err()), ["states"]);
    assert!(jcy.list(pb::ListReferralsRequest::default()).await.unwrap().referrals.is_empty());
}

#[tokio::test]
async fn an_answer_lists_twenty_violations_and_counts_the_rest() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let draft = pb::ReferralDraft {
        kind: 0,
        person: None,
        situations: vec![90, 91, 92, 93, 94],
        priority_groups: vec![90, 91, 92, 93, 94],
        needs: vec![90, 91, 92, 93, 94, 95, 96, 97],
        narrative: String::new(),
        ..Default::default()
    };
    let recipients: Vec<String> = (0..12).map(|i| format!("X{i}")).collect();
    let err = jcy.submit(draft, recipients, None).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields = bad_fields(&err);
    assert_eq!(fields.len(), 21, "{fields:?}");
    assert_eq!(fields[20], "");
    use tonic_types::StatusExt;
    let details = err.get_details_bad_request().unwrap();
    assert!(details.field_violations[20].description.starts_with("and "), "{:?}", details.field_violations[20]);
    assert!(err.message().chars().count() <= 1_001, "{}", err.message().len());
}

/// `ReferralDraft`'s person with the name as raw bytes, to send what no conforming
/// client can: a string field that is not UTF-8.
#[derive(Clone, PartialEq, prost::Message)]
struct RawPerson {
    #[prost(bytes = "vec", tag = "1")]
    name: Vec<u8>,
    #[prost(string, tag = "2")]
    id_number: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RawDraft {
    #[prost(int32, tag = "1")]
    kind: i32,
    #[prost(message, optional, tag = "2")]
    person: Option<RawPerson>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RawSubmit {
    #[prost(string, tag = "1")]
    request_id: String,
    #[prost(message, optional, tag = "2")]
    draft: Option<RawDraft>,
    #[prost(string, repeated, tag = "3")]
    recipients: Vec<String>,
}

#[tokio::test]
async fn a_string_that_is_not_utf8_is_bad_input_naming_its_field() {
    let hub = TestHub::start().await;
    let identity =
        (std::fs::read(hub.pki().join("jcy.crt")).unwrap(), std::fs::read(hub.pki().join("jcy.key")).unwrap());
    let channel = hub.channel_with(Some(identity)).await;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let request = RawSubmit {
        request_id: "raw-1".into(),
        draft: Some(RawDraft {
            kind: pb::ReferralKind::SocialAssistance as i32,
            person: Some(RawPerson { name: vec![0xE6, 0x9D, 0x8E, 0xFF, 0xFE], id_number: "x".into() }),
        }),
        recipients: vec!["mz".into()],
    };
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/xianjie.v1.ReferralService/Submit");
    let codec = tonic_prost::ProstCodec::<RawSubmit, pb::SubmitResponse>::default();
    let err = grpc.unary(tonic::Request::new(request), path, codec).await.unwrap_err();
    assert_eq!((err.code(), bad_fields(&err)), (Code::InvalidArgument, vec!["draft.person.name".to_owned()]));
    assert!(err.message().contains("UTF-8"), "{}", err.message());
    assert!(hub.client("jcy").await.list(pb::ListReferralsRequest::default()).await.unwrap().referrals.is_empty());
}

#[tokio::test]
async fn errors_name_the_field_and_the_rule_and_never_the_value() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let id_number = "350582199001011231";
    let err = jcy.get(id_number).await.unwrap_err();
    assert_eq!((err.code(), bad_fields(&err)), (Code::InvalidArgument, vec!["id".to_owned()]));
    let err = jcy.receive(id_number).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["referral_id"]);
    assert!(!err.message().contains(id_number), "{}", err.message());
    let err = jcy.case(id_number).await.unwrap_err();
    assert!(!err.message().contains("19900101"), "{}", err.message());

    for (bad, secret) in
        [("350582199013011231", "19901301"), ("350582199001011230", "1231"), ("350582199001011232", "1232")]
    {
        let mut draft = referral_draft();
        draft.person.as_mut().unwrap().id_number = bad.into();
        let err = jcy.submit(draft, vec!["mz".into()], None).await.unwrap_err();
        assert_eq!(bad_fields(&err), ["draft.person.id_number"]);
        assert!(!err.message().contains(secret), "{secret} in {}", err.message());
        assert!(!format!("{:?}", err.details()).contains(secret), "{secret} in the details");
    }
    let dated = pb::ReferralDraft { investigation_ended_on: "1990-13-01".into(), ..referral_draft() };
    let err = jcy.submit(dated, vec!["mz".into()], None).await.unwrap_err();
    assert!(!err.message().contains("1990-13-01"), "{}", err.message());
    let err = jcy.submit(referral_draft(), vec![id_number.into()], None).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["recipients[0]"]);
    assert!(!err.message().contains(id_number), "{}", err.message());
}
