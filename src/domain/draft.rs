//! What a sender types, as text and term numbers, parsed into domain values: one
//! parser for every front end (a gRPC request, a workbench form). Every field at fault
//! is named at once, under the names of the API (`draft.person.id_number`).

use chrono::{DateTime, Utc};

use super::rule::Rule;
use super::{
    date,
    error::Violations,
    person::{text, Person, PersonInput},
    referral::{Conclusion, Content, Grant, ReferralKind},
    vocabulary::{AidKind, Need, Outcome, PriorityGroup, RefusalGround, Situation},
    DomainError, FieldViolation,
};

/// Longest narrative (基本案情).
pub const MAX_NARRATIVE: usize = 10_000;
/// Longest reason, comment, feedback or summary.
pub const MAX_NOTE: usize = 2_000;

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
        v.add(field, Rule::AtMostEntries { max: known });
        return Vec::new();
    }
    let mut out = Vec::with_capacity(numbers.len());
    for (i, number) in numbers.iter().enumerate() {
        match from_number(*number) {
            Some(term) if !out.contains(&term) => out.push(term),
            Some(_) => v.add(format!("{field}[{i}]"), Rule::NamedTwice),
            None => v.add(format!("{field}[{i}]"), Rule::NotAKnownValue),
        }
    }
    out
}

/// A draft as typed: texts, and the numbers of the terms chosen.
pub struct DraftInput<'a> {
    /// `None` when the sender named no kind (or one the hub does not know).
    pub kind: Option<ReferralKind>,
    /// `None` when the sender sent no person at all.
    pub person: Option<PersonInput<'a>>,
    pub situations: &'a [i32],
    pub priority_groups: &'a [i32],
    pub needs: &'a [i32],
    pub narrative: &'a str,
    pub case_reference: &'a str,
    pub investigation_ended_on: &'a str,
    pub advance: bool,
    pub advance_reason: &'a str,
    pub discovered_on: &'a str,
    pub urgent: bool,
}

/// Parses a draft into the kind and content of the referrals to create; dates may not
/// lie after `now`.
pub fn draft(d: DraftInput<'_>, now: DateTime<Utc>) -> Result<(ReferralKind, Content), DomainError> {
    let mut v = Violations::default();
    if d.kind.is_none() {
        v.add("draft.kind", Rule::OneOf { choices: "SOCIAL_ASSISTANCE or JUDICIAL_CLUE" });
    }
    let person = match d.person {
        None => {
            v.add("draft.person", Rule::Required);
            None
        }
        Some(p) => Person::parse(p, "draft.person", &mut v),
    };
    let situations = terms("draft.situations", d.situations, Situation::ALL.len(), Situation::from_number, &mut v);
    if d.situations.is_empty() {
        v.add("draft.situations", Rule::AtLeastOneSituation);
    }
    let priority_groups =
        terms("draft.priority_groups", d.priority_groups, PriorityGroup::ALL.len(), PriorityGroup::from_number, &mut v);
    let needs = terms("draft.needs", d.needs, Need::ALL.len(), Need::from_number, &mut v);
    if d.needs.is_empty() {
        v.add("draft.needs", Rule::AtLeastOneNeed);
    }
    let narrative = v.check(text("draft.narrative", d.narrative, 1, MAX_NARRATIVE));
    let case_reference = v.check(text("draft.case_reference", d.case_reference, 0, 64));
    let advance_reason = v.check(text("draft.advance_reason", d.advance_reason, 0, MAX_NOTE));
    let optional_date = |field: &str, raw: &str, v: &mut Violations| {
        if raw.is_empty() {
            None
        } else {
            v.check(date::parse_past(field, raw, now))
        }
    };
    let investigation_ended_on = optional_date("draft.investigation_ended_on", d.investigation_ended_on, &mut v);
    let discovered_on = optional_date("draft.discovered_on", d.discovered_on, &mut v);
    match (d.kind, person, narrative, case_reference, advance_reason) {
        (Some(kind), Some(person), Some(narrative), Some(case_reference), Some(advance_reason)) if v.is_empty() => {
            Ok((
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
            ))
        }
        _ => v.finish(|| unreachable!("every missing part recorded a violation")),
    }
}

/// A conclusion (办结) as typed.
pub struct ConclusionInput<'a> {
    /// The outcome's number; 0 when none was chosen.
    pub outcome: i32,
    pub concluded_on: &'a str,
    pub summary: &'a str,
    pub refusal_grounds: &'a [i32],
    /// Each kind of aid granted by its number, with its amount in fen.
    pub aids: &'a [(i32, i64)],
}

/// Parses a conclusion (办结).
pub fn conclusion(c: ConclusionInput<'_>) -> Result<Conclusion, DomainError> {
    let mut v = Violations::default();
    let outcome = Outcome::from_number(c.outcome);
    if outcome.is_none() {
        v.add("conclusion.outcome", Rule::OneOf { choices: "GRANTED, PARTIALLY_GRANTED or NOT_GRANTED" });
    }
    let concluded_on = v.check(date::parse("conclusion.concluded_on", c.concluded_on));
    let summary = v.check(text("conclusion.summary", c.summary, 1, MAX_NOTE));
    let refusal_grounds = terms(
        "conclusion.refusal_grounds",
        c.refusal_grounds,
        RefusalGround::ALL.len(),
        RefusalGround::from_number,
        &mut v,
    );
    let mut aids: Vec<Grant> = Vec::new();
    for (at, &(number, fen)) in c.aids.iter().enumerate() {
        let field = format!("conclusion.aids[{at}]");
        if fen < 0 {
            v.add(&field, Rule::NotNegative);
        }
        match AidKind::from_number(number) {
            None => v.add(&field, Rule::NotAKindOfAid),
            Some(aid) if aids.iter().any(|g| g.aid == aid) => v.add(&field, Rule::AidTwice),
            Some(aid) => aids.push(Grant { aid, fen }),
        }
    }
    match (outcome, concluded_on, summary) {
        (Some(outcome), Some(concluded_on), Some(summary)) if v.is_empty() => {
            Ok(Conclusion { outcome, concluded_on, summary, refusal_grounds, aids })
        }
        _ => v.finish(|| unreachable!("violations were recorded")),
    }
}

/// A required note (reason, comment, feedback) of 1–2,000 characters.
pub fn note(field: &str, raw: &str) -> Result<String, DomainError> {
    text(field, raw, 1, MAX_NOTE).map_err(|violation: FieldViolation| DomainError::Invalid(vec![violation]))
}
