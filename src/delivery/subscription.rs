//! A live subscription: a member's inbox from a sequence number on, read from the
//! store to catch up, then taken from the notifier's memory whenever it grows (from
//! the store again after a gap), until the client hangs up, its certificate is revoked
//! or expires, its member is suspended, or the hub stops.

use std::{pin::Pin, sync::Arc, time::Duration};

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_stream::{wrappers::ReceiverStream, Stream};

use super::{Delivery, Ended};
use crate::{
    clock::SharedClock,
    domain::{directory::Directory, MemberCode},
    pki::Certificate,
    store::{InboxEvent, Store, StoreError},
};

/// Events read from the store per round trip while catching up.
const BATCH: u32 = 256;

/// How often a live stream looks at its certificate's validity again.
const VALIDITY_CHECK: Duration = Duration::from_secs(1);

/// A member's inbox events, in order, until the stream ends with the reason.
pub type Events = Pin<Box<dyn Stream<Item = Result<InboxEvent, Ended>> + Send>>;

/// What must happen before a batch of events is sent: the audit of the notes people
/// wrote in them, durable before anyone reads them.
#[async_trait]
pub trait BeforeSending: Send + Sync + 'static {
    async fn before_sending(&self, events: &[InboxEvent]) -> Result<(), StoreError>;
}

/// Who subscribes, and from where.
pub struct Subscriber {
    pub member: MemberCode,
    pub certificate: Certificate,
    /// The last sequence number the subscriber has.
    pub after: u64,
}

impl Delivery {
    /// The inbox of the subscriber after `after`, then live. At most the configured
    /// number of streams per member are open at once.
    pub fn subscribe(
        &self,
        store: Arc<dyn Store>,
        clock: SharedClock,
        subscriber: Subscriber,
        before_sending: Box<dyn BeforeSending>,
    ) -> Result<Events, Ended> {
        let slot = self.slots.take(&subscriber.member)?;
        tracing::debug!(member = %subscriber.member, after = subscriber.after, "subscribed");
        let (tx, rx) = mpsc::channel(BATCH as usize);
        let pump = Pump { delivery: self.clone(), store, clock, subscriber, before_sending, tx };
        tokio::spawn(async move {
            pump.run().await;
            drop(slot);
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

struct Pump {
    delivery: Delivery,
    store: Arc<dyn Store>,
    clock: SharedClock,
    subscriber: Subscriber,
    before_sending: Box<dyn BeforeSending>,
    tx: mpsc::Sender<Result<InboxEvent, Ended>>,
}

impl Pump {
    /// Why the subscriber's certificate no longer serves, if it does not.
    fn refused(&self, revoked: &crate::pki::Revoked, directory: &Directory) -> Option<Ended> {
        let serial = &self.subscriber.certificate.serial;
        let member = &self.subscriber.member;
        if matches!(directory.get(member), Some(m) if !m.active) {
            Some(Ended::Suspended(member.to_string()))
        } else if revoked.contains(serial) {
            Some(Ended::Revoked(serial.clone()))
        } else if self.clock.now() > self.subscriber.certificate.not_after {
            Some(Ended::Expired(serial.clone()))
        } else {
            None
        }
    }

    async fn run(mut self) {
        let member = self.subscriber.member.clone();
        // Watch before reading, so that an event committed between the read and the
        // wait still wakes us.
        let mut grown = self.delivery.notifier.watch(&member);
        let mut stopping = self.delivery.stopping.clone();
        let mut revoked = self.delivery.revoked.clone();
        let mut directory = self.delivery.directory.clone();
        let mut validity = tokio::time::interval(VALIDITY_CHECK);
        let mut caught_up = false;
        loop {
            let refused = self.refused(&revoked.borrow_and_update(), &directory.borrow_and_update());
            if let Some(ended) = refused {
                let _ = self.tx.send(Err(ended)).await;
                return;
            }
            grown.borrow_and_update();
            let after = self.subscriber.after;
            let in_memory = caught_up.then(|| self.delivery.notifier.recent(&member, after, BATCH as usize)).flatten();
            let events = match in_memory {
                Some(events) => events,
                None => match self.store.inbox(&member, after, BATCH).await {
                    Ok(events) => events,
                    Err(e) => {
                        let _ = self.tx.send(Err(Ended::Store(e))).await;
                        return;
                    }
                },
            };
            if let Err(e) = self.before_sending.before_sending(&events).await {
                let _ = self.tx.send(Err(Ended::Store(e))).await;
                return;
            }
            let full = events.len() == BATCH as usize;
            caught_up = !full;
            for event in events {
                let seq = event.seq;
                if self.tx.send(Ok(event)).await.is_err() {
                    return;
                }
                self.subscriber.after = seq;
            }
            if full {
                continue;
            }
            let stop = tokio::select! {
                changed = grown.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    false
                }
                () = self.tx.closed() => return,
                // Looked at again at the top of the loop.
                Ok(()) = revoked.changed() => false,
                Ok(()) = directory.changed() => false,
                _ = validity.tick() => false,
                // Stopping, or the hub is gone altogether.
                stopped = stopping.wait_for(|stop| *stop) => {
                    drop(stopped);
                    true
                }
            };
            if stop {
                let _ = self.tx.send(Err(Ended::Stopping)).await;
                return;
            }
        }
    }
}
