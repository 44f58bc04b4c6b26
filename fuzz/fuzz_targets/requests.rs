//! Arbitrary bytes as the requests members send: every validation path must answer
//! with an error or a value, never panic. The first byte picks the request.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use xianjie::{
    api::{convert, submission},
    domain::{
        calendar::schedule,
        directory::{ContactsInput, Directory, DirectoryChange, MemberInput},
        draft,
        notification::Notify,
        person::IdNumber,
        referral::Submission,
        Caller, MemberCode, Role,
    },
    proto as pb,
};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let now: DateTime<Utc> = DateTime::from_timestamp(1_789_000_000, 0).unwrap_or_default();
    match which % 8 {
        0 | 1 => {
            let Ok(request) = pb::SubmitRequest::decode(rest) else { return };
            let directory = Directory::jinjiang();
            let (code, role) = if which % 7 == 0 { ("jcy", Role::Procuratorate) } else { ("mz", Role::Agency) };
            let caller = Caller { code: MemberCode::parse(code).unwrap_or_else(|_| MemberCode::hub()), role };
            if let Ok((kind, content, recipients)) = submission(&request, now) {
                let _ = Submission::check(&caller, kind, content, recipients, &directory);
            }
        }
        2 => {
            let Ok(request) = pb::ConcludeRequest::decode(rest) else { return };
            let _ = convert::conclusion(request.conclusion.as_ref());
            let _ = draft::note("feedback", &request.feedback);
        }
        3 => {
            let text = String::from_utf8_lossy(rest);
            let _ = IdNumber::parse(&text).map(|id| id.masked());
            let _ = MemberCode::parse(&text);
        }
        4 => {
            let _ = schedule::parse_any(&String::from_utf8_lossy(rest));
        }
        5 => {
            let Ok(request) = pb::VisitRequest::decode(rest) else { return };
            let _ = convert::visit(&request.visit.unwrap_or_default());
        }
        6 => {
            let Ok(request) = pb::SetNotifyRequest::decode(rest) else { return };
            let n = request.notify.unwrap_or_default();
            let channels: Vec<&str> = n.channels.iter().map(String::as_str).collect();
            let events: Vec<&str> = n.events.iter().map(String::as_str).collect();
            if let Ok(notify) = Notify::parse(&channels, &events, &n.webhook_url, &n.webhook_format) {
                let _ = notify.describe();
                let _ = DirectoryChange::notify(&request.code, notify);
            }
        }
        _ => {
            let Ok(r) = pb::AddMemberRequest::decode(rest) else { return };
            let c = r.contacts.unwrap_or_default();
            let contacts = ContactsInput {
                leader: &c.leader,
                department: &c.department,
                liaison: &c.liaison,
                office_phone: &c.office_phone,
                mobile: &c.mobile,
                email: &c.email,
            };
            let input =
                MemberInput { code: &r.code, name: &r.name, short_name: &r.short_name, articles: &r.articles, needs: &[], contacts };
            let admin = Caller { code: MemberCode::admin(), role: Role::Admin };
            if let Ok(change) = DirectoryChange::add(input) {
                let _ = Directory::jinjiang().apply(&change, &admin).map(|d| d.to_json());
            }
            let _ = DirectoryChange::contacts(&r.code, contacts);
        }
    }
});
