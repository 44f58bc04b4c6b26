//! 通知: the inbox events worth telling, turned into messages for the channels each
//! member chose, queued, and sent with retries.
//!
//! The inbox events are the outbox: each is written in the commit of the act it tells
//! of. Routing reads those past each member's cursor and queues their messages in one
//! commit with the cursor moved, so an event is routed once whatever stops the hub.
//! Sending takes a message (no other hub process sends it meanwhile), sends it and
//! records the attempt; a hub killed between the two sends it again after its lease,
//! with the same idempotency key.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::{identity, Actor, AppError, Hub};
use crate::{
    domain::{
        date::{china, local_date},
        directory::Directory,
        notification::{compose, told, Channel, Event, Facts},
        MemberCode, Role,
    },
    notify::{Outgoing, Senders},
    store::{Attempt, Claim, Commit, Notification, Outcome, Sending, StoreError, Untold},
};

/// Inbox events routed per pass.
const ROUTE_BATCH: u32 = 500;
/// Messages sent per pass.
const SEND_BATCH: u32 = 100;
/// Messages being sent at once.
const SENDING_AT_ONCE: usize = 8;
/// How long a hub process holds a message it is sending: past it, another may send
/// it again.
const LEASE: Duration = Duration::from_secs(120);
/// The most messages listed at once.
pub const MAX_LISTED: u32 = 200;
/// When the reminder of the day a deadline falls due is sent: before the working day
/// starts, China time.
const DUE_DAY_MORNING: (u32, u32) = (8, 0);

/// How the hub sends: its channels, where messages send people, whom the office is
/// told through, and how hard it tries.
pub struct Notifying {
    pub senders: Senders,
    /// The workbench's address, ending in `/`.
    pub link: String,
    /// The office's e-mail address; empty for none.
    pub office_email: String,
    pub attempts: u32,
    /// The wait before the second attempt, doubled for each after it.
    pub retry: Duration,
}

/// Queues the messages of the inbox events not yet routed; how many messages.
pub async fn route(hub: &Hub, notifying: &Notifying) -> Result<usize, AppError> {
    let untold = hub.store.untold(ROUTE_BATCH).await?;
    if untold.is_empty() {
        return Ok(0);
    }
    let now = hub.clock.now();
    let directory = hub.directory.now();
    let mut told: BTreeMap<MemberCode, u64> = BTreeMap::new();
    let mut queued = Vec::new();
    for event in &untold {
        let seq = told.entry(event.member.clone()).or_default();
        *seq = (*seq).max(event.seq);
        queued.extend(messages(event, &directory, notifying, now));
    }
    let count = queued.len();
    let commit = Commit { notifications: queued, told: told.into_iter().collect(), at: now, ..Commit::default() };
    hub.write(commit).await?;
    Ok(count)
}

/// Where `member`'s messages by `channel` go, if anywhere.
fn address(directory: &Directory, member: &MemberCode, channel: Channel) -> Option<String> {
    let m = directory.get(member)?;
    let address = match channel {
        Channel::Email => &m.contacts.email,
        Channel::Sms => &m.contacts.mobile,
        Channel::Webhook => &m.notify.webhook_url,
    };
    (!address.is_empty()).then(|| address.clone())
}

