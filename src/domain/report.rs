//! The 通报: the year's figures as a 公文 the office issues to the joint meeting's
//! members, written in the words an office writes, each figure beside the year before;
//! the figures' table goes with it as its 附件. A draft: the office edits it in WPS or
//! Word before it signs.

use chrono::NaiveDate;

use super::{
    date,
    deadline::DeadlineKind,
    directory::Directory,
    figures::{Figures, Line, Tally, Value},
    letter::Letter,
    money,
    vocabulary::{AidKind, Outcome},
};

/// The report: the letter's parts, and the table that goes with it.
pub struct Report {
    pub letter: Letter,
    /// The 附件's title: 「2026年司法救助与社会救助衔接工作主要数据」.
    pub table_title: String,
    /// The columns' headings of the periods: this one and the year before.
    pub periods: [String; 2],
    pub lines: Vec<Line>,
}

/// The change of `this` on `before`, as a sentence ends: 「同比上升 12.5%」, 「与上年持平」.
fn change(this: Value, before: Value) -> String {
    match (this, before) {
        (Value::Count(0), Value::Count(0)) | (Value::Yuan(0), Value::Yuan(0)) => return "与上年同期持平".to_owned(),
        (_, Value::Count(0) | Value::Yuan(0)) => return "上年同期为零".to_owned(),
        (_, Value::Percent(None)) => return "上年同期无到期事项".to_owned(),
        _ => {}
    }
    match (Line { section: "", label: String::new(), this, before }).change_text().as_str() {
        "持平" => "与上年同期持平".to_owned(),
        said => format!("同比{said}"),
    }
}

fn count(n: u64) -> Value {
    Value::Count(n)
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "无到期事项".to_owned(), |r| format!("{r:.1}%"))
}

/// The 通报 of `figures`, numbered `number` (may be empty, for the office to fill in),
/// issued by `issuer` on `on`.
pub fn compose(figures: &Figures, directory: &Directory, issuer: &str, number: &str, on: NaiveDate) -> Report {
    let (a, b) = (&figures.this, &figures.before);
    let period = figures.period.label();
    let subject = match &figures.member {
        None => "联席会议各成员单位".to_owned(),
        Some(code) => directory.get(code).map_or_else(|| code.to_string(), |m| m.name.clone()),
    };
    let mut body = vec![format!(
        "{period}，{subject}依照《关于建立司法救助与社会救助衔接工作机制的意见》，加强协作配合，\
         做好司法救助与社会救助的双向衔接。现将有关情况通报如下。"
    )];
    body.push("一、移送和线索情况".to_owned());
    body.push(format!(
        "检察机关向各成员单位移送社会救助{}件，{}；各成员单位向检察机关移送司法救助线索{}件，{}。\
         共涉及{}人，{}；其中同一案件移送两个及以上单位（“1+N”）的{}件。",
        a.referrals,
        change(count(a.referrals), count(b.referrals)),
        a.clues,
        change(count(a.clues), count(b.clues)),
        a.persons,
        change(count(a.persons), count(b.persons)),
        a.one_plus_n,
    ));
    body.push("二、办理和救助情况".to_owned());
    let outcome = |t: &Tally, o: Outcome| t.outcomes.get(&o).copied().unwrap_or(0);
    let concluded = |t: &Tally| t.outcomes.values().sum::<u64>();
    let mut granted = format!(
        "办结{}件，{}，其中予以救助{}件、部分救助{}件、不予救助{}件。发放救助金额合计{}元，{}",
        concluded(a),
        change(count(concluded(a)), count(concluded(b))),
        outcome(a, Outcome::Granted),
        outcome(a, Outcome::PartiallyGranted),
        outcome(a, Outcome::NotGranted),
        money::yuan(a.granted_fen),
        change(Value::Yuan(a.granted_fen), Value::Yuan(b.granted_fen)),
    );
    let kinds: Vec<String> = AidKind::ALL
        .iter()
        .filter_map(|aid| {
            let (n, fen) = a.amounts.get(aid).copied()?;
            Some(match fen {
                0 => format!("{}{n}件", aid.label()),
                fen => format!("{}{n}件{}元", aid.label(), money::yuan(fen)),
            })
        })
        .collect();
    if kinds.is_empty() {
        granted.push('。');
    } else {
        granted.push_str(&format!("。按救助种类，{}。", kinds.join("，")));
    }
    body.push(granted);
    body.push("三、期限执行情况".to_owned());
    let rate = |t: &Tally, kind| t.kept_of(kind).rate();
    let points = |kind| change(Value::Percent(rate(a, kind)), Value::Percent(rate(b, kind)));
    body.push(format!(
        "启动程序按期率{}，{}；反馈按期率{}，{}。半数案件在{}启动程序。截至{}，仍有{}件逾期未办，\
         请有关成员单位抓紧办理。",
        percent(rate(a, DeadlineKind::Start)),
        points(DeadlineKind::Start),
        percent(rate(a, DeadlineKind::Feedback)),
        points(DeadlineKind::Feedback),
        match a.to_start.median {
            0 => "收到当日".to_owned(),
            days => format!("{days}个工作日内"),
        },
        date::written(figures.today),
        figures.overdue_total(),
    ));
    let short =
        |m: &crate::domain::MemberCode| directory.get(m).map_or_else(|| m.to_string(), |d| d.short_name.clone());
    let each = |steps: &std::collections::BTreeMap<crate::domain::MemberCode, u64>, unit: &str| {
        steps.iter().map(|(m, n)| format!("{}{n}{unit}", short(m))).collect::<Vec<_>>().join("、")
    };
    let chased: u64 = a.chased.values().sum();
    let supervised: u64 = a.supervised.values().sum();
    match (chased, supervised) {
        (0, 0) => {}
        (_, 0) => body.push(format!("联席会议办公室对逾期事项催办{chased}次，其中{}。", each(&a.chased, "次"))),
        (0, _) => body.push(format!("联席会议办公室发出督办函{supervised}份，其中{}。", each(&a.supervised, "份"))),
        _ => body.push(format!(
            "联席会议办公室对逾期事项催办{chased}次，其中{}；发出督办函{supervised}份，其中{}。",
            each(&a.chased, "次"),
            each(&a.supervised, "份")
        )),
    }
    let x = a.extensions;
    if x.asked > 0 || x.pauses > 0 {
        body.push(format!(
            "成员单位申请延期{}件，批准{}件、共延长{}个工作日；因请求补充材料暂停计时{}次、共{}个工作日，按期率按批准和顺延后的期限计算。",
            x.asked, x.granted, x.granted_days, x.pauses, x.paused_days
        ));
    }
    body.push("四、跟踪回访情况".to_owned());
    body.push(format!(
        "开展跟踪回访{}次，{}，其中救助措施到位{}次，需再次移送{}次；到期未回访{}件。\
         提请联席会议研究的重点救助对象{}件。",
        a.visits,
        change(count(a.visits), count(b.visits)),
        a.aid_in_place,
        a.another_referral,
        figures.visits_overdue(),
        a.key_cases,
    ));
    body.push("五、下一步工作".to_owned());
    body.push("（请结合本地实际填写下一步工作要求。）".to_owned());
    let table_title = format!("{period}司法救助与社会救助衔接工作主要数据");
    Report {
        letter: Letter {
            issuer: issuer.to_owned(),
            number: number.to_owned(),
            title: match &figures.member {
                None => format!("关于{period}司法救助与社会救助衔接工作情况的通报"),
                Some(_) => format!("{subject}{period}司法救助与社会救助衔接工作情况"),
            },
            addressee: "联席会议各成员单位：".to_owned(),
            body,
            attachments: vec![format!("附件：{table_title}")],
            signature: issuer.to_owned(),
            date: date::written(on),
            contact: String::new(),
        },
        table_title,
        periods: [period, figures.period.a_year_before().label()],
        lines: figures.lines(directory),
    }
}

