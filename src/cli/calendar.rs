//! `xianjie calendar …`: the working-day calendar, from the shipped data and the years
//! loaded into the data directory, with no hub needed; and loading a year.

use std::{path::PathBuf, process::ExitCode};

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::{
    connection::{explain, Connection},
    member::print_json,
};
use crate::{
    app::{assembly::Surroundings, calendar::load_schedule, Actor, Hub, RequestKey},
    config::{Config, Flags},
    domain::calendar::{schedule, Calendar, YearStatus},
    proto as pb,
    store::{self, load_calendar},
};

#[derive(Args)]
pub struct CalendarArgs {
    /// The hub's data directory, whose loaded years count too.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: CalendarCommand,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Whether a day is a working day.
    IsWorkingDay { date: String },
    /// The N-th working day after a day (the day itself not counted).
    Add { date: String, days: u32 },
    /// Working days after FROM up to and including TO.
    Between { from: String, to: String },
    /// What the calendar knows of a year.
    Year { year: i32 },
    /// Loads a year's schedule (open JSON format, or the hub's TOML) into the data
    /// directory, or with `--via-hub` through the running hub as `admin`. Every open
    /// deadline is counted again, and moves are announced.
    Import {
        file: PathBuf,
        /// Where the schedule comes from, e.g. the notice's number.
        #[arg(long)]
        source: Option<String>,
        /// Load through the running hub (needed while it runs).
        #[arg(long)]
        via_hub: bool,
        #[command(flatten)]
        connection: Connection,
    },
}

fn date(raw: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| anyhow::anyhow!("{raw:?} is not a date (YYYY-MM-DD)"))
}

fn provisional_note(provisional: bool) -> &'static str {
    if provisional {
        "（暂定：所涉年度尚未公布节假日安排，仅按周末计算）"
    } else {
        ""
    }
}

/// The calendar of the data directory: shipped years, and those loaded there.
async fn calendar(config: &Config) -> anyhow::Result<Calendar> {
    if !config.data_dir.join("xianjie.db").exists() && config.database_url.is_none() {
        return Ok(Calendar::shipped());
    }
    let store = store::open(&config.database_url(), std::sync::Arc::new(config.keys()?)).await?;
    let calendar = load_calendar(store.as_ref()).await?;
    store.close().await;
    Ok(calendar)
}

pub async fn run(args: CalendarArgs) -> anyhow::Result<ExitCode> {
    let config = Config::from_process(None, &Flags { data_dir: args.data_dir.clone(), ..Flags::default() })?;
    let json = args.json;
    match args.command {
        CalendarCommand::IsWorkingDay { date: raw } => {
            let day = date(&raw)?;
            let calendar = calendar(&config).await?;
            let r = calendar.is_working_day(day);
            let holiday = calendar.holiday(day).unwrap_or_default();
            if json {
                print_json(
                    &serde_json::json!({"date": raw, "working": r.value, "holiday": holiday, "provisional": r.provisional}),
                );
            } else {
                let why = match (holiday, r.value) {
                    ("", _) => String::new(),
                    (name, true) => format!("（{name}调休上班）"),
                    (name, false) => format!("（{name}）"),
                };
                println!("{day} {}{why}{}", if r.value { "工作日" } else { "休息日" }, provisional_note(r.provisional));
            }
        }
        CalendarCommand::Add { date: raw, days } => {
            let r = calendar(&config).await?.add_working_days(date(&raw)?, days);
            if json {
                print_json(
                    &serde_json::json!({"from": raw, "working_days": days, "date": r.value.to_string(), "provisional": r.provisional}),
                );
            } else {
                println!("{raw} 后第 {days} 个工作日：{}{}", r.value, provisional_note(r.provisional));
            }
        }
        CalendarCommand::Between { from, to } => {
            let r = calendar(&config).await?.working_days_between(date(&from)?, date(&to)?);
            if json {
                print_json(
                    &serde_json::json!({"from": from, "to": to, "working_days": r.value, "provisional": r.provisional}),
                );
            } else {
                println!("{from} 至 {to}：{} 个工作日{}", r.value, provisional_note(r.provisional));
            }
        }
        CalendarCommand::Year { year } => {
            let calendar = calendar(&config).await?;
            let official = calendar.year_status(year) == YearStatus::Official;
            let holidays: Vec<_> = calendar.schedule(year).map(|s| s.holidays.clone()).unwrap_or_default();
            if json {
                let holidays: Vec<_> = holidays
                    .iter()
                    .map(|h| serde_json::json!({"name": h.name, "off": h.off, "work": h.work}))
                    .collect();
                print_json(&serde_json::json!({"year": year, "official": official, "holidays": holidays}));
            } else if official {
                println!("{year} 年：已有国务院办公厅节假日安排");
                for h in holidays {
                    let work: Vec<_> = h.work.iter().map(ToString::to_string).collect();
                    let span = match (h.off.first(), h.off.last()) {
                        (Some(a), Some(b)) if a != b => format!("{a} 至 {b}"),
                        (Some(a), _) => a.to_string(),
                        _ => String::new(),
                    };
                    println!(
                        "  {}：{span} 放假{}",
                        h.name,
                        if work.is_empty() { String::new() } else { format!("，{} 上班", work.join("、")) }
                    );
                }
            } else {
                println!("{year} 年：尚未载入节假日安排，期限仅按周末计算并标记为暂定");
            }
        }
        CalendarCommand::Import { file, source, via_hub, connection } => {
            let content = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let source = source.unwrap_or_else(|| file.display().to_string());
            let loaded = if via_hub {
                connection.connect("admin").await?.load_schedule(&content, &source).await.map_err(explain)?
            } else {
                import_offline(&config, &content, &source).await?
            };
            if json {
                let moved: Vec<_> = loaded
                    .moved
                    .iter()
                    .map(|m| serde_json::json!({"referral_id": m.referral_id, "kind": m.kind, "responsible": m.responsible, "was_due_on": m.was_due_on, "due_on": m.due_on}))
                    .collect();
                print_json(
                    &serde_json::json!({"year": loaded.year, "version": loaded.version, "recounted": loaded.recounted, "moved": moved}),
                );
            } else {
                println!(
                    "已载入 {} 年节假日安排（第 {} 版）；重新计算 {} 项未到期期限，{} 项变动",
                    loaded.year,
                    loaded.version,
                    loaded.recounted,
                    loaded.moved.len()
                );
                for m in &loaded.moved {
                    println!("  {} {} {}：{} → {}", m.referral_id, m.kind, m.responsible, m.was_due_on, m.due_on);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads a schedule straight into the data directory, through the same plan as the
/// hub's LoadSchedule, recorded as loaded by the admin.
async fn import_offline(config: &Config, content: &str, source: &str) -> anyhow::Result<pb::LoadScheduleResponse> {
    let mut schedules = schedule::parse_any(content).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(schedules.len() == 1, "one year per import, not {}", schedules.len());
    let schedule = schedules.remove(0);
    let hub = Hub::open(config, config.clock(), Surroundings::none()).await?;
    let admin = Actor::console();
    let key = RequestKey::new(&crate::client::request_id(), "LoadSchedule", content.as_bytes());
    let loaded = load_schedule(&hub, &admin, &key, schedule, source.to_owned())
        .await
        .map(|loaded| crate::api::convert::loaded(&loaded))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    hub.close().await;
    Ok(loaded)
}
