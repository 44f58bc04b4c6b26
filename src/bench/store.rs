//! The large store: a million referrals made up, their deadlines computed, loaded
//! straight into a stopped hub's database; and the office's overdue listing over them.

use std::{
    collections::HashMap,
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    name, person,
    stats::{millis, percentile},
    Target, CLOCK_START,
};
use crate::{
    domain::{
        calendar::Calendar,
        date::local_date,
        deadline::{self, DeadlineKind, DeadlineState, Policy},
        history::EntryKind,
        id::new_id,
        lifecycle,
        person::{IdNumber, Person},
        referral::{Conclusion, Content, Grant, ReferralKind, State, Submission},
        visit::{Visit, VisitRecord},
        vocabulary::{AidKind, Need, Outcome, PriorityGroup, Situation, VisitEffect, VisitMethod},
        Caller, MemberCode, Role,
    },
    keys::Keys,
    proto as pb,
    store::{sqlite::SqliteStore, Change, Commit, Store},
};

/// Referrals per case and per commit when loading the large store: a hundred, as each
/// statement that fires the figures' triggers closes a statement journal whose cost
/// grows with the transaction (commits of 1,000 loaded eight times slower).
const LOAD_BATCH: usize = 100;

/// The large store: referrals with their deadlines, and follow-up visits of some.
pub struct Made {
    pub changes: Vec<Change>,
    pub visits: Vec<VisitRecord>,
    /// How long computing every deadline took.
    pub computing: Duration,
}

/// `count` referrals from the procuratorate to the agencies, submitted over the 90 days
/// before the bench's clock. Every other one was started the next day and concluded
/// with aid and fed back three days on (its feedback deadline met and its visit
/// deadline opened by the life cycle's rule), so that the figures have outcomes,
/// amounts and working days to count; one in four of those was visited twenty days
/// later, if that day has come.
pub fn referrals(count: usize) -> anyhow::Result<Made> {
    let agencies = ["jy", "mz", "sf", "rs", "nync", "wj", "tyjr", "tw", "fl", "cl", "yb", "ggw"];
    let jcy = Caller { code: MemberCode::parse("jcy").map_err(anyhow::Error::msg)?, role: Role::Procuratorate };
    let clock: DateTime<Utc> = CLOCK_START.parse()?;
    let content = Content {
        person: Person {
            name: String::new(),
            id_number: IdNumber::parse("11010519491231002X").map_err(anyhow::Error::msg)?,
            phone: String::new(),
            address: String::new(),
            household: String::new(),
        },
        situations: vec![Situation::SeriousInjury],
        priority_groups: vec![],
        needs: vec![Need::SubsistenceAllowance],
        narrative: "批量基准数据".into(),
        case_reference: String::new(),
        investigation_ended_on: None,
        advance: true,
        advance_reason: "基准".into(),
        discovered_on: None,
        urgent: false,
    };
    let mut made = Vec::with_capacity(count);
    let mut case_id = Uuid::nil();
    for i in 0..count {
        // Spread evenly over the 90 days before the clock, oldest first, so that many
        // are overdue; their ids made as the hub makes them, in the order of their time.
        let at = clock - chrono::Duration::seconds(((count - i) as f64 * 90.0 * 86_400.0 / count as f64) as i64);
        // A case per hundred, as `load` writes them.
        if i % LOAD_BATCH == 0 {
            case_id = new_id(at);
        }
        let to = MemberCode::parse(agencies[i % agencies.len()]).map_err(anyhow::Error::msg)?;
        let mut content = content.clone();
        content.person.name = name(i as u64);
        content.person.id_number = person(i as u64)?;
        content.priority_groups = PriorityGroup::ALL.get(i % 10).into_iter().copied().collect();
        let submission =
            Submission { kind: ReferralKind::SocialAssistance, content, recipients: vec![to], note: String::new() };
        made.extend(lifecycle::submit(&submission, &jcy, case_id, &[new_id(at)], at));
    }
    let calendar = Calendar::shipped();
    let policy = Policy::default();
    let start = Instant::now();
    let mut deadlines: Vec<_> = made.iter().map(|t| deadline::on_submit(&t.referral, &calendar, &policy)).collect();
    let mut computing = start.elapsed();
    let mut visits = Vec::new();
    let today = local_date(clock);
    for (i, (t, deadlines)) in made.iter_mut().zip(deadlines.iter_mut()).enumerate().filter(|(i, _)| i % 2 == 0) {
        let r = &mut t.referral;
        let (started, concluded) = (r.submitted_at + chrono::Days::new(1), r.submitted_at + chrono::Days::new(4));
        if concluded > clock {
            continue;
        }
        r.state = State::FedBack;
        r.feedback = Some("已办结并反馈".into());
        r.started_at = Some(started);
        r.conclusion = Some(Conclusion {
            outcome: Outcome::Granted,
            concluded_on: local_date(concluded),
            summary: "已办结".into(),
            refusal_grounds: Vec::new(),
            aids: vec![Grant { aid: AidKind::ALL[i % AidKind::ALL.len()], fen: 100_000 + (i % 1000) as i64 }],
        });
        for d in deadlines.iter_mut().filter(|d| d.kind == DeadlineKind::Start) {
            let day = local_date(started);
            d.state = if day <= d.due { DeadlineState::Met } else { DeadlineState::MetLate };
            d.met_on = Some(day);
        }
        let counting = Instant::now();
        let acts = [EntryKind::Concluded, EntryKind::FedBack];
        let opened = deadline::on_act(r, &acts, &r.recipient, deadlines, &calendar, &policy, concluded);
        computing += counting.elapsed();
        deadlines.extend(opened);
        let visited_on = local_date(concluded) + chrono::Days::new(20);
        if i % 8 == 0 && visited_on <= today {
            for d in deadlines.iter_mut().filter(|d| d.kind == DeadlineKind::Visit) {
                d.state = DeadlineState::Met;
                d.met_on = Some(visited_on);
            }
            visits.push(VisitRecord {
                referral_id: r.id,
                version: r.version,
                by: r.recipient.clone(),
                at: clock,
                visit: Visit {
                    visited_on,
                    method: VisitMethod::ALL[i % VisitMethod::ALL.len()],
                    visitor: "李明".into(),
                    aid_in_place: i % 3 != 0,
                    effect: VisitEffect::ALL[i % VisitEffect::ALL.len()],
                    another_referral: i % 5 == 0,
                },
            });
        }
    }
    let changes = made
        .into_iter()
        .zip(deadlines)
        .map(|(t, deadlines)| Change {
            expected_version: None,
            referral: t.referral,
            entries: t.entries,
            notices: vec![],
            deadlines,
        })
        .collect();
    Ok(Made { changes, visits, computing })
}

