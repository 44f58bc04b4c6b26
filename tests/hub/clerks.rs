//! 经办人: clerks with certificates of their own, under their unit; every act they make
//! and every notice it sends names them, and the access record says who read what.

use tonic::Code;
use xianjie::{
    pki::{
        authority::{Authority, Previous},
        Clerk, Holder, Identity,
    },
    proto as pb,
};

use crate::support::*;

fn clerk(unit: &str, code: &str, name: &str) -> Holder {
    Holder { identity: Identity::parse(unit).unwrap(), clerk: Some(Clerk { code: code.into(), name: name.into() }) }
}

#[tokio::test]
async fn a_clerk_acts_under_their_unit_and_every_act_names_them() {
    let hub = TestHub::start().await;
    let authority = Authority::at(hub.pki());
    let day = chrono::NaiveDate::from_ymd_opt(2026, 9, 10).unwrap();
    let issued = authority.reissue(&clerk("mz", "wangfang", "王芳"), Previous::Revoke, day).unwrap();
    assert_eq!(issued.previous, None);
    // Beside the unit's files, valid for two years from the day of issue.
    let der = xianjie::pki::read_certificates(&hub.pki().join("mz.wangfang.crt")).unwrap().remove(0);
    assert_eq!(xianjie::pki::not_after(&der).unwrap(), at("2028-09-09T00:00:00Z"));
    assert_eq!(Holder::from_certificate(&der).unwrap(), clerk("mz", "wangfang", "王芳"));

    let jcy = hub.client("jcy").await;
    let id = jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let mut inbox = jcy.subscribe(None).await.unwrap();
    let wangfang = hub.client("mz.wangfang").await;
    assert_eq!(wangfang.who_am_i().await.unwrap().code, "mz", "a clerk is their unit to the rules");
    wangfang.receive(&id).await.unwrap();
    hub.client("mz").await.start(&id).await.unwrap();

    let history = jcy.get(&id).await.unwrap().history;
    let clerks: Vec<(&str, &str)> = history.iter().map(|e| (e.actor.as_str(), e.clerk.as_str())).collect();
    assert_eq!(clerks, [("jcy", ""), ("mz", "王芳"), ("mz", "")], "the system certificate is nobody's");
    let told = inbox.next_within().await.unwrap().unwrap();
    assert_eq!((told.kind, told.clerk.as_str()), (pb::InboxEventKind::StateChanged as i32, "王芳"));

    // The office's 催办 names its coordinator, too.
    authority.reissue(&clerk("office", "zhou", "周敏"), Previous::Revoke, day).unwrap();
    let other = hub.client("jcy").await.submit(referral_draft(), vec!["jy".into()], None).await.unwrap();
    let mut jy_inbox = hub.client("jy").await.subscribe(Some(0)).await.unwrap();
    hub.client("office.zhou").await.remind(&other.referrals[0].id, pb::DeadlineKind::Start, "请尽快").await.unwrap();
    let mut reminder = jy_inbox.next_within().await.unwrap().unwrap();
    while reminder.kind != pb::InboxEventKind::Reminder as i32 {
        reminder = jy_inbox.next_within().await.unwrap().unwrap();
    }
    assert_eq!((reminder.actor.as_str(), reminder.clerk.as_str()), ("office", "周敏"));

    // The access record names the clerk of each act, and 系统 for a unit's own certificate.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["audit", "access", &id, "--data-dir"])
        .arg(hub.data.dir.path())
        .envs(hub.data.database_url.iter().map(|url| ("XIANJIE_DATABASE_URL", url.clone())))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let receive = said.lines().find(|l| l.ends_with("签收")).unwrap();
    assert!(receive.contains("mz") && receive.contains("王芳"), "{said}");
    let start = said.lines().find(|l| l.ends_with("启动程序")).unwrap();
    assert!(start.contains("系统"), "{said}");

    // Revoked alone: the clerk is refused, the unit and its other clerks go on.
    authority.revoke("mz.wangfang", day).unwrap();
    let (hub_ref, id_ref) = (&hub, &id);
    eventually(|| async move {
        matches!(hub_ref.client("mz.wangfang").await.get(id_ref).await, Err(s) if s.code() == Code::Unauthenticated)
    })
    .await;
    assert_eq!(hub.client("mz").await.who_am_i().await.unwrap().code, "mz");
}

