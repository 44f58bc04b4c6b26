//! How the command line shows things: for people, codes with their Chinese names beside
//! them; for programs (`--json`), plain JSON with codes.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::{
    domain::{
        awaited::Awaited,
        deadline::{DeadlineKind, DeadlineState},
        extension::ExtensionState,
        history::EntryKind,
        lifecycle::NoticeKind,
        money,
        referral::{Grant, ReferralKind, State},
        told::Telling,
        vocabulary::{AidKind, Need, Outcome, PriorityGroup, RefusalGround, Situation, VisitEffect, VisitMethod},
    },
    proto as pb,
};

/// Member codes → names and short names, from the hub's directory.
#[derive(Default)]
pub struct Names(HashMap<String, String>, HashMap<String, String>);

impl Names {
    pub fn new(members: &[pb::Member]) -> Self {
        Self(
            members.iter().map(|m| (m.code.clone(), m.name.clone())).collect(),
            members.iter().map(|m| (m.code.clone(), m.short_name.clone())).collect(),
        )
    }

    /// `民政`, as a sentence names a member: the code when the directory has it not.
    pub fn short(&self, code: &str) -> String {
        match code {
            "office" => "联席会议办公室".to_owned(),
            "hub" => "衔接系统".to_owned(),
            _ => self.1.get(code).cloned().unwrap_or_else(|| code.to_owned()),
        }
    }

    /// `mz 晋江市民政局`.
    pub fn member(&self, code: &str) -> String {
        match self.0.get(code) {
            Some(name) => format!("{code} {name}"),
            None => code.to_owned(),
        }
    }
}

fn state(number: i32) -> State {
    State::from_number(number).unwrap_or(State::Submitted)
}

/// `submitted 已移送`.
pub fn state_label(number: i32) -> String {
    match State::from_number(number) {
        Some(s) => format!("{} {}", s.code(), s.label()),
        None => format!("state {number}"),
    }
}

fn kind(number: i32) -> Option<ReferralKind> {
    [ReferralKind::SocialAssistance, ReferralKind::JudicialClue].into_iter().find(|k| *k as i32 == number)
}

