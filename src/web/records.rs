//! The records: the ledger (台账) — a period chosen on a page, the file saved as XLSX or
//! CSV, a member's own referrals in full, the office's of every member masked — and the
//! figures for the joint meeting as a report to print (通报), with charts, beside the
//! same period a year before.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::Datelike;

use super::{
    error::WebError,
    guard::{Fields, Visitor},
    page::{html, member, Frame},
    refusals::Refusals,
    Web,
};
use crate::{
    app::{
        self,
        records::{report_title, TableFormat},
        written::Document,
        AppError,
    },
    domain::{
        date::local_date,
        deadline::DeadlineKind,
        figures::{Figures, Line, Tally},
        money,
        period::{Period, PeriodInput},
        FieldViolation, Role,
    },
};

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    frame: Frame,
    years: Vec<i32>,
    year: i32,
    masked: bool,
    refusals: Refusals,
}

fn number<T: std::str::FromStr + Default>(fields: &Fields, name: &str) -> T {
    fields.get(name).parse().unwrap_or_default()
}

/// The period a query names: two dates if given (the year then stands aside), else the
/// year with its quarter or month; `this_year` when nothing is.
fn period(fields: &Fields, this_year: i32) -> Result<Period, FieldViolation> {
    let (from, to) = (fields.get("from"), fields.get("to"));
    let input = if from.is_empty() && to.is_empty() {
        let year = match number(fields, "year") {
            0 => this_year,
            year => year,
        };
        PeriodInput { year, quarter: number(fields, "quarter"), month: number(fields, "month"), from, to }
    } else {
        PeriodInput { from, to, ..PeriodInput::default() }
    };
    Period::parse(input)
}

fn this_year(web: &Web) -> i32 {
    local_date(web.hub.clock().now()).year()
}

/// The years a period may be chosen in: this one and the four before.
fn years(web: &Web) -> Vec<i32> {
    let this = this_year(web);
    (this - 4..=this).rev().collect()
}

fn table(document: Document, format: TableFormat) -> Response {
    super::materials::document(document, format.media_type())
}

fn format(fields: &Fields) -> TableFormat {
    if fields.get("format") == "csv" {
        TableFormat::Csv
    } else {
        TableFormat::Xlsx
    }
}

/// The ledger's page, with the refusals of a period asked before.
async fn ledger_page(web: &Web, visitor: &Visitor, refusals: Refusals) -> Result<Response, WebError> {
    app::identity::reader(visitor.caller())?;
    let page = LedgerPage {
        frame: Frame::new(web, visitor, "/ledger").await?,
        years: years(web),
        year: this_year(web),
        masked: visitor.role() == Role::Office,
        refusals,
    };
    let status = if page.refusals.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, html(&page)?).into_response())
}

pub async fn ledger(State(web): State<Web>, visitor: Visitor) -> Result<Response, WebError> {
    ledger_page(&web, &visitor, Refusals::default()).await
}

/// The ledger of the period the query names, as a file to save; a period refused
/// shows the page again saying why.
pub async fn ledger_file(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let period = match period(&fields, this_year(&web)) {
        Ok(period) => period,
        Err(violation) => return ledger_page(&web, &visitor, Refusals::of(&[violation])).await,
    };
    let format = format(&fields);
    Ok(table(app::records::ledger(&web.hub, &visitor.actor, &period, format)?.await?, format))
}

/// A bar of a chart: this period's and the year before's, scaled to the chart.
pub struct Bar {
    pub label: String,
    pub this: String,
    pub before: String,
    /// Widths in the chart's units (0–100).
    pub this_width: f64,
    pub before_width: f64,
}

/// A chart of bars, each pair this period over the year before.
pub struct Chart {
    pub title: &'static str,
    pub bars: Vec<Bar>,
    pub height: usize,
}

