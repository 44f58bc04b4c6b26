//! 回访 — follow-up visits (Art. 25, 定期跟踪、回访): the member that granted aid visits
//! the person afterwards and records how it went. A visit is owed once aid is granted,
//! due some months (or working days) after the conclusion; it is tracked like the
//! statutory deadlines (reminded, missed, met late) but listed apart, being the
//! opinion's practice rather than a five-day period. What the visit found is the note
//! of its history entry, sealed like every note.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rule::Rule;
use super::{
    calendar::{Calendar, Reckoned},
    date,
    error::Violations,
    history::HistoryEntry,
    person::text,
    vocabulary::{VisitEffect, VisitMethod},
    DomainError, MemberCode,
};

/// When the follow-up visit of a conclusion with aid falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum VisitAfter {
    /// This many calendar months after the conclusion, on the first working day from
    /// that date.
    Months(u32),
    /// This many working days after the conclusion.
    WorkingDays(u32),
}

impl Default for VisitAfter {
    fn default() -> Self {
        VisitAfter::Months(3)
    }
}

impl VisitAfter {
    /// The due date of a visit owed by a conclusion on `concluded_on`.
    pub fn due(self, concluded_on: NaiveDate, calendar: &Calendar) -> Reckoned<NaiveDate> {
        match self {
            VisitAfter::WorkingDays(days) => calendar.add_working_days(concluded_on, days),
            VisitAfter::Months(months) => {
                let day = concluded_on.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX);
                let working = calendar.is_working_day(day);
                if working.value {
                    Reckoned { value: day, provisional: working.provisional }
                } else {
                    let next = calendar.add_working_days(day, 1);
                    Reckoned { value: next.value, provisional: next.provisional || working.provisional }
                }
            }
        }
    }
}

/// A follow-up visit as recorded; what it found is the note of its history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub visited_on: NaiveDate,
    pub method: VisitMethod,
    /// 回访人 — who visited.
    pub visitor: String,
    /// 救助措施是否到位.
    pub aid_in_place: bool,
    pub effect: VisitEffect,
    /// Whether the person needs another referral.
    pub another_referral: bool,
}

/// A visit as kept: of which referral, with which history entry, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRecord {
    pub referral_id: Uuid,
    /// The version of the history entry it was recorded with.
    pub version: u32,
    pub by: MemberCode,
    pub at: DateTime<Utc>,
    pub visit: Visit,
}

impl VisitRecord {
    /// What the visit found: the note of its entry in `history` (empty if not there).
    pub fn findings<'h>(&self, history: &'h [HistoryEntry]) -> &'h str {
        history
            .iter()
            .find(|e| e.referral_id == self.referral_id && e.version == self.version)
            .map_or("", |e| e.note.as_str())
    }
}

/// A visit as typed.
#[derive(Debug, Clone, Copy)]
pub struct VisitInput<'a> {
    pub visited_on: &'a str,
    /// The method's number; 0 when none was chosen.
    pub method: i32,
    pub visitor: &'a str,
    pub findings: &'a str,
    pub aid_in_place: bool,
    /// The effect's number; 0 when none was chosen.
    pub effect: i32,
    pub another_referral: bool,
}

const MAX_VISITOR: usize = 32;
const MAX_FINDINGS: usize = 2_000;

/// Parses a visit and what it found.
pub fn parse(input: VisitInput<'_>) -> Result<(Visit, String), DomainError> {
    let mut v = Violations::default();
    let visited_on = v.check(date::parse("visit.visited_on", input.visited_on));
    let method = VisitMethod::from_number(input.method);
    if method.is_none() {
        v.add("visit.method", Rule::OneOf { choices: "PHONE, HOME or AT_UNIT" });
    }
    let visitor = v.check(text("visit.visitor", input.visitor, 1, MAX_VISITOR));
    let findings = v.check(text("visit.findings", input.findings, 1, MAX_FINDINGS));
    let effect = VisitEffect::from_number(input.effect);
    if effect.is_none() {
        v.add("visit.effect", Rule::OneOf { choices: "MARKED, SOME or NONE" });
    }
    match (visited_on, method, visitor, findings, effect) {
        (Some(visited_on), Some(method), Some(visitor), Some(findings), Some(effect)) => Ok((
            Visit {
                visited_on,
                method,
                visitor,
                aid_in_place: input.aid_in_place,
                effect,
                another_referral: input.another_referral,
            },
            findings,
        )),
        _ => v.finish(|| unreachable!("violations were recorded")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    #[test]
    fn a_visit_falls_due_three_months_on_or_the_next_working_day() {
        let calendar = Calendar::shipped();
        // 2026-07-03 + 3 months is Saturday 2026-10-03, inside the National Day holiday
        // (10-01 to 10-07): the next working day is Thursday 10-08.
        assert_eq!(VisitAfter::default().due(day("2026-07-03"), &calendar).value, day("2026-10-08"));
        assert_eq!(VisitAfter::Months(3).due(day("2026-03-10"), &calendar).value, day("2026-06-10"));
        // The end of a month stays in the month: Saturday 02-28, a working day made up
        // for the Spring Festival.
        assert_eq!(VisitAfter::Months(1).due(day("2026-01-30"), &calendar).value, day("2026-02-28"));
        assert_eq!(VisitAfter::WorkingDays(5).due(day("2026-09-30"), &calendar).value, day("2026-10-13"));
    }

    #[test]
    fn a_visit_is_parsed_with_every_fault_named() {
        let input = VisitInput {
            visited_on: "2026-13-01",
            method: 0,
            visitor: "",
            findings: "",
            aid_in_place: true,
            effect: 9,
            another_referral: false,
        };
        let err = parse(input).unwrap_err().to_string();
        for field in ["visit.visited_on", "visit.method", "visit.visitor", "visit.findings", "visit.effect"] {
            assert!(err.contains(field), "{field}: {err}");
        }
        let (visit, findings) = parse(VisitInput {
            visited_on: "2026-10-09",
            method: 2,
            visitor: "李明",
            findings: " 低保金按月发放，生活有保障。 ",
            effect: 1,
            ..input
        })
        .unwrap();
        assert_eq!(
            (visit.method, visit.effect, findings.as_str()),
            (VisitMethod::Home, VisitEffect::Marked, "低保金按月发放，生活有保障。")
        );
    }
}
