//! Hostile or runaway clients: requests per member per second, live streams per member.

use std::time::Duration;

use tonic::Code;
use tonic_types::StatusExt;

use crate::support::*;

#[tokio::test]
async fn a_member_over_its_request_rate_is_told_when_to_retry_and_others_go_on() {
    let data = Data {
        tune: |c| {
            c.requests_per_second = 5;
            c.request_burst = 5;
        },
        ..Data::fresh().await
    };
    let hub = TestHub::start_on(data).await;
    let mz = hub.client("mz").await;
    let mut answers = Vec::new();
    for _ in 0..8 {
        answers.push(mz.who_am_i().await);
    }
    assert!(answers[..5].iter().all(Result::is_ok), "the burst is served");
    let refused = answers[5].as_ref().unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().contains("from mz"), "{}", refused.message());
    let wait = refused.get_details_retry_info().and_then(|r| r.retry_delay).unwrap();
    assert!(wait > Duration::ZERO && wait <= Duration::from_millis(200), "{wait:?}");
    assert_eq!(hub.client("jcy").await.who_am_i().await.unwrap().code, "jcy", "a bucket per member");
    tokio::time::sleep(wait).await;
    assert_eq!(mz.who_am_i().await.unwrap().code, "mz");
}

#[tokio::test]
async fn live_streams_per_member_are_limited_and_given_back() {
    let data = Data { tune: |c| c.max_streams_per_member = 2, ..Data::fresh().await };
    let hub = TestHub::start_on(data).await;
    let mz = hub.client("mz").await;
    let first = mz.subscribe(None).await.unwrap();
    let _second = mz.subscribe(None).await.unwrap();
    let err = mz.subscribe(None).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("2 live streams"), "{}", err.message());
    hub.client("jy").await.subscribe(None).await.expect("another member's streams are its own");
    drop(first);
    let mut reopened = false;
    for _ in 0..250 {
        if mz.subscribe(None).await.is_ok() {
            reopened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reopened, "a closed stream gives its slot back");
}
