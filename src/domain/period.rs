//! A period of the records (统计期间): a year, a quarter, a month or any span of days,
//! in China's calendar, and the same period a year before, as the figures for the joint
//! meeting compare them (同比).

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};

use super::rule::Rule;
use super::{
    date::{self, china},
    FieldViolation,
};

/// How a period was asked for, which is how it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Year,
    Quarter(u32),
    Month,
    Span,
}

/// Days `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub shape: Shape,
}

/// A period as asked: a year alone, with a quarter or a month, or two dates. Zero and
/// empty mean not given.
#[derive(Debug, Clone, Copy, Default)]
pub struct PeriodInput<'a> {
    pub year: i32,
    pub quarter: u32,
    pub month: u32,
    pub from: &'a str,
    pub to: &'a str,
}

/// The longest span a period may cover.
const MAX_YEARS: u32 = 10;

fn first_of(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

impl Period {
    /// Parses a period; each refusal names its field.
    pub fn parse(input: PeriodInput<'_>) -> Result<Self, FieldViolation> {
        let dates = !input.from.is_empty() || !input.to.is_empty();
        if dates {
            if input.year != 0 || input.quarter != 0 || input.month != 0 {
                return Err(FieldViolation::new("period", Rule::PeriodEither));
            }
            let from = date::parse("period.from", input.from)?;
            let to = date::parse("period.to", input.to)?;
            if to < from {
                return Err(FieldViolation::new("period.to", Rule::PeriodEnd));
            }
            if from.checked_add_months(Months::new(12 * MAX_YEARS)).is_some_and(|limit| to >= limit) {
                return Err(FieldViolation::new("period.to", Rule::PeriodSpan { max: MAX_YEARS }));
            }
            return Ok(Period { from, to, shape: Shape::Span });
        }
        if !(2000..=2100).contains(&input.year) {
            return Err(FieldViolation::new("period.year", Rule::PeriodYear));
        }
        let (start_month, months, shape) = match (input.quarter, input.month) {
            (0, 0) => (1, 12, Shape::Year),
            (q @ 1..=4, 0) => (3 * q - 2, 3, Shape::Quarter(q)),
            (0, m @ 1..=12) => (m, 1, Shape::Month),
            (0, _) => return Err(FieldViolation::new("period.month", Rule::Month)),
            (1..=4, _) => return Err(FieldViolation::new("period", Rule::QuarterOrMonth)),
            _ => return Err(FieldViolation::new("period.quarter", Rule::Quarter)),
        };
        let from =
            first_of(input.year, start_month).ok_or_else(|| FieldViolation::new("period.year", Rule::NoSuchYear))?;
        let to = from + Months::new(months) - Days::new(1);
        Ok(Period { from, to, shape })
    }

    /// The whole calendar year `year`.
    pub fn year(year: i32) -> Option<Self> {
        Period::parse(PeriodInput { year, ..PeriodInput::default() }).ok()
    }

    /// The same days a year before (29 February becomes the 28th).
    pub fn a_year_before(&self) -> Period {
        let back = |d: NaiveDate| d.checked_sub_months(Months::new(12)).unwrap_or(d);
        Period { from: back(self.from), to: back(self.to), shape: self.shape }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// The instants of the period: from the first day's midnight in China to the midnight
    /// after its last day, that one excluded.
    pub fn instants(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let midnight = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(china()).single())
                .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
        };
        (midnight(self.from), midnight(self.to + Days::new(1)))
    }

    /// How the office names it: 2026年, 2026年第一季度, 2026年3月, 2026年1月1日至6月30日.
    pub fn label(&self) -> String {
        const QUARTERS: [&str; 4] = ["一", "二", "三", "四"];
        let (y, f, t) = (self.from.year(), self.from, self.to);
        match self.shape {
            Shape::Year => format!("{y}年"),
            Shape::Quarter(q) => format!("{y}年第{}季度", QUARTERS[(q as usize).clamp(1, 4) - 1]),
            Shape::Month => format!("{y}年{}月", f.month()),
            Shape::Span if f.year() == t.year() => {
                format!("{y}年{}月{}日至{}月{}日", f.month(), f.day(), t.month(), t.day())
            }
            Shape::Span => format!("{y}年{}月{}日至{}年{}月{}日", f.month(), f.day(), t.year(), t.month(), t.day()),
        }
    }

    /// A short name for files: 2026, 2026Q1, 2026-03, 20260101-20260630.
    pub fn slug(&self) -> String {
        match self.shape {
            Shape::Year => self.from.format("%Y").to_string(),
            Shape::Quarter(q) => format!("{}Q{q}", self.from.year()),
            Shape::Month => self.from.format("%Y-%m").to_string(),
            Shape::Span => format!("{}-{}", self.from.format("%Y%m%d"), self.to.format("%Y%m%d")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_year_a_quarter_a_month_or_two_dates() {
        let year = Period::parse(PeriodInput { year: 2024, ..Default::default() }).unwrap();
        assert_eq!((year.from, year.to, year.label()), (d("2024-01-01"), d("2024-12-31"), "2024年".into()));
        let q = Period::parse(PeriodInput { year: 2026, quarter: 4, ..Default::default() }).unwrap();
        assert_eq!(
            (q.from, q.to, q.label(), q.slug()),
            (d("2026-10-01"), d("2026-12-31"), "2026年第四季度".into(), "2026Q4".into())
        );
        let feb = Period::parse(PeriodInput { year: 2024, month: 2, ..Default::default() }).unwrap();
        assert_eq!((feb.to, feb.label()), (d("2024-02-29"), "2024年2月".into()));
        assert_eq!(feb.a_year_before().to, d("2023-02-28"));
        let span = Period::parse(PeriodInput { from: "2026-01-01", to: "2026-06-30", ..Default::default() }).unwrap();
        assert_eq!(span.label(), "2026年1月1日至6月30日");
        assert_eq!(span.a_year_before().from, d("2025-01-01"));
    }

    #[test]
    fn each_bad_period_names_its_field() {
        let field = |input: PeriodInput<'_>| Period::parse(input).unwrap_err().field;
        assert_eq!(field(PeriodInput::default()), "period.year");
        assert_eq!(field(PeriodInput { year: 2026, quarter: 5, ..Default::default() }), "period.quarter");
        assert_eq!(field(PeriodInput { year: 2026, month: 13, ..Default::default() }), "period.month");
        assert_eq!(field(PeriodInput { year: 2026, quarter: 1, month: 1, ..Default::default() }), "period");
        assert_eq!(field(PeriodInput { year: 2026, from: "2026-01-01", ..Default::default() }), "period");
        assert_eq!(field(PeriodInput { from: "2026-02-30", to: "2026-03-01", ..Default::default() }), "period.from");
        assert_eq!(field(PeriodInput { from: "2026-03-01", to: "2026-02-01", ..Default::default() }), "period.to");
        assert_eq!(field(PeriodInput { from: "2000-01-01", to: "2026-01-01", ..Default::default() }), "period.to");
    }

    #[test]
    fn a_period_runs_from_midnight_to_midnight_in_china() {
        let (from, to) = Period::year(2026).unwrap().instants();
        assert_eq!(from.to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-31T16:00:00+00:00");
    }
}
