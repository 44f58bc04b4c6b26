//! The InboxService: replay after a sequence number, then live events; acknowledgements.

use std::pin::Pin;

use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::{convert, identity};
use crate::{
    app::{self, AppError},
    delivery::Events,
    proto::{self as pb, inbox_service_server::InboxService},
};

pub struct InboxApi {
    hub: app::Hub,
}

impl InboxApi {
    pub fn new(hub: app::Hub) -> Self {
        Self { hub }
    }
}

pub(crate) type EventStream = Pin<Box<dyn Stream<Item = Result<pb::InboxEvent, Status>> + Send>>;

/// Inbox events as protobuf, the reason a stream ended as a status.
pub(crate) fn event_stream(events: Events, epoch: String) -> EventStream {
    Box::pin(events.map(move |event| match event {
        Ok(event) => Ok(convert::inbox_event(&event, &epoch)),
        Err(ended) => Err(AppError::from(ended).into()),
    }))
}

#[tonic::async_trait]
impl InboxService for InboxApi {
    type SubscribeStream = EventStream;

    #[tracing::instrument(skip_all, fields(rpc = "Subscribe"))]
    async fn subscribe(&self, request: Request<pb::SubscribeRequest>) -> Result<Response<EventStream>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let events = app::inbox::subscribe(&self.hub, &actor, &body.epoch, body.after_seq).await?;
        Ok(Response::new(event_stream(events, self.hub.store().epoch().to_owned())))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ProveConsistency"))]
    async fn prove_consistency(
        &self,
        request: Request<pb::ProveConsistencyRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        let actor = identity::actor(&request)?;
        let (checkpoint, proof) = app::audit_log::prove(&self.hub, &actor, request.get_ref().seq).await?;
        Ok(Response::new(pb::ConsistencyProof {
            checkpoint: Some(super::convert::checkpoint(checkpoint)),
            proof: proof.iter().map(|hash| crate::domain::hex::lower(hash)).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Ack"))]
    async fn ack(&self, request: Request<pb::AckRequest>) -> Result<Response<pb::AckResponse>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let position = app::inbox::ack(&self.hub, &actor, &body.epoch, body.seq).await?;
        Ok(Response::new(pb::AckResponse {
            acked_seq: position.acked_seq,
            head_seq: position.head_seq,
            epoch: self.hub.store().epoch().to_owned(),
        }))
    }
}
