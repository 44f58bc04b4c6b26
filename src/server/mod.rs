//! The hub process: assembles store, directory, clock and services, serves them over
//! mutual TLS on an already-bound listener, and stops cleanly when told to.

mod metered;
pub mod metrics;
mod reload;
pub mod tls;
mod workbench;

use std::{
    future::Future,
    sync::{Arc, RwLock},
    time::Duration,
};

use anyhow::Context;
use tokio::{net::TcpListener, sync::watch};
use tonic::{server::NamedService, service::InterceptorLayer};
use tonic_health::{server::HealthReporter, ServingStatus};

use crate::{
    api::{Authenticate, CalendarApi, CoordinationApi, DirectoryApi, InboxApi, MaterialApi, RecordsApi, ReferralApi},
    app::{directory::SharedDirectory, limits::RateLimiter, notifications::Notifying, Hub},
    audit::Signer,
    clock::{SharedClock, SystemClock},
    config::Config,
    delivery::{Delivery, Notifier, StreamSlots},
    domain::directory::Directory,
    notify::Senders,
    pki::{authority::Authority, Identity},
    proto::{
        calendar_service_server::CalendarServiceServer, coordination_service_server::CoordinationServiceServer,
        directory_service_server::DirectoryServiceServer, inbox_service_server::InboxServiceServer,
        material_service_server::MaterialServiceServer, records_service_server::RecordsServiceServer,
        referral_service_server::ReferralServiceServer, FILE_DESCRIPTOR_SET,
    },
    store::{self, load_calendar, Store},
};

/// The longest a unary request may take, whatever deadline (`grpc-timeout`) the
/// client set; a shorter client deadline is honoured as it is.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a stopping hub waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Sets the health of the hub as a whole and of each of its services.
async fn set_health(health: &HealthReporter, status: ServingStatus) {
    for service in [
        "",
        <ReferralServiceServer<ReferralApi> as NamedService>::NAME,
        <InboxServiceServer<InboxApi> as NamedService>::NAME,
        <DirectoryServiceServer<DirectoryApi> as NamedService>::NAME,
        <CoordinationServiceServer<CoordinationApi> as NamedService>::NAME,
        <CalendarServiceServer<CalendarApi> as NamedService>::NAME,
        <MaterialServiceServer<MaterialApi> as NamedService>::NAME,
        <RecordsServiceServer<RecordsApi> as NamedService>::NAME,
    ] {
        health.set_service_status(service, status).await;
    }
}

/// A hub ready to serve: everything opened and checked, nothing listening yet.
pub struct Prepared {
    hub: Hub,
    tls: tls::Tls,
    store: Arc<dyn Store>,
    max_message_bytes: usize,
    scan_every: Duration,
    reload_every: Duration,
    checkpoint_every: Duration,
    rate: Arc<RateLimiter>,
    /// Where `/metrics` is served, if anywhere.
    metrics_listener: Option<TcpListener>,
    /// Where the workbench is served, if anywhere.
    workbench_listener: Option<TcpListener>,
    shutdown_grace: Duration,
    /// The channels of messages away from the workbench, and how often they are sent.
    notifying: Arc<Notifying>,
    notify_every: Duration,
    /// The lock on the SQLite data, held while serving: a restore refuses to run
    /// under a serving hub, and so does a second hub.
    _lock: Option<std::fs::File>,
}

/// The clock a configuration asks for.
pub fn clock(config: &Config) -> SharedClock {
    match config.clock_start {
        Some(start) => Arc::new(SystemClock::starting_at(start)),
        None => Arc::new(SystemClock::default()),
    }
}

/// Loads the member directory of a configuration.
pub fn directory(config: &Config) -> anyhow::Result<Directory> {
    match &config.directory_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Directory::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        None => Ok(Directory::jinjiang()),
    }
}

/// Creates the development PKI in the data directory if the configuration names no
/// certificates and none exist yet. Returns the directory when it was created.
pub fn ensure_dev_pki(config: &Config, directory: &Directory) -> anyhow::Result<Option<std::path::PathBuf>> {
    let authority = Authority::at(config.pki_dir());
    if !config.uses_dev_pki() || authority.exists() {
        return Ok(None);
    }
    let mut identities: Vec<Identity> = directory.members().iter().map(|m| Identity::Member(m.code.clone())).collect();
    identities.extend([Identity::Office, Identity::Admin]);
    authority
        .create("联席会议", &config.server_names, &identities)
        .with_context(|| format!("creating the development PKI in {}", authority.dir().display()))?;
    Ok(Some(authority.dir().to_owned()))
}

