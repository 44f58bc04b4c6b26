//! The ledger (台账): a period chosen on a page, the file saved as XLSX or CSV — a
//! member's own referrals in full, the office's of every member masked.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use chrono::Datelike;

use super::{
    error::{violation_text, WebError},
    guard::{Fields, Visitor},
    materials::saved_as,
    page::{html, Frame},
    Web,
};
use crate::{
    app::{self, records::TableFormat},
    domain::{
        date::local_date,
        period::{Period, PeriodInput},
        Role,
    },
};

#[derive(Template)]
#[template(path = "ledger.html")]
struct Page {
    frame: Frame,
    years: Vec<i32>,
    year: i32,
    masked: bool,
    errors: Vec<String>,
}

fn number<T: std::str::FromStr + Default>(fields: &Fields, name: &str) -> T {
    fields.get(name).parse().unwrap_or_default()
}

/// The page, with the refusals of a period asked before.
async fn page(web: &Web, visitor: &Visitor, errors: Vec<String>) -> Result<Response, WebError> {
    app::identity::reader(visitor.caller())?;
    let this_year = local_date(web.hub.clock.now()).year();
    let page = Page {
        frame: Frame::new(web, visitor, "/ledger").await?,
        years: (this_year - 4..=this_year).rev().collect(),
        year: this_year,
        masked: visitor.role() == Role::Office,
        errors,
    };
    html(&page)
}

pub async fn form(State(web): State<Web>, visitor: Visitor) -> Result<Response, WebError> {
    page(&web, &visitor, Vec::new()).await
}

/// The ledger of the period the query names, as a file to save; a period refused
/// shows the page again saying why.
pub async fn download(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let input = PeriodInput {
        year: number(&fields, "year"),
        quarter: number(&fields, "quarter"),
        month: number(&fields, "month"),
        from: fields.get("from"),
        to: fields.get("to"),
    };
    // A span of days is asked for by giving both dates; the year then stands aside.
    let input = if input.from.is_empty() && input.to.is_empty() {
        input
    } else {
        PeriodInput { year: 0, quarter: 0, month: 0, ..input }
    };
    let period = match Period::parse(input) {
        Ok(period) => period,
        Err(violation) => {
            let mut response = page(&web, &visitor, vec![violation_text(&violation)]).await?;
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
    };
    let format = if fields.get("format") == "csv" { TableFormat::Csv } else { TableFormat::Xlsx };
    let ledger = app::records::ledger(&web.hub, &visitor.actor, &period, format).await?;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(format.media_type())),
        (header::CONTENT_DISPOSITION, saved_as(&ledger.file_name)),
    ];
    Ok((headers, ledger.bytes).into_response())
}
