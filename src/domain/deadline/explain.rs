//! How a deadline's date was reached, in a clerk's words: the day it runs from, that the
//! count starts the next day (民法典 Art. 201), the days counted and those passed over
//! and why (weekends, holidays by name, make-up working days counted), the day it ends,
//! and whether the count is provisional.

use chrono::{Datelike, NaiveDate, Weekday};

use super::{Deadline, DeadlineKind, Policy};
use crate::domain::{calendar::Calendar, referral::ReferralKind, visit::VisitAfter};

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// 「12月2日（周三）」.
pub fn day(date: NaiveDate) -> String {
    format!("{}月{}日（{}）", date.month(), date.day(), WEEKDAYS[date.weekday().num_days_from_monday() as usize])
}

/// What the day a deadline of a referral of `referral` runs from is, for its kind.
fn runs_from(kind: DeadlineKind, referral: ReferralKind) -> &'static str {
    match kind {
        DeadlineKind::Send if referral == ReferralKind::JudicialClue => "发现线索",
        DeadlineKind::Send => "调查核实结束",
        DeadlineKind::Start => "收到移送",
        DeadlineKind::Feedback => "办结",
        DeadlineKind::Urgent => "收到紧急线索",
        DeadlineKind::Visit => "办结",
    }
}

/// A run of days passed over together: 「10月1日（周四）至10月8日（周四），国庆节、中秋节放假」.
struct Skipped {
    from: NaiveDate,
    to: NaiveDate,
    why: String,
}

