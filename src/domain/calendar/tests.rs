use super::*;

fn d(raw: &str) -> NaiveDate {
    raw.parse().unwrap()
}

fn add(calendar: &Calendar, from: &str, n: u32) -> (String, bool) {
    let r = calendar.add_working_days(d(from), n);
    (r.value.to_string(), r.provisional)
}

#[test]
fn the_shipped_data_covers_2004_to_2026() {
    let calendar = Calendar::shipped();
    assert_eq!(calendar.years().collect::<Vec<_>>(), (2004..=2026).collect::<Vec<_>>());
    assert_eq!(calendar.year_status(2027), YearStatus::Unknown);
}

#[test]
fn spring_festival_2024_makes_two_sundays_working_days() {
    let c = Calendar::shipped();
    for sunday in ["2024-02-04", "2024-02-18"] {
        assert!(c.is_working_day(d(sunday)).value, "{sunday}");
    }
    for off in ["2024-02-10", "2024-02-12", "2024-02-16", "2024-02-17"] {
        assert!(!c.is_working_day(d(off)).value, "{off}");
    }
    // Friday before the holiday + 1 → the make-up Sunday after it.
    assert_eq!(add(&c, "2024-02-09", 1), ("2024-02-18".into(), false));
}

#[test]
fn national_day_2025_with_mid_autumn_is_eight_days_off() {
    let c = Calendar::shipped();
    let off = d("2025-10-01").iter_days().take(8).filter(|day| !c.is_working_day(*day).value).count();
    assert_eq!(off, 8);
    assert!(c.is_working_day(d("2025-09-28")).value, "make-up Sunday");
    assert!(c.is_working_day(d("2025-10-11")).value, "make-up Saturday");
    // Received on the day before the holiday: five working days end after it.
    assert_eq!(add(&c, "2025-09-30", 5), ("2025-10-14".into(), false));
    assert_eq!(add(&c, "2025-09-30", 1), ("2025-10-09".into(), false));
}

#[test]
fn spring_festival_2026_and_a_make_up_saturday_as_the_start_day() {
    let c = Calendar::shipped();
    assert!(c.is_working_day(d("2026-02-14")).value);
    assert!(!c.is_working_day(d("2026-02-16")).value);
    assert_eq!(add(&c, "2026-02-14", 5), ("2026-02-28".into(), false));
}

#[test]
fn a_holiday_as_the_start_day_counts_from_the_next_working_day() {
    let c = Calendar::shipped();
    // 2026-10-01 is National Day: the first working day after it is 10-08.
    assert_eq!(add(&c, "2026-10-01", 1), ("2026-10-08".into(), false));
    assert_eq!(add(&c, "2026-09-30", 5), ("2026-10-13".into(), false));
}

#[test]
fn zero_and_large_n() {
    let c = Calendar::shipped();
    assert_eq!(add(&c, "2026-10-01", 0), ("2026-10-01".into(), false));
    // 2024 has 251 working days, and its last day is one of them.
    let r = c.add_working_days(d("2023-12-31"), 251);
    assert_eq!((r.value.to_string(), r.provisional), ("2024-12-31".into(), false));
    assert_eq!(c.working_days_between(d("2023-12-31"), d("2024-12-31")).value, 251);
    assert_eq!(c.working_days_between(d("2024-12-31"), d("2023-12-31")).value, -251);
}

#[test]
fn a_span_into_a_year_without_a_schedule_is_provisional() {
    let c = Calendar::shipped();
    // 2026-12-25 is a Friday; the count runs into 2027, which has no schedule yet.
    assert_eq!(add(&c, "2026-12-25", 5), ("2027-01-01".into(), true));
    assert_eq!(add(&c, "2026-12-24", 1), ("2026-12-25".into(), false));
    assert!(c.is_working_day(d("2027-01-01")).provisional);
    let with_2027 = c.with(Schedule {
        year: 2027,
        holidays: vec![Holiday { name: "元旦".into(), off: vec![d("2027-01-01")], work: vec![] }],
    });
    assert_eq!(add(&with_2027, "2026-12-25", 5), ("2027-01-04".into(), false));
}

#[test]
fn the_open_json_format_reads_make_up_days_and_late_december() {
    let json = r#"{"year": 2019, "papers": ["http://www.gov.cn/"], "days": [
        {"name": "元旦", "date": "2018-12-29", "isOffDay": false},
        {"name": "元旦", "date": "2018-12-30", "isOffDay": true},
        {"name": "元旦", "date": "2018-12-31", "isOffDay": true},
        {"name": "元旦", "date": "2019-01-01", "isOffDay": true}]}"#;
    let schedule = Schedule::from_open_json(json).unwrap();
    assert_eq!(schedule.holidays[0].work, [d("2018-12-29")]);
    let c = Calendar::new([schedule.clone()]);
    assert!(c.is_working_day(d("2018-12-29")).value);
    assert!(!c.is_working_day(d("2018-12-31")).value);
    assert_eq!(Schedule::from_open_json(&schedule.to_open_json()).unwrap(), schedule);
    let shipped = Calendar::shipped();
    assert_eq!(shipped.schedule(2019).unwrap().holidays[0], schedule.holidays[0]);
}

#[test]
fn impossible_schedules_are_refused() {
    let weekday_work = r#"{"year": 2027, "days": [{"name": "x", "date": "2027-01-04", "isOffDay": false}]}"#;
    assert!(Schedule::from_open_json(weekday_work).unwrap_err().contains("not a weekend"));
    let wrong_year = r#"{"year": 2027, "days": [{"name": "x", "date": "2025-01-01", "isOffDay": true}]}"#;
    assert!(Schedule::from_open_json(wrong_year).unwrap_err().contains("outside"));
    let both = r#"{"year": 2027, "days": [{"name": "a", "date": "2027-01-02", "isOffDay": true},
        {"name": "b", "date": "2027-01-02", "isOffDay": false}]}"#;
    assert!(Schedule::from_open_json(both).unwrap_err().contains("both"));
    assert!(Schedule::from_open_json("[]").is_err());
    assert!(schedule::from_toml(
        "[[year]]\nyear = 2027\n[[year.holiday]]\nname = \"x\"\noff = \"2027-01-03..2027-01-01\"\n"
    )
    .is_err());
}
