//! Messages away from the workbench, to real counterparts: e-mail to an SMTP server
//! (Python's aiosmtpd), a signed webhook and the SMS gateway over HTTP. Nothing of the
//! person reaches any of them; a message that cannot go is retried, then given up on
//! and shown to the administrator; a hub killed with a message owed sends it after its
//! restart, under the same idempotency key.

use std::{path::PathBuf, process::Stdio, time::Duration};

use chrono::Datelike;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use xianjie::{
    clock::Clock,
    config::{NotifyConfig, SmsGateway},
    proto as pb,
};

use crate::support::*;

/// The key the hub signs webhooks with, and the receiver checks them against.
const SECRET: &str = "s3cret";

/// The SMTP and HTTP servers of `tests/python/sinks.py`, and what they received.
struct Sinks {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
    file: PathBuf,
    smtp: u16,
    http: u16,
}

impl Sinks {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("received.jsonl");
        let mut child = tokio::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/sinks.py"))
            .arg(&file)
            .arg(SECRET)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs (with aiosmtpd: scripts/test.sh installs it)");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("its output");
        within(BufReader::new(stdout).read_line(&mut line)).await.expect("the ready line");
        let ports: Vec<u16> = line.split_whitespace().skip(1).map(|p| p.parse().expect("a port")).collect();
        assert_eq!(ports.len(), 2, "sinks.py says `ready SMTP HTTP`, not {line:?}");
        Self { _child: child, _dir: dir, file, smtp: ports[0], http: ports[1] }
    }

    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// Waits until `count` messages match `which`, and returns them.
    async fn wait_for(&self, count: usize, which: impl Fn(&Value) -> bool) -> Vec<Value> {
        eventually(|| async { self.received().iter().filter(|m| which(m)).count() >= count }).await;
        self.received().into_iter().filter(|m| which(m)).collect()
    }

    /// The channels of a county, pointed at these servers.
    fn channels(&self) -> NotifyConfig {
        NotifyConfig {
            smtp_url: Some(format!("smtp://127.0.0.1:{}", self.smtp)),
            from: "衔接工作台 <xianjie@jj.gov.cn>".into(),
            workbench_url: Some("https://xianjie.jj.gov.cn".into()),
            webhook_secret: Some(SECRET.into()),
            sms: Some(SmsGateway {
                url: format!("http://127.0.0.1:{}/sms", self.http),
                method: "POST".into(),
                content_type: "application/json".into(),
                body: r#"{"mobile":"{phone}","content":"{text}"}"#.into(),
                success: "\"ok\"".into(),
            }),
            office_email: "office@jj.gov.cn".into(),
            attempts: 3,
            retry_ms: 50,
            interval_ms: 20,
        }
    }
}

fn to(address: &str) -> impl Fn(&Value) -> bool + '_ {
    move |m| m["kind"] == "email" && m["to"][0] == address
}

/// Posted to `path` and accepted.
fn posted(path: &str) -> impl Fn(&Value) -> bool + '_ {
    move |m| m["kind"] == "http" && m["path"] == path && m["status"] == 200
}

/// 民政's liaison with an e-mail and a mobile, told by every channel.
async fn liaison(hub: &TestHub, webhook: &str) {
    let mz = hub.client("mz").await;
    let contacts = pb::Contacts {
        liaison: "李明".into(),
        mobile: "13905950000".into(),
        email: "liming@mz.jj.gov.cn".into(),
        ..Default::default()
    };
    mz.update_contacts("mz", contacts).await.expect("民政 keeps its own contacts");
    let notify = pb::Notify {
        channels: vec!["email".into(), "sms".into(), "webhook".into()],
        events: xianjie::domain::notification::Event::ALL.iter().map(|e| e.code().to_owned()).collect(),
        webhook_url: webhook.into(),
        webhook_format: "json".into(),
    };
    let changed = mz.set_notify("mz", notify).await.expect("民政 chooses its channels");
    assert!(changed.description.contains("电子邮件、工作群机器人或本单位系统、短信"), "{}", changed.description);
}

