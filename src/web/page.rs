//! What every page shows around its content: who is signed in, the menu of their
//! role, the form token, a confirmation, the calendar's warning; and how member codes,
//! dates and deadlines are written.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};

use super::{error::WebError, guard::Visitor, Web};
use crate::{
    domain::{calendar::Calendar, date::china, MemberCode, Role},
    store::{DeadlineQuery, ListedDeadline},
};

/// A choice of a filter, a select or a check box: its value, its label, whether it is
/// chosen.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A link of the menu.
pub struct Link {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The frame of a page.
pub struct Frame {
    pub who: String,
    pub token: String,
    pub menu: Vec<Link>,
    /// What was just done, confirmed.
    pub flash: String,
    /// A warning for everyone: deadlines counted through a year with no schedule.
    pub banner: String,
    /// Where the visitor's inbox ended when the page was drawn: its live updates
    /// follow from there. None for admins, who have no inbox.
    pub inbox_head: Option<u64>,
}

impl Frame {
    /// The frame of a page at `here` (a menu path); made before the page reads what
    /// it shows, so that its live updates miss nothing.
    pub async fn new(web: &Web, visitor: &Visitor, here: &str) -> Result<Self, WebError> {
        let links: &[(&'static str, &'static str)] = match visitor.role() {
            Role::Procuratorate => &[
                ("/", "待办"),
                ("/received", "已接收"),
                ("/sent", "已发送"),
                ("/new/referral", "新建移送"),
                ("/ledger", "台账"),
                ("/figures", "统计"),
                ("/directory", "成员单位"),
                ("/calendar", "工作日历"),
            ],
            Role::Agency => &[
                ("/", "待办"),
                ("/received", "已接收"),
                ("/sent", "已发送"),
                ("/new/clue", "移送线索"),
                ("/ledger", "台账"),
                ("/figures", "统计"),
                ("/directory", "成员单位"),
                ("/calendar", "工作日历"),
            ],
            Role::Office => &[
                ("/office", "总览"),
                ("/office/deadlines", "期限跟踪"),
                ("/ledger", "台账"),
                ("/figures", "统计通报"),
                ("/directory", "成员单位"),
                ("/calendar", "工作日历"),
            ],
            Role::Admin => &[("/admin", "成员与证书"), ("/directory", "成员单位"), ("/calendar", "工作日历")],
        };
        let menu = links.iter().map(|&(href, label)| Link { href, label, current: href == here }).collect();
        // The members whose own deadlines are provisional are told, and the office and
        // the admin of any.
        let responsible = match visitor.role() {
            Role::Office | Role::Admin => None,
            _ => Some(visitor.caller().code.clone()),
        };
        let provisional =
            DeadlineQuery { outstanding: true, provisional_only: true, responsible, limit: 1, ..Default::default() };
        let banner = if web
            .hub
            .store()
            .list_deadlines(&provisional)
            .await
            .map_err(crate::app::AppError::from)?
            .is_empty()
        {
            String::new()
        } else {
            "部分期限跨入了尚未载入国务院节假日安排的年份，按周末推算，标记为“暂定”。请管理员在“工作日历”中载入该年的安排。"
                .to_owned()
        };
        let inbox_head = match visitor.role() {
            Role::Admin => None,
            _ => Some(crate::app::inbox::head(&web.hub, &visitor.actor).await?),
        };
        Ok(Self {
            who: visitor.label.clone(),
            token: visitor.token.clone(),
            menu,
            flash: String::new(),
            banner,
            inbox_head,
        })
    }

    pub fn with_flash(mut self, flash: &str) -> Self {
        self.flash = flash.to_owned();
        self
    }
}

/// Renders a page as HTML.
pub fn html(page: &impl Template) -> Result<Response, WebError> {
    Ok(Html(page.render()?).into_response())
}

/// 民政: a member as a clerk reads it, by its short name from the directory (the code
/// only when the directory no longer has it; codes are for the admin's pages).
pub fn member(web: &Web, code: &MemberCode) -> String {
    let directory = web.directory();
    match directory.get(code) {
        Some(m) => m.short_name.clone(),
        None if *code == MemberCode::office() => "联席会议办公室".to_owned(),
        None if *code == MemberCode::hub() => "衔接系统".to_owned(),
        None => code.to_string(),
    }
}

/// The members of the directory as choices of a filter (`except` one), `selected` chosen.
pub fn members(web: &Web, except: Option<&MemberCode>, selected: Option<&MemberCode>) -> Vec<Choice> {
    web.directory()
        .members()
        .iter()
        .filter(|m| Some(&m.code) != except)
        .map(|m| Choice { value: m.code.to_string(), label: m.short_name.clone(), selected: selected == Some(&m.code) })
        .collect()
}

/// An instant in China time, to the minute.
pub fn instant(at: DateTime<Utc>) -> String {
    at.with_timezone(&china()).format("%Y-%m-%d %H:%M").to_string()
}

/// A 督办函 as a line of a list.
pub struct Issued {
    pub id: uuid::Uuid,
    pub number: String,
    pub member: String,
    pub at: String,
    pub items: usize,
}

impl Issued {
    pub fn of(web: &Web, s: &crate::app::supervision::Supervision) -> Self {
        Self {
            id: s.id,
            number: s.number.clone(),
            member: member(web, &s.member),
            at: instant(s.issued_at),
            items: s.items.len(),
        }
    }
}

/// A deadline as a line of a table: what, when, and how it stands today.
pub struct DeadlineLine {
    pub kind: &'static str,
    pub responsible: String,
    pub due: String,
    pub state: &'static str,
    /// 剩 2 个工作日, 今日到期, 逾期 3 个工作日.
    pub left: String,
    pub overdue: bool,
    pub provisional: bool,
    pub urgent: bool,
    pub green_channel: bool,
    /// 「已催办 2 次，最近 12月3日；已督办 1 次，最近 12月8日」; empty when never chased.
    pub chased: String,
    /// How its date moved: 「补充材料暂停计时 2 个工作日；延期 3 个工作日」; empty when
    /// it did not.
    pub moved: String,
    /// Its step on the office's ladder (临期, 逾期, 已催办) and that step's code; none
    /// once it waits for nothing.
    pub level: Option<(&'static str, &'static str)>,
}

impl DeadlineLine {
    pub fn new(web: &Web, listed: &ListedDeadline, today: NaiveDate, calendar: &Calendar) -> Self {
        let d = &listed.deadline;
        let late = d.working_days_late(today, calendar);
        let left = if !d.is_outstanding() {
            String::new()
        } else if d.is_paused() {
            "暂停计时（待对方补充材料）".to_owned()
        } else if late > 0 {
            format!("逾期 {late} 个工作日")
        } else {
            match calendar.working_days_between(today, d.due).value {
                0 => "今日到期".to_owned(),
                days => format!("剩 {days} 个工作日"),
            }
        };
        Self {
            kind: d.kind.label(),
            responsible: member(web, &d.responsible),
            due: d.due.to_string(),
            state: d.state.label(),
            left,
            overdue: d.is_outstanding() && late > 0,
            provisional: d.provisional,
            urgent: listed.urgent,
            green_channel: listed.green_channel,
            level: d
                .level(today, calendar, web.hub.policy(), listed.chased.as_ref())
                .map(|level| (level.label(), level.code())),
            chased: listed.chased.map_or_else(String::new, |c| c.describe()),
            moved: [
                (d.paused > 0).then(|| format!("补充材料暂停计时 {} 个工作日", d.paused)),
                (d.extended > 0).then(|| format!("延期 {} 个工作日", d.extended)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("；"),
        }
    }
}
