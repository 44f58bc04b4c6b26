//! Protobuf ↔ domain, done once at the edge. Parsing collects every field at fault.

use chrono::{DateTime, NaiveDate, Utc};
use prost_types::Timestamp;

use crate::domain::Rule;
use crate::{
    app::calendar::Loaded,
    domain::{
        calendar::Calendar,
        date,
        deadline::{Chased, Policy, Step},
        draft::{self as parse, ConclusionInput, DraftInput},
        extension::Extension,
        history::HistoryEntry,
        person::PersonInput,
        referral::{Conclusion, Content, Referral, ReferralKind},
        view::Seen,
        visit::{Visit, VisitInput, VisitRecord},
        DomainError, FieldViolation,
    },
    proto as pb,
    store::{InboxEvent, ListedDeadline},
};

/// An id of a request's `field`.
pub fn parse_uuid(field: &str, raw: &str) -> Result<uuid::Uuid, crate::app::AppError> {
    uuid::Uuid::parse_str(raw).map_err(|_| crate::app::AppError::invalid(field, Rule::NotAUuid))
}

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// Parses a request's draft into the kind and content of the referrals to create.
pub fn draft(draft: Option<&pb::ReferralDraft>, now: DateTime<Utc>) -> Result<(ReferralKind, Content), DomainError> {
    let Some(d) = draft else {
        return Err(DomainError::Invalid(vec![FieldViolation::new("draft", Rule::Required)]));
    };
    let kind = match pb::ReferralKind::try_from(d.kind) {
        Ok(pb::ReferralKind::SocialAssistance) => Some(ReferralKind::SocialAssistance),
        Ok(pb::ReferralKind::JudicialClue) => Some(ReferralKind::JudicialClue),
        _ => None,
    };
    let person = d.person.as_ref().map(|p| PersonInput {
        name: &p.name,
        id_number: &p.id_number,
        phone: &p.phone,
        address: &p.address,
        household: &p.household,
    });
    parse::draft(
        DraftInput {
            kind,
            person,
            situations: &d.situations,
            priority_groups: &d.priority_groups,
            needs: &d.needs,
            narrative: &d.narrative,
            case_reference: &d.case_reference,
            investigation_ended_on: &d.investigation_ended_on,
            advance: d.advance,
            advance_reason: &d.advance_reason,
            discovered_on: &d.discovered_on,
            urgent: d.urgent,
        },
        now,
    )
}

/// Parses a request's conclusion (办结).
pub fn conclusion(c: Option<&pb::Conclusion>) -> Result<Conclusion, DomainError> {
    let Some(c) = c else {
        return Err(DomainError::Invalid(vec![FieldViolation::new("conclusion", Rule::Required)]));
    };
    let aids: Vec<(i32, i64)> = match (c.aids.as_slice(), c.aid) {
        // A client before `aids`: one kind, the whole amount.
        ([], aid) if aid != 0 => vec![(aid, c.amount_fen)],
        (aids, _) => aids.iter().map(|a| (a.kind, a.fen)).collect(),
    };
    parse::conclusion(ConclusionInput {
        outcome: c.outcome,
        concluded_on: &c.concluded_on,
        summary: &c.summary,
        refusal_grounds: &c.refusal_grounds,
        aids: &aids,
    })
}

