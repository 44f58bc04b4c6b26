//! Following an inbox across hub restarts and restores: each event once, in order.
//!
//! A cursor is the inbox epoch and the last sequence number processed. When the hub
//! says the epoch changed (its database was restored), or that a cursor without an
//! epoch is beyond the inbox's end, the follower resubscribes from the acknowledgement
//! and drops the events it has already handed out, by event id; when the hub goes away
//! for a moment, it subscribes again from its cursor.

use std::{
    collections::{HashSet, VecDeque},
    time::Duration,
};

use tokio_stream::StreamExt;
use tonic::{Code, Status, Streaming};
use tonic_types::StatusExt;

use super::Client;
use crate::proto as pb;

/// Event ids remembered to drop redeliveries after a restore.
const REMEMBERED: usize = 100_000;
/// Subscriptions tried in a row while the hub is unreachable.
const TRIES: u32 = 5;

/// Where a follower stands: the epoch and last sequence number it processed, and the
/// event ids it has handed out (the newest, up to a bound).
#[derive(Debug, Clone, Default)]
pub struct Cursor {
    /// Empty: whatever epoch the hub has.
    pub epoch: String,
    /// The last sequence number processed; `None`: the member's acknowledgement.
    pub after_seq: Option<u64>,
    seen: VecDeque<String>,
    seen_set: HashSet<String>,
}

impl Cursor {
    pub fn new(epoch: impl Into<String>, after_seq: Option<u64>) -> Self {
        Self { epoch: epoch.into(), after_seq, ..Self::default() }
    }

    /// Remembers an event; false when it was handed out already.
    fn record(&mut self, event: &pb::InboxEvent) -> bool {
        self.after_seq = Some(event.seq);
        self.epoch.clone_from(&event.epoch);
        if !self.seen_set.insert(event.event_id.clone()) {
            return false;
        }
        self.seen.push_back(event.event_id.clone());
        if self.seen.len() > REMEMBERED {
            if let Some(oldest) = self.seen.pop_front() {
                self.seen_set.remove(&oldest);
            }
        }
        true
    }
}

/// Whether a refusal says the cursor is beyond the inbox's end (numbers from before a
/// restore, without an epoch to tell).
pub fn beyond_head(status: &Status) -> bool {
    status.code() == Code::FailedPrecondition
        && status
            .get_details_precondition_failure()
            .is_some_and(|failure| failure.violations.iter().any(|v| v.r#type == "INBOX_HEAD"))
}

/// The epoch a refusal for a cursor of another epoch names.
pub fn changed_epoch(status: &Status) -> Option<String> {
    if status.code() != Code::FailedPrecondition {
        return None;
    }
    let failure = status.get_details_precondition_failure()?;
    failure.violations.into_iter().find(|v| v.r#type == "INBOX_EPOCH").map(|v| v.subject)
}

/// An inbox followed from a cursor.
pub struct Inbox {
    client: Client,
    cursor: Cursor,
    stream: Option<Streaming<pb::InboxEvent>>,
    /// How many times the hub's epoch changed under this follower.
    renumbered: u32,
}

impl Inbox {
    pub(super) fn new(client: Client, cursor: Cursor) -> Self {
        Self { client, cursor, stream: None, renumbered: 0 }
    }

    /// Where the follower stands now.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    /// How many times the hub's inbox was renumbered (a restore) while following.
    pub fn renumbered(&self) -> u32 {
        self.renumbered
    }

    async fn subscribe(&mut self) -> Result<Streaming<pb::InboxEvent>, Status> {
        let mut tried = 0;
        loop {
            tried += 1;
            let request = pb::SubscribeRequest { after_seq: self.cursor.after_seq, epoch: self.cursor.epoch.clone() };
            match self.client.inbox.clone().subscribe(request).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) => {
                    if let Some(epoch) = changed_epoch(&status) {
                        // Renumbered: resume from the acknowledgement as restored.
                        self.cursor.epoch = epoch;
                        self.cursor.after_seq = None;
                        self.renumbered += 1;
                    } else if beyond_head(&status) && self.cursor.after_seq.is_some() {
                        // Renumbered, and the cursor had no epoch to tell: the same.
                        self.cursor.after_seq = None;
                        self.renumbered += 1;
                    } else if status.code() == Code::Unavailable && tried < TRIES {
                        tokio::time::sleep(Duration::from_millis(100 << tried)).await;
                    } else {
                        return Err(status);
                    }
                }
            }
        }
    }

    /// The next event not handed out before; `None` when the hub ended the stream for
    /// good.
    pub async fn next(&mut self) -> Option<Result<pb::InboxEvent, Status>> {
        loop {
            let stream = match &mut self.stream {
                Some(stream) => stream,
                None => match self.subscribe().await {
                    Ok(stream) => self.stream.insert(stream),
                    Err(status) => return Some(Err(status)),
                },
            };
            match stream.next().await {
                Some(Ok(event)) => {
                    if self.cursor.record(&event) {
                        return Some(Ok(event));
                    }
                }
                // The hub is stopping: subscribe again from the cursor.
                Some(Err(status)) if status.code() == Code::Unavailable => self.stream = None,
                Some(Err(status)) => return Some(Err(status)),
                None => return None,
            }
        }
    }
}
