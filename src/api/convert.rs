//! Protobuf ↔ domain, done once at the edge. Parsing collects every field at fault.

use chrono::{DateTime, NaiveDate, Utc};
use prost_types::Timestamp;

use crate::{
    app::{calendar::Loaded, referrals::View},
    domain::{
        calendar::Calendar,
        date,
        error::Violations,
        history::HistoryEntry,
        person::{text, Person, PersonInput},
        referral::{Conclusion, Content, Referral, ReferralKind},
        vocabulary::{Need, Outcome, PriorityGroup, RefusalGround, Situation},
        DomainError, FieldViolation,
    },
    proto as pb,
    store::{InboxEvent, ListedDeadline},
};

/// Longest narrative (基本案情).
pub const MAX_NARRATIVE: usize = 10_000;
/// Longest reason, comment, feedback or summary.
pub const MAX_NOTE: usize = 2_000;

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// A list of terms of a vocabulary of `known` terms: each known, none twice, order
/// kept. A list longer than the vocabulary is refused whole before any item is looked
/// at, so that its length costs nothing.
pub fn terms<T: PartialEq + Copy>(
    field: &str,
    numbers: &[i32],
    known: usize,
    from_number: fn(i32) -> Option<T>,
    v: &mut Violations,
) -> Vec<T> {
    if numbers.len() > known {
        v.add(field, format!("at most {known} entries"));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(numbers.len());
    for (i, number) in numbers.iter().enumerate() {
        match from_number(*number) {
            Some(term) if !out.contains(&term) => out.push(term),
            Some(_) => v.add(format!("{field}[{i}]"), "named twice"),
            None => v.add(format!("{field}[{i}]"), "not a known value"),
        }
    }
    out
}

/// Parses a draft into the kind and content of the referrals to create.
pub fn draft(draft: Option<&pb::ReferralDraft>, now: DateTime<Utc>) -> Result<(ReferralKind, Content), DomainError> {
    let Some(d) = draft else {
        return Err(DomainError::Invalid(vec![FieldViolation::new("draft", "required")]));
    };
    let mut v = Violations::default();
    let kind = match pb::ReferralKind::try_from(d.kind) {
        Ok(pb::ReferralKind::SocialAssistance) => Some(ReferralKind::SocialAssistance),
        Ok(pb::ReferralKind::JudicialClue) => Some(ReferralKind::JudicialClue),
        _ => {
            v.add("draft.kind", "required: SOCIAL_ASSISTANCE or JUDICIAL_CLUE");
            None
        }
    };
    let person = match &d.person {
        None => {
            v.add("draft.person", "required");
            None
        }
        Some(p) => Person::parse(
            PersonInput {
                name: &p.name,
                id_number: &p.id_number,
                phone: &p.phone,
                address: &p.address,
                household: &p.household,
            },
            "draft.person",
            &mut v,
        ),
    };
    let situations = terms("draft.situations", &d.situations, Situation::ALL.len(), Situation::from_number, &mut v);
    if situations.is_empty() && d.situations.is_empty() {
        v.add("draft.situations", "at least one situation (Art. 4) is required");
    }
    let priority_groups = terms(
        "draft.priority_groups",
        &d.priority_groups,
        PriorityGroup::ALL.len(),
        PriorityGroup::from_number,
        &mut v,
    );
    let needs = terms("draft.needs", &d.needs, Need::ALL.len(), Need::from_number, &mut v);
    if d.needs.is_empty() {
        v.add("draft.needs", "at least one need is required");
    }
    let narrative = v.check(text("draft.narrative", &d.narrative, 1, MAX_NARRATIVE));
    let case_reference = v.check(text("draft.case_reference", &d.case_reference, 0, 64));
    let advance_reason = v.check(text("draft.advance_reason", &d.advance_reason, 0, MAX_NOTE));
    let optional_date = |field: &str, raw: &str, v: &mut Violations| {
        if raw.is_empty() {
            None
        } else {
            v.check(date::parse_past(field, raw, now))
        }
    };
    let investigation_ended_on = optional_date("draft.investigation_ended_on", &d.investigation_ended_on, &mut v);
    let discovered_on = optional_date("draft.discovered_on", &d.discovered_on, &mut v);
    if !v.is_empty() {
        return v.finish(|| unreachable!("violations were recorded"));
    }
    match (kind, person, narrative, case_reference, advance_reason) {
        (Some(kind), Some(person), Some(narrative), Some(case_reference), Some(advance_reason)) => Ok((
            kind,
            Content {
                person,
                situations,
                priority_groups,
                needs,
                narrative,
                case_reference,
                investigation_ended_on,
                advance: d.advance,
                advance_reason,
                discovered_on,
                urgent: d.urgent,
            },
        )),
        _ => unreachable!("every missing part recorded a violation"),
    }
}

/// Parses a conclusion (办结).
pub fn conclusion(c: Option<&pb::Conclusion>) -> Result<Conclusion, DomainError> {
    let Some(c) = c else {
        return Err(DomainError::Invalid(vec![FieldViolation::new("conclusion", "required")]));
    };
    let mut v = Violations::default();
    let outcome = Outcome::from_number(c.outcome);
    if outcome.is_none() {
        v.add("conclusion.outcome", "required: GRANTED, PARTIALLY_GRANTED or NOT_GRANTED");
    }
    let concluded_on = v.check(date::parse("conclusion.concluded_on", &c.concluded_on));
    let summary = v.check(text("conclusion.summary", &c.summary, 1, MAX_NOTE));
    if c.amount_fen < 0 {
        v.add("conclusion.amount_fen", "must not be negative");
    }
    let refusal_grounds = terms(
        "conclusion.refusal_grounds",
        &c.refusal_grounds,
        RefusalGround::ALL.len(),
        RefusalGround::from_number,
        &mut v,
    );
    match (outcome, concluded_on, summary) {
        (Some(outcome), Some(concluded_on), Some(summary)) if v.is_empty() => {
            Ok(Conclusion { outcome, concluded_on, summary, amount_fen: c.amount_fen, refusal_grounds })
        }
        _ => v.finish(|| unreachable!("violations were recorded")),
    }
}

/// A required note (reason, comment, feedback) of 1–2,000 characters.
pub fn note(field: &str, raw: &str) -> Result<String, DomainError> {
    text(field, raw, 1, MAX_NOTE).map_err(|violation| DomainError::Invalid(vec![violation]))
}

fn date_text(date: Option<chrono::NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

/// A referral as `view` shows it.
pub fn referral_as(r: &Referral, view: View) -> pb::Referral {
    let mut shown = referral(r);
    if view == View::Masked {
        let masked = r.content.person.masked();
        shown.person = Some(pb::Person {
            name: masked.name,
            id_number: masked.id_number,
            phone: masked.phone,
            address: masked.address,
            household: String::new(),
        });
        for text in [&mut shown.narrative, &mut shown.advance_reason, &mut shown.feedback, &mut shown.closing_reason] {
            text.clear();
        }
        if let Some(conclusion) = &mut shown.conclusion {
            conclusion.summary.clear();
        }
        shown.masked = true;
    }
    shown
}

/// A history entry as `view` shows it: the office does not see its note.
pub fn entry_as(e: &HistoryEntry, view: View) -> pb::ReferralEvent {
    let mut shown = entry(e);
    if view == View::Masked {
        shown.note.clear();
    }
    shown
}

pub fn referral(r: &Referral) -> pb::Referral {
    let c = &r.content;
    pb::Referral {
        id: r.id.to_string(),
        case_id: r.case_id.to_string(),
        kind: r.kind as i32,
        state: r.state as i32,
        sender: r.sender.to_string(),
        recipient: r.recipient.to_string(),
        person: Some(pb::Person {
            name: c.person.name.clone(),
            id_number: c.person.id_number.as_str().to_owned(),
            phone: c.person.phone.clone(),
            address: c.person.address.clone(),
            household: c.person.household.clone(),
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
            amount_fen: c.amount_fen,
            refusal_grounds: c.refusal_grounds.iter().map(|g| g.number()).collect(),
        }),
        feedback: r.feedback.clone().unwrap_or_default(),
        closing_reason: r.closing_reason.clone().unwrap_or_default(),
        version: r.version,
        masked: false,
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
            checkpoint: Some(pb::AuditCheckpoint {
                seq: c.seq,
                head: c.head,
                at: c.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                signature: c.signature,
            }),
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

pub fn deadline(listed: &ListedDeadline, today: NaiveDate, calendar: &Calendar) -> pb::Deadline {
    let d = &listed.deadline;
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
