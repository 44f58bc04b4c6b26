//! 年节假日安排 — one year's schedule as the State Council announces it, and the two
//! formats it is read from: the project's own TOML (`data/holidays.toml`) and the widely
//! used open JSON format (one file per year, a list of `{name, date, isOffDay}`).

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

/// One holiday of a notice: its days off and the weekend days worked for it (调休).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name: String,
    pub off: Vec<NaiveDate>,
    pub work: Vec<NaiveDate>,
}

/// The schedule of one notice year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub year: i32,
    pub holidays: Vec<Holiday>,
}

/// The shipped schedules, 2004–2026.
pub const SHIPPED: &str = include_str!("../../../data/holidays.toml");

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| format!("{raw:?} is not a date (YYYY-MM-DD)"))
}

/// `2024-02-10..2024-02-17` or a single date.
fn range(raw: &str) -> Result<Vec<NaiveDate>, String> {
    let (first, last) = match raw.split_once("..") {
        Some((a, b)) => (date(a)?, date(b)?),
        None => (date(raw)?, date(raw)?),
    };
    if last < first {
        return Err(format!("{raw:?}: the range ends before it starts"));
    }
    Ok(first.iter_days().take_while(|d| *d <= last).collect())
}

impl Schedule {
    /// Checks that the schedule can be the notice of its year: every date in that year
    /// (or the last days of December before it), no day both off and worked, and make-up
    /// working days only on weekends.
    pub fn validate(&self) -> Result<(), String> {
        if !(1990..=2200).contains(&self.year) {
            return Err(format!("year {} is out of range", self.year));
        }
        let earliest = NaiveDate::from_ymd_opt(self.year - 1, 12, 1).ok_or("year out of range")?;
        let latest = NaiveDate::from_ymd_opt(self.year, 12, 31).ok_or("year out of range")?;
        let mut off = std::collections::BTreeSet::new();
        for h in &self.holidays {
            if h.name.trim().is_empty() {
                return Err("a holiday has no name".into());
            }
            for d in h.off.iter().chain(&h.work) {
                if *d < earliest || *d > latest {
                    return Err(format!("{d} ({}) lies outside the notice year {}", h.name, self.year));
                }
            }
            for d in &h.work {
                if !is_weekend(*d) {
                    return Err(format!("{d} ({}) is a make-up working day but not a weekend day", h.name));
                }
            }
            off.extend(h.off.iter().copied());
        }
        if let Some(both) = self.holidays.iter().flat_map(|h| &h.work).find(|d| off.contains(*d)) {
            return Err(format!("{both} is listed both as a day off and as a working day"));
        }
        Ok(())
    }

    /// Days this notice changes: `true` for a working day, `false` for a day off.
    pub fn overrides(&self) -> impl Iterator<Item = (NaiveDate, bool)> + '_ {
        self.holidays.iter().flat_map(|h| h.off.iter().map(|d| (*d, false)).chain(h.work.iter().map(|d| (*d, true))))
    }

    /// Reads the open JSON format of one year:
    /// `{"year": 2027, "papers": [...], "days": [{"name", "date", "isOffDay"}, …]}`.
    pub fn from_open_json(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct File {
            year: i32,
            days: Vec<Day>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Day {
            name: String,
            date: String,
            is_off_day: bool,
        }
        let file: File = serde_json::from_str(text).map_err(|e| format!("not the open holiday JSON format: {e}"))?;
        let mut holidays: Vec<Holiday> = Vec::new();
        for day in file.days {
            let d = date(&day.date)?;
            let index = match holidays.iter().position(|h| h.name == day.name) {
                Some(i) => i,
                None => {
                    holidays.push(Holiday { name: day.name.clone(), off: vec![], work: vec![] });
                    holidays.len() - 1
                }
            };
            let holiday = &mut holidays[index];
            if day.is_off_day {
                holiday.off.push(d);
            } else {
                holiday.work.push(d);
            }
        }
        let schedule = Schedule { year: file.year, holidays };
        schedule.validate()?;
        Ok(schedule)
    }

    /// Writes the open JSON format.
    pub fn to_open_json(&self) -> String {
        let mut days: Vec<(NaiveDate, &str, bool)> = self
            .holidays
            .iter()
            .flat_map(|h| {
                h.off
                    .iter()
                    .map(|d| (*d, h.name.as_str(), true))
                    .chain(h.work.iter().map(|d| (*d, h.name.as_str(), false)))
            })
            .collect();
        days.sort();
        let days: Vec<_> = days
            .into_iter()
            .map(|(d, name, off)| serde_json::json!({"name": name, "date": d.to_string(), "isOffDay": off}))
            .collect();
        serde_json::json!({"year": self.year, "papers": [], "days": days}).to_string()
    }
}

/// Reads schedules in the project's own TOML format (`data/holidays.toml`).
pub fn from_toml(text: &str) -> Result<Vec<Schedule>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        year: Vec<Year>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Year {
        year: i32,
        #[serde(default)]
        holiday: Vec<Entry>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        name: String,
        off: String,
        #[serde(default)]
        work: Vec<String>,
    }
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    file.year
        .into_iter()
        .map(|y| {
            let holidays = y
                .holiday
                .into_iter()
                .map(|e| {
                    Ok(Holiday {
                        name: e.name,
                        off: range(&e.off)?,
                        work: e.work.iter().map(|w| date(w)).collect::<Result<_, String>>()?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| format!("year {}: {e}", y.year))?;
            let schedule = Schedule { year: y.year, holidays };
            schedule.validate().map_err(|e| format!("year {}: {e}", y.year))?;
            Ok(schedule)
        })
        .collect()
}

/// Reads a schedule file in either format: JSON (the open format) when it starts
/// with `{`, the project's TOML otherwise.
pub fn parse_any(text: &str) -> Result<Vec<Schedule>, String> {
    if text.trim_start().starts_with('{') {
        Schedule::from_open_json(text).map(|s| vec![s])
    } else {
        from_toml(text)
    }
}
