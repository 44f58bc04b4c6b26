//! The InboxService: replay after a sequence number, then live events; acknowledgements.

use std::{pin::Pin, time::Duration};

use tokio::sync::mpsc;
use tokio_stream::{wrappers::ReceiverStream, Stream};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{convert, error::ApiError, identity, identity::Certificate, Hub};
use crate::{
    domain::{Caller, MemberCode, Role},
    proto::{self as pb, inbox_service_server::InboxService},
};

/// Events read from the store per round trip while catching up.
const BATCH: u32 = 256;

pub struct InboxApi {
    hub: Hub,
}

impl InboxApi {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }
}

pub(crate) type EventStream = Pin<Box<dyn Stream<Item = Result<pb::InboxEvent, Status>> + Send>>;

/// Inboxes belong to members and to the office; admins have none.
fn owner<T>(request: &Request<T>) -> Result<Caller, Status> {
    let caller = identity::caller(request)?;
    if caller.role == Role::Admin {
        return Err(ApiError::PermissionDenied("admins have no inbox".into()).into());
    }
    Ok(caller)
}

/// Refuses a cursor read in another inbox epoch (before a restore); an empty epoch is
/// not checked.
fn check_epoch(hub: &Hub, epoch: &str) -> Result<(), ApiError> {
    let current = hub.store.epoch();
    if epoch.is_empty() || epoch == current {
        Ok(())
    } else {
        Err(ApiError::EpochChanged { current: current.to_owned() })
    }
}

/// How often a live stream looks at its certificate's validity again.
const VALIDITY_CHECK: Duration = Duration::from_secs(1);

/// The inbox of `member` after the request's `after_seq` (after its acknowledgement
/// when `None`), then live, for as long as `certificate` is neither revoked nor expired.
pub(crate) async fn stream(
    hub: &Hub,
    member: MemberCode,
    certificate: Certificate,
    request: &pb::SubscribeRequest,
) -> Result<EventStream, Status> {
    check_epoch(hub, &request.epoch)?;
    let after = match request.after_seq {
        Some(seq) => seq,
        None => hub.store.inbox_position(&member).await.map_err(ApiError::from)?.acked_seq,
    };
    let slot = hub.streams.take(&member)?;
    tracing::debug!(%member, after, "subscribed");
    let (tx, rx) = mpsc::channel(BATCH as usize);
    let hub = hub.clone();
    tokio::spawn(async move {
        pump(hub, member, certificate, after, tx).await;
        drop(slot);
    });
    Ok(Box::pin(ReceiverStream::new(rx)))
}

/// Feeds `tx` with the inbox of `member` after `after`, then waits for more, until the
/// client hangs up, its certificate is revoked or expires, or the hub stops.
async fn pump(
    hub: Hub,
    member: MemberCode,
    certificate: Certificate,
    mut after: u64,
    tx: mpsc::Sender<Result<pb::InboxEvent, Status>>,
) {
    // Watch before reading, so that an event committed between the read and the wait
    // still wakes us.
    let mut grown = hub.notifier.watch(&member);
    let mut stopping = hub.stopping.clone();
    let mut revoked = hub.revoked.clone();
    let mut validity = tokio::time::interval(VALIDITY_CHECK);
    loop {
        let serial = &certificate.serial;
        let refused = if revoked.borrow_and_update().contains(serial) {
            Some(format!("client certificate {serial} is revoked"))
        } else if hub.clock.now() > certificate.not_after {
            Some(format!("client certificate {serial} has expired"))
        } else {
            None
        };
        if let Some(message) = refused {
            let _ = tx.send(Err(ApiError::Unauthenticated(message).into())).await;
            return;
        }
        grown.borrow_and_update();
        let events = match hub.store.inbox(&member, after, BATCH).await {
            Ok(events) => events,
            Err(e) => {
                let _ = tx.send(Err(ApiError::from(e).into())).await;
                return;
            }
        };
        // Notes written by people (comments, feedback, reasons, 催办) may describe the
        // person: one audit entry for the batch, durable before they are sent.
        let noted: Vec<Uuid> = events
            .iter()
            .filter(|e| {
                !e.notice.note.is_empty() && e.notice.actor != MemberCode::hub() && !e.notice.referral_id.is_nil()
            })
            .map(|e| e.notice.referral_id)
            .collect();
        if !noted.is_empty() {
            if let Err(e) = hub.audit(&member, &certificate.serial, "Subscribe", noted, "inbox notes").await {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        }
        for event in &events {
            if tx.send(Ok(convert::inbox_event(event, hub.store.epoch()))).await.is_err() {
                return;
            }
            after = event.seq;
        }
        if events.len() == BATCH as usize {
            continue;
        }
        let stop = tokio::select! {
            changed = grown.changed() => {
                if changed.is_err() {
                    return;
                }
                false
            }
            () = tx.closed() => return,
            // Looked at again at the top of the loop.
            Ok(()) = revoked.changed() => false,
            _ = validity.tick() => false,
            // Stopping, or the hub is gone altogether.
            stopped = stopping.wait_for(|stop| *stop) => {
                drop(stopped);
                true
            }
        };
        if stop {
            let _ = tx.send(Err(Status::unavailable("the hub is shutting down; resubscribe"))).await;
            return;
        }
    }
}

#[tonic::async_trait]
impl InboxService for InboxApi {
    type SubscribeStream = EventStream;

    #[tracing::instrument(skip_all, fields(rpc = "Subscribe"))]
    async fn subscribe(&self, request: Request<pb::SubscribeRequest>) -> Result<Response<EventStream>, Status> {
        let caller = owner(&request)?;
        let certificate = identity::presented(&request)?;
        Ok(Response::new(stream(&self.hub, caller.code, certificate, request.get_ref()).await?))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Ack"))]
    async fn ack(&self, request: Request<pb::AckRequest>) -> Result<Response<pb::AckResponse>, Status> {
        let caller = owner(&request)?;
        check_epoch(&self.hub, &request.get_ref().epoch)?;
        let position = self.hub.store.ack(&caller.code, request.get_ref().seq).await.map_err(ApiError::from)?;
        Ok(Response::new(pb::AckResponse {
            acked_seq: position.acked_seq,
            head_seq: position.head_seq,
            epoch: self.hub.store.epoch().to_owned(),
        }))
    }
}