/// Writes what was made straight into the stopped hub's database: each thousand
/// referrals, their case, their visits and one commit.
pub async fn load(dir: &Path, made: Made) -> anyhow::Result<Duration> {
    let keys = Arc::new(Keys::open_or_create(&dir.join("keyring.toml"))?);
    let store = SqliteStore::open(&format!("sqlite://{}", dir.join("xianjie.db").display()), keys).await?;
    let jcy = MemberCode::parse("jcy").map_err(anyhow::Error::msg)?;
    let start = Instant::now();
    let mut visits: HashMap<Uuid, VisitRecord> = made.visits.into_iter().map(|v| (v.referral_id, v)).collect();
    let mut changes = made.changes.into_iter().peekable();
    while let Some(first) = changes.peek() {
        let case = (first.referral.case_id, jcy.clone());
        let batch: Vec<Change> = changes.by_ref().take(LOAD_BATCH).collect();
        let visits = batch.iter().filter_map(|c| visits.remove(&c.referral.id)).collect();
        store.commit(Commit { new_case: Some(case), changes: batch, visits, ..Commit::default() }).await?;
    }
    let took = start.elapsed();
    store.close().await;
    Ok(took)
}

/// The office's overdue listing, `times` times.
pub async fn overdue_listing(hub: &Target, times: usize) -> anyhow::Result<(Vec<Duration>, usize)> {
    let office = hub.client("office").await?;
    let mut samples = Vec::with_capacity(times);
    let mut rows = 0;
    for _ in 0..times {
        let t = Instant::now();
        let listed = office
            .list_deadlines(pb::ListDeadlinesRequest {
                view: pb::DeadlineView::Overdue as i32,
                limit: 200,
                ..Default::default()
            })
            .await?;
        samples.push(t.elapsed());
        rows = listed.deadlines.len();
    }
    samples.sort();
    Ok((samples, rows))
}

pub fn print_listing(samples: &[Duration], rows: usize, over: &str) {
    println!(
        "office overdue listing ({rows} rows, {over}): min {:.1} ms  p50 {:.1} ms  max {:.1} ms",
        millis(samples.first().copied().unwrap_or_default()),
        millis(percentile(samples, 50.0)),
        millis(samples.last().copied().unwrap_or_default())
    );
}
