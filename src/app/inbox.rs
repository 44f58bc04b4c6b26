//! Inboxes: a member's (or the office's) events, live, and acknowledgements.

use std::collections::HashMap;

use async_trait::async_trait;
use uuid::Uuid;

use super::{identity, Actor, AppError, Hub};
use crate::{
    delivery::{BeforeSending, Events, Subscriber},
    domain::{MemberCode, Role},
    store::{InboxEvent, InboxPosition, Opening, StoreError},
};

/// Refuses a cursor read in another inbox epoch (before a restore); an empty epoch is
/// not checked.
fn check_epoch(hub: &Hub, epoch: &str) -> Result<(), AppError> {
    let current = hub.store.epoch();
    if epoch.is_empty() || epoch == current {
        Ok(())
    } else {
        Err(AppError::EpochChanged { current: current.to_owned() })
    }
}

/// The caller's inbox after `after` (after its acknowledgement when `None`), then live,
/// for as long as its certificate is neither revoked nor expired.
pub async fn subscribe(hub: &Hub, actor: &Actor, epoch: &str, after: Option<u64>) -> Result<Events, AppError> {
    identity::inbox_owner(&actor.caller)?;
    check_epoch(hub, epoch)?;
    let member = actor.caller.code.clone();
    let position = hub.store.inbox_position(&member).await?;
    let after = match after {
        Some(seq) => within_head(seq, position.head_seq)?,
        None => position.acked_seq,
    };
    let notes = NotesRead { hub: hub.clone(), member: member.clone(), certificate: actor.certificate.serial.clone() };
    let subscriber = Subscriber { member, certificate: actor.certificate.clone(), after };
    Ok(hub.delivery.subscribe(hub.store.clone(), hub.clock.clone(), subscriber, Box::new(notes))?)
}

/// Refuses a cursor past the inbox's end: numbers from before a restore, which would
/// skip (or acknowledge) the events numbered since. A sequence number a client was
/// sent is never beyond the head, which only grows.
fn within_head(seq: u64, head: u64) -> Result<u64, AppError> {
    if seq > head {
        Err(AppError::BeyondHead { seq, head })
    } else {
        Ok(seq)
    }
}

/// Raises the caller's acknowledgement to `seq` (never lowers it); a `seq` beyond the
/// inbox's end is refused rather than taken for everything.
pub async fn ack(hub: &Hub, actor: &Actor, epoch: &str, seq: u64) -> Result<InboxPosition, AppError> {
    identity::inbox_owner(&actor.caller)?;
    check_epoch(hub, epoch)?;
    within_head(seq, hub.store.inbox_position(&actor.caller.code).await?.head_seq)?;
    Ok(hub.store.ack(&actor.caller.code, seq).await?)
}

/// Notes written by people (comments, feedback, reasons, 催办) may describe the person:
/// reading them from the inbox is audited, one entry per batch, before they are sent.
struct NotesRead {
    hub: Hub,
    member: MemberCode,
    certificate: String,
}

#[async_trait]
impl BeforeSending for NotesRead {
    async fn before_sending(&self, events: &[InboxEvent]) -> Result<(), StoreError> {
        let noted: Vec<Uuid> = events
            .iter()
            .filter(|e| {
                !e.notice.note.is_empty() && e.notice.actor != MemberCode::hub() && !e.notice.referral_id.is_nil()
            })
            .map(|e| e.notice.referral_id)
            .collect();
        if noted.is_empty() {
            return Ok(());
        }
        match self.hub.audit(&self.member, &self.certificate, "Subscribe", noted, "inbox notes").await {
            Ok(()) => Ok(()),
            Err(AppError::Store(e)) => Err(e),
            Err(_) => Err(StoreError::Conflict),
        }
    }
}

/// An inbox event as a message tells it: with whom its referral is about, masked as a
/// message shows a person (李*), for a member of the referral; the office is told of
/// referrals without them.
pub struct Told {
    pub event: InboxEvent,
    pub person: Option<String>,
    /// For a deadline told to the office: the member that owes it.
    pub responsible: Option<MemberCode>,
}

/// The newest `limit` events of the caller's inbox, newest first, whatever was
/// acknowledged; notes read are audited as on a subscription, and the persons named
/// (masked) as a read of those referrals.
pub async fn recent(hub: &Hub, actor: &Actor, limit: u32) -> Result<Vec<Told>, AppError> {
    identity::inbox_owner(&actor.caller)?;
    let member = &actor.caller.code;
    let head = hub.store.inbox_position(member).await?.head_seq;
    let mut events = hub.store.inbox(member, head.saturating_sub(u64::from(limit)), limit).await?;
    let notes = NotesRead { hub: hub.clone(), member: member.clone(), certificate: actor.certificate.serial.clone() };
    notes.before_sending(&events).await?;
    events.reverse();
    let mut persons = HashMap::new();
    let mut owing = HashMap::new();
    if actor.caller.role == Role::Office {
        // Whose each deadline is, from the referral's parties: nothing is opened.
        let ids: Vec<Uuid> =
            events.iter().filter(|e| e.notice.deadline.is_some()).map(|e| e.notice.referral_id).collect();
        for p in hub.store.parties(&ids).await? {
            owing.insert(p.referral_id, p);
        }
    } else {
        let mut ids: Vec<Uuid> = events.iter().map(|e| e.notice.referral_id).filter(|id| !id.is_nil()).collect();
        ids.sort_unstable();
        ids.dedup();
        let referrals = hub.store.referrals(&ids, Opening::Listed).await?;
        persons.extend(referrals.into_iter().map(|r| (r.id, r.content.person.masked().name)));
        if !persons.is_empty() {
            hub.audit(member, &actor.certificate.serial, "ReadInbox", persons.keys().copied().collect(), "masked")
                .await?;
        }
    }
    Ok(events
        .into_iter()
        .map(|event| {
            let person = persons.get(&event.notice.referral_id).cloned();
            let responsible = event.notice.deadline.zip(owing.get(&event.notice.referral_id)).map(|((kind, _), p)| {
                if kind.owed_by_sender() {
                    p.sender.clone()
                } else {
                    p.recipient.clone()
                }
            });
            Told { event, person, responsible }
        })
        .collect())
}

/// Where the caller's inbox ends now: what a page shown now has seen.
pub async fn head(hub: &Hub, actor: &Actor) -> Result<u64, AppError> {
    identity::inbox_owner(&actor.caller)?;
    Ok(hub.store.inbox_position(&actor.caller.code).await?.head_seq)
}

/// The caller's inbox after `after` (from now on when `None`), live: what a page that
/// updates itself follows, from where the page was drawn.
pub async fn live(hub: &Hub, actor: &Actor, after: Option<u64>) -> Result<Events, AppError> {
    let after = match after {
        Some(seq) => seq,
        None => head(hub, actor).await?,
    };
    subscribe(hub, actor, "", Some(after)).await
}
