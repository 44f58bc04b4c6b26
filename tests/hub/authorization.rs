//! Every RPC against every role: who may call it at all. A call a role may make can
//! still fail on its merits (NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT), never
//! with a failure of the hub (INTERNAL); one it may not make is PERMISSION_DENIED,
//! whatever the request holds.

use tonic::{transport::Channel, Code, Status};
use xianjie::proto::{
    self as pb, calendar_service_client::CalendarServiceClient, coordination_service_client::CoordinationServiceClient,
    directory_service_client::DirectoryServiceClient, inbox_service_client::InboxServiceClient,
    referral_service_client::ReferralServiceClient,
};

use crate::support::*;

const ROLES: [&str; 4] = ["jcy", "mz", "office", "admin"];

/// Whether each role (procuratorate, agency, office, admin) may call each RPC.
const MATRIX: &[(&str, [bool; 4])] = &[
    ("ReferralService.Submit", [true, true, false, false]),
    ("ReferralService.Get", [true, true, true, false]),
    ("ReferralService.List", [true, true, true, false]),
    ("ReferralService.ToDo", [true, true, false, false]),
    ("ReferralService.GetCase", [true, true, true, false]),
    ("ReferralService.Receive", [true, true, false, false]),
    ("ReferralService.Start", [true, true, false, false]),
    ("ReferralService.Conclude", [true, true, false, false]),
    ("ReferralService.Feedback", [true, true, false, false]),
    ("ReferralService.Return", [true, true, false, false]),
    ("ReferralService.Withdraw", [true, true, false, false]),
    ("ReferralService.Comment", [true, true, false, false]),
    ("ReferralService.Visit", [true, true, false, false]),
    ("ReferralService.AskExtension", [true, true, false, false]),
    ("ReferralService.ListExtensions", [true, true, true, false]),
    ("InboxService.Subscribe", [true, true, true, false]),
    ("InboxService.Ack", [true, true, true, false]),
    ("DirectoryService.ListMembers", [true, true, true, true]),
    ("DirectoryService.SuggestRecipients", [true, true, true, true]),
    ("DirectoryService.WhoAmI", [true, true, true, true]),
    ("DirectoryService.AddMember", [false, false, false, true]),
    ("DirectoryService.RenameMember", [false, false, false, true]),
    ("DirectoryService.SetMemberActive", [false, false, false, true]),
    ("DirectoryService.UpdateContacts", [true, true, true, true]),
    ("DirectoryService.ListDirectoryChanges", [true, true, true, true]),
    ("DirectoryService.SetNotify", [true, true, true, true]),
    ("DirectoryService.ListNotifications", [false, false, false, true]),
    ("CoordinationService.ListDeadlines", [false, false, true, false]),
    ("CoordinationService.Remind", [false, false, true, false]),
    ("CoordinationService.Watch", [false, false, true, false]),
    ("CoordinationService.Supervise", [false, false, true, false]),
    ("CoordinationService.DecideExtension", [false, false, true, false]),
    ("CoordinationService.AllowPause", [false, false, true, false]),
    ("MaterialService.ListSupervisions", [true, true, true, false]),
    ("MaterialService.GetSupervisionLetter", [true, true, true, false]),
    ("CalendarService.IsWorkingDay", [true, true, true, true]),
    ("CalendarService.AddWorkingDays", [true, true, true, true]),
    ("CalendarService.WorkingDaysBetween", [true, true, true, true]),
    ("CalendarService.YearStatus", [true, true, true, true]),
    ("CalendarService.LoadSchedule", [false, false, false, true]),
    ("MaterialService.Upload", [true, true, false, false]),
    ("MaterialService.ListAttachments", [true, true, true, false]),
    ("MaterialService.Download", [true, true, false, false]),
    ("MaterialService.GetLetter", [true, true, false, false]),
    ("MaterialService.GetDossier", [true, true, false, false]),
    ("InboxService.ProveConsistency", [true, true, true, false]),
    ("MaterialService.ListLetters", [true, true, false, false]),
    ("MaterialService.CorrectLetter", [true, true, false, false]),
    ("RecordsService.ExportLedger", [true, true, true, false]),
    ("RecordsService.GetFigures", [true, true, true, false]),
    ("RecordsService.ExportFigures", [true, true, true, false]),
    ("RecordsService.MarkKeyCase", [true, false, true, false]),
    ("RecordsService.UnmarkKeyCase", [true, false, true, false]),
];