impl Chart {
    fn new(title: &'static str, rows: Vec<(String, f64, f64, String, String)>) -> Self {
        let top = rows.iter().map(|r| r.1.max(r.2)).fold(0.0, f64::max).max(1.0);
        let bars: Vec<Bar> = rows
            .into_iter()
            .map(|(label, this, before, this_text, before_text)| Bar {
                label,
                this: this_text,
                before: before_text,
                this_width: 100.0 * this / top,
                before_width: 100.0 * before / top,
            })
            .collect();
        let height = 28 * bars.len() + 8;
        Chart { title, bars, height }
    }
}

/// A figure shown large at the top of the report.
pub struct Headline {
    pub label: &'static str,
    pub value: String,
    pub change: String,
}

/// The lines of one section of the report's table.
pub struct Section {
    pub name: &'static str,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "figures.html")]
struct FiguresPage {
    frame: Frame,
    title: String,
    period: String,
    before: String,
    today: String,
    query: String,
    /// The period's fields, carried by the 通报's form.
    period_fields: Vec<(String, String)>,
    years: Vec<i32>,
    year: i32,
    headlines: Vec<Headline>,
    charts: Vec<Chart>,
    sections: Vec<Section>,
    overdue: u64,
    visits_overdue: u64,
    key_cases: Vec<KeyCaseRow>,
    refusals: Refusals,
}

/// A case marked for the meeting's study, as the report lists it: no person in it.
pub struct KeyCaseRow {
    pub members: String,
    pub reason: String,
    pub referrals: u64,
    pub state: &'static str,
    pub marked_by: String,
    pub marked_on: String,
}

fn headline(label: &'static str, line: Option<&Line>) -> Headline {
    Headline {
        label,
        value: line.map(|l| l.this.text()).unwrap_or_default(),
        change: line.map(|l| format!("同比{}", l.change_text())).unwrap_or_default(),
    }
}

fn charts(figures: &Figures, directory: &crate::domain::directory::Directory) -> Vec<Chart> {
    let (a, b) = (&figures.this, &figures.before);
    let flows = |t: &Tally, m: &crate::domain::MemberCode| {
        t.members.get(m).map_or(0, |f| f.referrals_received + f.clues_sent + f.referrals_sent + f.clues_received)
    };
    let members = directory
        .members()
        .iter()
        .filter(|m| flows(a, &m.code) + flows(b, &m.code) > 0)
        .map(|m| {
            let (x, y) = (flows(a, &m.code), flows(b, &m.code));
            (m.short_name.clone(), x as f64, y as f64, x.to_string(), y.to_string())
        })
        .collect();
    let rate = |t: &Tally, kind| t.kept_of(kind).rate();
    let kept = DeadlineKind::STATUTORY
        .iter()
        .filter(|&&kind| rate(a, kind).is_some() || rate(b, kind).is_some())
        .map(|&kind| {
            let (x, y) = (rate(a, kind), rate(b, kind));
            let text = |r: Option<f64>| r.map_or("—".to_owned(), |r| format!("{r:.1}%"));
            (kind.label().to_owned(), x.unwrap_or(0.0), y.unwrap_or(0.0), text(x), text(y))
        })
        .collect();
    let amounts = crate::domain::vocabulary::AidKind::ALL
        .iter()
        .filter_map(|aid| {
            let (x, y) = (a.amounts.get(aid).map_or(0, |v| v.1), b.amounts.get(aid).map_or(0, |v| v.1));
            (x + y > 0).then(|| (aid.label().to_owned(), x as f64, y as f64, money::yuan(x), money::yuan(y)))
        })
        .collect();
    let effects = crate::domain::vocabulary::VisitEffect::ALL
        .iter()
        .filter_map(|effect| {
            let (x, y) = (a.effects.get(effect).copied().unwrap_or(0), b.effects.get(effect).copied().unwrap_or(0));
            (x + y > 0).then(|| (effect.label().to_owned(), x as f64, y as f64, x.to_string(), y.to_string()))
        })
        .collect();
    vec![
        Chart::new("各成员单位移送与线索（件）", members),
        Chart::new("各类法定期限按期率", kept),
        Chart::new("救助金额（元）", amounts),
        Chart::new("回访发现的救助效果（次）", effects),
    ]
}

/// The report of the figures for the period the query names (this year by default).
pub async fn figures(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    app::identity::reader(visitor.caller())?;
    let raw = query.unwrap_or_default();
    let fields = Fields::parse(raw.as_bytes());
    let (period, refusals) = match period(&fields, this_year(&web)) {
        Ok(period) => (period, Refusals::default()),
        // This year's figures instead, with why the period asked was refused.
        Err(violation) => {
            let this_year = period(&Fields::default(), this_year(&web)).map_err(|v| AppError::Domain(v.into()))?;
            (this_year, Refusals::of(&[violation]))
        }
    };
    let figures = app::records::figures(&web.hub, &visitor.actor, &period).await?;
    let directory = web.directory().clone();
    let lines = figures.lines(&directory);
    let find = |label: &str| lines.iter().find(|l| l.label == label);
    let headlines = vec![
        headline("社会救助移送（件）", find("社会救助移送（件）")),
        headline("司法救助线索（件）", find("司法救助线索（件）")),
        headline("涉及人数（人）", find("涉及人数（人，按身份证号去重）")),
        headline("救助金额", find("救助金额合计")),
        headline("回访（次）", find("回访（次）")),
        headline("重点救助对象（件）", find("提请联席会议研究（件）")),
    ];
    let key_cases = figures
        .key_cases
        .iter()
        .map(|k| KeyCaseRow {
            members: k.members.iter().map(|m| member(&web, m)).collect::<Vec<_>>().join("、"),
            reason: k.mark.reason.clone(),
            referrals: k.referrals,
            state: k.state.label(),
            marked_by: member(&web, &k.mark.marked_by),
            marked_on: local_date(k.mark.marked_at).to_string(),
        })
        .collect();
    let mut sections: Vec<Section> = Vec::new();
    for line in lines.iter().cloned() {
        match sections.last_mut() {
            Some(section) if section.name == line.section => section.lines.push(line),
            _ => sections.push(Section { name: line.section, lines: vec![line] }),
        }
    }
    let page = FiguresPage {
        frame: Frame::new(&web, &visitor, "/figures").await?,
        title: report_title(&figures, &directory),
        period: period.label(),
        before: period.a_year_before().label(),
        today: figures.today.to_string(),
        period_fields: if refusals.is_empty() {
            ["year", "quarter", "month", "from", "to"]
                .into_iter()
                .filter(|f| !fields.get(f).is_empty())
                .map(|f| (f.to_owned(), fields.get(f).to_owned()))
                .collect()
        } else {
            Vec::new()
        },
        query: if refusals.is_empty() { raw } else { String::new() },
        years: years(&web),
        year: period.from.year(),
        headlines,
        charts: charts(&figures, &directory),
        sections,
        overdue: figures.overdue_total(),
        visits_overdue: figures.visits_overdue(),
        key_cases,
        refusals,
    };
    let status = if page.refusals.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, html(&page)?).into_response())
}

/// The figures of the period a query names, and the query's fields.
async fn asked_figures(web: &Web, visitor: &Visitor, query: Option<String>) -> Result<(Figures, Fields), WebError> {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let period = period(&fields, this_year(web)).map_err(|v| AppError::Domain(v.into()))?;
    Ok((app::records::figures(&web.hub, &visitor.actor, &period).await?, fields))
}

/// The figures as the 通报, a DOCX draft, numbered as the form asks (文号).
pub async fn report_file(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let (figures, fields) = asked_figures(&web, &visitor, query).await?;
    let report = app::records::report(&web.hub, &figures, fields.get("number"))?;
    Ok(super::materials::document(report, app::records::DOCX))
}

/// The figures as a table to save.
pub async fn figures_file(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let (figures, fields) = asked_figures(&web, &visitor, query).await?;
    let format = format(&fields);
    Ok(table(app::records::figures_table(&web.hub, &figures, format).await?, format))
}
