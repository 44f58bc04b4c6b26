//! A client that is not ours (Python grpcio, stubs generated from `proto/`) talks to
//! the hub over mutual TLS.

use std::process::Command;

use xianjie::proto as pb;

use crate::support::*;

/// Whether Python with grpcio and grpcio-tools is here; in CI it must be.
fn python_with_grpc() -> bool {
    let ok =
        Command::new("python3").args(["-c", "import grpc, grpc_tools"]).status().is_ok_and(|status| status.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!("CI needs python3 with grpcio and grpcio-tools (scripts/test.sh installs them)");
    }
    ok
}

#[tokio::test]
async fn a_python_grpcio_client_submits_and_subscribes() {
    if !python_with_grpc() {
        eprintln!("skipped: python3 with grpcio and grpcio-tools is not installed");
        return;
    }
    let hub = TestHub::start().await;
    let output = tokio::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client.py"))
        .arg(hub.addr.to_string())
        .arg(hub.pki())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/proto"))
        .output()
        .await
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the Python client failed: {stderr}");
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    assert_eq!(seen["seq"], 1);
    assert_eq!(seen["sender"], "jcy");
    assert_eq!(seen["without_certificate"], "UNAUTHENTICATED");
    let id = seen["referral_id"].as_str().expect("an id");
    let stored = hub.client("mz").await.get(id).await.expect("the referral is stored");
    assert_eq!(stored.referral.unwrap().narrative, "由非本项目客户端提交");
    assert_eq!(stored.history[0].kind, pb::ReferralEventKind::Submitted as i32);
}
