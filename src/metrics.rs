//! The hub's metrics for Prometheus: one registry per hub, holding what the parts of the
//! hub count as they work (requests, commits, scanner passes, streams, refusals) and the
//! gauges read from the data when scraped (inbox lag, deadlines, the audit log,
//! certificate expiry). Names start with `xianjie_`; labels are member codes, RPC
//! names, deadline kinds: never a person's data.
//!
//! This module only holds the instruments; filling the scraped gauges and serving
//! `/metrics` is the server's (`server::metrics`).

use prometheus::{
    core::Collector, Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets, in seconds: from a cached read to a slow commit.
const LATENCY: &[f64] = &[0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Every instrument of one hub.
pub struct Metrics {
    registry: Registry,
    /// The name of every metric registered.
    names: Vec<String>,
    /// `xianjie_requests_total{rpc, code}`: answered requests by gRPC code.
    pub requests: IntCounterVec,
    /// `xianjie_request_seconds{rpc}`: time to the response's headers.
    pub request_seconds: HistogramVec,
    /// `xianjie_scanner_runs_total`: passes of the deadline scanner.
    pub scanner_runs: IntCounter,
    /// `xianjie_live_streams`: inbox and watch streams open now.
    pub live_streams: IntGauge,
    /// `xianjie_rate_limited_total{member}`: requests refused for going over the rate.
    pub rate_limited: IntCounterVec,
    /// `xianjie_certificate_expiry_days{identity}`: days until a certificate expires.
    pub certificate_expiry_days: GaugeVec,
    /// `xianjie_inbox_lag{member}`: events not yet acknowledged (head − acked).
    pub inbox_lag: IntGaugeVec,
    /// `xianjie_deadlines{kind, status}`: outstanding deadlines, `open` (all of them),
    /// `due_soon` and `overdue`.
    pub deadlines: IntGaugeVec,
    /// `xianjie_audit_entries`: the length of the audit chain.
    pub audit_entries: IntGauge,
    /// `xianjie_audit_checkpoint_age_seconds`: since the newest signed checkpoint.
    pub audit_checkpoint_age: Gauge,
    /// `xianjie_files_discarded_total`: files staged and never completed, or never
    /// attached, removed after their keeping period.
    pub files_discarded: IntCounter,
    /// `xianjie_document_number_pools_rebuilt_total`: document number pools read again
    /// from the store (a commit failed, another replica ahead, two minutes passed).
    pub number_pools_rebuilt: IntCounter,
    /// `xianjie_notifications_total{channel, outcome}`: attempts to send a message
    /// (sent, retry, failed) and reminders no longer due (void).
    pub notifications: IntCounterVec,
    /// `xianjie_notifications_failed`: messages given up on, in the store.
    pub notifications_failed: IntGauge,
}

/// The instruments of a store's write path, made by the store and registered by the hub.
#[derive(Clone)]
pub struct CommitMetrics {
    /// `xianjie_commit_batch_size`: commits written in one transaction.
    pub batch_size: Histogram,
    /// `xianjie_commit_seconds`: the durable commit (the fsync) of one transaction.
    pub commit_seconds: Histogram,
}

impl CommitMetrics {
    pub fn new() -> Self {
        let batch = HistogramOpts::new("xianjie_commit_batch_size", "Commits written in one transaction")
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]);
        let seconds = HistogramOpts::new("xianjie_commit_seconds", "Time of the durable commit of one transaction")
            .buckets(LATENCY.to_vec());
        // The options are constant and valid: these cannot fail.
        #[allow(clippy::expect_used)]
        Self {
            batch_size: Histogram::with_opts(batch).expect("valid histogram options"),
            commit_seconds: Histogram::with_opts(seconds).expect("valid histogram options"),
        }
    }

    pub fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![Box::new(self.batch_size.clone()), Box::new(self.commit_seconds.clone())]
    }
}

impl Default for CommitMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every instrument; `extra` are a store's or another part's own.
    pub fn new(extra: Vec<Box<dyn Collector>>) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(Opts::new("xianjie_requests_total", "Answered requests"), &["rpc", "code"])?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new("xianjie_request_seconds", "Time to a request's response headers")
                .buckets(LATENCY.to_vec()),
            &["rpc"],
        )?;
        let scanner_runs = IntCounter::new("xianjie_scanner_runs_total", "Passes of the deadline scanner")?;
        let live_streams = IntGauge::new("xianjie_live_streams", "Inbox and watch streams open")?;
        let rate_limited = IntCounterVec::new(
            Opts::new("xianjie_rate_limited_total", "Requests refused for going over a member's rate"),
            &["member"],
        )?;
        let certificate_expiry_days = GaugeVec::new(
            Opts::new("xianjie_certificate_expiry_days", "Days until a certificate expires"),
            &["identity"],
        )?;
        let inbox_lag =
            IntGaugeVec::new(Opts::new("xianjie_inbox_lag", "Inbox events not yet acknowledged"), &["member"])?;
        let deadlines = IntGaugeVec::new(
            Opts::new("xianjie_deadlines", "Outstanding statutory deadlines: open, due soon, overdue"),
            &["kind", "status"],
        )?;
        let audit_entries = IntGauge::new("xianjie_audit_entries", "Entries in the audit chain")?;
        let audit_checkpoint_age =
            Gauge::new("xianjie_audit_checkpoint_age_seconds", "Seconds since the newest signed audit checkpoint")?;
        let files_discarded = IntCounter::new(
            "xianjie_files_discarded_total",
            "Files staged and never completed, or never attached, removed after their keeping period",
        )?;
        let number_pools_rebuilt = IntCounter::new(
            "xianjie_document_number_pools_rebuilt_total",
            "Document number pools read again from the store: a commit failed, another replica was ahead, or two minutes passed",
        )?;
        let notifications = IntCounterVec::new(
            Opts::new("xianjie_notifications_total", "Attempts to send a message away from the workbench, by outcome"),
            &["channel", "outcome"],
        )?;
        let notifications_failed = IntGauge::new(
            "xianjie_notifications_failed",
            "Messages given up on after their attempts (xianjie admin notifications --failed)",
        )?;
        let own: Vec<Box<dyn Collector>> = vec![
            Box::new(notifications.clone()),
            Box::new(notifications_failed.clone()),
            Box::new(files_discarded.clone()),
            Box::new(number_pools_rebuilt.clone()),
            Box::new(requests.clone()),
            Box::new(request_seconds.clone()),
            Box::new(scanner_runs.clone()),
            Box::new(live_streams.clone()),
            Box::new(rate_limited.clone()),
            Box::new(certificate_expiry_days.clone()),
            Box::new(inbox_lag.clone()),
            Box::new(deadlines.clone()),
            Box::new(audit_entries.clone()),
            Box::new(audit_checkpoint_age.clone()),
        ];
        let mut names = Vec::new();
        for collector in own.into_iter().chain(extra) {
            names.extend(collector.desc().iter().map(|d| d.fq_name.clone()));
            registry.register(collector)?;
        }
        Ok(Self {
            registry,
            names,
            requests,
            request_seconds,
            scanner_runs,
            live_streams,
            rate_limited,
            certificate_expiry_days,
            inbox_lag,
            deadlines,
            audit_entries,
            audit_checkpoint_age,
            files_discarded,
            number_pools_rebuilt,
            notifications,
            notifications_failed,
        })
    }

    /// The name of every metric, whether it has samples yet or not.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Everything in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}