#[tokio::test]
async fn clerks_are_issued_acted_as_and_revoked_from_the_command_line() {
    let hub = TestHub::start().await;
    let pki = hub.pki();
    // The hub's data directory: a clerk's password goes into its database.
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
            .arg("pki")
            .args(args)
            .arg("--data-dir")
            .arg(hub.data.dir.path())
            .envs(hub.data.database_url.iter().map(|url| ("XIANJIE_DATABASE_URL", url.clone())))
            .env_remove("XIANJIE_KEYRING")
            .env("XIANJIE_CLOCK_START", "2026-09-10T02:00:00Z")
            .env("XIANJIE_P12_PASSWORD", "a long password")
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let p12 = hub.data.dir.path().join("lina.p12");
    let (ok, said) = run(&["issue", "mz", "--clerk", "lina", "--name", "李娜", "--p12", p12.to_str().unwrap()]);
    assert!(ok && said.contains("mz.lina.crt") && said.contains("initial workbench password"), "{said}");
    // The initial password is in the hub's database as a hash, to be changed.
    let stored = sql_texts(&hub.data, "SELECT hash FROM clerk_passwords WHERE holder = 'mz.lina'").await;
    assert!(stored.len() == 1 && stored[0].starts_with("$argon2id$"), "{stored:?}");
    let initial = said.lines().find_map(|l| l.strip_prefix("initial workbench password ")).unwrap();
    assert!(!stored[0].contains(initial.split(' ').next().unwrap()));
    let (ok, said) = run(&["password", "mz.lina", "--initial-password", "1234567890"]);
    assert!(!ok && said.contains("not only digits or only letters"), "{said}");
    let (ok, said) = run(&["password", "mz.lina", "--initial-password", "reset-pw-2026"]);
    assert!(ok && said.contains("reset mz.lina's workbench password"), "{said}");
    let (ok, said) = run(&["issue", "mz", "--clerk", "lina", "--name", "李娜", "--dir", "/tmp"]);
    assert!(!ok && said.contains("the hub's own authority"), "{said}");
    let bytes = std::fs::read(&p12).unwrap();
    let store =
        p12_keystore::KeyStore::from_pkcs12(&bytes, "a long password", p12_keystore::Pkcs12ImportPolicy::Relaxed)
            .unwrap();
    assert_eq!(store.private_key_chain().unwrap().0, "晋江市民政局 (mz) · 李娜", "the browser lists the clerk by name");

    let (ok, said) = run(&["issue", "mz", "--clerk", "Li Na", "--name", "李娜"]);
    assert!(!ok && said.contains("--clerk: a clerk's code is a lower-case letter"), "{said}");
    let (ok, said) = run(&["issue", "mz", "--clerk", "lina"]);
    assert!(!ok && said.contains("--name"), "a clerk needs a name: {said}");

    let (_, listed) = run(&["list"]);
    let line = listed.lines().find(|l| l.starts_with("mz.lina ")).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("urn:xianjie:member:mz:clerk:lina 李娜") && line.contains("until 2028-09-09"), "{line}");

    // `member mz --clerk lina` acts as the clerk.
    let id =
        hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap().referrals.remove(0).id;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["member", "mz", "--clerk", "lina", "--endpoint", &hub.endpoint(), "--pki-dir"])
        .arg(&pki)
        .args(["receive", &id])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["member", "jcy", "--endpoint", &hub.endpoint(), "--pki-dir"])
        .arg(&pki)
        .args(["show", &id])
        .output()
        .await
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.lines().any(|l| l.contains("received") && l.contains("· 李娜")), "{shown}");
    // The procuratorate's inbox says who did what, and which clerk.
    let inbox = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["member", "jcy", "--endpoint", &hub.endpoint(), "--pki-dir"])
        .arg(&pki)
        .args(["inbox", "--after", "0"])
        .output()
        .await
        .unwrap();
    let inbox = String::from_utf8_lossy(&inbox.stdout);
    let line = inbox.lines().find(|l| l.contains(id.as_str())).unwrap_or_else(|| panic!("{inbox}"));
    assert!(line.contains("民政 签收了 一件社会救助移送") && line.contains("经办人 李娜"), "{line}");

    let (ok, said) = run(&["revoke", "mz.lina"]);
    assert!(ok && said.contains("revoked mz.lina's certificate"), "{said}");
    // Each act of the administrator at the console is in the audit log.
    let acts = sql_texts(
        &hub.data,
        "SELECT action || ' ' || detail FROM audit_log WHERE actor = 'admin' AND action IN \
         ('IssueCertificate', 'ResetPassword', 'RevokeCertificate') ORDER BY seq",
    )
    .await;
    assert_eq!(acts.len(), 3, "{acts:?}");
    assert!(acts[0].starts_with("IssueCertificate mz.lina ") && acts[1] == "ResetPassword mz.lina", "{acts:?}");
    assert!(acts[2].starts_with("RevokeCertificate mz.lina "), "{acts:?}");
}