/// 2026年12月5日, as GB/T 9704 dates a document.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::Period;

    fn figures(this: Tally, before: Tally) -> Figures {
        Figures {
            period: Period::year(2026).unwrap(),
            member: None,
            this,
            before,
            overdue: Vec::new(),
            today: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            key_cases: Vec::new(),
        }
    }

    #[test]
    fn the_report_says_each_figure_beside_the_year_before_in_an_offices_words() {
        let mut this = Tally { referrals: 5, clues: 2, persons: 6, ..Tally::default() };
        this.outcomes.insert(Outcome::Granted, 3);
        this.amounts.insert(AidKind::Subsistence, (2, 600_000));
        this.amounts.insert(AidKind::LegalAid, (1, 0));
        this.granted_fen = 600_000;
        this.chased.insert(crate::domain::MemberCode::parse("mz").unwrap(), 2);
        this.supervised.insert(crate::domain::MemberCode::parse("mz").unwrap(), 1);
        let before = Tally { referrals: 4, clues: 2, ..Tally::default() };
        let report =
            compose(&figures(this, before), &Directory::jinjiang(), "办公室", "", "2026-12-05".parse().unwrap());
        let body = report.letter.body.join("\n");
        assert!(body.contains("移送社会救助5件，同比上升 25.0%"), "{body}");
        assert!(body.contains("司法救助线索2件，与上年同期持平"), "{body}");
        assert!(body.contains("共涉及6人，上年同期为零"), "{body}");
        assert!(body.contains("按救助种类，纳入低保2件6000.00元，法律援助1件。"), "{body}");
        assert!(body.contains("启动程序按期率无到期事项"), "{body}");
        assert!(body.contains("联席会议办公室对逾期事项催办2次，其中民政2次；发出督办函1份，其中民政1份。"), "{body}");
        assert_eq!(report.letter.title, "关于2026年司法救助与社会救助衔接工作情况的通报");
        assert_eq!(report.letter.date, "2026年12月5日");
        assert_eq!(report.letter.number, "", "left for the office to fill in");
        assert_eq!(report.periods, ["2026年".to_owned(), "2025年".to_owned()]);
    }
}
