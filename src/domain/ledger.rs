//! The ledger (台账, Art. 25): one row for each referral a member sent or received in a
//! period, with the person, the case, the counterpart, the day of every step, each
//! deadline with how it was kept and the working days it was late, the outcome and the
//! aid granted, the follow-up visits, and whether the joint meeting marked the case for
//! study. A member's ledger shows its people in full (they are its own); the office's
//! covers every member, masked.

use chrono::NaiveDate;

use super::{
    calendar::Calendar,
    date::local_date,
    deadline::{Deadline, DeadlineKind, DeadlineState},
    directory::Directory,
    history::{EntryKind, HistoryEntry},
    key_case::KeyCase,
    letter::DocumentNumber,
    referral::{Grant, Referral},
    view::Seen,
    visit::VisitRecord,
    MemberCode,
};

/// A cell of the ledger, typed so that a spreadsheet gets real dates and numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Date(NaiveDate),
    /// A count: 序号, working days late.
    Number(i64),
    /// Money in fen, shown in yuan.
    Yuan(i64),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    fn date(d: Option<NaiveDate>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }
}

/// What a row is made of: a referral with its history, deadlines, document number,
/// follow-up visits and the mark of its case.
pub struct Entry<'a> {
    pub referral: &'a Referral<Seen>,
    pub history: &'a [HistoryEntry],
    pub deadlines: &'a [Deadline],
    pub number: Option<&'a DocumentNumber>,
    pub visits: &'a [VisitRecord],
    pub key: Option<&'a KeyCase>,
}

/// The three columns of a deadline: due date, how it was kept, working days late.
fn deadline_headers(kind: DeadlineKind) -> [String; 3] {
    let label = kind.label().trim_end_matches("期限");
    [format!("{label}期限到期日"), format!("{label}期限情况"), format!("{label}逾期工作日")]
}

/// The headers, in the order of [`row`]'s cells.
pub fn headers() -> Vec<String> {
    let mut headers: Vec<String> = [
        "序号",
        "文号",
        "类型",
        "移送单位",
        "接收单位",
        "移送经办人",
        "承办经办人",
        "当事人",
        "公民身份号码",
        "联系电话",
        "重点群体",
        "救助情形",
        "救助需求",
        "案号",
        "状态",
        "移送日期",
        "签收日期",
        "启动日期",
        "办结日期",
        "反馈日期",
        "退回或撤回日期",
    ]
    .map(str::to_owned)
    .to_vec();
    for kind in DeadlineKind::STATUTORY {
        headers.extend(deadline_headers(kind));
    }
    headers.extend(["办结结果", "救助种类及金额", "救助金额合计（元）", "不予救助理由"].map(str::to_owned));
    headers.extend(deadline_headers(DeadlineKind::Visit));
    headers.extend(
        ["回访次数", "末次回访日期", "回访方式", "救助措施是否到位", "救助效果", "需再次移送", "联席会议重点救助对象"]
            .map(str::to_owned),
    );
    headers
}

fn member_name(directory: &Directory, code: &MemberCode) -> String {
    directory.get(code).map_or_else(|| code.to_string(), |m| m.name.clone())
}

fn joined<T: Copy>(items: &[T], label: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|&t| label(t)).collect::<Vec<_>>().join("、")
}

/// 经办人 of `member` on a referral: the clerk of its newest entry, 系统 when that was
/// made with the unit's own certificate; empty when it made none.
fn clerk(history: &[HistoryEntry], member: &MemberCode) -> String {
    match history.iter().rev().find(|e| &e.actor == member) {
        Some(e) if e.clerk.is_empty() => "系统".to_owned(),
        Some(e) => e.clerk.clone(),
        None => String::new(),
    }
}

/// How a deadline was kept on `today`, as the ledger says it: one passed today is
/// missed, even before the hub's scanner has marked it.
fn kept(deadline: &Deadline, today: NaiveDate) -> &'static str {
    match (deadline.state, deadline.closed_on) {
        (DeadlineState::Missed, Some(_)) => "逾期未办（已退回或撤回）",
        (DeadlineState::Missed, None) => "已逾期，尚未办理",
        _ if deadline.passed(today) => "已逾期，尚未办理",
        (state, _) => state.label(),
    }
}

