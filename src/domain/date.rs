//! Dates as the law counts them: calendar days in China Standard Time (UTC+8, no
//! daylight saving), whatever time zone the hub runs in.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::rule::Rule;
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

/// A day as a 公文 writes it, in Arabic numerals (GB/T 9704-2012): 2026年9月24日.
pub fn written(day: NaiveDate) -> String {
    format!("{}年{}", day.format("%Y"), month_day(day))
}

/// A day of this year as a message says it: 9月24日.
pub fn month_day(day: NaiveDate) -> String {
    format!("{}月{}日", day.format("%-m"), day.format("%-d"))
}

/// Parses a date given in field `field` as people type it: `2026-03-05`, `2026-3-5`,
/// `2026/3/5`, `2026.3.5`, `2026年3月5日`, in full-width digits too.
pub fn parse(field: &str, raw: &str) -> Result<NaiveDate, FieldViolation> {
    let bad = || FieldViolation::new(field, Rule::NotADate);
    let text: String = raw.trim().chars().map(half_width).collect();
    let text = text.strip_suffix('日').unwrap_or(&text);
    let parts: Vec<&str> = text.split(['-', '/', '.', '年', '月']).collect();
    let [year, month, day] = parts[..] else { return Err(bad()) };
    let digits = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(year, 4..=4) && digits(month, 1..=2) && digits(day, 1..=2)) {
        return Err(bad());
    }
    let number = |part: &str| part.parse::<u32>().map_err(|_| bad());
    NaiveDate::from_ymd_opt(number(year)? as i32, number(month)?, number(day)?).ok_or_else(bad)
}

/// A character as typed on a Chinese keyboard in full width (２０２６，－) as its ASCII
/// twin; any other as it is.
pub fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
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
        for bad in
            ["30/09/2026", "2026-02-30", "", "2026-09", "26-9-30", "2026-9-30-1", "2026年9月", "２０２６－２－３０"]
        {
            assert!(parse("d", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn dates_are_read_as_people_type_them() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        for typed in
            ["2026-03-05", "2026-3-5", " 2026/3/5 ", "2026.03.05", "2026年3月5日", "2026年03月05", "２０２６－３－５"]
        {
            assert_eq!(parse("d", typed).ok(), Some(day), "{typed:?}");
        }
    }
}
