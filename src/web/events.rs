//! The live updates of a page: the visitor's inbox as server-sent events. Each event
//! says only that something arrived and of what kind; the page then fetches what it
//! shows through the same operations as any page, so nothing personal travels twice.

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::{RawQuery, State},
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
};
use tokio_stream::{Stream, StreamExt};

use super::{
    error::WebError,
    guard::{Fields, Visitor},
    Web,
};
use crate::app;

/// The visitor's inbox after the page's `?after=` (or the browser's `Last-Event-ID`
/// when it reconnects), live, for as long as its certificate is valid.
pub async fn stream(
    State(web): State<Web>,
    visitor: Visitor,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, WebError> {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let reconnected = headers.get("last-event-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let after = reconnected.parse().ok().or_else(|| query.get("after").parse().ok());
    let events = app::inbox::live(&web.hub, &visitor.actor, after).await?;
    let events = events
        .map_while(|event| event.ok())
        .map(|event| Ok(Event::default().event("inbox").data(event.notice.kind.code()).id(event.seq.to_string())));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
