//! Waking the live subscribers of an inbox when a commit fills it, and handing them
//! the events this process committed from memory: a subscriber that is up to date
//! takes the new events from here and reads the store only to catch up (after a
//! subscribe, a gap, or events another replica committed). A missed wake-up costs
//! latency, never an event.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, PoisonError},
};

use tokio::sync::watch;

use crate::{
    domain::MemberCode,
    store::{Announcements, Delivered, InboxEvent},
};

/// Most events kept in memory per member.
const RECENT: usize = 256;

/// A member's inbox as this process knows it.
#[derive(Debug)]
struct Inbox {
    /// The newest seq known to be committed.
    head: watch::Sender<u64>,
    /// The newest events this process committed, consecutive.
    recent: VecDeque<InboxEvent>,
}

impl Default for Inbox {
    fn default() -> Self {
        Self { head: watch::channel(0).0, recent: VecDeque::new() }
    }
}

#[derive(Debug, Default)]
pub struct Notifier {
    inboxes: Mutex<HashMap<MemberCode, Inbox>>,
}

impl Notifier {
    /// Announces committed inbox events (durable before this is called).
    pub fn notify(&self, delivered: &[Delivered]) {
        let mut inboxes = self.inboxes.lock().unwrap_or_else(PoisonError::into_inner);
        for d in delivered {
            let inbox = inboxes.entry(d.member.clone()).or_default();
            if let Some(event) = &d.event {
                if inbox.recent.back().is_some_and(|last| last.seq + 1 != event.seq) {
                    inbox.recent.clear();
                }
                inbox.recent.push_back(event.clone());
                if inbox.recent.len() > RECENT {
                    inbox.recent.pop_front();
                }
            }
            inbox.head.send_if_modified(|head| {
                let newer = d.seq > *head;
                if newer {
                    *head = d.seq;
                }
                newer
            });
        }
    }

    /// Up to `limit` events of `member` after `after`, if memory holds every one of
    /// them up to the newest known; `None` when the store must be read.
    pub fn recent(&self, member: &MemberCode, after: u64, limit: usize) -> Option<Vec<InboxEvent>> {
        let inboxes = self.inboxes.lock().unwrap_or_else(PoisonError::into_inner);
        let inbox = inboxes.get(member)?;
        let head = *inbox.head.borrow();
        let (first, last) = (inbox.recent.front()?.seq, inbox.recent.back()?.seq);
        if after >= head || first > after + 1 || last != head {
            return None;
        }
        Some(inbox.recent.iter().filter(|e| e.seq > after).take(limit).cloned().collect())
    }

    /// Wakes every subscriber to read its inbox again.
    pub fn wake_all(&self) {
        let inboxes = self.inboxes.lock().unwrap_or_else(PoisonError::into_inner);
        for inbox in inboxes.values() {
            inbox.head.send_modify(|_| {});
        }
    }

    /// A receiver that changes whenever `member`'s inbox grows.
    pub fn watch(&self, member: &MemberCode) -> watch::Receiver<u64> {
        let mut inboxes = self.inboxes.lock().unwrap_or_else(PoisonError::into_inner);
        inboxes.entry(member.clone()).or_default().head.subscribe()
    }
}

/// Announcements of other hub processes' commits, relayed by the store.
impl Announcements for Notifier {
    fn delivered(&self, delivered: &[Delivered]) {
        self.notify(delivered);
    }

    fn lost(&self) {
        self.wake_all();
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::domain::{
        lifecycle::{Notice, NoticeKind},
        referral::{ReferralKind, State},
    };

    fn delivered(seq: u64, with_event: bool) -> Delivered {
        let member = MemberCode::parse("mz").unwrap();
        let at: DateTime<Utc> = "2026-09-10T02:00:00Z".parse().unwrap();
        let notice = Notice {
            to: member.clone(),
            kind: NoticeKind::NewReferral,
            referral_id: Uuid::nil(),
            case_id: Uuid::nil(),
            referral_kind: ReferralKind::SocialAssistance,
            state: State::Submitted,
            actor: MemberCode::parse("jcy").unwrap(),
            at,
            note: String::new(),
            urgent: false,
            green_channel: false,
            deadline: None,
            clerk: String::new(),
        };
        let event = with_event.then(|| InboxEvent { seq, event_id: Uuid::nil(), notice });
        Delivered { member, seq, event }
    }

    fn seqs(events: Option<Vec<InboxEvent>>) -> Option<Vec<u64>> {
        events.map(|events| events.iter().map(|e| e.seq).collect())
    }

    #[test]
    fn events_committed_here_are_handed_out_from_memory_and_gaps_go_to_the_store() {
        let notifier = Notifier::default();
        let mz = MemberCode::parse("mz").unwrap();
        assert_eq!(seqs(notifier.recent(&mz, 0, 10)), None, "nothing known: read the store");
        notifier.notify(&[delivered(1, true), delivered(2, true), delivered(3, true)]);
        assert_eq!(seqs(notifier.recent(&mz, 1, 10)), Some(vec![2, 3]));
        assert_eq!(seqs(notifier.recent(&mz, 0, 2)), Some(vec![1, 2]), "at most the limit");
        assert_eq!(seqs(notifier.recent(&mz, 3, 10)), None, "up to date: nothing to hand out");
        // Another replica's event 4 is known by its position only.
        notifier.notify(&[delivered(4, false)]);
        assert_eq!(seqs(notifier.recent(&mz, 3, 10)), None, "4 is in the store only");
        notifier.notify(&[delivered(5, true)]);
        assert_eq!(seqs(notifier.recent(&mz, 3, 10)), None, "a gap: read the store");
        assert_eq!(seqs(notifier.recent(&mz, 4, 10)), Some(vec![5]));
    }
}