/// The lines that explain `deadline` of a referral of kind `referral`, counted on
/// `calendar` under `policy`.
pub fn explain(deadline: &Deadline, referral: ReferralKind, calendar: &Calendar, policy: &Policy) -> Vec<String> {
    let (trigger, due) = (deadline.trigger, deadline.due);
    let mut lines = vec![format!("{}：{}", runs_from(deadline.kind, referral), day(trigger))];
    let working_days = match (deadline.kind, policy.visit_after) {
        (DeadlineKind::Visit, VisitAfter::Months(months)) => {
            let day_after = trigger.checked_add_months(chrono::Months::new(months)).unwrap_or(due);
            lines.push(format!("回访期限为办结后{months}个月，即{}", day(day_after)));
            if day_after != due {
                lines.push(format!("该日不是工作日，顺延至下一个工作日{}", day(due)));
            }
            None
        }
        (DeadlineKind::Visit, VisitAfter::WorkingDays(n)) => Some(n),
        (DeadlineKind::Urgent, _) => Some(policy.urgent_days),
        _ => Some(policy.statutory_days),
    };
    if let Some(n) = working_days {
        let mut more = Vec::new();
        if deadline.paused > 0 {
            more.push(format!("补充材料暂停计时{}个工作日", deadline.paused));
        }
        if deadline.extended > 0 {
            more.push(format!("经联席会议办公室批准延期{}个工作日", deadline.extended));
        }
        lines.push(match more.len() {
            0 => format!("自次日起算（《民法典》第二百零一条），计{n}个工作日"),
            _ => format!(
                "自次日起算（《民法典》第二百零一条），计{n}个工作日，另加{}，共{}个工作日",
                more.join("、"),
                n + deadline.paused + deadline.extended
            ),
        });
        let (mut counted, mut skipped): (Vec<String>, Vec<Skipped>) = (Vec::new(), Vec::new());
        for date in trigger.iter_days().skip(1).take_while(|d| *d <= due) {
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            let holiday = calendar.holiday(date);
            if calendar.is_working_day(date).value {
                counted.push(match (weekend, holiday) {
                    (true, Some(name)) => format!("{}（{name}调休上班）", day(date)),
                    _ => day(date),
                });
                continue;
            }
            let why = match holiday {
                Some(name) => format!("{name}放假"),
                None => "周末".to_owned(),
            };
            match skipped.last_mut() {
                Some(run) if run.why == why && run.to.succ_opt() == Some(date) => run.to = date,
                _ => skipped.push(Skipped { from: date, to: date, why }),
            }
        }
        lines.push(format!("计入：{}", counted.join("、")));
        for run in &skipped {
            let days = if run.from == run.to { day(run.from) } else { format!("{}至{}", day(run.from), day(run.to)) };
            lines.push(format!("不计：{days}，{}", run.why));
        }
    }
    lines.push(format!("期限届满：{} 24时", day(due)));
    if let Some(since) = deadline.paused_on {
        lines.push(format!("自{}起暂停计时，待对方补充材料后顺延（顺延的工作日另加）", day(since)));
    }
    if deadline.provisional {
        let years: Vec<String> = (trigger.year()..=due.year())
            .filter(|year| calendar.schedule(*year).is_none())
            .map(|year| format!("{year}年"))
            .collect();
        lines.push(format!("{}节假日安排尚未载入，暂按周一至周五计算，载入后自动重算（暂定）", years.join("、")));
    }
    lines
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::domain::{deadline::DeadlineState, MemberCode};

    fn deadline(kind: DeadlineKind, trigger: &str, due: &str, provisional: bool) -> Deadline {
        Deadline {
            referral_id: Uuid::nil(),
            case_id: Uuid::nil(),
            kind,
            responsible: MemberCode::parse("mz").unwrap(),
            trigger: trigger.parse().unwrap(),
            due: due.parse().unwrap(),
            provisional,
            state: DeadlineState::Open,
            met_on: None,
            reminded: false,
            closed_on: None,
            extended: 0,
            paused: 0,
            paused_on: None,
            pauses: 0,
            pauses_allowed: 1,
        }
    }

    #[test]
    fn a_start_deadline_across_national_day_names_each_day_counted_and_passed_over() {
        let calendar = Calendar::shipped();
        let policy = Policy::default();
        let d = deadline(DeadlineKind::Start, "2025-09-30", "2025-10-14", false);
        assert_eq!(policy.due(d.kind, d.trigger, &calendar).value, d.due, "the date explained is the one counted");
        assert_eq!(
            explain(&d, ReferralKind::SocialAssistance, &calendar, &policy),
            [
                "收到移送：9月30日（周二）",
                "自次日起算（《民法典》第二百零一条），计5个工作日",
                "计入：10月9日（周四）、10月10日（周五）、10月11日（周六）（国庆节调休上班）、10月13日（周一）、10月14日（周二）",
                "不计：10月1日（周三）至10月5日（周日），国庆节放假",
                "不计：10月6日（周一），中秋节放假",
                "不计：10月7日（周二）至10月8日（周三），国庆节放假",
                "不计：10月12日（周日），周末",
                "期限届满：10月14日（周二） 24时",
            ]
        );
    }

    #[test]
    fn a_paused_and_extended_deadline_says_what_it_added() {
        let calendar = Calendar::shipped();
        let policy = Policy::default();
        // Received Wednesday 2026-09-02: five working days to 09-09, two paused and three
        // granted to Wednesday 09-16.
        let d = Deadline { paused: 2, extended: 3, ..deadline(DeadlineKind::Start, "2026-09-02", "2026-09-16", false) };
        let lines = explain(&d, ReferralKind::SocialAssistance, &calendar, &policy);
        assert_eq!(
            lines[1],
            "自次日起算（《民法典》第二百零一条），计5个工作日，另加补充材料暂停计时2个工作日、\
             经联席会议办公室批准延期3个工作日，共10个工作日"
        );
        assert_eq!(lines[2].matches('、').count(), 9, "ten days counted: {}", lines[2]);
        assert_eq!(lines.last().unwrap(), "期限届满：9月16日（周三） 24时");
        let waiting = Deadline { paused_on: Some("2026-09-04".parse().unwrap()), ..d };
        let lines = explain(&waiting, ReferralKind::SocialAssistance, &calendar, &policy);
        assert_eq!(lines.last().unwrap(), "自9月4日（周五）起暂停计时，待对方补充材料后顺延（顺延的工作日另加）");
    }

    #[test]
    fn a_visit_is_moved_to_the_next_working_day_and_an_unknown_year_is_said_provisional() {
        let calendar = Calendar::shipped();
        let policy = Policy::default();
        // Concluded 2026-09-05; three months on is Saturday 12-05, moved to Monday 12-07.
        let d = deadline(DeadlineKind::Visit, "2026-09-05", "2026-12-07", false);
        assert_eq!(policy.due(d.kind, d.trigger, &calendar).value, d.due);
        let lines = explain(&d, ReferralKind::SocialAssistance, &calendar, &policy);
        assert_eq!(lines[1], "回访期限为办结后3个月，即12月5日（周六）");
        assert_eq!(lines[2], "该日不是工作日，顺延至下一个工作日12月7日（周一）");
        let later = deadline(DeadlineKind::Feedback, "2099-12-28", "2100-01-04", true);
        let lines = explain(&later, ReferralKind::SocialAssistance, &calendar, &policy);
        assert!(lines.last().unwrap().starts_with("2099年、2100年节假日安排尚未载入"), "{lines:?}");
    }
}
