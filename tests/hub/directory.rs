//! The directory of members changed at run time (Art. 22): added, renamed, suspended and
//! resumed by the administrator, contacts kept by each member, every change a version
//! announced to the others.

use tonic::Code;
use xianjie::{
    pki::{authority::Authority, Identity},
    proto as pb,
};

use crate::support::*;

fn contacts(liaison: &str, mobile: &str) -> pb::Contacts {
    pb::Contacts {
        leader: "王副局长".into(),
        department: "社会救助科".into(),
        liaison: liaison.into(),
        office_phone: "0595-85680000".into(),
        mobile: mobile.into(),
        email: String::new(),
    }
}

/// The next directory event in `inbox`, skipping others.
async fn directory_event(inbox: &mut tonic::Streaming<pb::InboxEvent>) -> pb::InboxEvent {
    loop {
        let event = inbox.next_within().await.unwrap().unwrap();
        if event.kind == pb::InboxEventKind::DirectoryChanged as i32 {
            return event;
        }
    }
}

#[tokio::test]
async fn a_member_is_added_renamed_suspended_and_resumed_and_every_member_hears_of_it() {
    let hub = TestHub::start().await;
    let (admin, jcy, mz, office) =
        (hub.client("admin").await, hub.client("jcy").await, hub.client("mz").await, hub.client("office").await);
    let mut mz_inbox = mz.subscribe(Some(0)).await.unwrap();
    let mut office_inbox = office.subscribe(Some(0)).await.unwrap();
    assert_eq!(mz.directory().await.unwrap().version, 0, "the shipped list is the first version");

    let added = admin
        .add_member(pb::AddMemberRequest {
            code: "zj".into(),
            name: "晋江市住房和城乡建设局".into(),
            short_name: "住建".into(),
            articles: String::new(),
            needs: vec![pb::Need::TemporaryAssistance as i32],
            contacts: Some(contacts("陈华", "13905951111")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(added.version, 1);
    let event = directory_event(&mut mz_inbox).await;
    assert_eq!((event.actor.as_str(), event.note.as_str()), ("admin", "新增成员单位：晋江市住房和城乡建设局（zj）"));
    assert!(event.referral_id.is_empty() || event.referral_id == uuid::Uuid::nil().to_string());
    assert_eq!(directory_event(&mut office_inbox).await.note, event.note);
    let listed = jcy.directory().await.unwrap();
    assert_eq!((listed.version, listed.members.len()), (1, 14));
    let zj = listed.members.iter().find(|m| m.code == "zj").unwrap();
    assert_eq!((zj.role, zj.contacts.as_ref().unwrap().liaison.as_str()), (pb::MemberRole::Agency as i32, "陈华"));

    // The new member gets a certificate and takes part.
    Authority::at(hub.pki()).issue(&Identity::parse("zj").unwrap().into()).unwrap();
    let zj_client = hub.client("zj").await;
    assert_eq!(zj_client.who_am_i().await.unwrap().name, "晋江市住房和城乡建设局");
    let sent = jcy.submit(referral_draft(), vec!["zj".into()], None).await.unwrap();
    let open_referral = sent.referrals[0].id.clone();

    let renamed = admin.rename_member("zj", "晋江市住建局", "住建").await.unwrap();
    assert_eq!(renamed.member.unwrap().name, "晋江市住建局");
    assert_eq!(directory_event(&mut mz_inbox).await.note, "晋江市住房和城乡建设局 更名为 晋江市住建局（简称“住建”）");

    // Suspended: its stream ends at once, its open connection is refused, nothing new
    // reaches it, and its referrals stay visible to the office.
    // Its inbox holds its own announcements, then the referral.
    let mut zj_inbox = zj_client.subscribe(Some(0)).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(zj_inbox.next_within().await.unwrap().unwrap().kind);
    }
    let (changed, new) = (pb::InboxEventKind::DirectoryChanged as i32, pb::InboxEventKind::NewReferral as i32);
    assert_eq!(seen, [changed, new, changed], "added, the referral, renamed");
    admin.set_member_active("zj", false).await.unwrap();
    let ended = loop {
        match zj_inbox.next_within().await.unwrap() {
            Ok(_) => continue,
            Err(status) => break status,
        }
    };
    assert_eq!(ended.code(), Code::Unauthenticated);
    assert!(ended.message().contains("zj is suspended"), "{}", ended.message());
    assert_eq!(zj_client.who_am_i().await.unwrap_err().code(), Code::Unauthenticated);
    let refused = jcy.submit(referral_draft(), vec!["zj".into()], None).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("suspended"), "{}", refused.message());
    let seen = office.get(&open_referral).await.unwrap().referral.unwrap();
    assert_eq!(seen.recipient, "zj");
    assert!(!jcy.directory().await.unwrap().members.iter().find(|m| m.code == "zj").unwrap().active);
    let again = admin.set_member_active("zj", false).await.unwrap_err();
    assert_eq!(bad_fields(&again), ["member.code"]);

    admin.set_member_active("zj", true).await.unwrap();
    assert_eq!(zj_client.who_am_i().await.unwrap().code, "zj");
    assert!(directory_event(&mut mz_inbox).await.note.contains("暂停参与衔接"));
    assert_eq!(directory_event(&mut mz_inbox).await.note, "晋江市住建局 恢复参与衔接");

    let history = office.directory_changes().await.unwrap();
    let kinds: Vec<_> = history.iter().map(|c| (c.version, c.kind.as_str(), c.actor.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (0, "seeded", "hub"),
            (1, "added", "admin"),
            (2, "renamed", "admin"),
            (3, "suspended", "admin"),
            (4, "resumed", "admin")
        ]
    );
}

#[tokio::test]
async fn a_member_keeps_its_own_liaison_and_no_one_elses() {
    let hub = TestHub::start().await;
    let (mz, sf, jcy) = (hub.client("mz").await, hub.client("sf").await, hub.client("jcy").await);
    let mut jcy_inbox = jcy.subscribe(Some(0)).await.unwrap();
    let changed = mz.update_contacts("mz", contacts("李明", "13905950000")).await.unwrap();
    assert_eq!(changed.version, 1);
    let event = directory_event(&mut jcy_inbox).await;
    assert_eq!(event.actor, "mz");
    assert_eq!(
        event.note,
        "晋江市民政局 更新联络信息：分管领导 王副局长，内设机构 社会救助科，联络员 李明（办公电话 0595-85680000，手机 13905950000，电子邮箱 未填）"
    );
    let listed = sf.directory().await.unwrap();
    let mz_contacts = listed.members.iter().find(|m| m.code == "mz").unwrap().contacts.clone().unwrap();
    assert_eq!(mz_contacts, contacts("李明", "13905950000"));

    // Another member's contacts, or membership itself: refused whatever the request holds.
    let err = sf.update_contacts("mz", contacts("张三", "13900000000")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(mz.set_member_active("sf", false).await.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(
        hub.client("office").await.rename_member("mz", "", "").await.unwrap_err().code(),
        Code::PermissionDenied
    );
    // Bad contacts name the field, never the value; nothing is written.
    let err = mz.update_contacts("mz", contacts("李明", "1390595000x")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&err), ["contacts.mobile"]);
    assert!(!err.message().contains("1390595000x"), "{}", err.message());
    assert_eq!(sf.directory().await.unwrap().version, 1);

    // The office keeps the directory too.
    let office = hub.client("office").await;
    assert_eq!(office.update_contacts("sf", contacts("吴敏", "")).await.unwrap().version, 2);
}

#[tokio::test]
async fn the_administrator_changes_the_directory_from_the_command_line() {
    let hub = TestHub::start().await;
    let run = |args: Vec<&str>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_xianjie"));
        command.args(&args).args(["--endpoint", &hub.endpoint(), "--pki-dir"]).arg(hub.pki());
        async move {
            let out = command.output().await.unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
            )
        }
    };
    let (ok, out) = run(vec![
        "admin",
        "members",
        "add",
        "zj",
        "--name",
        "晋江市住建局",
        "--short-name",
        "住建",
        "--liaison",
        "陈华",
    ])
    .await;
    assert!(ok && out.contains("v1 新增成员单位：晋江市住建局（zj）"), "{out}");
    let (ok, out) = run(vec!["member", "mz", "contacts", "--liaison", "李明", "--mobile", "13905950000"]).await;
    assert!(ok && out.contains("v2 晋江市民政局 更新联络信息") && out.contains("联络员 李明"), "{out}");
    // What is not given stays.
    let (ok, out) = run(vec!["member", "mz", "contacts", "--office-phone", "0595-85680000"]).await;
    assert!(ok && out.contains("联络员 李明") && out.contains("手机 13905950000"), "{out}");
    let (ok, out) = run(vec!["admin", "members", "suspend", "zj"]).await;
    assert!(ok && out.contains("v4 晋江市住建局 暂停参与衔接"), "{out}");
    let (ok, out) = run(vec!["member", "sf", "contacts", "--mobile", "12"]).await;
    assert!(!ok && out.contains("contacts.mobile: 11 digits starting with 1"), "{out}");
    let (ok, out) = run(vec!["admin", "members", "list"]).await;
    assert!(ok && out.contains("成员单位目录 第 4 版") && out.contains("zj    晋江市住建局（） [暂停]"), "{out}");
    assert!(out.contains("联络员 李明  办公电话 0595-85680000  手机 13905950000"), "{out}");
    let (ok, out) = run(vec!["admin", "members", "history"]).await;
    assert!(ok && out.lines().count() == 5 && out.contains("v3") && out.contains("mz "), "{out}");
}

#[tokio::test]
async fn a_change_sent_twice_with_one_request_id_is_made_once() {
    let hub = TestHub::start().await;
    let pem = |name: &str| std::fs::read(hub.pki().join(name)).unwrap();
    let channel = hub.channel_with(Some((pem("mz.crt"), pem("mz.key")))).await;
    let mut directory = pb::directory_service_client::DirectoryServiceClient::new(channel);
    let request = |liaison: &str| pb::UpdateContactsRequest {
        request_id: "01900000-0000-7000-8000-000000000001".into(),
        code: "mz".into(),
        contacts: Some(contacts(liaison, "13905950000")),
    };
    let first = directory.update_contacts(request("李明")).await.unwrap().into_inner();
    let again = directory.update_contacts(request("李明")).await.unwrap().into_inner();
    assert_eq!((first.version, again.version), (1, 1));
    assert_eq!(first.description, again.description);
    assert_eq!(hub.client("jy").await.directory_changes().await.unwrap().len(), 2, "seeded, then one change");
    let other = directory.update_contacts(request("张三")).await.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists, "the same id with another request");
}
