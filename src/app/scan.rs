//! The deadline scanner's pass: the day before a deadline it reminds the member
//! responsible; when a deadline passes unmet it tells that member and the joint-meeting
//! office. The background task runs it on a timer; a starting hub runs it until it has
//! caught up; tests run it when they choose.
//!
//! Each event is sent once: the deadline row changes (reminded, missed) in the same
//! transaction as the inbox events, and only if it is still as the scanner read it, so a
//! second scanner (another replica, or this one after a restart) finds nothing to do.

use super::Hub;
use crate::{
    domain::{
        audit::AuditRecord,
        date::local_date,
        deadline::{Deadline, DeadlineState},
        lifecycle::{Notice, NoticeKind},
        MemberCode,
    },
    store::{Commit, DeadlineQuery, DeadlineUpdate, StoreError},
};

/// How far ahead of today the scanner looks for deadlines.
const HORIZON_DAYS: u64 = 14;
/// Deadlines read per pass.
const BATCH: u32 = 10_000;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub reminded: usize,
    pub missed: usize,
}

/// Passes until one changes nothing (a pass reads a batch of deadlines): what a hub
/// runs before it serves, so that reminders and misses from while it was down are sent.
pub async fn catch_up(hub: &Hub) -> Result<Pass, StoreError> {
    let mut total = Pass::default();
    loop {
        let pass = scan(hub).await?;
        if pass == Pass::default() {
            return Ok(total);
        }
        total = Pass { reminded: total.reminded + pass.reminded, missed: total.missed + pass.missed };
    }
}

/// Takes up schedules loaded since the calendar was built.
async fn refresh_calendar(hub: &Hub) -> Result<(), StoreError> {
    let current = hub.calendar();
    let stored = hub.store().schedules().await?;
    let stale = stored
        .iter()
        .any(|record| current.schedule(record.year).map(|s| s.to_open_json()) != Some(record.schedule.clone()));
    if stale {
        super::calendar::reload(hub).await?;
        tracing::info!("holiday schedules reloaded");
    }
    Ok(())
}

/// One pass over the deadlines at the hub's time, on the newest holiday schedules (which
/// another hub on the same database may have loaded).
pub async fn scan(hub: &Hub) -> Result<Pass, StoreError> {
    hub.metrics().scanner_runs.inc();
    refresh_calendar(hub).await?;
    let now = hub.clock().now();
    let today = local_date(now);
    let calendar = hub.calendar();
    let query = DeadlineQuery {
        states: vec![DeadlineState::Open],
        running: true,
        due_to: today.checked_add_days(chrono::Days::new(HORIZON_DAYS)),
        limit: BATCH,
        ..DeadlineQuery::default()
    };
    let mut pass = Pass::default();
    for listed in hub.store().list_deadlines(&query).await? {
        let was = listed.deadline;
        let (next, kind, to) = if was.passed(today) {
            let next = Deadline { state: DeadlineState::Missed, ..was.clone() };
            (next, NoticeKind::DeadlineMissed, vec![was.responsible.clone(), MemberCode::office()])
        } else if was.reminder_due(today, &calendar, hub.policy()) {
            let next = Deadline { reminded: true, ..was.clone() };
            (next, NoticeKind::DueSoon, vec![was.responsible.clone()])
        } else {
            continue;
        };
        let Some(referral) = hub.store().referral(was.referral_id).await? else {
            continue;
        };
        let note = match kind {
            NoticeKind::DeadlineMissed => format!("{}（{}）已逾期未办", was.kind.label(), was.due),
            _ => format!("{}将于 {} 届满", was.kind.label(), was.due),
        };
        let notices = to
            .iter()
            .map(|member| Notice::for_deadline(&referral, &was, member, kind, &MemberCode::hub(), now, note.clone()))
            .collect();
        let audit = AuditRecord {
            actor: MemberCode::hub(),
            certificate: String::new(),
            action: format!("scan:{}", kind.code()),
            referrals: vec![referral.id],
            detail: String::new(),
        };
        let commit = Commit {
            deadline_updates: vec![DeadlineUpdate { deadline: next, was }],
            notices,
            audit: vec![audit],
            at: now,
            ..Commit::default()
        };
        match hub.write(commit).await {
            Ok(()) => match kind {
                NoticeKind::DeadlineMissed => pass.missed += 1,
                _ => pass.reminded += 1,
            },
            // Someone else (another scanner, the act itself) changed it first.
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(pass)
}