/// The messages one inbox event makes: one per channel the member chose for its kind
/// of event (none of a member's own act), and for a deadline falling due a second one
/// on the morning of the day.
fn messages(event: &Untold, directory: &Directory, notifying: &Notifying, now: DateTime<Utc>) -> Vec<Notification> {
    let Some(kind) = told(event.kind, event.state) else { return Vec::new() };
    if event.actor == event.member {
        return Vec::new();
    }
    let name = |code: &MemberCode| match directory.get(code) {
        Some(m) => m.short_name.clone(),
        None if *code == MemberCode::office() => "联席会议办公室".to_owned(),
        None => code.to_string(),
    };
    // The office hears of missed deadlines and requests to extend, by e-mail to its
    // address.
    let to_office = event.member == MemberCode::office();
    let routes: Vec<(Channel, String)> = if to_office {
        let wanted = matches!(kind, Event::Missed | Event::ExtensionAsked) && !notifying.office_email.is_empty();
        (wanted && notifying.senders.has(Channel::Email))
            .then(|| (Channel::Email, notifying.office_email.clone()))
            .into_iter()
            .collect()
    } else {
        match directory.get(&event.member) {
            Some(m) if m.active => Channel::ALL
                .into_iter()
                .filter(|c| m.notify.tells(kind, *c) && notifying.senders.has(*c))
                .filter_map(|c| address(directory, &event.member, c).map(|a| (c, a)))
                .collect(),
            _ => Vec::new(),
        }
    };
    if routes.is_empty() {
        return Vec::new();
    }
    let actor = name(&event.actor);
    let responsible = event.responsible.as_ref().filter(|_| to_office).map(name);
    let deadline = match kind {
        Event::NewReferral => event.owed,
        _ => event.deadline,
    };
    let facts = Facts {
        event: kind,
        referral_kind: event.referral_kind,
        actor: &actor,
        urgent: event.urgent,
        deadline,
        responsible: responsible.as_deref(),
        due_today: false,
    };
    let link = format!("{}referrals/{}", notifying.link, event.referral_id);
    // A deadline falling due: told now, and again the morning of the day while open.
    let today = local_date(now);
    let mut stages = vec![(0, now, false, None)];
    if let (Event::DueSoon, Some((deadline_kind, due))) = (kind, event.deadline) {
        if due > today {
            stages.push((1, morning(due).max(now), true, Some(deadline_kind)));
        } else {
            stages[0].2 = true;
        }
    }
    let mut out = Vec::new();
    for (stage, at, due_today, while_open) in stages {
        let message = compose(&Facts { due_today, ..facts }, &link);
        for (channel, address) in &routes {
            out.push(Notification {
                id: format!("{}.{}.{stage}", event.event_id, channel.code()),
                member: event.member.clone(),
                event: kind,
                channel: *channel,
                address: address.clone(),
                subject: message.subject.clone(),
                body: message.text.clone(),
                referral_id: event.referral_id,
                while_open,
                created_at: now,
                next_at: at,
                attempts: 0,
                state: Sending::Pending,
                last_error: String::new(),
            });
        }
    }
    out
}

/// The morning of `day`, China time.
fn morning(day: NaiveDate) -> DateTime<Utc> {
    let (hour, minute) = DUE_DAY_MORNING;
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default();
    day.and_time(time).and_local_timezone(china()).single().map_or_else(|| day.and_time(time).and_utc(), |t| t.to_utc())
}

/// What one pass of sending did.
#[derive(Debug, Default)]
pub struct Sent {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// The last error of the store, if any; the other messages went on.
    error: Option<AppError>,
}

/// Sends the messages due, recording each attempt: `SENDING_AT_ONCE` at a time, as a
/// message takes a server's round trips.
pub async fn send(hub: &Hub, notifying: &Arc<Notifying>) -> Result<Sent, AppError> {
    let now = hub.clock.now();
    let mut sending = tokio::task::JoinSet::new();
    let mut pass = Sent::default();
    for message in hub.store.due_notifications(now, SEND_BATCH).await? {
        if sending.len() >= SENDING_AT_ONCE {
            pass.count(sending.join_next().await);
        }
        let (hub, notifying) = (hub.clone(), notifying.clone());
        sending.spawn(async move { send_one(&hub, &notifying, message, now).await });
    }
    while let Some(done) = sending.join_next().await {
        pass.count(Some(done));
    }
    match pass.error.take() {
        Some(e) => Err(e),
        None => Ok(pass),
    }
}

