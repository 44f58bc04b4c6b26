use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::{
    calendar::{Holiday, Schedule},
    person::{IdNumber, Person},
    referral::{Conclusion, Content, State},
    vocabulary::Outcome,
};

fn d(raw: &str) -> NaiveDate {
    raw.parse().unwrap()
}

/// 10:00 in China on `day`.
fn morning(day: &str) -> DateTime<Utc> {
    format!("{day}T02:00:00Z").parse().unwrap()
}

fn referral(kind: ReferralKind, submitted: &str, trigger: &str, urgent: bool) -> Referral {
    let code = |c: &str| MemberCode::parse(c).unwrap();
    let (sender, recipient) = match kind {
        ReferralKind::SocialAssistance => (code("jcy"), code("mz")),
        ReferralKind::JudicialClue => (code("mz"), code("jcy")),
    };
    Referral {
        id: Uuid::new_v4(),
        case_id: Uuid::new_v4(),
        kind,
        state: State::Submitted,
        sender,
        recipient,
        content: Content {
            person: Person {
                name: "张三".into(),
                id_number: IdNumber::parse("11010519491231002X").unwrap(),
                phone: String::new(),
                address: String::new(),
                household: String::new(),
            },
            situations: vec![],
            priority_groups: vec![],
            needs: vec![],
            narrative: "x".into(),
            case_reference: String::new(),
            investigation_ended_on: (kind == ReferralKind::SocialAssistance).then(|| d(trigger)),
            advance: false,
            advance_reason: String::new(),
            discovered_on: (kind == ReferralKind::JudicialClue).then(|| d(trigger)),
            urgent,
        },
        submitted_at: morning(submitted),
        updated_at: morning(submitted),
        started_at: None,
        conclusion: None,
        feedback: None,
        closing_reason: None,
        version: 1,
    }
}

fn find(deadlines: &[Deadline], kind: DeadlineKind) -> &Deadline {
    deadlines.iter().find(|d| d.kind == kind).unwrap()
}

#[test]
fn a_referral_delivered_before_national_day_must_be_started_after_it() {
    let c = Calendar::shipped();
    let r = referral(ReferralKind::SocialAssistance, "2026-09-30", "2026-09-21", false);
    let all = on_submit(&r, &c, &Policy::default());
    let start = find(&all, DeadlineKind::Start);
    assert_eq!((start.trigger, start.due, start.state), (d("2026-09-30"), d("2026-10-13"), DeadlineState::Open));
    assert_eq!(start.responsible.as_str(), "mz");
    // Investigation ended 09-21: five working days (the Mid-Autumn Festival 09-25..27 not
    // among them) end 09-29, so the send on 09-30 was late.
    let send = find(&all, DeadlineKind::Send);
    assert_eq!((send.due, send.state, send.met_on), (d("2026-09-29"), DeadlineState::MetLate, Some(d("2026-09-30"))));
    assert_eq!(send.responsible.as_str(), "jcy");
    assert!(all.iter().all(|d| d.kind != DeadlineKind::Urgent));
}

#[test]
fn an_urgent_clue_must_be_received_by_the_next_working_day() {
    let c = Calendar::shipped();
    let r = referral(ReferralKind::JudicialClue, "2026-09-11", "2026-09-10", true);
    let all = on_submit(&r, &c, &Policy::default());
    let urgent = find(&all, DeadlineKind::Urgent);
    // Friday 09-11 → Monday 09-14.
    assert_eq!((urgent.due, urgent.responsible.as_str()), (d("2026-09-14"), "jcy"));
    let received =
        on_act(&r, &[EntryKind::Received], &r.recipient, &all, &c, &Policy::default(), morning("2026-09-14"));
    assert_eq!(received.len(), 1);
    assert_eq!((received[0].kind, received[0].state), (DeadlineKind::Urgent, DeadlineState::Met));
}

