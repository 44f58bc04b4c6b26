//! Dates as the law counts them: calendar days in China Standard Time (UTC+8, no
//! daylight saving), whatever time zone the hub runs in.

use crate::domain::Rule;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::FieldViolation;

/// China Standard Time, the zone of every date the opinion speaks of.
pub fn china() -> FixedOffset {
    // 8 hours is well inside the ±24 h range `east_opt` accepts.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!())
}

/// The calendar day in China at an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china()).date_naive()
}

/// The wall-clock time in China at an instant.
pub fn local_time(at: DateTime<Utc>) -> chrono::NaiveDateTime {
    at.with_timezone(&china()).naive_local()
}

/// Parses a `YYYY-MM-DD` date given in field `field`.
pub fn parse(field: &str, raw: &str) -> Result<NaiveDate, FieldViolation> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10)
        .ok_or_else(|| FieldViolation::new(field, Rule::NotADate))
}

/// Parses a past (or today's) date: acts the law counts from cannot lie in the future.
pub fn parse_past(field: &str, raw: &str, now: DateTime<Utc>) -> Result<NaiveDate, FieldViolation> {
    let date = parse(field, raw)?;
    let today = local_date(now);
    if date > today {
        return Err(FieldViolation::new(field, Rule::InTheFuture { today }));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_turns_at_midnight_in_china() {
        let late_utc = "2026-09-30T16:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(local_date(late_utc).to_string(), "2026-10-01");
        let early_utc = "2026-09-30T15:59:59Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(local_date(early_utc).to_string(), "2026-09-30");
    }

    #[test]
    fn future_and_malformed_dates_are_refused_with_their_field() {
        let now = "2026-09-30T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert!(parse_past("d", "2026-09-30", now).is_ok());
        let err = parse_past("draft.discovered_on", "2026-10-01", now).unwrap_err();
        assert_eq!(err.field, "draft.discovered_on");
        assert!(err.description().contains("future"), "{}", err.description());
        for bad in ["2026-9-30", "30/09/2026", "2026-02-30", ""] {
            assert!(parse("d", bad).is_err(), "{bad:?} accepted");
        }
    }
}
