//! The written form of a referral (Art. 19–20: "以书面形式"): its document number (文号)
//! and what its letter says — 社会救助移送函 for the procuratorate's referrals,
//! 司法救助线索移送函 for the agencies' clues. Laying it out on paper is the job of
//! the documents module; this module says only what goes where.

use chrono::NaiveDate;

use super::{
    directory::Directory,
    referral::{Referral, ReferralKind},
    vocabulary::Need,
    MemberCode,
};

/// The opinion a letter cites.
pub const OPINION: &str = "《关于加强国家司法救助与社会救助衔接构建多元化救助平台的意见》";

/// A referral's document number: its sender's `seq`-th letter of `year`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentNumber {
    pub sender: MemberCode,
    pub year: i32,
    pub seq: u32,
    pub prefix: String,
}

impl DocumentNumber {
    /// As GB/T 9704 writes it: 晋检八部社救移〔2026〕12号 (the year in hexagonal brackets).
    pub fn text(&self) -> String {
        format!("{}〔{}〕{}号", self.prefix, self.year, self.seq)
    }
}

/// The prefix of a member's document numbers when none is configured: its short name
/// and 移 (e.g. 民政移〔2026〕3号).
pub fn default_prefix(short_name: &str) -> String {
    format!("{short_name}移")
}

/// Everything a letter's template fills in, each a list of paragraphs (most are one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// 发文机关: the sender's full name, in red over the red line.
    pub issuer: String,
    pub number: String,
    pub title: String,
    /// 主送机关, with its colon.
    pub addressee: String,
    pub body: Vec<String>,
    /// 附件 lines: "附件：1. …" then the others indented under it; empty for none.
    pub attachments: Vec<String>,
    /// 落款 and date (Arabic numerals, as GB/T 9704-2012 has them).
    pub signature: String,
    pub date: String,
    /// 附注: whom to call (the sender's liaison and phones), empty when the directory
    /// names none.
    pub contact: String,
}

impl Letter {
    /// The value of each placeholder a template may hold, by name.
    pub fn fields(&self) -> Vec<(&'static str, Vec<String>)> {
        vec![
            ("发文机关", vec![self.issuer.clone()]),
            ("文号", vec![self.number.clone()]),
            ("标题", vec![self.title.clone()]),
            ("主送机关", vec![self.addressee.clone()]),
            ("正文", self.body.clone()),
            ("附件", self.attachments.clone()),
            ("落款", vec![self.signature.clone()]),
            ("成文日期", vec![self.date.clone()]),
            ("附注", if self.contact.is_empty() { vec![] } else { vec![self.contact.clone()] }),
        ]
    }
}

