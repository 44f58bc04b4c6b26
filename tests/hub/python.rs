//! A client that is not ours (Python grpcio, stubs generated from `proto/`) talks to
//! the hub over mutual TLS.

use std::process::Command;

use xianjie::proto as pb;

use crate::support::*;

#[tokio::test]
async fn a_python_grpcio_client_submits_and_subscribes() {
    let ready = Command::new("python3")
        .args(["-c", "import grpc, grpc_tools, grpc_reflection"])
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        ready,
        "needs python3 with grpcio, grpcio-tools and grpcio-reflection: run scripts/test.sh, which installs them"
    );
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
    let services: Vec<&str> =
        seen["reflected_services"].as_array().unwrap().iter().filter_map(|s| s.as_str()).collect();
    for service in ["xianjie.v1.ReferralService", "xianjie.v1.InboxService", "grpc.health.v1.Health"] {
        assert!(services.contains(&service), "v1alpha reflection lists {service}: {services:?}");
    }
    let id = seen["referral_id"].as_str().expect("an id");
    let stored = hub.client("mz").await.get(id).await.expect("the referral is stored");
    assert_eq!(stored.referral.unwrap().narrative, "由非本项目客户端提交");
    assert_eq!(stored.history[0].kind, pb::ReferralEventKind::Submitted as i32);
}
