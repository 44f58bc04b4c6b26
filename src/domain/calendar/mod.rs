//! 工作日 — mainland China's working-day calendar and the counting of statutory periods.
//!
//! Monday to Friday are working days, except the holidays of the State Council's yearly
//! notice; weekend days the notice declares make-up working days (调休上班) are working
//! days. A year with no notice loaded is counted on weekdays alone, and everything
//! counted through it is provisional, never silently treated as known.
//!
//! "Within N working days after day D" (民法典 Art. 201: the start day is not counted)
//! ends with the N-th working day after D, whatever D itself is.

pub mod schedule;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, Weekday};
pub use schedule::{Holiday, Schedule};

/// A reckoning, and whether it relied on a year with no official schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reckoned<T> {
    pub value: T,
    pub provisional: bool,
}

/// What the calendar knows of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearStatus {
    /// The State Council's notice for the year is loaded.
    Official,
    /// No notice: weekdays only, and provisional.
    Unknown,
}

/// The working-day calendar: the merged schedules of every notice year it holds.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    schedules: BTreeMap<i32, Schedule>,
    days: HashMap<NaiveDate, bool>,
}

impl Calendar {
    /// A calendar of these schedules; of two with the same year, the later one wins.
    pub fn new(schedules: impl IntoIterator<Item = Schedule>) -> Self {
        let mut calendar = Calendar::default();
        for schedule in schedules {
            calendar.schedules.insert(schedule.year, schedule);
        }
        calendar.merge();
        calendar
    }

    /// The shipped schedules (2004–2026), checked by a unit test.
    pub fn shipped() -> Self {
        Self::new(schedule::from_toml(schedule::SHIPPED).unwrap_or_else(|e| panic!("data/holidays.toml: {e}")))
    }

    /// This calendar with `schedule` added or replacing the one of its year.
    pub fn with(&self, schedule: Schedule) -> Self {
        let mut next = self.clone();
        next.schedules.insert(schedule.year, schedule);
        next.merge();
        next
    }

    fn merge(&mut self) {
        // In year order, so that a notice's late-December days win over the year before.
        self.days = self.schedules.values().flat_map(Schedule::overrides).collect();
    }

    pub fn schedule(&self, year: i32) -> Option<&Schedule> {
        self.schedules.get(&year)
    }

    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.schedules.keys().copied()
    }

    pub fn year_status(&self, year: i32) -> YearStatus {
        if self.schedules.contains_key(&year) {
            YearStatus::Official
        } else {
            YearStatus::Unknown
        }
    }

    fn known(&self, date: NaiveDate) -> bool {
        self.schedules.contains_key(&date.year())
    }

    fn working(&self, date: NaiveDate) -> bool {
        self.days.get(&date).copied().unwrap_or_else(|| !matches!(date.weekday(), Weekday::Sat | Weekday::Sun))
    }

    /// The holiday a notice lists `date` for (as a day off or a make-up working day).
    pub fn holiday(&self, date: NaiveDate) -> Option<&str> {
        // A notice may list late-December days of the year before.
        [date.year(), date.year() + 1]
            .into_iter()
            .filter_map(|year| self.schedules.get(&year))
            .flat_map(|s| &s.holidays)
            .find(|h| h.off.contains(&date) || h.work.contains(&date))
            .map(|h| h.name.as_str())
    }

    pub fn is_working_day(&self, date: NaiveDate) -> Reckoned<bool> {
        Reckoned { value: self.working(date), provisional: !self.known(date) }
    }

    /// The N-th working day after `from` (`from` not counted). N = 0 gives `from`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Reckoned<NaiveDate> {
        let mut date = from;
        let mut provisional = false;
        let mut left = n;
        while left > 0 {
            date = date.succ_opt().unwrap_or(NaiveDate::MAX);
            if date == NaiveDate::MAX {
                break;
            }
            provisional |= !self.known(date);
            if self.working(date) {
                left -= 1;
            }
        }
        Reckoned { value: date, provisional }
    }

    /// The working days after `from` up to and including `to`; negative when `to` comes
    /// first. `working_days_between(d, add_working_days(d, n)) == n`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Reckoned<i64> {
        let (start, end, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
        let mut count = 0;
        let mut provisional = false;
        for date in start.iter_days().skip(1).take_while(|d| *d <= end) {
            provisional |= !self.known(date);
            count += i64::from(self.working(date));
        }
        Reckoned { value: sign * count, provisional }
    }
}

#[cfg(test)]
mod tests;