#[test]
fn acts_meet_deadlines_on_time_or_late_and_conclusion_opens_the_feedback_deadline() {
    let c = Calendar::shipped();
    let policy = Policy::default();
    let mut r = referral(ReferralKind::SocialAssistance, "2026-09-10", "2026-09-08", false);
    let mut all = on_submit(&r, &c, &policy);
    // Start due 09-17; started 09-18: late by one working day.
    let started = on_act(&r, &[EntryKind::Started], &r.recipient, &all, &c, &policy, morning("2026-09-18"));
    assert_eq!((started[0].state, started[0].working_days_late(d("2026-09-30"), &c)), (DeadlineState::MetLate, 1));
    all.retain(|d| d.kind != DeadlineKind::Start);
    all.extend(started);

    r.conclusion = Some(Conclusion {
        outcome: Outcome::Granted,
        concluded_on: d("2026-09-21"),
        summary: "x".into(),
        refusal_grounds: vec![],
        aids: vec![crate::domain::referral::Grant { aid: crate::domain::vocabulary::AidKind::Subsistence, fen: 0 }],
    });
    let concluded = on_act(&r, &[EntryKind::Concluded], &r.recipient, &all, &c, &policy, morning("2026-09-22"));
    let feedback = find(&concluded, DeadlineKind::Feedback);
    assert_eq!(
        (feedback.trigger, feedback.due, feedback.state),
        (d("2026-09-21"), d("2026-09-29"), DeadlineState::Open)
    );
    all.extend(concluded);
    let fed = on_act(&r, &[EntryKind::FedBack], &r.recipient, &all, &c, &policy, morning("2026-09-28"));
    assert_eq!(fed[0].state, DeadlineState::Met);

    let both =
        on_act(&r, &[EntryKind::Concluded, EntryKind::FedBack], &r.recipient, &[], &c, &policy, morning("2026-09-30"));
    assert_eq!(both[0].state, DeadlineState::MetLate);
}

#[test]
fn a_withdrawal_cancels_open_deadlines_but_a_missed_one_stays_missed() {
    let c = Calendar::shipped();
    let policy = Policy::default();
    let r = referral(ReferralKind::SocialAssistance, "2026-09-10", "2026-09-08", false);
    let mut all = on_submit(&r, &c, &policy);
    let cancelled = on_act(&r, &[EntryKind::Withdrawn], &r.recipient, &all, &c, &policy, morning("2026-09-11"));
    assert_eq!(cancelled.len(), 1);
    assert_eq!((cancelled[0].kind, cancelled[0].state), (DeadlineKind::Start, DeadlineState::Cancelled));
    all.iter_mut().filter(|d| d.kind == DeadlineKind::Start).for_each(|d| d.state = DeadlineState::Missed);
    assert!(all.iter().all(|d| d.kind != DeadlineKind::Start || d.is_outstanding()));
    let closed = on_act(&r, &[EntryKind::Returned], &r.recipient, &all, &c, &policy, morning("2026-09-30"));
    assert_eq!(closed.len(), 1);
    let start = &closed[0];
    assert_eq!(
        (start.kind, start.state, start.closed_on),
        (DeadlineKind::Start, DeadlineState::Missed, Some(d("2026-09-30")))
    );
    assert!(!start.is_outstanding(), "a missed deadline of a returned referral waits for nothing");
    // Late until the return, not until today: due 09-17; 09-18, 09-20 (make-up), 09-21 … 09-30.
    let late = start.working_days_late(d("2026-09-30"), &c);
    assert_eq!(start.working_days_late(d("2026-12-31"), &c), late);
    assert_eq!(late, c.working_days_between(d("2026-09-17"), d("2026-09-30")).value);
    // Settled: nothing further to settle.
    assert!(on_act(&r, &[EntryKind::Withdrawn], &r.recipient, &closed, &c, &policy, morning("2026-10-09")).is_empty());
}

#[test]
fn reminders_come_with_one_working_day_left_and_misses_after_the_due_day() {
    let c = Calendar::shipped();
    let r = referral(ReferralKind::SocialAssistance, "2026-09-10", "2026-09-08", false);
    let start = find(&on_submit(&r, &c, &Policy::default()), DeadlineKind::Start).clone();
    assert_eq!(start.due, d("2026-09-17"));
    assert!(!start.reminder_due(d("2026-09-15"), &c, &Policy::default()));
    assert!(start.reminder_due(d("2026-09-16"), &c, &Policy::default()));
    assert!(start.reminder_due(d("2026-09-17"), &c, &Policy::default()));
    assert!(!start.passed(d("2026-09-17")));
    assert!(start.passed(d("2026-09-18")));
    // 09-18, the make-up Sunday 09-20, 09-21 and 09-22.
    assert_eq!(start.working_days_late(d("2026-09-22"), &c), 4);
    // Due on a Monday: the reminder comes on the Friday before.
    let monday = Deadline { due: d("2026-09-14"), ..start };
    assert!(monday.reminder_due(d("2026-09-11"), &c, &Policy::default()));
    assert!(!monday.reminder_due(d("2026-09-10"), &c, &Policy::default()));
}

