//! Delivery: the inbox events a commit made, carried to their members' live streams.
//!
//! The inbox itself lives in the store. The [`Notifier`] hears of every commit's inbox
//! positions (from this process, or relayed from other hubs on the same database);
//! each live [`subscription`] catches up from the store and waits for the next
//! wake-up, so a missed wake-up costs latency, never an event.

mod notifier;
mod slots;
pub mod subscription;

use std::sync::Arc;

use tokio::sync::watch;

pub use notifier::Notifier;
pub use slots::{Slot, StreamSlots};
pub use subscription::{BeforeSending, Events, Subscriber};

use crate::{domain::directory::Directory, pki::Revoked, store::StoreError};

/// What every live stream shares: the notifier, the slots per member, the revoked
/// certificates and whether the hub is stopping.
#[derive(Clone)]
pub struct Delivery {
    pub notifier: Arc<Notifier>,
    pub slots: Arc<StreamSlots>,
    /// Serial numbers of revoked certificates: a live stream of one ends.
    pub revoked: watch::Receiver<Revoked>,
    /// The directory as the hub serves it: a live stream of a member suspended ends.
    pub directory: watch::Receiver<Arc<Directory>>,
    /// Turns true when the hub shuts down, so that live streams end.
    pub stopping: watch::Receiver<bool>,
}

/// Why a live stream was refused or ended.
#[derive(Debug, thiserror::Error)]
pub enum Ended {
    /// The member has as many streams open as allowed.
    #[error("{0}")]
    Busy(String),
    #[error("client certificate {0} is revoked")]
    Revoked(String),
    #[error("client certificate {0} has expired")]
    Expired(String),
    #[error("member {0} is suspended")]
    Suspended(String),
    #[error("the hub is shutting down; resubscribe")]
    Stopping,
    #[error(transparent)]
    Store(#[from] StoreError),
}