/// The letter of `referral`, numbered `number`, listing `files` (the names of those it
/// was submitted with); dated the day it was submitted (`submitted_on`). It asks its
/// recipient for the needs the recipient serves (all of them when it serves none named).
pub fn compose(
    referral: &Referral,
    number: &str,
    files: &[&str],
    directory: &Directory,
    submitted_on: NaiveDate,
) -> Letter {
    let name_of = |code: &MemberCode| directory.get(code).map_or_else(|| code.to_string(), |m| m.name.clone());
    let issuer = name_of(&referral.sender);
    let content = &referral.content;
    let person = &content.person;
    let mut details = vec![format!("公民身份号码：{}", person.id_number.as_str())];
    for (label, value) in [("住址", &person.address), ("联系电话", &person.phone)] {
        if !value.is_empty() {
            details.push(format!("{label}：{value}"));
        }
    }
    let who = format!("{}（{}）", person.name, details.join("；"));
    let situations: Vec<&str> = content.situations.iter().map(|s| s.label()).collect();
    let groups: Vec<&str> = content.priority_groups.iter().map(|g| g.label()).collect();
    let needs: Vec<&str> = asked_of(&content.needs, &referral.recipient, directory).iter().map(|n| n.label()).collect();
    let mut body = Vec::new();
    match referral.kind {
        ReferralKind::SocialAssistance => {
            let case = if content.case_reference.is_empty() {
                "办理国家司法救助案件".to_owned()
            } else {
                format!("办理{}案件", content.case_reference)
            };
            body.push(format!("我院在{case}过程中，经调查核实，发现{who}存在以下情形：{}。", situations.join("；")));
        }
        ReferralKind::JudicialClue => {
            body.push(format!(
                "我单位在工作中发现{who}可能符合国家司法救助条件，存在以下情形：{}。",
                situations.join("；")
            ));
        }
    }
    if !groups.is_empty() {
        body.push(format!("其属于{}，请按绿色通道优先办理。", groups.join("、")));
    }
    if !content.narrative.is_empty() {
        body.extend(content.narrative.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned));
    }
    match referral.kind {
        ReferralKind::SocialAssistance => {
            if content.advance {
                body.push(format!("鉴于{}，本件在调查结束前先行移送。", content.advance_reason));
            }
            body.push(format!(
                "根据{OPINION}第十九条的规定，现将其移送你单位，建议依据相关规定予以{}等社会救助。",
                needs.join("、")
            ));
            body.push(
                "请你单位自收到本函之日起五个工作日内启动救助程序，并在救助程序结束后五个工作日内将办理情况反馈我院。"
                    .to_owned(),
            );
        }
        ReferralKind::JudicialClue => {
            if content.urgent {
                body.push("当事人生活面临急迫困难，本线索请紧急办理。".to_owned());
            }
            body.push(format!("根据{OPINION}第二十条的规定，现将该线索移送你院，请依法审查是否予以国家司法救助。"));
            body.push(
                "请你院自收到本函之日起五个工作日内启动审查程序，并在救助程序结束后五个工作日内将办理情况反馈我单位。"
                    .to_owned(),
            );
        }
    }
    let attachments = files
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let lead = if i == 0 { "附件：" } else { "　　　" };
            format!("{lead}{}. {name}", i + 1)
        })
        .collect();
    Letter {
        contact: contact(directory, &referral.sender),
        issuer: issuer.clone(),
        number: number.to_owned(),
        title: match referral.kind {
            ReferralKind::SocialAssistance => "社会救助移送函".to_owned(),
            ReferralKind::JudicialClue => "司法救助线索移送函".to_owned(),
        },
        addressee: format!("{}：", name_of(&referral.recipient)),
        body,
        attachments,
        signature: issuer,
        date: super::date::written(submitted_on),
    }
}

/// Of `needs`, those `recipient` serves; all of them when it serves none of them.
fn asked_of(needs: &[Need], recipient: &MemberCode, directory: &Directory) -> Vec<Need> {
    let served: Vec<Need> = directory
        .get(recipient)
        .map(|m| needs.iter().copied().filter(|n| m.needs.contains(n)).collect())
        .unwrap_or_default();
    if served.is_empty() {
        needs.to_vec()
    } else {
        served
    }
}

/// 附注: 「（联系人：李明，联系电话：0595-85601234、13800000000）」 from `sender`'s
/// directory entry; empty when it names no liaison.
fn contact(directory: &Directory, sender: &MemberCode) -> String {
    let Some(contacts) = directory.get(sender).map(|m| &m.contacts) else { return String::new() };
    if contacts.liaison.is_empty() {
        return String::new();
    }
    let phones: Vec<&str> =
        [contacts.office_phone.as_str(), contacts.mobile.as_str()].into_iter().filter(|p| !p.is_empty()).collect();
    if phones.is_empty() {
        format!("（联系人：{}）", contacts.liaison)
    } else {
        format!("（联系人：{}，联系电话：{}）", contacts.liaison, phones.join("、"))
    }
}

/// The document number of a correction: the original's with 「（更正N）」, N counting the
/// corrections from 1 (the letter's version less one).
pub fn corrected_number(original: &str, version: u32) -> String {
    format!("{original}（更正{}）", version.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_number_reads_as_gb_t_9704_writes_it() {
        let number = DocumentNumber {
            sender: MemberCode::parse("jcy").unwrap(),
            year: 2026,
            seq: 12,
            prefix: "晋检八部社救移".into(),
        };
        assert_eq!(number.text(), "晋检八部社救移〔2026〕12号");
        assert_eq!(default_prefix("民政"), "民政移");
    }
}