#[tokio::test]
async fn a_referral_reaches_the_liaison_by_email_sms_and_a_signed_webhook_and_names_no_one() {
    let sinks = Sinks::start().await;
    let hub = TestHub::start_on(Data { notify: Some(sinks.channels()), ..Data::fresh().await }).await;
    liaison(&hub, &format!("http://127.0.0.1:{}/hook", sinks.http)).await;
    let draft = referral_draft();
    let person = draft.person.clone().expect("a person");
    let jcy = hub.client("jcy").await;
    let submitted = jcy.submit(draft.clone(), vec!["mz".into()], None).await.expect("submitted");
    let id = submitted.referrals[0].id.clone();
    let link = format!("https://xianjie.jj.gov.cn/referrals/{id}");

    let email = sinks.wait_for(1, to("liming@mz.jj.gov.cn")).await.remove(0);
    assert_eq!(email["subject"], "【衔接】待签收：社会救助移送");
    let text = email["text"].as_str().expect("a text");
    assert!(
        text.starts_with("您单位有1件检察院发来的社会救助移送待签收，期限9月17日，请登录衔接工作台处理："),
        "{text}"
    );
    assert!(text.trim_end().ends_with(&link), "the message says where to go: {text}");
    let key = email["message_id"].as_str().expect("a Message-ID");
    assert!(key.ends_with(".email.0@xianjie>"), "{key}");

    let hook = sinks.wait_for(1, posted("/hook")).await.remove(0);
    let body = hook["body"].as_str().expect("a body");
    let at: i64 = hook["headers"]["x-xianjie-timestamp"].as_str().expect("a timestamp").parse().unwrap();
    assert_eq!(at, hub.clock.now().timestamp(), "signed at the hub's time");
    assert_eq!(hook["signature_ok"], true, "the receiver's HMAC-SHA256 over the timestamp and the body holds");
    let json: Value = serde_json::from_str(body).expect("the hub's JSON");
    assert_eq!(json["id"], hook["headers"]["x-xianjie-notification"]);
    assert_eq!((json["member"].as_str(), json["event"].as_str()), (Some("mz"), Some("new_referral")));

    // The gateway refused the first two attempts; as the hub's time passes, the
    // third went.
    for _ in 0..100 {
        if sinks.received().iter().any(posted("/sms")) {
            break;
        }
        hub.clock.advance(chrono::Duration::seconds(1));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sms = sinks.wait_for(1, posted("/sms")).await.remove(0);
    let refused = sinks.received().into_iter().filter(|m| m["path"] == "/sms" && m["status"] == 503).count();
    assert_eq!(refused, 2);
    let sent: Value = serde_json::from_str(sms["body"].as_str().unwrap()).expect("the gateway's JSON");
    assert_eq!(sent["mobile"], "13905950000");
    assert!(sent["content"].as_str().unwrap().contains("待签收"), "{sent}");

    // Receiving is 民政's own act: nobody is told of it. Then its start deadline
    // passes: 民政 hears by every channel, the office by e-mail, naming 民政.
    let mz = hub.client("mz").await;
    mz.receive(&id).await.expect("received");
    hub.clock.advance(chrono::Duration::days(20));
    let office = sinks.wait_for(1, to("office@jj.gov.cn")).await.remove(0);
    let text = office["text"].as_str().unwrap();
    assert!(text.starts_with("民政办理的1件社会救助移送的启动期限（"), "{text}");
    assert!(text.contains("已逾期"), "{text}");
    let missed = sinks.wait_for(2, to("liming@mz.jj.gov.cn")).await;
    assert!(missed[1]["text"].as_str().unwrap().starts_with("您单位办理的1件社会救助移送的启动期限（"), "{missed:?}");
    sinks.wait_for(2, posted("/sms")).await;
    sinks.wait_for(2, posted("/hook")).await;
    let accepted = sinks.received().into_iter().filter(|m| m["kind"] == "email" || m["status"] == 200).count();
    assert_eq!(accepted, 7, "one message per channel and event, none of 民政's own act");

    // Nothing of the person, the case or its text left the hub.
    let everything = std::fs::read_to_string(&sinks.file).unwrap();
    for secret in [
        person.name.as_str(),
        &person.id_number,
        &person.phone,
        &person.address,
        &person.household,
        &draft.narrative,
        &draft.case_reference,
    ] {
        assert!(!everything.contains(secret), "a message holds {secret:?}");
    }

    // The administrator sees every message and how it went.
    // (A message is recorded as sent just after its server took it.)
    let admin = hub.client("admin").await;
    eventually(|| async {
        let listed = admin.notifications(false, 50).await.expect("the administrator lists them");
        listed.notifications.iter().all(|n| n.state == "sent")
    })
    .await;
    let listed = admin.notifications(false, 50).await.expect("the administrator lists them");
    assert_eq!(listed.notifications.len(), 7);
    assert!(listed.notifications.iter().all(|n| n.state == "sent"), "{listed:?}");
    let mut attempts: Vec<(String, String, u32)> =
        listed.notifications.iter().map(|n| (n.event.clone(), n.channel.clone(), n.attempts)).collect();
    attempts.sort();
    assert_eq!(
        attempts,
        [
            ("missed".into(), "email".into(), 1),
            ("missed".into(), "email".into(), 1),
            ("missed".into(), "sms".into(), 1),
            ("missed".into(), "webhook".into(), 1),
            ("new_referral".into(), "email".into(), 1),
            ("new_referral".into(), "sms".into(), 3),
            ("new_referral".into(), "webhook".into(), 1),
        ]
    );
    assert_eq!(listed.failed, 0);
    let refused = mz.notifications(false, 50).await.expect_err("a member does not read the queue");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    hub.stop().await;
}

#[tokio::test]
async fn a_choice_of_channels_is_checked_and_kept_by_its_member() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    let bad = pb::Notify {
        channels: vec!["fax".into(), "webhook".into()],
        events: vec!["new_referral".into(), "gossip".into()],
        webhook_url: String::new(),
        webhook_format: "xml".into(),
    };
    let refused = mz.set_notify("mz", bad).await.expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        bad_fields(&refused),
        ["notify.channels[0]", "notify.events[1]", "notify.webhook_url", "notify.webhook_format"]
    );
    assert!(!refused.message().contains("gossip") && !refused.message().contains("fax"), "{}", refused.message());
    let secret = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN123";
    let robot = pb::Notify {
        channels: vec!["webhook".into()],
        events: vec!["missed".into()],
        webhook_url: secret.into(),
        webhook_format: "dingtalk".into(),
    };
    let other = mz.set_notify("rs", robot.clone()).await.expect_err("not its own");
    assert_eq!(other.code(), tonic::Code::PermissionDenied);
    mz.set_notify("mz", robot).await.expect("its own");
    let email = pb::Contacts { email: "liming at mz".into(), ..Default::default() };
    let refused = mz.update_contacts("mz", email).await.expect_err("not an address");
    assert_eq!(bad_fields(&refused), ["contacts.email"]);

    // The robot's address holds its token: 民政 reads it whole, another member only
    // its host.
    let own = mz.directory().await.unwrap().members.into_iter().find(|m| m.code == "mz").unwrap();
    assert_eq!(own.notify.unwrap().webhook_url, secret);
    let rs = hub.client("rs").await;
    let seen = rs.directory().await.unwrap().members.into_iter().find(|m| m.code == "mz").unwrap();
    let notify = seen.notify.unwrap();
    assert_eq!(
        (notify.webhook_url.as_str(), notify.webhook_format.as_str()),
        ("https://oapi.dingtalk.com/…", "dingtalk")
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_message_that_cannot_go_is_retried_then_shown_and_a_killed_hub_sends_what_it_owed() {
    let data = Data::fresh().await;
    let dead = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let smtp = format!("smtp://127.0.0.1:{dead}");
    let env = |attempts: &'static str, retry: &'static str, smtp: &str| {
        vec![
            ("XIANJIE_SMTP_URL", smtp.to_owned()),
            ("XIANJIE_NOTIFY_ATTEMPTS", attempts.to_owned()),
            ("XIANJIE_NOTIFY_RETRY_MS", retry.to_owned()),
            ("XIANJIE_NOTIFY_INTERVAL_MS", "20".to_owned()),
        ]
    };
    let start = |vars: Vec<(&'static str, String)>| {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        HubProcess::start_with(&data, T0, &vars)
    };
    let hub = start(env("2", "50", &smtp));
    let pki = data.dir.path().join("pki");
    let admin_cli = |hub: &HubProcess| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
            .args(["admin", "notifications", "--failed", "--endpoint", hub.endpoint(), "--pki-dir"])
            .arg(&pki)
            .output()
            .expect("xianjie runs");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let mz = hub.client(data.dir.path(), "mz").await;
    let email = pb::Contacts { email: "liming@mz.jj.gov.cn".into(), ..Default::default() };
    mz.update_contacts("mz", email).await.expect("an address");
    let jcy = hub.client(data.dir.path(), "jcy").await;
    jcy.submit(referral_draft(), vec!["mz".into()], None).await.expect("submitted");

    // Two attempts at a server that is not there, then given up on: the command says
    // so and exits 1.
    let mut last = (None, String::new());
    for _ in 0..200 {
        last = admin_cli(&hub);
        if last.0 == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, out) = last;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("发送失败（已放弃）的通知：1 条"), "{out}");
    assert!(out.contains("email") && out.contains("failed") && out.contains("尝试2次"), "{out}");
    assert!(out.contains("SMTP"), "the reason is shown: {out}");

    // The hub is killed after a referral's commit and before its message went (it
    // looks for messages only every ten minutes); restarted with the server up, it
    // sends the message, once, under the key of the event it tells of.
    let hub = {
        hub.kill();
        start(env("10", "600000", &smtp).into_iter().chain([("XIANJIE_NOTIFY_INTERVAL_MS", "600000".into())]).collect())
    };
    let jcy = hub.client(data.dir.path(), "jcy").await;
    jcy.submit(referral_draft(), vec!["mz".into()], None).await.expect("submitted");
    hub.kill();
    let event =
        sql_texts(&data, "SELECT event_id FROM inbox_events WHERE member = 'mz' ORDER BY seq DESC LIMIT 1").await;
    let sinks = Sinks::start().await;
    let hub = start(env("10", "50", &format!("smtp://127.0.0.1:{}", sinks.smtp)));
    let got = sinks.wait_for(1, to("liming@mz.jj.gov.cn")).await;
    assert_eq!(got[0]["message_id"], format!("<{}.email.0@xianjie>", event[0]), "the event's idempotency key");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sinks.received().len(), 1, "sent once; the message given up on stays given up on");
    hub.kill();
}

