//! The shipped calendar against an independent implementation: the `chinese-calendar`
//! package from PyPI, day by day, for every year the calendar ships. Compares day types
//! (its `is_workday`), not its counting.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use chrono::{Datelike, NaiveDate};
use xianjie::domain::calendar::Calendar;

const DUMP: &str = r#"
import datetime, sys
import chinese_calendar
first, last = (datetime.date.fromisoformat(a) for a in sys.argv[1:3])
days = (last - first).days + 1
print("".join("1" if chinese_calendar.is_workday(first + datetime.timedelta(i)) else "0" for i in range(days)))
"#;

#[test]
fn the_shipped_calendar_agrees_with_chinese_calendar_day_by_day() {
    let available = Command::new("python3").args(["-c", "import chinese_calendar"]).status().is_ok_and(|s| s.success());
    assert!(available, "needs python3 with the chinese-calendar package: run scripts/test.sh, which installs it");
    let calendar = Calendar::shipped();
    let years: Vec<i32> = calendar.years().collect();
    let first = NaiveDate::from_ymd_opt(years[0], 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(*years.last().unwrap(), 12, 31).unwrap();
    let output = Command::new("python3")
        .args(["-c", DUMP, &first.to_string(), &last.to_string()])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let theirs = String::from_utf8(output.stdout).unwrap();
    let theirs = theirs.trim();
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    assert_eq!(theirs.len(), days.len());
    let disagreements: Vec<String> = days
        .iter()
        .zip(theirs.chars())
        .filter(|(day, flag)| calendar.is_working_day(**day).value != (*flag == '1'))
        .map(|(day, flag)| {
            format!(
                "{day} ({:?}): chinese-calendar says {}",
                day.weekday(),
                if flag == '1' { "working" } else { "off" }
            )
        })
        .collect();
    println!(
        "compared {} years ({}–{}), {} days: {} disagreements",
        years.len(),
        years[0],
        years.last().unwrap(),
        days.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:#?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(10)]
    );
}