/// The hub's shared state on the configured data: store, directory, calendar, clock.
/// Also what command-line tools use to work on a data directory without a running hub.
pub async fn assemble(config: &Config, clock: SharedClock) -> anyhow::Result<(Hub, Arc<dyn Store>)> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let keys = Arc::new(config.keys().context("loading the keyring")?);
    let store = store::open(&config.database_url(), keys.clone()).await.context("opening the database")?;
    let calendar = load_calendar(store.as_ref()).await.context("loading the holiday schedules")?;
    let seed = directory(config)?;
    let directory = crate::app::directory::load(store.as_ref(), seed, clock.now())
        .await
        .context("loading the directory of members")?;
    let directory = SharedDirectory::new(directory);
    let (_, stopping) = watch::channel(false);
    let metrics = Arc::new(crate::metrics::Metrics::new(store.collectors()).context("registering the metrics")?);
    let hub = Hub {
        store: store.clone(),
        directory: directory.clone(),
        calendar: Arc::new(RwLock::new(Arc::new(calendar))),
        policy: config.deadlines,
        clock,
        keys,
        delivery: Delivery {
            notifier: Arc::new(Notifier::default()),
            slots: Arc::new(StreamSlots::new(config.max_streams_per_member, metrics.live_streams.clone())),
            revoked: watch::channel(Arc::default()).1,
            directory: directory.watch(),
            stopping,
        },
        metrics,
        authority: Some(Authority::at(config.pki_dir()).with_clerk_days(config.clerk_certificate_days))
            .filter(Authority::exists),
        materials: Arc::new(crate::app::materials::Materials::new(&config.materials).context("the materials")?),
        sign_in: config.sign_in_policy(),
        signer: Arc::new(Signer::open_or_create(&config.audit_key_file()).context("loading the audit signing key")?),
    };
    Ok((hub, store))
}

/// The channels `config` sets up, and where messages send people: the configured
/// workbench address, or the first server name with the workbench's port.
fn notifying(config: &Config, workbench: Option<&TcpListener>) -> anyhow::Result<Notifying> {
    let n = &config.notify;
    let senders = Senders::new(n).map_err(anyhow::Error::msg).context("the notification channels")?;
    let link = match &n.workbench_url {
        Some(url) => format!("{}/", url.trim_end_matches('/')),
        None => {
            let host = config.server_names.first().map_or("localhost", String::as_str);
            match workbench.and_then(|l| l.local_addr().ok()) {
                Some(address) => format!("https://{host}:{}/", address.port()),
                None => format!("https://{host}/"),
            }
        }
    };
    Ok(Notifying {
        senders,
        link,
        office_email: n.office_email.clone(),
        attempts: n.attempts.max(1),
        retry: Duration::from_millis(n.retry_ms),
    })
}