#[test]
fn a_provisional_deadline_moves_when_its_year_is_loaded() {
    let c = Calendar::shipped();
    let policy = Policy::default();
    let r = referral(ReferralKind::SocialAssistance, "2026-12-28", "2026-12-25", false);
    let start = find(&on_submit(&r, &c, &policy), DeadlineKind::Start).clone();
    assert_eq!((start.due, start.provisional), (d("2027-01-04"), true));
    let holiday = Holiday { name: "元旦".into(), off: vec![d("2027-01-01")], work: vec![] };
    let with_2027 = c.with(Schedule { year: 2027, holidays: vec![holiday] });
    let moved = start.recounted(&with_2027, &policy, d("2026-12-30")).unwrap();
    assert_eq!((moved.due, moved.provisional, moved.state), (d("2027-01-05"), false, DeadlineState::Open));
    assert!(moved.recounted(&with_2027, &policy, d("2026-12-30")).is_none());
}

#[test]
fn a_provisional_deadline_already_missed_is_recounted_too() {
    let c = Calendar::shipped();
    let policy = Policy::default();
    let r = referral(ReferralKind::SocialAssistance, "2026-12-28", "2026-12-25", false);
    let start = find(&on_submit(&r, &c, &policy), DeadlineKind::Start).clone();
    // Due 2027-01-04 by weekdays alone, marked missed on 01-05 …
    let missed = Deadline { state: DeadlineState::Missed, ..start.clone() };
    let holiday = Holiday { name: "元旦".into(), off: vec![d("2027-01-01"), d("2027-01-04")], work: vec![] };
    let with_2027 = c.with(Schedule { year: 2027, holidays: vec![holiday] });
    // … but 01-01 and 01-04 are holidays: due 01-06, so on 01-05 it is open again.
    let recounted = missed.recounted(&with_2027, &policy, d("2027-01-05")).unwrap();
    assert_eq!((recounted.due, recounted.state), (d("2027-01-06"), DeadlineState::Open));
    // Loaded later, it is still missed, late from the new due date.
    let still = missed.recounted(&with_2027, &policy, d("2027-01-08")).unwrap();
    assert_eq!((still.due, still.state), (d("2027-01-06"), DeadlineState::Missed));
    // Met on 01-05 counts as met, no longer late.
    let met = Deadline { state: DeadlineState::MetLate, met_on: Some(d("2027-01-05")), ..start };
    assert_eq!(met.recounted(&with_2027, &policy, d("2027-01-08")).unwrap().state, DeadlineState::Met);
}

#[test]
fn the_ladder_goes_from_normal_to_near_to_overdue_to_chased_and_off_when_met() {
    use crate::domain::deadline::Level;
    let calendar = Calendar::shipped();
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let mut deadline = Deadline {
        referral_id: Uuid::nil(),
        case_id: Uuid::nil(),
        kind: DeadlineKind::Start,
        responsible: MemberCode::parse("mz").unwrap(),
        trigger: d("2026-09-10"),
        due: d("2026-09-17"),
        provisional: false,
        state: DeadlineState::Open,
        met_on: None,
        reminded: false,
        closed_on: None,
        extended: 0,
        paused: 0,
        paused_on: None,
        pauses: 0,
        pauses_allowed: 1,
    };
    let policy = Policy::default();
    let level = |deadline: &Deadline, today: &str, chased: Option<&Chased>| {
        deadline.level(d(today), &calendar, &policy, chased)
    };
    let at = |s: &str| format!("{s}T02:00:00Z").parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let reminded = Chased { reminded: Some((2, at("2026-09-18"))), supervised: None };
    let supervised = Chased { supervised: Some((1, at("2026-09-21"))), ..reminded };
    assert_eq!(level(&deadline, "2026-09-14", None), Some(Level::Normal));
    assert_eq!(level(&deadline, "2026-09-16", None), Some(Level::Near));
    assert_eq!(level(&deadline, "2026-09-18", None), Some(Level::Overdue));
    assert_eq!(level(&deadline, "2026-09-18", Some(&reminded)), Some(Level::Chased));
    assert_eq!(level(&deadline, "2026-09-18", Some(&supervised)), Some(Level::Supervised));
    assert_eq!(supervised.describe(), "已催办 2 次，最近 9月18日；已督办 1 次，最近 9月21日");
    // Three working days of warning: 临期 from the Monday.
    let wary = Policy { warn_days: 3, ..Policy::default() };
    assert_eq!(deadline.level(d("2026-09-14"), &calendar, &wary, None), Some(Level::Near));
    deadline.state = DeadlineState::Met;
    assert_eq!(level(&deadline, "2026-09-18", Some(&reminded)), None);
}

