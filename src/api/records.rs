//! The RecordsService: the ledgers (台账) and the figures for the joint meeting,
//! through [`crate::app::records`].

use tonic::{Request, Response, Status};

use super::{
    convert::parse_uuid,
    identity,
    materials::{document, document_made, Pieces},
};
use crate::domain::Rule;
use crate::{
    app::{self, records::TableFormat, AppError},
    domain::{
        figures::{Figures, Tally},
        key_case::{self, KeyCase, KeyCaseLine},
        period::{Period, PeriodInput},
        DomainError,
    },
    proto::{self as pb, records_service_server::RecordsService},
};

pub struct RecordsApi {
    hub: app::Hub,
}

impl RecordsApi {
    pub fn new(hub: app::Hub) -> Self {
        Self { hub }
    }
}

/// A request's period, each refusal naming its field.
pub fn period(period: Option<&pb::Period>) -> Result<Period, AppError> {
    let p = period.cloned().unwrap_or_default();
    let input = PeriodInput { year: p.year, quarter: p.quarter, month: p.month, from: &p.from, to: &p.to };
    Period::parse(input).map_err(|v| AppError::Domain(DomainError::from(v)))
}

fn format(raw: i32) -> Result<TableFormat, AppError> {
    match pb::TableFormat::try_from(raw) {
        Ok(pb::TableFormat::Xlsx) => Ok(TableFormat::Xlsx),
        Ok(pb::TableFormat::Csv) => Ok(TableFormat::Csv),
        _ => Err(AppError::invalid("format", Rule::OneOf { choices: "TABLE_FORMAT_XLSX or TABLE_FORMAT_CSV" })),
    }
}

/// A request's period and format, every refusal of both named.
fn period_and_format(p: Option<&pb::Period>, f: i32) -> Result<(Period, TableFormat), AppError> {
    match (period(p), format(f)) {
        (Ok(p), Ok(f)) => Ok((p, f)),
        (p, f) => {
            let mut violations = Vec::new();
            for e in [p.err(), f.err()].into_iter().flatten() {
                match e {
                    AppError::Domain(DomainError::Invalid(v)) => violations.extend(v),
                    other => return Err(other),
                }
            }
            Err(AppError::Domain(DomainError::Invalid(violations)))
        }
    }
}

fn set(t: &Tally, period: &Period) -> pb::FigureSet {
    let codes = |pairs: Vec<(&'static str, u64)>| pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    pb::FigureSet {
        from: period.from.to_string(),
        to: period.to.to_string(),
        label: period.label(),
        referrals: t.referrals,
        clues: t.clues,
        persons: t.persons,
        one_plus_n_cases: t.one_plus_n,
        members: t
            .members
            .iter()
            .map(|(m, f)| pb::MemberFlows {
                member: m.to_string(),
                referrals_sent: f.referrals_sent,
                referrals_received: f.referrals_received,
                clues_sent: f.clues_sent,
                clues_received: f.clues_received,
            })
            .collect(),
        outcomes: codes(t.outcomes.iter().map(|(o, n)| (o.code(), *n)).collect()),
        refusal_grounds: codes(t.refusals.iter().map(|(g, n)| (g.code(), *n)).collect()),
        amounts: t
            .amounts
            .iter()
            .map(|(aid, (count, fen))| pb::AidAmount { aid: aid.number(), count: *count, fen: *fen })
            .collect(),
        granted_fen: t.granted_fen,
        kept: t
            .kept
            .iter()
            .map(|((m, kind), k)| pb::DeadlinesKept {
                member: m.to_string(),
                kind: *kind as i32,
                met: k.met,
                met_late: k.late,
                missed: k.missed,
            })
            .collect(),
        days_to_start: Some(days(t.to_start)),
        days_to_feedback: Some(days(t.to_feedback)),
        priority_groups: codes(t.priority.iter().map(|(g, n)| (g.code(), *n)).collect()),
        visits: Some(pb::VisitFigures {
            visits: t.visits,
            aid_in_place: t.aid_in_place,
            another_referral: t.another_referral,
            effects: codes(t.effects.iter().map(|(e, n)| (e.code(), *n)).collect()),
        }),
        key_cases: t.key_cases,
    }
}

