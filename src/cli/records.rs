//! What the member and office commands share for the records: a period as options, and
//! saving a ledger (台账).

use std::path::{Path, PathBuf};

use clap::Args;

use super::connection::explain;
use crate::{client::Client, proto as pb};

/// A period: `--year` alone, with `--quarter` or `--month`, or `--from` and `--to`.
#[derive(Args)]
pub struct PeriodArgs {
    #[arg(long, default_value_t = 0)]
    year: i32,
    /// 1–4, with `--year`.
    #[arg(long, default_value_t = 0)]
    quarter: u32,
    /// 1–12, with `--year`.
    #[arg(long, default_value_t = 0)]
    month: u32,
    /// The first day (YYYY-MM-DD), with `--to`.
    #[arg(long, default_value = "")]
    from: String,
    /// The last day, included.
    #[arg(long, default_value = "")]
    to: String,
}

impl PeriodArgs {
    pub fn period(self) -> pb::Period {
        pb::Period { year: self.year, quarter: self.quarter, month: self.month, from: self.from, to: self.to }
    }
}

/// `ledger`: a period and where to save it.
#[derive(Args)]
pub struct LedgerArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// A file (`.xlsx` or `.csv`), or a directory to save it in under its own name.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// In a directory: `xlsx` or `csv`.
    #[arg(long, default_value = "xlsx")]
    format: String,
}

fn format(out: &Path, named: &str) -> anyhow::Result<pb::TableFormat> {
    let extension = if out.is_dir() { None } else { out.extension().and_then(|e| e.to_str()) };
    match extension.unwrap_or(named).to_ascii_lowercase().as_str() {
        "xlsx" => Ok(pb::TableFormat::Xlsx),
        "csv" => Ok(pb::TableFormat::Csv),
        other => anyhow::bail!("--out/--format: {other:?} is neither xlsx nor csv"),
    }
}

/// Saves the ledger and says where.
pub async fn save_ledger(client: &Client, args: LedgerArgs) -> anyhow::Result<()> {
    let format = format(&args.out, &args.format)?;
    let saved = client.save_ledger(args.period.period(), format, &args.out).await.map_err(explain)?;
    println!("{}  {} bytes", saved.path.display(), saved.bytes);
    Ok(())
}
