//! The metrics an operator scrapes: what the hub did, read back from `/metrics`.

use tonic::Code;

use crate::support::*;

/// The value of the sample `name{labels}` in a scrape, or 0.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

pub async fn scrape(hub: &TestHub) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(hub.metrics).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    within(stream.read_to_string(&mut response)).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

#[tokio::test]
async fn a_scrape_shows_requests_commits_inboxes_deadlines_and_certificates() {
    let data = Data {
        tune: |c| {
            c.requests_per_second = 1;
            c.request_burst = 4;
        },
        ..Data::fresh().await
    };
    let hub = TestHub::start_on(data).await;
    let jcy = hub.client("jcy").await;
    for _ in 0..2 {
        jcy.submit(referral_draft(), vec!["mz".into(), "jy".into()], None).await.unwrap();
    }
    let mz = hub.client("mz").await;
    mz.ack(1).await.unwrap();
    let err = jcy.get("not-an-id").await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // Over jcy's rate: refused and counted.
    while jcy.who_am_i().await.is_ok() {}
    let _inbox = hub.client("jy").await.subscribe(Some(0)).await.unwrap();
    // The inboxes before the clock moves: past it, the scanner adds the missed deadlines'
    // events whenever it runs.
    let before = scrape(&hub).await;
    assert_eq!(sample(&before, r#"xianjie_inbox_lag{member="mz"}"#), 1.0, "two events, one acknowledged");
    assert_eq!(sample(&before, r#"xianjie_inbox_lag{member="jy"}"#), 2.0);
    // Past the start deadlines (due 09-17).
    hub.clock.set(at("2026-09-21T02:00:00Z"));

    let text = scrape(&hub).await;
    assert_eq!(sample(&text, r#"xianjie_requests_total{code="OK",rpc="ReferralService.Submit"}"#), 2.0, "{text}");
    assert_eq!(sample(&text, r#"xianjie_requests_total{code="InvalidArgument",rpc="ReferralService.Get"}"#), 1.0);
    assert!(sample(&text, r#"xianjie_request_seconds_count{rpc="ReferralService.Submit"}"#) >= 2.0);
    assert!(sample(&text, "xianjie_commit_batch_size_count") >= 2.0);
    assert!(sample(&text, "xianjie_commit_seconds_count") >= 2.0);
    assert_eq!(sample(&text, r#"xianjie_deadlines{kind="start",status="open"}"#), 4.0);
    assert_eq!(sample(&text, r#"xianjie_deadlines{kind="start",status="overdue"}"#), 4.0);
    assert!(sample(&text, "xianjie_scanner_runs_total") >= 1.0);
    assert_eq!(sample(&text, "xianjie_live_streams"), 1.0);
    assert!(sample(&text, r#"xianjie_rate_limited_total{member="jcy"}"#) >= 1.0);
    // Member certificates of the development CA end on 2036-01-01: about 3,390 days on.
    let days = sample(&text, r#"xianjie_certificate_expiry_days{identity="mz"}"#);
    assert!((3_380.0..3_400.0).contains(&days), "{days}");
    assert!(sample(&text, r#"xianjie_certificate_expiry_days{identity="hub"}"#) > 0.0);
    assert!(sample(&text, "xianjie_audit_entries") >= 2.0, "two submits: {text}");
    assert_eq!(sample(&text, "xianjie_document_number_pools_rebuilt_total"), 1.0, "the first letter's pool");
}

#[test]
fn the_sample_dashboard_asks_only_for_metrics_the_hub_serves() {
    use xianjie::metrics::{CommitMetrics, Metrics};
    let served = Metrics::new(CommitMetrics::new().collectors()).unwrap().names().to_vec();
    let dashboard =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana-dashboard.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let mut asked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for (at, _) in expr.match_indices("xianjie_") {
                let name: String = expr[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                    .collect();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .fold(name.clone(), |n, s| n.strip_suffix(s).unwrap_or(&n).to_owned());
                assert!(served.contains(&base), "{name} in panel {:?} is not served", panel["title"]);
                asked += 1;
            }
        }
    }
    assert!(asked >= 10);
}