/// Row `n` (from 1) of the ledger, the person as its reader sees them: `today` and
/// `calendar` count the working days late of a deadline still missed.
pub fn row(n: usize, entry: &Entry<'_>, directory: &Directory, today: NaiveDate, calendar: &Calendar) -> Vec<Cell> {
    let r = entry.referral;
    let c = &r.content;
    let day_of = |kinds: &[EntryKind]| entry.history.iter().find(|e| kinds.contains(&e.kind)).map(|e| local_date(e.at));
    // The office's ledger leaves even masked phones out: it calls members, not people.
    let phone = if c.person.is_masked() { "" } else { c.person.phone() };
    let mut cells = vec![
        Cell::Number(n as i64),
        Cell::text(entry.number.map(DocumentNumber::text).unwrap_or_default()),
        Cell::text(r.kind.label()),
        Cell::text(member_name(directory, &r.sender)),
        Cell::text(member_name(directory, &r.recipient)),
        Cell::text(clerk(entry.history, &r.sender)),
        Cell::text(clerk(entry.history, &r.recipient)),
        Cell::text(c.person.name()),
        Cell::text(c.person.id_number()),
        Cell::text(phone),
        Cell::text(joined(&c.priority_groups, |g| g.label())),
        Cell::text(joined(&c.situations, |s| s.label())),
        Cell::text(joined(&c.needs, |n| n.label())),
        Cell::text(c.case_reference.clone()),
        Cell::text(r.state.label()),
        Cell::date(Some(local_date(r.submitted_at))),
        Cell::date(day_of(&[EntryKind::Received])),
        Cell::date(day_of(&[EntryKind::Started])),
        Cell::date(r.conclusion.as_ref().map(|k| k.concluded_on)),
        Cell::date(day_of(&[EntryKind::FedBack])),
        Cell::date(day_of(&[EntryKind::Returned, EntryKind::Withdrawn])),
    ];
    let deadline = |kind: DeadlineKind| match entry.deadlines.iter().find(|d| d.kind == kind) {
        Some(d) => [Cell::Date(d.due), Cell::text(kept(d, today)), Cell::Number(d.working_days_late(today, calendar))],
        None => [Cell::Empty, Cell::Empty, Cell::Empty],
    };
    for kind in DeadlineKind::STATUTORY {
        cells.extend(deadline(kind));
    }
    match &r.conclusion {
        Some(k) => cells.extend([
            Cell::text(k.outcome.label()),
            Cell::text(Grant::all_said(&k.aids)),
            if k.amount_fen() > 0 { Cell::Yuan(k.amount_fen()) } else { Cell::Empty },
            Cell::text(joined(&k.refusal_grounds, |g| g.label())),
        ]),
        None => cells.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]),
    }
    cells.extend(deadline(DeadlineKind::Visit));
    match entry.visits.last() {
        Some(last) => {
            let v = &last.visit;
            cells.extend([
                Cell::Number(entry.visits.len() as i64),
                Cell::Date(v.visited_on),
                Cell::text(v.method.label()),
                Cell::text(if v.aid_in_place { "是" } else { "否" }),
                Cell::text(v.effect.label()),
                Cell::text(if v.another_referral { "是" } else { "否" }),
            ]);
        }
        None => cells.extend([Cell::Number(0), Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]),
    }
    cells.push(Cell::text(entry.key.map(|k| k.reason.clone()).unwrap_or_default()));
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_passed_today_is_missed_before_the_scanner_says_so() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let deadline = Deadline {
            referral_id: uuid::Uuid::nil(),
            case_id: uuid::Uuid::nil(),
            kind: DeadlineKind::Start,
            responsible: MemberCode::parse("mz").unwrap(),
            trigger: d("2026-10-20"),
            due: d("2026-10-27"),
            provisional: false,
            state: DeadlineState::Open,
            met_on: None,
            reminded: false,
            closed_on: None,
            extended: 0,
            paused: 0,
            paused_on: None,
            pauses: 0,
            pauses_allowed: 1,
        };
        assert_eq!(kept(&deadline, d("2026-10-27")), "未到期");
        assert_eq!(kept(&deadline, d("2026-10-28")), "已逾期，尚未办理");
        let closed = Deadline { state: DeadlineState::Missed, closed_on: Some(d("2026-11-02")), ..deadline.clone() };
        assert_eq!(kept(&closed, d("2026-11-20")), "逾期未办（已退回或撤回）");
        let late = Deadline { state: DeadlineState::MetLate, met_on: Some(d("2026-10-29")), ..deadline };
        assert_eq!(kept(&late, d("2026-11-20")), "逾期办理");
    }

    #[test]
    fn every_deadline_kind_has_its_three_columns() {
        let headers = headers();
        assert_eq!(headers.len(), 21 + 3 * DeadlineKind::ALL.len() + 4 + 7);
        assert!(headers.contains(&"回访期限情况".to_owned()) && headers.contains(&"救助效果".to_owned()));
        assert!(headers.contains(&"启动期限情况".to_owned()));
        assert!(headers.contains(&"紧急签收逾期工作日".to_owned()));
        let unique: std::collections::BTreeSet<_> = headers.iter().collect();
        assert_eq!(unique.len(), headers.len());
    }
}