#[tokio::test]
async fn a_deadline_falling_due_is_told_the_day_before_and_again_that_morning_unless_met() {
    let sinks = Sinks::start().await;
    let hub = TestHub::start_on(Data { notify: Some(sinks.channels()), ..Data::fresh().await }).await;
    let mz = hub.client("mz").await;
    let email = pb::Contacts { email: "liming@mz.jj.gov.cn".into(), ..Default::default() };
    mz.update_contacts("mz", email).await.expect("an address");
    let jcy = hub.client("jcy").await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let submitted = jcy.submit(referral_draft(), vec!["mz".into()], None).await.expect("submitted");
        ids.push(submitted.referrals[0].id.clone());
        mz.receive(&ids[ids.len() - 1]).await.expect("received");
    }
    let due = sql_texts(&hub.data, "SELECT DISTINCT due_on FROM deadlines WHERE kind = 'start'").await;
    assert_eq!(due.len(), 1, "{due:?}");
    let due: chrono::NaiveDate = due[0].parse().unwrap();
    let before = (1..10).map(|d| due - chrono::Days::new(d)).find(|d| d.weekday().num_days_from_monday() < 5).unwrap();
    // 10:00 the working day before, China time: both are told.
    hub.clock.set(at(&format!("{before}T02:00:00Z")));
    let soon = |m: &Value| to("liming@mz.jj.gov.cn")(m) && m["text"].as_str().unwrap_or("").contains("即将届满");
    sinks.wait_for(2, soon).await;
    // One is started that afternoon; the morning of the day, only the other is told.
    mz.start(&ids[1]).await.expect("started");
    hub.clock.set(at(&format!("{due}T00:30:00Z")));
    let today = |m: &Value| m["kind"] == "email" && m["text"].as_str().unwrap_or("").contains("今日届满");
    let told = sinks.wait_for(1, today).await;
    assert!(told[0]["text"].as_str().unwrap().ends_with(&format!("referrals/{}", ids[0])), "{told:?}");
    let admin = hub.client("admin").await;
    eventually(|| async {
        let listed = admin.notifications(false, 50).await.unwrap().notifications;
        listed.iter().filter(|n| n.state == "void").count() == 1 && listed.iter().all(|n| n.state != "pending")
    })
    .await;
    assert_eq!(sinks.received().iter().filter(|m| today(m)).count(), 1, "none for the one met");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
