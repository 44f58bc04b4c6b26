//! The records over a large store: the office's figures for the joint meeting, and a
//! member's ledger exported as XLSX and as CSV (rows per second).

use std::{path::Path, time::Instant};

use super::{
    stats::{millis, Spread},
    Target,
};
use crate::proto as pb;

/// Prints how long the office's figures of `year` take, and how fast a month of 民政's
/// ledger is written.
pub async fn figures(hub: &Target, dir: &Path, runs: usize, referrals: usize, year: i32) -> anyhow::Result<()> {
    let office = hub.client("office").await?;
    let period = pb::Period { year, ..Default::default() };
    let mut took = Vec::new();
    let mut counted = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let figures = office.figures(period.clone()).await?;
        took.push(millis(t.elapsed()));
        counted = figures.this_period.map_or(0, |s| s.referrals);
    }
    println!(
        "figures for the joint meeting ({referrals} referrals in the store, {counted} in {year}, with the year before; ms): {}",
        Spread::of(&took)
    );
    let mz = hub.client("mz").await?;
    let month = pb::Period { year, month: 8, ..Default::default() };
    let rows = ledger_rows(&mz, &month, dir).await?;
    for (format, name) in [(pb::TableFormat::Xlsx, "XLSX"), (pb::TableFormat::Csv, "CSV")] {
        let mut rates = Vec::new();
        for run in 0..runs {
            let out = dir.join(format!("ledger-{run}.{}", name.to_lowercase()));
            let t = Instant::now();
            let saved = mz.save_ledger(month.clone(), format, &out).await?;
            rates.push(rows as f64 / t.elapsed().as_secs_f64().max(1e-9));
            std::fs::remove_file(&saved.path)?;
        }
        println!("ledger export ({name}, 民政 {year}-08, {rows} rows; rows/s): {}", Spread::of(&rates));
    }
    Ok(())
}

/// The rows of a ledger, counted in its CSV.
async fn ledger_rows(client: &crate::client::Client, period: &pb::Period, dir: &Path) -> anyhow::Result<usize> {
    let saved = client.save_ledger(period.clone(), pb::TableFormat::Csv, &dir.join("count.csv")).await?;
    let rows = std::fs::read_to_string(&saved.path)?.lines().count().saturating_sub(1);
    std::fs::remove_file(&saved.path)?;
    Ok(rows)
}

/// Prints how fast the office's ledger of the whole `year` is written over the large
/// store, and the hub's peak resident memory meanwhile.
pub async fn office_year(hub: &Target, pid: u32, dir: &Path, year: i32) -> anyhow::Result<()> {
    let office = hub.client("office").await?;
    let period = pb::Period { year, ..Default::default() };
    // Counted in the CSV, written first.
    let mut rows = 0;
    for (format, name) in [(pb::TableFormat::Csv, "CSV"), (pb::TableFormat::Xlsx, "XLSX")] {
        let idle = super::machine::memory(pid).unwrap_or_default();
        let out = dir.join(format!("office.{}", name.to_lowercase()));
        let t = Instant::now();
        let (saved, peak) =
            super::peak_while(pid, async { Ok(office.save_ledger(period.clone(), format, &out).await?) }).await?;
        let took = t.elapsed().as_secs_f64();
        if format == pb::TableFormat::Csv {
            let lines = std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(&saved.path)?));
            rows = lines.count().saturating_sub(1);
        }
        println!(
            "the office's ledger of {year} ({name}, {rows} rows, {:.1} MiB): {took:.1} s, {:.0} rows/s; the hub's \
             memory {idle} before, peak {peak}",
            saved.bytes as f64 / f64::from(1 << 20),
            rows as f64 / took.max(1e-9)
        );
        std::fs::remove_file(&saved.path)?;
    }
    Ok(())
}
