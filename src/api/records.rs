//! The RecordsService: the ledgers (台账), through [`crate::app::records`].

use tonic::{Request, Response, Status};

use super::{
    identity,
    materials::{document, Pieces},
};
use crate::{
    app::{self, records::TableFormat, AppError},
    domain::{
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
        _ => Err(AppError::invalid("format", "required: TABLE_FORMAT_XLSX or TABLE_FORMAT_CSV")),
    }
}

#[tonic::async_trait]
impl RecordsService for RecordsApi {
    type ExportLedgerStream = Pieces<pb::DocumentChunk>;

    #[tracing::instrument(skip_all, fields(rpc = "ExportLedger"))]
    async fn export_ledger(
        &self,
        request: Request<pb::ExportLedgerRequest>,
    ) -> Result<Response<Self::ExportLedgerStream>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let (period, format) = (period(body.period.as_ref())?, format(body.format)?);
        Ok(Response::new(document(app::records::ledger(&self.hub, &actor, &period, format).await?)))
    }
}