#[test]
fn materials_asked_for_pause_the_start_deadline_once_and_the_days_paused_are_added() {
    let c = Calendar::shipped();
    let policy = Policy::default();
    let r = referral(ReferralKind::SocialAssistance, "2026-09-10", "2026-09-08", false);
    let all = on_submit(&r, &c, &policy);
    let start = find(&all, DeadlineKind::Start);
    assert_eq!(start.due, d("2026-09-17"));
    // The recipient asks on Monday 09-14: the count stands still, never missed meanwhile.
    let asked = on_act(&r, &[EntryKind::MaterialsAsked], &r.recipient, &all, &c, &policy, morning("2026-09-14"));
    let paused = find(&asked, DeadlineKind::Start);
    assert_eq!((paused.paused_on, paused.pauses), (Some(d("2026-09-14")), 1));
    assert!(paused.is_paused() && !paused.passed(d("2026-09-25")));
    assert_eq!(paused.working_days_late(d("2026-09-25"), &c), 0);
    // The recipient's own comment does not end it; the sender's does, on Wednesday
    // 09-16: two working days stood still, added to the due date.
    let both = [paused.clone(), find(&all, DeadlineKind::Send).clone()];
    assert!(on_act(&r, &[EntryKind::Commented], &r.recipient, &both, &c, &policy, morning("2026-09-16")).is_empty());
    let supplied = on_act(&r, &[EntryKind::Commented], &r.sender, &both, &c, &policy, morning("2026-09-16"));
    let running = find(&supplied, DeadlineKind::Start);
    assert_eq!((running.paused, running.paused_on), (2, None));
    assert_eq!(running.due, c.add_working_days(d("2026-09-17"), 2).value);
    // Asked again: no second pause, unless the office allows one.
    let again = on_act(
        &r,
        &[EntryKind::MaterialsAsked],
        &r.recipient,
        std::slice::from_ref(running),
        &c,
        &policy,
        morning("2026-09-17"),
    );
    assert!(again.is_empty(), "one pause only");
    let allowed = Deadline { pauses_allowed: 2, ..running.clone() };
    let again = on_act(&r, &[EntryKind::MaterialsAsked], &r.recipient, &[allowed], &c, &policy, morning("2026-09-17"));
    assert_eq!(find(&again, DeadlineKind::Start).pauses, 2);
}

#[test]
fn an_extension_moves_the_due_date_and_reopens_a_missed_deadline() {
    let c = Calendar::shipped();
    let policy = Policy::default();
    let r = referral(ReferralKind::SocialAssistance, "2026-09-10", "2026-09-08", false);
    let mut start = find(&on_submit(&r, &c, &policy), DeadlineKind::Start).clone();
    start.extend(3, &c, &policy, d("2026-09-16"));
    assert_eq!(
        (start.due, start.extended, start.state),
        (c.add_working_days(d("2026-09-17"), 3).value, 3, DeadlineState::Open)
    );
    start.state = DeadlineState::Missed;
    start.extend(5, &c, &policy, d("2026-09-23"));
    assert_eq!((start.extended, start.state), (8, DeadlineState::Open), "its new date is ahead");
}
