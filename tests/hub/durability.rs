//! What the hub answered survives a restart and a crash.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use tokio_stream::StreamExt;
use xianjie::{
    client::{Client, Profile},
    proto as pb,
};

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
    let (dir, clock) = hub.stop().await;
    let ended = live.next().await.unwrap().unwrap_err();
    assert_eq!(ended.code(), tonic::Code::Unavailable);

    let hub = TestHub::start_in(dir, clock).await;
    let case = hub.client("jcy").await.case(&sent.case_id).await.unwrap();
    assert_eq!(case.referrals.len(), 2);
    assert_eq!(case.referrals.iter().find(|r| r.recipient == "mz").unwrap().state, pb::ReferralState::Received as i32);
    let mz = hub.client("mz").await;
    assert_eq!(mz.ack(0).await.unwrap().acked_seq, 1);
    let jcy_inbox = hub.client("jcy").await.subscribe(Some(0)).await.unwrap().next().await.unwrap().unwrap();
    assert_eq!(jcy_inbox.kind, pb::InboxEventKind::StateChanged as i32);
}

/// `xianjie serve` as its own process, killed without warning.
struct HubProcess {
    child: Child,
    endpoint: String,
}

impl HubProcess {
    fn start(dir: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xianjie"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .env("XIANJIE_CLOCK_START", T0)
            .env("XIANJIE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the hub starts");
        let stdout = child.stdout.take().expect("its output");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the listening line");
        let address = line.split_whitespace().nth(3).expect("xianjie listening on ADDRESS …").to_owned();
        Self { child, endpoint: format!("https://{address}") }
    }

    async fn client(&self, dir: &std::path::Path, who: &str) -> Client {
        let profile = Profile {
            server_name: Some("localhost".into()),
            ..Profile::from_pki_dir(&dir.join("pki"), who, &self.endpoint)
        };
        Client::connect(&profile).await.expect("connects")
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Sends SIGTERM and returns how the hub exited.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success());
        self.child.wait().expect("reaped")
    }
}

// Multi-threaded: the test blocks on the child process while the clients' connections
// must go on answering the hub's goodbye.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_submit_survives_a_crash_of_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start(dir.path());
    let jcy = hub.client(dir.path(), "jcy").await;
    let mut answered = Vec::new();
    for _ in 0..20 {
        answered.push(jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id);
    }
    hub.kill();

    let hub = HubProcess::start(dir.path());
    let jcy = hub.client(dir.path(), "jcy").await;
    for id in &answered {
        assert_eq!(jcy.get(id).await.expect("survived the crash").referral.unwrap().id, *id);
    }
    let mz = hub.client(dir.path(), "mz").await;
    let events: Vec<_> = mz.subscribe(Some(0)).await.unwrap().take(20).map(|e| e.unwrap().referral_id).collect().await;
    assert_eq!(events, answered, "each inbox event was committed with its referral");
    assert!(hub.terminate().success(), "SIGTERM stops the hub cleanly");
}
