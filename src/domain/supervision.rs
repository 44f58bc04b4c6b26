//! 督办 — the office's letter (督办函) to a member's leader in charge (分管领导), listing
//! the member's overdue deadlines: the step of the ladder after 催办. It is numbered in
//! the office's own series, fixed when issued like a referral's letter, and names no
//! person (the office sees none): each item is a referral's document number, its case
//! reference (案号) and the deadline it missed.

use chrono::NaiveDate;

use super::{
    date::{month_day, written},
    deadline::DeadlineKind,
    directory::Directory,
    letter::{Letter, OPINION},
    referral::ReferralKind,
    MemberCode,
};

/// The title every 督办函 bears.
pub const TITLE: &str = "关于督促办理逾期衔接事项的函";

/// The prefix of the office's 督办函 numbers when none is configured (晋江衔接办督〔2026〕1号).
pub fn default_prefix(directory: &Directory) -> String {
    format!("{}衔接办督", directory.county())
}

/// One overdue deadline a 督办函 lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub referral_kind: ReferralKind,
    pub sender: MemberCode,
    pub submitted_on: NaiveDate,
    /// The referral's letter's document number; empty when it has none.
    pub number: String,
    pub case_reference: String,
    pub kind: DeadlineKind,
    pub due: NaiveDate,
    pub working_days_late: i64,
    /// The office's 催办 of it so far.
    pub chased: u32,
}

/// The 督办函 numbered `number`, issued by `issuer` on `on` to `member`'s leader in
/// charge, listing `items` (in the order given), with the office's `note` if any.
pub fn compose(
    member: &MemberCode,
    items: &[Overdue],
    note: &str,
    (issuer, number, on): (&str, &str, NaiveDate),
    directory: &Directory,
) -> Letter {
    let entry = directory.get(member);
    let name = entry.map_or_else(|| member.to_string(), |m| m.name.clone());
    let leader = entry.map(|m| m.contacts.leader.as_str()).unwrap_or_default();
    let short_of = |code: &MemberCode| directory.get(code).map_or_else(|| code.to_string(), |m| m.short_name.clone());
    let mut body = vec![format!(
        "依照{OPINION}第二十一条，成员单位应当在规定期限内启动救助程序并反馈办理结果。\
         截至{}，你单位下列{}件衔接事项已超过期限尚未办理：",
        written(on),
        items.len()
    )];
    for (i, item) in items.iter().enumerate() {
        let mut which = String::new();
        if !item.number.is_empty() {
            which.push_str(&format!("，文号{}", item.number));
        }
        if !item.case_reference.is_empty() {
            which.push_str(&format!("，案号{}", item.case_reference));
        }
        let chased = match item.chased {
            0 => String::new(),
            n => format!("，联席会议办公室已催办{n}次"),
        };
        body.push(format!(
            "{}. {}{}发出的{}{which}：{}于{}届满，已逾期{}个工作日{chased}。",
            i + 1,
            short_of(&item.sender),
            month_day(item.submitted_on),
            item.referral_kind.label(),
            item.kind.label(),
            month_day(item.due),
            item.working_days_late,
        ));
    }
    let note = note.trim();
    if !note.is_empty() {
        body.push(note.to_owned());
    }
    body.push("请你单位高度重视，接函后即组织办理上述事项，并将办理情况书面反馈联席会议办公室。".to_owned());
    body.push("特此函告。".to_owned());
    Letter {
        issuer: issuer.to_owned(),
        number: number.to_owned(),
        title: TITLE.to_owned(),
        addressee: format!("{name}{leader}："),
        body,
        attachments: Vec::new(),
        signature: issuer.to_owned(),
        date: written(on),
        contact: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::directory::Directory;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_supervision_letter_lists_each_overdue_item_and_names_the_leader() {
        let directory = Directory::jinjiang();
        let mz = MemberCode::parse("mz").unwrap();
        let item = Overdue {
            referral_kind: ReferralKind::SocialAssistance,
            sender: MemberCode::parse("jcy").unwrap(),
            submitted_on: d("2026-09-10"),
            number: "晋检移〔2026〕3号".into(),
            case_reference: "晋检刑诉〔2026〕123号".into(),
            kind: DeadlineKind::Start,
            due: d("2026-09-17"),
            working_days_late: 4,
            chased: 2,
        };
        let letter = compose(
            &mz,
            &[item.clone(), Overdue { chased: 0, case_reference: String::new(), ..item }],
            "",
            ("晋江市司法救助与社会救助衔接工作联席会议办公室", "晋江衔接办督〔2026〕1号", d("2026-09-23")),
            &directory,
        );
        let leader = &directory.get(&mz).unwrap().contacts.leader;
        assert_eq!(letter.addressee, format!("晋江市民政局{leader}："));
        assert_eq!(letter.title, TITLE);
        assert!(letter.body[0].contains("截至2026年9月23日，你单位下列2件"), "{}", letter.body[0]);
        assert_eq!(
            letter.body[1],
            "1. 检察院9月10日发出的社会救助移送，文号晋检移〔2026〕3号，案号晋检刑诉〔2026〕123号：\
             启动期限于9月17日届满，已逾期4个工作日，联席会议办公室已催办2次。"
        );
        assert!(letter.body[2].ends_with("启动期限于9月17日届满，已逾期4个工作日。"), "{}", letter.body[2]);
        assert_eq!(letter.date, "2026年9月23日");
        assert_eq!(default_prefix(&directory), "晋江衔接办督");
    }
}
