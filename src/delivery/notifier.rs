//! Waking the live subscribers of an inbox when a commit fills it: "member X has
//! events up to seq N". A subscriber reads from the store after its last seq whenever
//! woken, so a missed wake-up costs latency, never an event.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use tokio::sync::watch;

use crate::{
    domain::MemberCode,
    store::{Announcements, Delivered},
};

/// One watch channel per member, holding the newest seq known to be committed.
#[derive(Debug, Default)]
pub struct Notifier {
    heads: Mutex<HashMap<MemberCode, watch::Sender<u64>>>,
}

impl Notifier {
    fn sender(&self, member: &MemberCode) -> watch::Sender<u64> {
        let mut heads = self.heads.lock().unwrap_or_else(PoisonError::into_inner);
        heads.entry(member.clone()).or_insert_with(|| watch::channel(0).0).clone()
    }

    /// Announces committed inbox events.
    pub fn notify(&self, delivered: &[Delivered]) {
        for d in delivered {
            self.sender(&d.member).send_if_modified(|head| {
                let newer = d.seq > *head;
                if newer {
                    *head = d.seq;
                }
                newer
            });
        }
    }

    /// Wakes every subscriber to read its inbox again.
    pub fn wake_all(&self) {
        let heads = self.heads.lock().unwrap_or_else(PoisonError::into_inner);
        for sender in heads.values() {
            sender.send_modify(|_| {});
        }
    }

    /// A receiver that changes whenever `member`'s inbox grows.
    pub fn watch(&self, member: &MemberCode) -> watch::Receiver<u64> {
        self.sender(member).subscribe()
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
