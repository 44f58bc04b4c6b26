//! The hub process: assembles store, directory, clock and services, serves them over
//! mutual TLS on an already-bound listener, and stops cleanly when told to.

mod metered;
pub mod metrics;
mod reload;
pub mod tls;
mod workbench;

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{net::TcpListener, sync::watch};
use tonic::{server::NamedService, service::InterceptorLayer};
use tonic_health::{server::HealthReporter, ServingStatus};

use crate::{
    api::{Authenticate, CalendarApi, CoordinationApi, DirectoryApi, InboxApi, MaterialApi, RecordsApi, ReferralApi},
    app::{assembly::Surroundings, limits::RateLimiter, notifications::Notifying, Hub},
    clock::SharedClock,
    config::Config,
    domain::directory::Directory,
    notify::Senders,
    pki::{authority::Authority, Identity},
    proto::{
        calendar_service_server::CalendarServiceServer, coordination_service_server::CoordinationServiceServer,
        directory_service_server::DirectoryServiceServer, inbox_service_server::InboxServiceServer,
        material_service_server::MaterialServiceServer, records_service_server::RecordsServiceServer,
        referral_service_server::ReferralServiceServer, FILE_DESCRIPTOR_SET,
    },
    store::{self, Store},
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

/// Serves `config`'s hub on its configured address until `shutdown` completes: opens
/// it, brings its deadlines up to its time, says on standard output where it listens
/// (and where the workbench is), serves, and stops cleanly.
pub async fn serve(config: &Config, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let prepared = Prepared::open(config, config.clock()).await?;
    prepared.catch_up().await?;
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    // One write: a reader that takes the first line and goes has both.
    let workbench = prepared.workbench_address().map(|at| format!("\nworkbench at https://{at}/")).unwrap_or_default();
    println!("xianjie listening on {address} (certificates in {}){workbench}", config.pki_dir().display());
    prepared.run(listener, shutdown).await
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
    /// Tells the hub and everything around it to stop.
    stop: watch::Sender<bool>,
    /// The lock on the SQLite data, held while serving: a restore refuses to run
    /// under a serving hub, and so does a second hub.
    _lock: Option<std::fs::File>,
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
        if let Some(dir) = ensure_dev_pki(config, &config.directory()?)? {
            tracing::info!(dir = %dir.display(), "created a development certificate authority and certificates for every member, the office and an admin");
        }
        let files = tls::TlsFiles {
            ca: config.ca_cert(),
            cert: config.server_cert(),
            key: config.server_key(),
            crl: config.crl_file(),
        };
        let (revoked, revoked_seen) = watch::channel(crate::pki::Revoked::default());
        let (stop, stopping) = watch::channel(false);
        let around = Surroundings { revoked: revoked_seen, stopping };
        let hub = Hub::open(config, clock.clone(), around).await?;
        let store = hub.store().clone();
        let expiry = hub.metrics().certificate_expiry_days.clone();
        let tls = tls::Tls::load(files, clock, expiry, revoked).context("loading TLS certificates")?;
        let rate = Arc::new(RateLimiter::new(
            config.requests_per_second,
            config.request_burst,
            hub.metrics().rate_limited.clone(),
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
            stop,
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
        let pass = crate::app::scan::catch_up(&self.hub).await.context("scanning deadlines")?;
        tracing::info!(pass.reminded, pass.missed, "deadlines caught up");
        Ok(())
    }

    /// Serves on `listener` until `shutdown` completes, then ends live streams, lets
    /// requests in flight finish and closes the database.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let Prepared {
            hub,
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
            stop,
            _lock,
        } = self;
        let scanner = tokio::spawn(crate::background::scanner::run(hub.clone(), scan_every));
        let reloader = tokio::spawn(reload::run(hub.clone(), tls.clone(), reload_every));
        let checkpoints = tokio::spawn(crate::background::checkpoint::run(hub.clone(), checkpoint_every));
        let notifier = tokio::spawn(crate::background::notifier::run(hub.clone(), notifying, notify_every));
        let metrics = metrics_listener.map(|listener| tokio::spawn(metrics::serve(hub.clone(), listener)));
        let workbench = workbench_listener.map(|listener| {
            let mut stopping = hub.delivery().stopping.clone();
            let stopped = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            tokio::spawn(workbench::serve(hub.clone(), rate.clone(), tls.clone(), listener, stopped))
        });
        let relay = {
            let (store, notifier, stopping) =
                (store.clone(), hub.delivery().notifier.clone(), hub.delivery().stopping.clone());
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
            .layer(metered::Metered { metrics: hub.metrics().clone() })
            .layer(InterceptorLayer::new(Authenticate {
                directory: hub.directory().clone(),
                revoked: hub.delivery().revoked.clone(),
                rate,
                clock: hub.clock().clone(),
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