fn date_text(date: Option<chrono::NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

/// A request's follow-up visit and what it found, parsed by the domain's rules.
pub fn visit(v: &pb::Visit) -> Result<(Visit, String), DomainError> {
    crate::domain::visit::parse(VisitInput {
        visited_on: &v.visited_on,
        method: v.method,
        visitor: &v.visitor,
        findings: &v.findings,
        aid_in_place: v.aid_in_place,
        effect: v.effect,
        another_referral: v.another_referral,
    })
}

/// A follow-up visit: what it found is the note of its history entry, as the reader
/// was given it.
pub fn visit_record(v: &VisitRecord, history: &[HistoryEntry]) -> pb::Visit {
    let findings = v.findings(history).to_owned();
    let visit = &v.visit;
    pb::Visit {
        visited_on: visit.visited_on.to_string(),
        method: visit.method.number(),
        visitor: visit.visitor.clone(),
        findings,
        aid_in_place: visit.aid_in_place,
        effect: visit.effect.number(),
        another_referral: visit.another_referral,
        by: v.by.to_string(),
        recorded_at: Some(timestamp(v.at)),
        version: v.version,
    }
}

/// A referral as the application layer showed it to its reader.
pub fn referral(r: &Referral<Seen>) -> pb::Referral {
    let c = &r.content;
    pb::Referral {
        id: r.id.to_string(),
        case_id: r.case_id.to_string(),
        kind: r.kind as i32,
        state: r.state as i32,
        sender: r.sender.to_string(),
        recipient: r.recipient.to_string(),
        person: Some(pb::Person {
            name: c.person.name().to_owned(),
            id_number: c.person.id_number().to_owned(),
            phone: c.person.phone().to_owned(),
            address: c.person.address().to_owned(),
            household: c.person.household().to_owned(),
        }),
        situations: c.situations.iter().map(|s| s.number()).collect(),
        priority_groups: c.priority_groups.iter().map(|g| g.number()).collect(),
        needs: c.needs.iter().map(|n| n.number()).collect(),
        narrative: c.narrative.clone(),
        case_reference: c.case_reference.clone(),
        investigation_ended_on: date_text(c.investigation_ended_on),
        advance: c.advance,
        advance_reason: c.advance_reason.clone(),
        discovered_on: date_text(c.discovered_on),
        urgent: c.urgent,
        green_channel: c.green_channel(),
        submitted_at: Some(timestamp(r.submitted_at)),
        updated_at: Some(timestamp(r.updated_at)),
        conclusion: r.conclusion.as_ref().map(|c| pb::Conclusion {
            outcome: c.outcome.number(),
            concluded_on: c.concluded_on.to_string(),
            summary: c.summary.clone(),
            amount_fen: c.amount_fen(),
            refusal_grounds: c.refusal_grounds.iter().map(|g| g.number()).collect(),
            aid: c.aids.first().map_or(0, |g| g.aid.number()),
            aids: c.aids.iter().map(|g| pb::Aid { kind: g.aid.number(), fen: g.fen }).collect(),
        }),
        feedback: r.feedback.clone().unwrap_or_default(),
        closing_reason: r.closing_reason.clone().unwrap_or_default(),
        version: r.version,
        masked: c.person.is_masked(),
    }
}

pub fn entry(e: &HistoryEntry) -> pb::ReferralEvent {
    pb::ReferralEvent {
        version: e.version,
        kind: e.kind as i32,
        actor: e.actor.to_string(),
        at: Some(timestamp(e.at)),
        state: e.state as i32,
        note: e.note.clone(),
        clerk: e.clerk.clone(),
    }
}

/// A signed checkpoint of the audit log as sent.
pub fn checkpoint(c: crate::domain::audit::Checkpoint) -> pb::AuditCheckpoint {
    pb::AuditCheckpoint {
        seq: c.seq,
        head: c.head,
        at: c.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        signature: c.signature,
        root: c.root,
    }
}

/// An inbox event as sent, with the inbox `epoch` its number belongs to.
pub fn inbox_event(e: &InboxEvent, epoch: &str) -> pb::InboxEvent {
    let n = &e.notice;
    if let Some(c) = n.checkpoint() {
        return pb::InboxEvent {
            seq: e.seq,
            event_id: e.event_id.to_string(),
            kind: n.kind as i32,
            actor: n.actor.to_string(),
            at: Some(timestamp(n.at)),
            checkpoint: Some(checkpoint(c)),
            epoch: epoch.to_owned(),
            ..pb::InboxEvent::default()
        };
    }
    pb::InboxEvent {
        seq: e.seq,
        event_id: e.event_id.to_string(),
        kind: n.kind as i32,
        referral_id: n.referral_id.to_string(),
        case_id: n.case_id.to_string(),
        referral_kind: n.referral_kind as i32,
        state: n.state as i32,
        actor: n.actor.to_string(),
        at: Some(timestamp(n.at)),
        note: n.note.clone(),
        urgent: n.urgent,
        green_channel: n.green_channel,
        deadline_kind: n.deadline.map(|(kind, _)| kind.code().to_owned()).unwrap_or_default(),
        due_on: n.deadline.map(|(_, due)| due.to_string()).unwrap_or_default(),
        checkpoint: None,
        epoch: epoch.to_owned(),
        clerk: n.clerk.clone(),
    }
}

/// The instant a deadline ends: 24:00 China time on its due day.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    next.and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(date::china()).single())
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_default()
}