fn codes<T>(numbers: &[i32], from: fn(i32) -> Option<T>, code: fn(T) -> &'static str) -> Vec<&'static str> {
    numbers.iter().filter_map(|n| from(*n)).map(code).collect()
}

fn labels<T>(numbers: &[i32], from: fn(i32) -> Option<T>, label: fn(T) -> &'static str) -> String {
    numbers.iter().filter_map(|n| from(*n)).map(label).collect::<Vec<_>>().join("、")
}

pub fn time(t: &Option<prost_types::Timestamp>) -> String {
    t.as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.with_timezone(&crate::domain::date::china()).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// One line per referral.
pub fn referral_line(r: &pb::Referral, names: &Names) -> String {
    let flags =
        format!("{}{}", if r.urgent { " [紧急]" } else { "" }, if r.green_channel { " [绿色通道]" } else { "" });
    format!(
        "{}  {}  {} → {}  {}  {}{}",
        r.id,
        kind(r.kind).map_or("", |k| k.label()),
        names.member(&r.sender),
        names.member(&r.recipient),
        state_label(r.state),
        time(&r.submitted_at),
        flags
    )
}

/// A line of the to-do list: what awaits, by when, and the referral.
pub fn to_do_line(item: &pb::ToDoItem, names: &Names) -> String {
    let default = pb::Referral::default();
    let r = item.referral.as_ref().unwrap_or(&default);
    let awaited = Awaited::from_code(&item.awaits);
    let awaits = awaited.map_or(item.awaits.clone(), |a| a.label().to_owned());
    let due = match &item.deadline {
        Some(d) if d.working_days_late > 0 => format!(
            "{}期限 {} 逾期 {} 个工作日",
            deadline_kind(d.kind).map_or("", |k| k.label()),
            d.due_on,
            d.working_days_late
        ),
        Some(d) => format!("{}期限 {}", deadline_kind(d.kind).map_or("", |k| k.label()), d.due_on),
        None => "无期限".to_owned(),
    };
    let flags = format!(
        "{}{}{}",
        if item.reminded { " [已被催办]" } else { "" },
        if awaited.is_some_and(|a| a.with_reply(item.reply)) { " [对方有补充说明]" } else { "" },
        if r.urgent { " [紧急]" } else { "" }
    );
    format!(
        "{awaits}  {due}  {}  {}  {}  {} → {}{flags}",
        kind(r.kind).map_or("", |k| k.label()),
        r.id,
        r.person.as_ref().map_or("", |p| p.name.as_str()),
        names.member(&r.sender),
        names.member(&r.recipient),
    )
}

pub fn to_do_json(item: &pb::ToDoItem) -> Value {
    json!({
        "awaits": item.awaits,
        "deadline": item.deadline.as_ref().map(deadline_json),
        "reminded": item.reminded,
        "reply": item.reply,
        "referral": item.referral.as_ref().map(referral_json),
    })
}

/// A referral in full, for people; with `explained`, how each deadline's date was reached.
pub fn referral_details(found: &pb::GetReferralResponse, names: &Names, explained: bool) -> String {
    let default = pb::Referral::default();
    let r = found.referral.as_ref().unwrap_or(&default);
    let (history, deadlines) = (&found.history, &found.deadlines);
    let mut out = String::new();
    let mut line = |label: &str, value: String| {
        if !value.is_empty() {
            // Labels are Chinese: pad with the ideographic space so that columns align.
            out.push_str(&format!("{label:\u{3000}<5} {value}\n"));
        }
    };
    line("编号", r.id.clone());
    line("案件", r.case_id.clone());
    line("类型", kind(r.kind).map_or(String::new(), |k| k.label().to_owned()));
    line("状态", state_label(r.state));
    line("移送方", names.member(&r.sender));
    line("接收方", names.member(&r.recipient));
    if let Some(p) = &r.person {
        line("姓名", p.name.clone());
        line("身份证号", p.id_number.clone());
        line("电话", p.phone.clone());
        line("住址", p.address.clone());
        line("家庭情况", p.household.clone());
    }
    line("救助情形", labels(&r.situations, Situation::from_number, Situation::label));
    line("重点群体", labels(&r.priority_groups, PriorityGroup::from_number, PriorityGroup::label));
    line("救助需求", labels(&r.needs, Need::from_number, Need::label));
    line("案号", r.case_reference.clone());
    line("调查终结", r.investigation_ended_on.clone());
    line("发现日期", r.discovered_on.clone());
    if r.advance {
        line("先行移送", r.advance_reason.clone());
    }
    if r.urgent {
        line("紧急", "是（第二十条第二款，立即告知）".into());
    }
    if r.green_channel {
        line("绿色通道", "是".into());
    }
    line("基本案情", r.narrative.clone());
    if let Some(c) = &r.conclusion {
        let outcome = Outcome::from_number(c.outcome).map_or("", |o| o.label());
        line("办结", format!("{} {outcome}：{}", c.concluded_on, c.summary));
        line("救助", Grant::all_said(&grants(c)));
        if c.amount_fen > 0 {
            line("救助金额", format!("{} 元", money::yuan(c.amount_fen)));
        }
        line("不予救助", labels(&c.refusal_grounds, RefusalGround::from_number, RefusalGround::label));
    }
    line("反馈", r.feedback.clone());
    line("退回撤回理由", r.closing_reason.clone());
    if !deadlines.is_empty() {
        out.push_str("期限\n");
        for d in deadlines {
            out.push_str(&format!("  {}\n", deadline_line(d, names)));
            if explained {
                for line in &d.explanation {
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
    }
    if !found.visits.is_empty() {
        out.push_str("回访\n");
        for v in &found.visits {
            out.push_str(&format!(
                "  {}  {}  {}（{}）  救助措施{}  {}{}  {}\n",
                v.visited_on,
                VisitMethod::from_number(v.method).map_or("", VisitMethod::label),
                v.visitor,
                names.member(&v.by),
                if v.aid_in_place { "到位" } else { "未到位" },
                VisitEffect::from_number(v.effect).map_or("", VisitEffect::label),
                if v.another_referral { "  需再次移送" } else { "" },
                v.findings
            ));
        }
    }
    if !history.is_empty() {
        out.push_str("经过\n");
        for e in history {
            let what = EntryKind::ALL.into_iter().find(|k| *k as i32 == e.kind).map_or("", |k| k.code());
            let by = by(names.member(&e.actor), &e.clerk);
            out.push_str(&format!("  {}  {:<10} {by}  {}\n", time(&e.at), what, e.note));
        }
    }
    out
}

/// Who acted: the unit, and its clerk (经办人) when one acted with a certificate of
/// their own.
fn by(member: String, clerk: &str) -> String {
    if clerk.is_empty() {
        member
    } else {
        format!("{member} · {clerk}")
    }
}

/// An inbox event in a line: 「#12  2026-11-02 09:00  民政 签收了 一件社会救助移送  <id>」
/// by whom (the clerk), flags and the note.
pub fn notice_line(e: &pb::InboxEvent, names: &Names) -> String {
    let Some(what) = NoticeKind::ALL.into_iter().find(|k| *k as i32 == e.kind) else {
        return format!("#{:<5} {}  event {}  {}", e.seq, time(&e.at), e.kind, e.referral_id);
    };
    if let Some(c) = &e.checkpoint {
        return format!(
            "#{:<5} {}  {:<15} 审计日志第 {} 条  head {}  (keep: --json)",
            e.seq,
            time(&e.at),
            what.code(),
            c.seq,
            c.head
        );
    }
    let actor = names.short(&e.actor);
    let telling = Telling {
        kind: what,
        state: state(e.state),
        referral_kind: kind(e.referral_kind).unwrap_or(ReferralKind::SocialAssistance),
        actor: &actor,
        person: None,
        deadline: DeadlineKind::from_code(&e.deadline_kind).zip(e.due_on.parse().ok()),
        urgent: e.urgent,
        responsible: None,
    };
    let clerk = if e.clerk.is_empty() { String::new() } else { format!("  经办人 {}", e.clerk) };
    let flags = if e.green_channel { " [绿色通道]" } else { "" };
    let note = if e.note.is_empty() { String::new() } else { format!("  「{}」", e.note) };
    let referral = match uuid::Uuid::parse_str(&e.referral_id) {
        Ok(id) if !id.is_nil() => format!("  {id}"),
        _ => String::new(),
    };
    format!("#{:<5} {}  {}{referral}{clerk}{flags}{note}", e.seq, time(&e.at), telling.sentence())
}

pub fn referral_json(r: &pb::Referral) -> Value {
    let person = r.person.clone().unwrap_or_default();
    json!({
        "id": r.id,
        "case_id": r.case_id,
        "masked": r.masked,
        "kind": kind(r.kind).map(|k| k.code()),
        "state": state(r.state).code(),
        "sender": r.sender,
        "recipient": r.recipient,
        "person": {
            "name": person.name, "id_number": person.id_number, "phone": person.phone,
            "address": person.address, "household": person.household,
        },
        "situations": codes(&r.situations, Situation::from_number, Situation::code),
        "priority_groups": codes(&r.priority_groups, PriorityGroup::from_number, PriorityGroup::code),
        "needs": codes(&r.needs, Need::from_number, Need::code),
        "narrative": r.narrative,
        "case_reference": r.case_reference,
        "investigation_ended_on": r.investigation_ended_on,
        "advance": r.advance,
        "advance_reason": r.advance_reason,
        "discovered_on": r.discovered_on,
        "urgent": r.urgent,
        "green_channel": r.green_channel,
        "submitted_at": time(&r.submitted_at),
        "updated_at": time(&r.updated_at),
        "conclusion": r.conclusion.as_ref().map(|c| json!({
            "outcome": Outcome::from_number(c.outcome).map(|o| o.code()),
            "concluded_on": c.concluded_on,
            "summary": c.summary,
            "amount_fen": c.amount_fen,
            "aids": grants(c).iter().map(|g| json!({"aid": g.aid.code(), "fen": g.fen})).collect::<Vec<_>>(),
            "refusal_grounds": codes(&c.refusal_grounds, RefusalGround::from_number, RefusalGround::code),
        })),
        "feedback": r.feedback,
        "closing_reason": r.closing_reason,
        "version": r.version,
    })
}

pub fn notice_json(e: &pb::InboxEvent) -> Value {
    json!({
        "seq": e.seq,
        "epoch": e.epoch,
        "event_id": e.event_id,
        "kind": NoticeKind::ALL.into_iter().find(|k| *k as i32 == e.kind).map(|k| k.code()),
        "referral_id": e.referral_id,
        "case_id": e.case_id,
        "referral_kind": kind(e.referral_kind).map(|k| k.code()),
        "state": state(e.state).code(),
        "actor": e.actor,
        "clerk": e.clerk,
        "at": time(&e.at),
        "note": e.note,
        "urgent": e.urgent,
        "green_channel": e.green_channel,
        "deadline_kind": e.deadline_kind,
        "due_on": e.due_on,
        // In the form `xianjie audit verify --checkpoint FILE` reads.
        "checkpoint": e.checkpoint.as_ref().map(|c| json!({
            "seq": c.seq, "head": c.head, "at": c.at, "signature": c.signature, "root": c.root,
        })),
    })
}

fn deadline_kind(number: i32) -> Option<DeadlineKind> {
    DeadlineKind::from_number(number)
}

fn deadline_state(number: i32) -> Option<DeadlineState> {
    DeadlineState::ALL.into_iter().find(|s| *s as i32 == number)
}

/// One line per deadline: what, whose, when due, how late.
pub fn deadline_line(d: &pb::Deadline, names: &Names) -> String {
    let late =
        if d.working_days_late > 0 { format!("  逾期 {} 个工作日", d.working_days_late) } else { String::new() };
    let closed = if d.closed_on.is_empty() {
        String::new()
    } else {
        format!(" [{} 已退回或撤回，不再催办]", d.closed_on)
    };
    let step = |what: &str, times: u32, last: &Option<prost_types::Timestamp>| match (times, last) {
        (0, _) | (_, None) => String::new(),
        (times, Some(_)) => format!(" [{what} {times} 次，最近 {}]", time(last)),
    };
    let chased = step("已催办", d.reminders, &d.last_reminded) + &step("已督办", d.supervisions, &d.last_supervised);
    let mut moved = String::new();
    if d.paused {
        moved.push_str(" [补充材料暂停计时中]");
    }
    if d.paused_days > 0 {
        moved.push_str(&format!(" [暂停顺延 {} 个工作日]", d.paused_days));
    }
    if d.extended_days > 0 {
        moved.push_str(&format!(" [延期 {} 个工作日]", d.extended_days));
    }
    let flags = format!(
        "{}{}{}{}{closed}{chased}{moved}",
        if d.level == "near" { " [临期]" } else { "" },
        if d.green_channel { " [绿色通道]" } else { "" },
        if d.urgent { " [紧急]" } else { "" },
        if d.provisional { " [暂定]" } else { "" }
    );
    format!(
        "{}  {:<8} {}  到期 {}  {}{}{}",
        d.referral_id,
        deadline_kind(d.kind).map_or("", |k| k.label()),
        names.member(&d.responsible),
        d.due_on,
        deadline_state(d.state).map_or("", |s| s.label()),
        late,
        flags
    )
}

pub fn deadline_json(d: &pb::Deadline) -> Value {
    json!({
        "referral_id": d.referral_id,
        "case_id": d.case_id,
        "kind": deadline_kind(d.kind).map(|k| k.code()),
        "responsible": d.responsible,
        "runs_from": d.runs_from,
        "due_on": d.due_on,
        "provisional": d.provisional,
        "state": deadline_state(d.state).map(|s| s.code()),
        "met_on": d.met_on,
        "working_days_late": d.working_days_late,
        "closed_on": d.closed_on,
        "urgent": d.urgent,
        "green_channel": d.green_channel,
        "level": d.level,
        "reminders": d.reminders,
        "last_reminded": d.last_reminded.is_some().then(|| time(&d.last_reminded)),
        "supervisions": d.supervisions,
        "last_supervised": d.last_supervised.is_some().then(|| time(&d.last_supervised)),
        "extended_days": d.extended_days,
        "paused_days": d.paused_days,
        "paused": d.paused,
        "pauses": d.pauses,
        "pauses_allowed": d.pauses_allowed,
    })
}

/// Prints one inbox event, for people or as a JSON line.
pub fn print_event(e: &pb::InboxEvent, json: bool, names: &Names) {
    if json {
        println!("{}", notice_json(e));
    } else {
        println!("{}", notice_line(e, names));
    }
}

/// A file in a line: id, name, kind, size, digest and who attached it.
pub fn attachment_line(a: &pb::Attachment) -> String {
    let kind =
        pb::AttachmentKind::try_from(a.kind).map_or("?", |k| k.as_str_name()).trim_start_matches("ATTACHMENT_KIND_");
    let by = if a.attached_by.is_empty() { String::new() } else { format!("  {} (step {})", a.attached_by, a.version) };
    format!("{}  {}  {}  {} bytes  sha256 {}{by}", a.id, a.name, kind, a.size, a.sha256)
}

pub fn attachment_json(a: &pb::Attachment) -> serde_json::Value {
    serde_json::json!({
        "id": a.id,
        "name": a.name,
        "kind": pb::AttachmentKind::try_from(a.kind).map_or("", |k| k.as_str_name()),
        "size": a.size,
        "sha256": a.sha256,
        "attached_by": a.attached_by,
        "version": a.version,
        "masked": a.masked,
    })
}

/// A reply's kinds of aid, as the domain says them; a kind this build does not know is
/// left out.
fn grants(c: &pb::Conclusion) -> Vec<Grant> {
    c.aids.iter().filter_map(|a| AidKind::from_number(a.kind).map(|aid| Grant { aid, fen: a.fen })).collect()
}

/// A request to extend and its answer, for people or as JSON.
pub fn print_extension(e: &pb::Extension, json: bool) {
    let kind = deadline_kind(e.kind).map_or("", |k| k.label());
    if json {
        super::member::print_json(&json!({
            "id": e.id,
            "referral_id": e.referral_id,
            "kind": deadline_kind(e.kind).map(|k| k.code()),
            "member": e.member,
            "asked_at": time(&e.asked_at),
            "asked_by": e.asked_by,
            "days": e.days,
            "reason": e.reason,
            "state": e.state,
            "decided_at": e.decided_at.is_some().then(|| time(&e.decided_at)),
            "decided_by": e.decided_by,
            "granted_days": e.granted_days,
            "answer": e.answer,
            "due_before": e.due_before,
            "due_after": e.due_after,
        }));
        return;
    }
    let state = ExtensionState::from_code(&e.state).map_or("", |s| s.label());
    let mut line = format!(
        "{}  {}  {kind}  {}  申请延期 {} 个工作日（原到期 {}）：{}  [{state}]",
        e.id, e.referral_id, e.member, e.days, e.due_before, e.reason
    );
    if !e.due_after.is_empty() {
        line.push_str(&format!("  延期 {} 个工作日，至 {}", e.granted_days, e.due_after));
    }
    if !e.answer.is_empty() {
        line.push_str(&format!("  答复：{}", e.answer));
    }
    println!("{line}");
}
