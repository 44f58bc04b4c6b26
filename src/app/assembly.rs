//! A hub built once from a configuration: the store, the directory, the calendar, the
//! keys, the materials and the signing key opened and checked, and what the process
//! around it supplies (the revoked certificates, the stop signal) handed in. Nothing of
//! it changes after; the command line's offline tools, the server and the tests build
//! theirs here alike.

use std::sync::{Arc, RwLock};

use anyhow::Context;
use tokio::sync::watch;

use super::{directory::SharedDirectory, materials::Materials, Hub};
use crate::{
    audit::Signer,
    clock::SharedClock,
    config::Config,
    delivery::{Delivery, Notifier, StreamSlots},
    metrics::Metrics,
    pki::{authority::Authority, Revoked},
    store::{self, load_calendar},
};

/// What the process around a hub gives it: the revoked serial numbers as its TLS
/// listener reads them, and the signal that it stops.
pub struct Surroundings {
    pub revoked: watch::Receiver<Revoked>,
    pub stopping: watch::Receiver<bool>,
}

impl Surroundings {
    /// A hub with no listener, which is never told to stop: the command line's, a
    /// test's.
    pub fn none() -> Self {
        Self { revoked: watch::channel(Revoked::default()).1, stopping: watch::channel(false).1 }
    }
}

impl Hub {
    /// The hub of `config`'s data, with time read from `clock`.
    pub async fn open(config: &Config, clock: SharedClock, around: Surroundings) -> anyhow::Result<Hub> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let keys = Arc::new(config.keys().context("loading the keyring")?);
        let store = store::open(&config.database_url(), keys.clone()).await.context("opening the database")?;
        let calendar = load_calendar(store.as_ref()).await.context("loading the holiday schedules")?;
        let directory = super::directory::load(store.as_ref(), config.directory()?, clock.now())
            .await
            .context("loading the directory of members")?;
        let directory = SharedDirectory::new(directory);
        let metrics = Arc::new(Metrics::new(store.collectors()).context("registering the metrics")?);
        let rebuilt = metrics.number_pools_rebuilt.clone();
        Ok(Hub {
            store,
            delivery: Delivery {
                notifier: Arc::new(Notifier::default()),
                slots: Arc::new(StreamSlots::new(config.max_streams_per_member, metrics.live_streams.clone())),
                revoked: around.revoked,
                directory: directory.watch(),
                stopping: around.stopping,
            },
            directory,
            calendar: Arc::new(RwLock::new(Arc::new(calendar))),
            policy: config.deadlines,
            clock,
            keys,
            metrics,
            authority: Some(Authority::at(config.pki_dir()).with_clerk_days(config.clerk_certificate_days))
                .filter(Authority::exists),
            materials: Arc::new(Materials::new(&config.materials, rebuilt).context("the materials")?),
            sign_in: config.sign_in_policy(),
            signer: Arc::new(
                Signer::open_or_create(&config.audit_key_file()).context("loading the audit signing key")?,
            ),
        })
    }
}
