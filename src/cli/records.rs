//! What the member and office commands share for the records: a period as options,
//! saving a ledger (台账), and the figures for the joint meeting as a readable table,
//! JSON or a file.

use std::path::{Path, PathBuf};

use clap::Args;

use serde_json::{json, Value};

use super::{connection::explain, member::print_json};
use crate::{client::Client, domain::case::CaseState, proto as pb};

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

/// `figures`: a period, and how to give them.
#[derive(Args)]
pub struct FiguresArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Save them as a table instead (`.xlsx` or `.csv`, or a directory with `--format`);
    /// also spelt `--xlsx FILE`.
    #[arg(long, visible_alias = "xlsx")]
    out: Option<PathBuf>,
    /// With `--out` a directory: `xlsx` or `csv`.
    #[arg(long, default_value = "xlsx")]
    format: String,
}

/// `key-case`: marks a case for the joint meeting's study, or removes the mark.
#[derive(Args)]
pub struct KeyCaseArgs {
    /// The case's id.
    case: String,
    /// Why the case needs the meeting's study (say why, not who: the office reads it).
    #[arg(long, required_unless_present = "unmark")]
    reason: Option<String>,
    /// Remove the mark instead.
    #[arg(long, conflicts_with = "reason")]
    unmark: bool,
}

/// Marks or unmarks a case and says so.
pub async fn key_case(client: &Client, args: KeyCaseArgs, json: bool) -> anyhow::Result<()> {
    match args.reason {
        Some(reason) if !args.unmark => {
            let mark = client.mark_key_case(&args.case, &reason).await.map_err(explain)?;
            if json {
                print_json(&json!({"case_id": mark.case_id, "reason": mark.reason, "marked_by": mark.marked_by}));
            } else {
                println!("{} 已标记为重点救助对象：{}", mark.case_id, mark.reason);
            }
        }
        _ => {
            client.unmark_key_case(&args.case).await.map_err(explain)?;
            if !json {
                println!("{} 已取消重点救助对象标记", args.case);
            }
        }
    }
    Ok(())
}

/// How wide `text` shows in a terminal: CJK characters take two columns.
fn width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn padded(text: &str, to: usize) -> String {
    format!("{text}{}", " ".repeat(to.saturating_sub(width(text))))
}

/// The figures as JSON: both periods' lines, and overdue now.
fn figures_json(f: &pb::Figures) -> Value {
    let set = |s: &Option<pb::FigureSet>| {
        let s = s.clone().unwrap_or_default();
        json!({"from": s.from, "to": s.to, "label": s.label, "referrals": s.referrals, "clues": s.clues,
               "persons": s.persons, "one_plus_n_cases": s.one_plus_n_cases, "outcomes": s.outcomes,
               "refusal_grounds": s.refusal_grounds, "granted_fen": s.granted_fen,
               "amounts": s.amounts.iter().map(|a| json!({"aid": a.aid, "count": a.count, "fen": a.fen})).collect::<Vec<_>>(),
               "priority_groups": s.priority_groups, "key_cases": s.key_cases,
               "visits": s.visits.map(|v| json!({"visits": v.visits, "aid_in_place": v.aid_in_place,
                                                 "another_referral": v.another_referral, "effects": v.effects})),
               "days_to_start": s.days_to_start.map(|d| json!({"count": d.count, "median": d.median, "p90": d.p90})),
               "days_to_feedback": s.days_to_feedback.map(|d| json!({"count": d.count, "median": d.median, "p90": d.p90}))})
    };
    json!({
        "title": f.title,
        "member": f.member,
        "today": f.today,
        "this_period": set(&f.this_period),
        "year_before": set(&f.year_before),
        "overdue_now": f.overdue_now.iter().map(|o| json!({"member": o.member, "kind": o.kind, "count": o.count})).collect::<Vec<_>>(),
        "key_cases": f.key_cases.iter().map(|k| json!({"case_id": k.case_id, "reason": k.reason, "marked_by": k.marked_by,
                                                      "members": k.members, "referrals": k.referrals,
                                                      "state": k.state})).collect::<Vec<_>>(),
        "lines": f.lines.iter().map(|l| json!({"section": l.section, "label": l.label, "this_period": l.this_period,
                                              "year_before": l.year_before, "change": l.change})).collect::<Vec<_>>(),
    })
}

/// Prints the figures (or saves them, with `--out`).
pub async fn show_figures(client: &Client, args: FiguresArgs, json: bool) -> anyhow::Result<()> {
    let period = args.period.period();
    if let Some(out) = args.out {
        let saved = client.save_figures(period, format(&out, &args.format)?, &out).await.map_err(explain)?;
        println!("{}  {} bytes", saved.path.display(), saved.bytes);
        return Ok(());
    }
    let figures = client.figures(period).await.map_err(explain)?;
    if json {
        print_json(&figures_json(&figures));
        return Ok(());
    }
    let (this, before) = (
        figures.this_period.as_ref().map(|s| s.label.clone()).unwrap_or_default(),
        figures.year_before.as_ref().map(|s| s.label.clone()).unwrap_or_default(),
    );
    let label_width = figures.lines.iter().map(|l| width(&l.label)).max().unwrap_or(0).max(8);
    println!("{}\n", figures.title);
    let mut section = "";
    for line in &figures.lines {
        if line.section != section {
            section = &line.section;
            println!(
                "{}\n  {}  {}  {}  同比",
                section,
                padded("指标", label_width),
                padded(&this, 16),
                padded(&before, 16)
            );
        }
        println!(
            "  {}  {}  {}  {}",
            padded(&line.label, label_width),
            padded(&line.this_period, 16),
            padded(&line.year_before, 16),
            line.change
        );
    }
    if !figures.key_cases.is_empty() {
        println!("\n重点救助对象（提请联席会议研究）");
        for (n, k) in figures.key_cases.iter().enumerate() {
            println!(
                "  {}. {}  {}  移送 {} 件，{}  标记：{}",
                n + 1,
                k.members.join("、"),
                k.reason,
                k.referrals,
                CaseState::from_number(k.state).map_or("", CaseState::label),
                k.marked_by
            );
        }
    }
    let visit = pb::DeadlineKind::Visit as i32;
    let overdue: u64 = figures.overdue_now.iter().filter(|o| o.kind != visit).map(|o| o.count).sum();
    let visits: u64 = figures.overdue_now.iter().filter(|o| o.kind == visit).map(|o| o.count).sum();
    println!("\n截至 {}，逾期未办的法定期限 {overdue} 项；逾期未回访 {visits} 件", figures.today);
    Ok(())
}
