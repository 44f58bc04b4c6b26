//! `/metrics` for Prometheus, on a listener of its own (plain HTTP, localhost by
//! default). Counters are kept as the hub works; the gauges that describe the data
//! (inbox lag, outstanding deadlines, the audit chain) are read from the store at each
//! scrape.

use axum::{extract::State, http::header, response::IntoResponse, routing::get, Router};
use tokio::net::TcpListener;

use crate::{
    app::Hub,
    domain::{date::local_date, deadline::DeadlineKind},
    store::{DeadlineTally, StoreError},
};

/// Serves `/metrics` on `listener` until the hub stops.
pub async fn serve(hub: Hub, listener: TcpListener) {
    let mut stopping = hub.delivery().stopping.clone();
    let app = Router::new().route("/metrics", get(scrape)).with_state(hub);
    let stopped = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
        tracing::error!(error = %e, "serving metrics");
    }
}

async fn scrape(State(hub): State<Hub>) -> impl IntoResponse {
    if let Err(e) = refresh(&hub).await {
        tracing::error!(error = %e, "reading the metrics' gauges from the store");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], hub.metrics().render())
}

/// Reads the gauges that describe the data.
async fn refresh(hub: &Hub) -> Result<(), StoreError> {
    let metrics = hub.metrics().clone();
    for (member, position) in hub.store().inbox_positions().await? {
        let lag = position.head_seq.saturating_sub(position.acked_seq);
        metrics.inbox_lag.with_label_values(&[member.as_str()]).set(i64::try_from(lag).unwrap_or(i64::MAX));
    }
    let today = local_date(hub.clock().now());
    let calendar = hub.calendar();
    let tally = hub.store().deadline_tally(today, calendar.add_working_days(today, 1).value).await?;
    for kind in DeadlineKind::ALL {
        let counts = tally
            .iter()
            .find(|t| t.kind == kind)
            .copied()
            .unwrap_or(DeadlineTally { kind, ..DeadlineTally::default() });
        for (status, count) in [("open", counts.open), ("due_soon", counts.due_soon), ("overdue", counts.overdue)] {
            metrics.deadlines.with_label_values(&[kind.code(), status]).set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
    let (seq, _) = hub.store().audit_head().await?;
    metrics.audit_entries.set(i64::try_from(seq).unwrap_or(i64::MAX));
    if let Some(newest) = hub.store().newest_checkpoint().await? {
        metrics.audit_checkpoint_age.set((hub.clock().now() - newest.at).num_milliseconds() as f64 / 1000.0);
    }
    Ok(())
}