async fn two_hubs_on_one_database_send_each_message_once() {
    assert!(on_postgres(), "two replicas need PostgreSQL: run under scripts/with-postgres.sh");
    let sinks = Sinks::start().await;
    let data = Data::fresh().await;
    let config = data.config();
    let directory = config.directory().unwrap();
    xianjie::server::ensure_dev_pki(&config, &directory).unwrap();
    let smtp = format!("smtp://127.0.0.1:{}", sinks.smtp);
    // Each takes up the other's directory changes (民政's address) within 20 ms.
    let env = [
        ("XIANJIE_SMTP_URL", smtp.as_str()),
        ("XIANJIE_NOTIFY_INTERVAL_MS", "5"),
        ("XIANJIE_RELOAD_INTERVAL_MS", "20"),
    ];
    let (a, b) = (HubProcess::start_with(&data, T0, &env), HubProcess::start_with(&data, T0, &env));
    let dir = data.dir.path();
    let email = pb::Contacts { email: "liming@mz.jj.gov.cn".into(), ..Default::default() };
    a.client(dir, "mz").await.update_contacts("mz", email).await.expect("an address");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (on_a, on_b) = (a.client(dir, "jcy").await, b.client(dir, "jcy").await);
    for i in 0..20 {
        let jcy = if i % 2 == 0 { &on_a } else { &on_b };
        jcy.submit(referral_draft(), vec!["mz".into()], None).await.expect("submitted");
    }
    sinks.wait_for(20, to("liming@mz.jj.gov.cn")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let keys: std::collections::BTreeSet<String> =
        sinks.received().iter().map(|m| m["message_id"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!((sinks.received().len(), keys.len()), (20, 20), "each message once, by one hub or the other");
    a.kill();
    b.kill();
}