/// A mark as the API shows it, with the case's members and referrals when known.
fn key_case(mark: &KeyCase, line: Option<&KeyCaseLine>) -> pb::KeyCase {
    pb::KeyCase {
        case_id: mark.case_id.to_string(),
        reason: mark.reason.clone(),
        marked_by: mark.marked_by.to_string(),
        marked_at: Some(super::convert::timestamp(mark.marked_at)),
        members: line.map(|l| l.members.iter().map(ToString::to_string).collect()).unwrap_or_default(),
        referrals: line.map_or(0, |l| l.referrals),
        state: line.map_or(0, |l| l.state as i32),
    }
}

fn days(d: crate::domain::figures::Days) -> pb::WorkingDays {
    pb::WorkingDays { count: d.count, median: d.median, p90: d.p90 }
}

fn figures(hub: &app::Hub, f: &Figures) -> pb::Figures {
    let directory = hub.directory().now();
    pb::Figures {
        title: app::records::report_title(f, &directory),
        member: f.member.as_ref().map(ToString::to_string).unwrap_or_default(),
        this_period: Some(set(&f.this, &f.period)),
        year_before: Some(set(&f.before, &f.period.a_year_before())),
        overdue_now: f
            .overdue
            .iter()
            .map(|o| pb::OverdueCount { member: o.responsible.to_string(), kind: o.kind as i32, count: o.count })
            .collect(),
        today: f.today.to_string(),
        lines: f
            .lines(&directory)
            .iter()
            .map(|l| pb::FigureLine {
                section: l.section.to_owned(),
                label: l.label.clone(),
                this_period: l.this.text(),
                year_before: l.before.text(),
                change: l.change_text(),
            })
            .collect(),
        key_cases: f.key_cases.iter().map(|l| key_case(&l.mark, Some(l))).collect(),
    }
}

#[tonic::async_trait]
impl RecordsService for RecordsApi {
    type ExportLedgerStream = Pieces<pb::DocumentChunk>;
    type ExportFiguresStream = Pieces<pb::DocumentChunk>;

    #[tracing::instrument(skip_all, fields(rpc = "GetFigures"))]
    async fn get_figures(&self, request: Request<pb::GetFiguresRequest>) -> Result<Response<pb::Figures>, Status> {
        let actor = identity::actor(&request)?;
        let period = period(request.get_ref().period.as_ref())?;
        let found = app::records::figures(&self.hub, &actor, &period).await?;
        Ok(Response::new(figures(&self.hub, &found)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ExportFigures"))]
    async fn export_figures(
        &self,
        request: Request<pb::ExportFiguresRequest>,
    ) -> Result<Response<Self::ExportFiguresStream>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let (period, format) = period_and_format(body.period.as_ref(), body.format)?;
        let found = app::records::figures(&self.hub, &actor, &period).await?;
        Ok(Response::new(document(app::records::figures_table(&self.hub, &found, format).await?)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ExportLedger"))]
    async fn export_ledger(
        &self,
        request: Request<pb::ExportLedgerRequest>,
    ) -> Result<Response<Self::ExportLedgerStream>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let (period, format) = period_and_format(body.period.as_ref(), body.format)?;
        Ok(Response::new(document_made(app::records::ledger(&self.hub, &actor, &period, format)?)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "MarkKeyCase"))]
    async fn mark_key_case(&self, request: Request<pb::MarkKeyCaseRequest>) -> Result<Response<pb::KeyCase>, Status> {
        let actor = identity::actor(&request)?;
        key_case::may_mark(&actor.caller).map_err(AppError::from)?;
        let body = request.get_ref();
        let case_id = parse_uuid("case_id", &body.case_id)?;
        let reason = key_case::reason(&body.reason).map_err(AppError::from)?;
        let key = super::key("MarkKeyCase", &body.request_id, &request);
        let mark = app::key_cases::mark(&self.hub, &actor, &key, case_id, reason).await?;
        Ok(Response::new(key_case(&mark, None)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "UnmarkKeyCase"))]
    async fn unmark_key_case(
        &self,
        request: Request<pb::UnmarkKeyCaseRequest>,
    ) -> Result<Response<pb::UnmarkKeyCaseResponse>, Status> {
        let actor = identity::actor(&request)?;
        key_case::may_mark(&actor.caller).map_err(AppError::from)?;
        let body = request.get_ref();
        let case_id = parse_uuid("case_id", &body.case_id)?;
        let key = super::key("UnmarkKeyCase", &body.request_id, &request);
        app::key_cases::unmark(&self.hub, &actor, &key, case_id).await?;
        Ok(Response::new(pb::UnmarkKeyCaseResponse {}))
    }
}