/// Takes `message` (unless another hub process took it), makes one attempt and
/// records it; what came of it, or `None` when it was taken.
async fn send_one(
    hub: &Hub,
    notifying: &Notifying,
    message: Notification,
    now: DateTime<Utc>,
) -> Result<Option<Outcome>, AppError> {
    let lease = chrono::Duration::from_std(LEASE).unwrap_or_default();
    let claims = vec![Claim { id: message.id.clone(), was: message.next_at, until: now + lease }];
    match hub.write(Commit { claims, at: now, ..Commit::default() }).await {
        Ok(()) => {}
        // Another hub process took it.
        Err(StoreError::Conflict) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let outcome = attempt(hub, notifying, &message, now).await?;
    let attempt = if outcome == Outcome::Void { message.attempts } else { message.attempts + 1 };
    hub.metrics.notifications.with_label_values(&[message.channel.code(), outcome.code()]).inc();
    let attempts = vec![Attempt { id: message.id, attempt, at: now, outcome: outcome.clone() }];
    hub.write(Commit { attempts, at: now, ..Commit::default() }).await?;
    Ok(Some(outcome))
}

impl Sent {
    fn count(&mut self, done: Option<Result<Result<Option<Outcome>, AppError>, tokio::task::JoinError>>) {
        match done {
            Some(Ok(Ok(Some(Outcome::Sent)))) => self.sent += 1,
            Some(Ok(Ok(Some(Outcome::Retry { .. })))) => self.retried += 1,
            Some(Ok(Ok(Some(Outcome::Failed { .. })))) => self.failed += 1,
            Some(Ok(Ok(_))) | None => {}
            Some(Ok(Err(e))) => self.error = Some(e),
            // A sending task that panicked: the panic goes on here.
            Some(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// One attempt at `message`: sent, to be tried again, given up on, or no longer due.
async fn attempt(
    hub: &Hub,
    notifying: &Notifying,
    message: &Notification,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    if let Some(kind) = message.while_open {
        if !hub.store.deadline_open(message.referral_id, kind).await? {
            return Ok(Outcome::Void);
        }
    }
    let directory = hub.directory.now();
    let format = directory.get(&message.member).map(|m| m.notify.webhook_format).unwrap_or_default();
    let outgoing = Outgoing {
        id: &message.id,
        channel: message.channel,
        address: &message.address,
        subject: &message.subject,
        text: &message.body,
        member: message.member.as_str(),
        event: message.event.code(),
        format,
        at: now,
    };
    Ok(match notifying.senders.send(&outgoing).await {
        Ok(()) => Outcome::Sent,
        Err(error) if message.attempts + 1 >= notifying.attempts => {
            tracing::warn!(id = %message.id, channel = message.channel.code(), %error, "a message was given up on");
            Outcome::Failed { error }
        }
        Err(error) => {
            // 1, 2, 4, … times the first wait.
            let wait = notifying.retry.saturating_mul(1 << message.attempts.min(16));
            Outcome::Retry { next_at: now + chrono::Duration::from_std(wait).unwrap_or_default(), error }
        }
    })
}

/// Messages as the administrator reads them.
pub struct Listed {
    pub notifications: Vec<Notification>,
    /// Given up on, in all.
    pub failed: u64,
}

/// The messages newest first (only those given up on, with `failed`): for the
/// administrator.
pub async fn list(hub: &Hub, actor: &Actor, failed: bool, limit: u32) -> Result<Listed, AppError> {
    identity::role(&actor.caller, Role::Admin)?;
    let limit = if limit == 0 { MAX_LISTED } else { limit.min(MAX_LISTED) };
    let (notifications, failed) = hub.store.notifications(failed, limit).await?;
    Ok(Listed { notifications, failed })
}

/// How many messages were given up on, for the metric.
pub async fn failed(hub: &Hub) -> Result<u64, AppError> {
    Ok(hub.store.notifications(true, 0).await?.1)
}