/// The referral `who` acts on with `rpc`: one where it is the party the act is for
/// (the recipient receives, the sender withdraws), so that only the role decides.
fn subject<'a>(rpc: &str, who: &str, social: &'a pb::Referral, clue: &'a pb::Referral) -> &'a pb::Referral {
    let sender_act = rpc.ends_with(".Withdraw") || rpc.ends_with(".CorrectLetter");
    match (who, sender_act) {
        ("jcy", true) | ("mz", false) => social,
        ("jcy", false) | ("mz", true) => clue,
        _ => social,
    }
}

/// Calls `rpc` as whoever `channel` presents, with a request of the right shape.
async fn call(rpc: &str, who: &str, channel: Channel, referral: &pb::Referral) -> Result<(), Status> {
    let mut referrals = ReferralServiceClient::new(channel.clone());
    let mut inbox = InboxServiceClient::new(channel.clone());
    let mut directory = DirectoryServiceClient::new(channel.clone());
    let mut coordination = CoordinationServiceClient::new(channel.clone());
    let mut calendar = CalendarServiceClient::new(channel.clone());
    let mut materials = pb::material_service_client::MaterialServiceClient::new(channel.clone());
    let mut records = pb::records_service_client::RecordsServiceClient::new(channel);
    let request_id = || uuid::Uuid::new_v4().to_string();
    let id = referral.id.clone();
    let transition = || pb::TransitionRequest { request_id: request_id(), referral_id: id.clone() };
    match rpc {
        "ReferralService.Submit" => {
            let (draft, to) = if who == "mz" { (clue_draft(false), "jcy") } else { (referral_draft(), "jy") };
            let request = pb::SubmitRequest {
                attachment_ids: vec![],
                request_id: request_id(),
                draft: Some(draft),
                recipients: vec![to.into()],
                case_id: String::new(),
            };
            referrals.submit(request).await.map(drop)
        }
        "ReferralService.Get" => referrals.get(pb::GetReferralRequest { id }).await.map(drop),
        "ReferralService.List" => referrals.list(pb::ListReferralsRequest::default()).await.map(drop),
        "ReferralService.ToDo" => referrals.to_do(pb::ToDoRequest::default()).await.map(drop),
        "ReferralService.GetCase" => {
            referrals.get_case(pb::GetCaseRequest { case_id: referral.case_id.clone() }).await.map(drop)
        }
        "ReferralService.Receive" => referrals.receive(transition()).await.map(drop),
        "ReferralService.Start" => referrals.start(transition()).await.map(drop),
        "ReferralService.Conclude" => {
            let request = pb::ConcludeRequest {
                request_id: request_id(),
                referral_id: id,
                conclusion: Some(granted("2026-09-10")),
                feedback: String::new(),
            };
            referrals.conclude(request).await.map(drop)
        }
        "ReferralService.Feedback" => {
            let request =
                pb::FeedbackRequest { request_id: request_id(), referral_id: id, feedback: "已办结".into() };
            referrals.feedback(request).await.map(drop)
        }
        "ReferralService.Return" => {
            let request =
                pb::ReturnRequest { request_id: request_id(), referral_id: id, reason: "非本部门职责".into() };
            referrals.r#return(request).await.map(drop)
        }
        "ReferralService.Withdraw" => {
            let request =
                pb::WithdrawRequest { request_id: request_id(), referral_id: id, reason: "重复移送".into() };
            referrals.withdraw(request).await.map(drop)
        }
        "ReferralService.Visit" => {
            // Not yet concluded: a party hears FAILED_PRECONDITION, anyone else is refused.
            let visit = pb::Visit {
                visited_on: "2026-09-01".into(),
                method: pb::VisitMethod::Phone as i32,
                visitor: "李明".into(),
                findings: "生活已有保障".into(),
                aid_in_place: true,
                effect: pb::VisitEffect::Marked as i32,
                ..Default::default()
            };
            let request = pb::VisitRequest { request_id: request_id(), referral_id: id, visit: Some(visit) };
            referrals.visit(request).await.map(drop)
        }
        "ReferralService.Comment" => {
            let request = pb::CommentRequest {
                request_id: request_id(),
                referral_id: id,
                text: "请补充材料".into(),
                attachment_ids: vec![],
                asks_materials: false,
            };
            referrals.comment(request).await.map(drop)
        }
        "ReferralService.AskExtension" => {
            let request = pb::AskExtensionRequest {
                request_id: request_id(),
                referral_id: id,
                kind: pb::DeadlineKind::Start as i32,
                days: 3,
                reason: "需入户核查".into(),
            };
            referrals.ask_extension(request).await.map(drop)
        }
        "ReferralService.ListExtensions" => {
            referrals.list_extensions(pb::ListExtensionsRequest { referral_id: id }).await.map(drop)
        }
        "CoordinationService.DecideExtension" => {
            let request = pb::DecideExtensionRequest {
                request_id: request_id(),
                extension_id: uuid::Uuid::new_v4().to_string(),
                grant: true,
                days: 3,
                answer: String::new(),
            };
            coordination.decide_extension(request).await.map(drop)
        }
        "CoordinationService.AllowPause" => {
            let request = pb::AllowPauseRequest { request_id: request_id(), referral_id: id };
            coordination.allow_pause(request).await.map(drop)
        }
        "InboxService.Subscribe" => {
            inbox.subscribe(pb::SubscribeRequest { after_seq: Some(0), ..Default::default() }).await.map(drop)
        }
        "InboxService.Ack" => inbox.ack(pb::AckRequest { seq: 0, ..Default::default() }).await.map(drop),
        "DirectoryService.ListMembers" => directory.list_members(pb::ListMembersRequest::default()).await.map(drop),
        "DirectoryService.SuggestRecipients" => {
            let request = pb::SuggestRecipientsRequest { needs: vec![pb::Need::SubsistenceAllowance as i32] };
            directory.suggest_recipients(request).await.map(drop)
        }
        "DirectoryService.WhoAmI" => directory.who_am_i(pb::WhoAmIRequest {}).await.map(drop),
        // Requests an admin's own rules refuse: only the role decides who gets that far.
        "DirectoryService.AddMember" => directory
            .add_member(pb::AddMemberRequest { request_id: request_id(), code: "zj".into(), ..Default::default() })
            .await
            .map(drop),
        "DirectoryService.RenameMember" => directory
            .rename_member(pb::RenameMemberRequest {
                request_id: request_id(),
                code: "mz".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "DirectoryService.SetMemberActive" => directory
            .set_member_active(pb::SetMemberActiveRequest {
                request_id: request_id(),
                code: "zz".into(),
                active: false,
            })
            .await
            .map(drop),
        "DirectoryService.UpdateContacts" => {
            // A member its own; the office and an admin another's.
            let code = if matches!(who, "office" | "admin") { "mz" } else { who };
            let contacts = pb::Contacts { liaison: "李明".into(), ..Default::default() };
            let request =
                pb::UpdateContactsRequest { request_id: request_id(), code: code.into(), contacts: Some(contacts) };
            directory.update_contacts(request).await.map(drop)
        }
        "DirectoryService.SetNotify" => {
            // A member its own; the office and an admin another's.
            let code = if matches!(who, "office" | "admin") { "mz" } else { who };
            let notify =
                pb::Notify { channels: vec!["email".into()], webhook_format: "json".into(), ..Default::default() };
            let request = pb::SetNotifyRequest { request_id: request_id(), code: code.into(), notify: Some(notify) };
            directory.set_notify(request).await.map(drop)
        }
        "DirectoryService.ListNotifications" => {
            directory.list_notifications(pb::ListNotificationsRequest { failed: true, limit: 10 }).await.map(drop)
        }
        "DirectoryService.ListDirectoryChanges" => {
            directory.list_directory_changes(pb::ListDirectoryChangesRequest {}).await.map(drop)
        }
        "CoordinationService.ListDeadlines" => {
            coordination.list_deadlines(pb::ListDeadlinesRequest::default()).await.map(drop)
        }
        "CoordinationService.Remind" => {
            let request = pb::RemindRequest {
                request_id: request_id(),
                referral_id: id,
                kind: pb::DeadlineKind::Start as i32,
                note: "请尽快启动".into(),
            };
            coordination.remind(request).await.map(drop)
        }
        "CoordinationService.Watch" => {
            coordination.watch(pb::SubscribeRequest { after_seq: Some(0), ..Default::default() }).await.map(drop)
        }
        "CalendarService.IsWorkingDay" => {
            calendar.is_working_day(pb::IsWorkingDayRequest { date: "2026-10-01".into() }).await.map(drop)
        }
        "CalendarService.AddWorkingDays" => {
            let request = pb::AddWorkingDaysRequest { date: "2026-09-30".into(), days: 5 };
            calendar.add_working_days(request).await.map(drop)
        }
        "CalendarService.WorkingDaysBetween" => {
            let request = pb::WorkingDaysBetweenRequest { from: "2026-09-01".into(), to: "2026-09-30".into() };
            calendar.working_days_between(request).await.map(drop)
        }
        "CalendarService.YearStatus" => calendar.year_status(pb::YearStatusRequest { year: 2026 }).await.map(drop),
        "CalendarService.LoadSchedule" => {
            let request = pb::LoadScheduleRequest {
                request_id: request_id(),
                content: "{\"year\": 2026".into(),
                source: "国务院办公厅通知".into(),
            };
            calendar.load_schedule(request).await.map(drop)
        }
        "MaterialService.Upload" => {
            let header = pb::UploadHeader { request_id: request_id(), name: "a.pdf".into(), size: 9 };
            let messages = [
                pb::UploadRequest { part: Some(pb::upload_request::Part::Header(header)) },
                pb::UploadRequest { part: Some(pb::upload_request::Part::Data(b"%PDF-1.7\n".to_vec())) },
            ];
            materials.upload(tokio_stream::iter(messages)).await.map(drop)
        }
        "MaterialService.ListAttachments" => {
            materials.list_attachments(pb::ListAttachmentsRequest { referral_id: referral.id.clone() }).await.map(drop)
        }
        "MaterialService.Download" => {
            // No such file: a party hears NOT_FOUND, anyone else is refused first.
            let request = pb::DownloadRequest { referral_id: referral.id.clone(), attachment_id: referral.id.clone() };
            match materials.download(request).await {
                Err(status) if status.code() == tonic::Code::NotFound => Ok(()),
                other => other.map(drop),
            }
        }
        "MaterialService.GetLetter" => {
            materials.get_letter(pb::GetLetterRequest { referral_id: referral.id.clone(), version: 0 }).await.map(drop)
        }
        "InboxService.ProveConsistency" => {
            // Nothing signed yet: a caller allowed to ask hears UNAVAILABLE.
            match inbox.prove_consistency(pb::ProveConsistencyRequest { seq: 1 }).await {
                Err(status) if status.code() == tonic::Code::Unavailable => Ok(()),
                other => other.map(drop),
            }
        }
        "CoordinationService.Supervise" => {
            let request = pb::SuperviseRequest { request_id: request_id(), member: "mz".into(), note: String::new() };
            coordination.supervise(request).await.map(drop)
        }
        "MaterialService.ListSupervisions" => {
            materials.list_supervisions(pb::ListSupervisionsRequest::default()).await.map(drop)
        }
        "MaterialService.GetSupervisionLetter" => {
            let request = pb::GetSupervisionLetterRequest { id: uuid::Uuid::new_v4().to_string() };
            materials.get_supervision_letter(request).await.map(drop)
        }
        "MaterialService.ListLetters" => {
            materials.list_letters(pb::ListLettersRequest { referral_id: referral.id.clone() }).await.map(drop)
        }
        "MaterialService.CorrectLetter" => {
            let request = pb::CorrectLetterRequest { request_id: request_id(), referral_id: referral.id.clone() };
            materials.correct_letter(request).await.map(drop)
        }
        "MaterialService.GetDossier" => {
            materials.get_dossier(pb::GetDossierRequest { case_id: referral.case_id.clone() }).await.map(drop)
        }
        "RecordsService.ExportLedger" => {
            let request = pb::ExportLedgerRequest {
                period: Some(pb::Period { year: 2026, ..Default::default() }),
                format: pb::TableFormat::Csv as i32,
            };
            records.export_ledger(request).await.map(drop)
        }
        "RecordsService.GetFigures" => {
            let request = pb::GetFiguresRequest { period: Some(pb::Period { year: 2026, ..Default::default() }) };
            records.get_figures(request).await.map(drop)
        }
        "RecordsService.ExportFigures" => {
            let request = pb::ExportFiguresRequest {
                period: Some(pb::Period { year: 2026, ..Default::default() }),
                format: pb::TableFormat::Xlsx as i32,
            };
            records.export_figures(request).await.map(drop)
        }
        "RecordsService.MarkKeyCase" => {
            let request = pb::MarkKeyCaseRequest {
                request_id: request_id(),
                case_id: referral.case_id.clone(),
                reason: "多次移送仍未解决".into(),
            };
            records.mark_key_case(request).await.map(drop)
        }
        "RecordsService.UnmarkKeyCase" => records
            .unmark_key_case(pb::UnmarkKeyCaseRequest { request_id: request_id(), case_id: referral.case_id.clone() })
            .await
            .map(drop),
        other => panic!("no call for {other}"),
    }
}

#[tokio::test]
async fn every_rpc_against_every_role() {
    let hub = TestHub::start().await;
    let social = hub.client("jcy").await.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
    let clue = hub.client("mz").await.submit(clue_draft(false), vec!["jcy".into()], None).await.unwrap();
    let (social, clue) = (&social.referrals[0], &clue.referrals[0]);
    let pem = |name: String| std::fs::read(hub.pki().join(name)).unwrap();
    let mut table =
        String::from("| RPC | procuratorate | agency | office | admin |\n| --- | --- | --- | --- | --- |\n");
    let mut wrong = Vec::new();
    for (rpc, allowed) in MATRIX {
        let mut row = format!("| {rpc} |");
        for (who, may) in ROLES.iter().zip(allowed) {
            let channel = hub.channel_with(Some((pem(format!("{who}.crt")), pem(format!("{who}.key"))))).await;
            let got = call(rpc, who, channel, subject(rpc, who, social, clue)).await;
            // "Allowed" is an answer on the call's merits: success or a refusal of the
            // request (not found, wrong state, bad input), never a failure of the hub.
            if let Err(s) = &got {
                if matches!(s.code(), Code::Internal | Code::Unknown | Code::Unavailable | Code::Unimplemented) {
                    wrong.push(format!("{rpc} as {who}: the hub failed: {s:?}"));
                }
            }
            let denied = matches!(&got, Err(s) if s.code() == Code::PermissionDenied);
            if let Err(s) = &got {
                assert_ne!(s.code(), Code::Unauthenticated, "{rpc} as {who}: {s:?}");
            }
            if denied == *may {
                wrong
                    .push(format!("{rpc} as {who}: expected {}, got {got:?}", if *may { "allowed" } else { "denied" }));
            }
            row.push_str(if denied { " denied |" } else { " allowed |" });
        }
        table.push_str(&row);
        table.push('\n');
    }
    println!("{table}");
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Every RPC the services declare is in the matrix.
    let declared: usize = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/proto/xianjie/v1"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .map(|text| text.lines().filter(|l| l.trim_start().starts_with("rpc ")).count())
        .sum();
    assert_eq!(declared, MATRIX.len());
}
