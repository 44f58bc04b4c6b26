//! 谁看见什么 — how much of a person a reader sees, decided once from the reader's role.
//!
//! The parties to a referral see the person in full; the joint-meeting office sees
//! metadata, parties, dates and deadlines, with the person masked (张*,
//! 3505**********1234) and every text written by people withheld (the case summary,
//! notes, feedback, reasons, what a visit found). The application layer passes every
//! referral, history entry and file it hands a reader through [`View`]; what it returns
//! to the office holds no person, so no front end, export or event can show one.

use super::{
    history::HistoryEntry,
    material::{masked_name, Carried},
    person::{MaskedPerson, Person},
    referral::{Content, Referral},
    Role,
};

/// How much of a person's data a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The parties to a referral.
    Full,
    /// The joint-meeting office: the person masked, free text withheld.
    Masked,
}

impl View {
    /// What a reader of `role` sees. Admins read no referral at all (the application
    /// layer refuses them before any view is taken); were one to, it would see the
    /// office's view.
    pub fn of(role: Role) -> Self {
        if role.is_member() {
            View::Full
        } else {
            View::Masked
        }
    }

    /// A referral as this view shows it.
    pub fn referral(self, r: Referral) -> Referral<Seen> {
        let Referral {
            id,
            case_id,
            kind,
            state,
            sender,
            recipient,
            content,
            submitted_at,
            updated_at,
            started_at,
            mut conclusion,
            feedback,
            closing_reason,
            version,
        } = r;
        let Content {
            person,
            situations,
            priority_groups,
            needs,
            narrative,
            case_reference,
            investigation_ended_on,
            advance,
            advance_reason,
            discovered_on,
            urgent,
        } = content;
        let full = self == View::Full;
        let text = |t: String| if full { t } else { String::new() };
        if let Some(conclusion) = conclusion.as_mut().filter(|_| !full) {
            conclusion.summary.clear();
        }
        Referral {
            id,
            case_id,
            kind,
            state,
            sender,
            recipient,
            content: Content {
                person: if full { Seen::Full(person) } else { Seen::Masked(person.masked()) },
                situations,
                priority_groups,
                needs,
                narrative: text(narrative),
                case_reference,
                investigation_ended_on,
                advance,
                advance_reason: text(advance_reason),
                discovered_on,
                urgent,
            },
            submitted_at,
            updated_at,
            started_at,
            conclusion,
            feedback: feedback.filter(|_| full),
            closing_reason: closing_reason.filter(|_| full),
            version,
        }
    }

    /// A history entry as this view shows it: the office does not read its note (a
    /// comment, a reason, feedback or what a visit found may describe the person).
    pub fn entry(self, mut e: HistoryEntry) -> HistoryEntry {
        if self == View::Masked {
            e.note.clear();
        }
        e
    }

    /// A file a referral carries as this view shows it: the office reads its name
    /// masked (张***.pdf).
    pub fn file(self, mut c: Carried) -> Carried {
        if self == View::Masked {
            c.attachment.name = masked_name(&c.attachment.name, c.attachment.kind);
        }
        c
    }
}

/// The person as a reader sees them.
#[derive(Clone, PartialEq, Eq)]
pub enum Seen {
    Full(Person),
    Masked(MaskedPerson),
}

impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_masked() { "Seen::Masked" } else { "Seen::Full(<redacted>)" })
    }
}

impl Seen {
    pub fn is_masked(&self) -> bool {
        matches!(self, Seen::Masked(_))
    }

    pub fn name(&self) -> &str {
        match self {
            Seen::Full(p) => &p.name,
            Seen::Masked(m) => &m.name,
        }
    }

    pub fn id_number(&self) -> &str {
        match self {
            Seen::Full(p) => p.id_number.as_str(),
            Seen::Masked(m) => &m.id_number,
        }
    }

    pub fn phone(&self) -> &str {
        match self {
            Seen::Full(p) => &p.phone,
            Seen::Masked(m) => &m.phone,
        }
    }

    pub fn address(&self) -> &str {
        match self {
            Seen::Full(p) => &p.address,
            Seen::Masked(m) => &m.address,
        }
    }

    /// 家庭情况: the office reads none of it.
    pub fn household(&self) -> &str {
        match self {
            Seen::Full(p) => &p.household,
            Seen::Masked(_) => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::domain::{
        person::{IdNumber, Person},
        referral::{Conclusion, Grant, ReferralKind, State},
        vocabulary::{AidKind, Outcome},
        MemberCode,
    };

    fn referral() -> Referral {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).single().expect("a time");
        Referral {
            id: Uuid::nil(),
            case_id: Uuid::nil(),
            kind: ReferralKind::SocialAssistance,
            state: State::Concluded,
            sender: MemberCode::parse("jcy").expect("code"),
            recipient: MemberCode::parse("mz").expect("code"),
            content: Content {
                person: Person {
                    name: "王小明".into(),
                    id_number: IdNumber::parse("350582199001011231").expect("a valid number"),
                    phone: "13800001234".into(),
                    address: "福建省晋江市青阳街道某路1号".into(),
                    household: "父母双亡".into(),
                },
                situations: vec![],
                priority_groups: vec![],
                needs: vec![],
                narrative: "被告人无力赔偿".into(),
                case_reference: "晋检刑诉〔2026〕1号".into(),
                investigation_ended_on: None,
                advance: true,
                advance_reason: "急需医疗".into(),
                discovered_on: None,
                urgent: false,
            },
            submitted_at: at,
            updated_at: at,
            started_at: None,
            conclusion: Some(Conclusion {
                outcome: Outcome::Granted,
                concluded_on: at.date_naive(),
                summary: "王小明纳入低保".into(),
                refusal_grounds: vec![],
                aids: vec![Grant { aid: AidKind::Subsistence, fen: 300_000 }],
            }),
            feedback: Some("王小明已领取".into()),
            closing_reason: Some("王小明不需要".into()),
            version: 5,
        }
    }

    #[test]
    fn the_office_view_holds_nothing_of_the_person_and_the_parties_see_all() {
        let masked = View::Masked.referral(referral());
        let text = format!(
            "{} {} {} {} {} {} {} {:?} {:?} {}",
            masked.content.person.name(),
            masked.content.person.id_number(),
            masked.content.person.phone(),
            masked.content.person.address(),
            masked.content.person.household(),
            masked.content.narrative,
            masked.content.advance_reason,
            masked.feedback,
            masked.closing_reason,
            masked.conclusion.as_ref().map(|c| c.summary.as_str()).unwrap_or_default(),
        );
        for secret in ["小明", "19900101", "0000", "青阳", "父母", "无力赔偿", "急需", "领取", "不需要"]
        {
            assert!(!text.contains(secret), "the office's view shows {secret}: {text}");
        }
        assert_eq!(masked.content.person.name(), "王**");
        assert_eq!(masked.conclusion.map(|c| c.amount_fen()), Some(300_000), "figures stay");
        assert_eq!(masked.content.case_reference, "晋检刑诉〔2026〕1号", "the case's number is metadata");

        let full = View::Full.referral(referral());
        assert_eq!(full.content.person.name(), "王小明");
        assert_eq!(full.content.person.household(), "父母双亡");
        assert_eq!(full.feedback.as_deref(), Some("王小明已领取"));
    }

    #[test]
    fn only_members_see_in_full() {
        assert_eq!(View::of(Role::Procuratorate), View::Full);
        assert_eq!(View::of(Role::Agency), View::Full);
        assert_eq!(View::of(Role::Office), View::Masked);
        assert_eq!(View::of(Role::Admin), View::Masked);
    }
}