/// A deadline as the API says it, on `today`; its ladder step by `policy`.
pub fn deadline(listed: &ListedDeadline, today: NaiveDate, calendar: &Calendar, policy: &Policy) -> pb::Deadline {
    let d = &listed.deadline;
    let step = |which: fn(&Chased) -> Option<Step>| listed.chased.as_ref().and_then(which);
    pb::Deadline {
        referral_id: d.referral_id.to_string(),
        case_id: d.case_id.to_string(),
        kind: d.kind as i32,
        responsible: d.responsible.to_string(),
        runs_from: d.trigger.to_string(),
        due_on: d.due.to_string(),
        due_at: Some(timestamp(end_of_day(d.due))),
        provisional: d.provisional,
        state: d.state as i32,
        met_on: date_text(d.met_on),
        working_days_late: d.working_days_late(today, calendar),
        referral_kind: listed.referral_kind as i32,
        urgent: listed.urgent,
        green_channel: listed.green_channel,
        closed_on: date_text(d.closed_on),
        explanation: Vec::new(),
        reminders: step(|c| c.reminded).map_or(0, |(times, _)| times),
        last_reminded: step(|c| c.reminded).map(|(_, last)| timestamp(last)),
        supervisions: step(|c| c.supervised).map_or(0, |(times, _)| times),
        last_supervised: step(|c| c.supervised).map(|(_, last)| timestamp(last)),
        level: d.level(today, calendar, policy, listed.chased.as_ref()).map_or("", |l| l.code()).to_owned(),
        extended_days: d.extended,
        paused_days: d.paused,
        paused: d.is_paused(),
        pauses: d.pauses,
        pauses_allowed: d.pauses_allowed,
    }
}

/// A request to extend, as the API gives it.
pub fn extension(e: &Extension) -> pb::Extension {
    pb::Extension {
        id: e.id.to_string(),
        referral_id: e.referral_id.to_string(),
        kind: e.kind as i32,
        member: e.member.to_string(),
        asked_at: Some(timestamp(e.asked_at)),
        asked_by: e.asked_by.clone(),
        days: e.days,
        reason: e.reason.clone(),
        state: e.state.code().to_owned(),
        decided_at: e.decided_at.map(timestamp),
        decided_by: e.decided_by.clone(),
        granted_days: e.granted_days,
        answer: e.answer.clone(),
        due_before: e.due_before.to_string(),
        due_after: date_text(e.due_after),
    }
}

/// A loaded schedule's answer.
pub fn loaded(l: &Loaded) -> pb::LoadScheduleResponse {
    pb::LoadScheduleResponse {
        year: l.year,
        version: l.version,
        recounted: l.recounted,
        moved: l
            .moved
            .iter()
            .map(|m| pb::MovedDeadline {
                referral_id: m.referral_id.to_string(),
                kind: m.kind.code().to_owned(),
                responsible: m.responsible.to_string(),
                was_due_on: m.was_due.to_string(),
                due_on: m.due.to_string(),
            })
            .collect(),
    }
}