impl Prepared {
    /// Opens the store and the TLS files of `config`, creating the development PKI on
    /// first start, with time read from `clock`.
    pub async fn open(config: &Config, clock: SharedClock) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let lock = match store::backup::sqlite_path(&config.database_url()) {
            Ok(database) => Some(store::backup::lock(&database)?),
            Err(_) => None,
        };
        if let Some(dir) = ensure_dev_pki(config, &directory(config)?)? {
            tracing::info!(dir = %dir.display(), "created a development certificate authority and certificates for every member, the office and an admin");
        }
        let files = tls::TlsFiles {
            ca: config.ca_cert(),
            cert: config.server_cert(),
            key: config.server_key(),
            crl: config.crl_file(),
        };
        let (mut hub, store) = assemble(config, clock.clone()).await?;
        let expiry = hub.metrics.certificate_expiry_days.clone();
        let tls = tls::Tls::load(files, clock, expiry).context("loading TLS certificates")?;
        hub.delivery.revoked = tls.revoked();
        let rate = Arc::new(RateLimiter::new(
            config.requests_per_second,
            config.request_burst,
            hub.metrics.rate_limited.clone(),
        ));
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address).await.with_context(|| format!("binding the metrics listener {address}"))?,
            ),
            None => None,
        };
        let workbench_listener = match config.workbench_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("binding the workbench listener {address}"))?,
            ),
            None => None,
        };
        let notifying = Arc::new(notifying(config, workbench_listener.as_ref())?);
        Ok(Self {
            hub,
            tls,
            store,
            notifying,
            notify_every: Duration::from_millis(config.notify.interval_ms),
            max_message_bytes: config.max_message_bytes,
            scan_every: Duration::from_millis(config.scan_interval_ms),
            reload_every: Duration::from_millis(config.reload_interval_ms),
            checkpoint_every: Duration::from_millis(config.checkpoint_interval_ms),
            rate,
            metrics_listener,
            workbench_listener,
            shutdown_grace: Duration::from_millis(config.shutdown_grace_ms),
            _lock: lock,
        })
    }

    /// Where the metrics are served, if they are.
    pub fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Where the workbench is served, if it is.
    pub fn workbench_address(&self) -> Option<std::net::SocketAddr> {
        self.workbench_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Brings the deadlines up to the hub's time (reminders and misses while it was
    /// down) before it serves. A pass reads a batch of deadlines, so passes follow
    /// until one changes nothing.
    pub async fn catch_up(&self) -> anyhow::Result<()> {
        let (mut reminded, mut missed) = (0, 0);
        loop {
            let pass = crate::background::scanner::scan(&self.hub).await.context("scanning deadlines")?;
            if pass.reminded + pass.missed == 0 {
                break;
            }
            (reminded, missed) = (reminded + pass.reminded, missed + pass.missed);
        }
        tracing::info!(reminded, missed, "deadlines caught up");
        Ok(())
    }

    /// Serves on `listener` until `shutdown` completes, then ends live streams, lets
    /// requests in flight finish and closes the database.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let Prepared {
            mut hub,
            tls,
            store,
            max_message_bytes,
            scan_every,
            reload_every,
            checkpoint_every,
            rate,
            metrics_listener,
            workbench_listener,
            shutdown_grace,
            notifying,
            notify_every,
            _lock,
        } = self;
        let (stop, stopping) = watch::channel(false);
        hub.delivery.stopping = stopping;
        let scanner = tokio::spawn(crate::background::scanner::run(hub.clone(), scan_every));
        let reloader = tokio::spawn(reload::run(hub.clone(), tls.clone(), reload_every));
        let checkpoints = tokio::spawn(crate::background::checkpoint::run(hub.clone(), checkpoint_every));
        let notifier = tokio::spawn(crate::background::notifier::run(hub.clone(), notifying, notify_every));
        let metrics = metrics_listener.map(|listener| tokio::spawn(metrics::serve(hub.clone(), listener)));
        let workbench = workbench_listener.map(|listener| {
            let mut stopping = hub.delivery.stopping.clone();
            let stopped = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            tokio::spawn(workbench::serve(hub.clone(), rate.clone(), tls.clone(), listener, stopped))
        });
        let relay = {
            let (store, notifier, stopping) =
                (store.clone(), hub.delivery.notifier.clone(), hub.delivery.stopping.clone());
            tokio::spawn(async move {
                if let Err(e) = store.listen(notifier, stopping).await {
                    tracing::error!(error = %e, "relaying other hubs' inbox events stopped");
                }
            })
        };
        let limit = max_message_bytes;
        let (health, health_service) = tonic_health::server::health_reporter();
        set_health(&health, ServingStatus::Serving).await;
        // Both versions of reflection: grpcurl speaks v1, many other clients v1alpha.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection().build_v1().context("building the reflection service")?;
        let reflection_v1alpha = reflection().build_v1alpha().context("building the reflection service")?;
        let address = listener.local_addr().context("reading the listening address")?;
        let router = tonic::transport::Server::builder()
            .timeout(REQUEST_TIMEOUT)
            .layer(metered::Metered { metrics: hub.metrics.clone() })
            .layer(InterceptorLayer::new(Authenticate {
                directory: hub.directory.clone(),
                revoked: hub.delivery.revoked.clone(),
                rate,
                clock: hub.clock.clone(),
            }))
            .add_service(
                ReferralServiceServer::new(ReferralApi::new(hub.clone()))
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit),
            )
            .add_service(
                InboxServiceServer::new(InboxApi::new(hub.clone()))
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit),
            )
            .add_service(
                DirectoryServiceServer::new(DirectoryApi::new(hub.clone()))
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit),
            )
            .add_service(
                CoordinationServiceServer::new(CoordinationApi::new(hub.clone()))
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit),
            )
            .add_service(
                CalendarServiceServer::new(CalendarApi::new(hub.clone()))
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit),
            )
            .add_service(
                MaterialServiceServer::new(MaterialApi::new(hub.clone()))
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit),
            )
            .add_service(
                RecordsServiceServer::new(RecordsApi::new(hub.clone()))
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit),
            )
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);
        tracing::info!(%address, "serving");
        let (draining, drain) = tokio::sync::oneshot::channel();
        let shutdown = async move {
            shutdown.await;
            // Told first, so that load balancers stop sending new work here while the
            // hub still answers for the grace period.
            set_health(&health, ServingStatus::NotServing).await;
            tracing::info!(grace_ms = shutdown_grace.as_millis() as u64, "shutting down");
            tokio::time::sleep(shutdown_grace).await;
            let _ = stop.send(true);
            let _ = draining.send(());
        };
        let serving = router.serve_with_incoming_shutdown(tls.incoming(listener), shutdown);
        // Requests in flight get DRAIN_TIMEOUT to finish; a client that keeps its
        // connection open longer does not keep the hub from stopping.
        let deadline = async {
            match drain.await {
                Ok(()) => tokio::time::sleep(DRAIN_TIMEOUT).await,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            served = serving => served.context("serving")?,
            () = deadline => tracing::warn!(seconds = DRAIN_TIMEOUT.as_secs(), "connections still open; closing them"),
        }
        let _ = tokio::join!(scanner, reloader, checkpoints, notifier, relay);
        if let Some(workbench) = workbench {
            // Browsers keep connections open; they get what requests in flight need.
            match tokio::time::timeout(DRAIN_TIMEOUT, workbench).await {
                Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the workbench stopped with an error"),
                Ok(_) => {}
                Err(_) => tracing::warn!("workbench connections still open; closing them"),
            }
        }
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
