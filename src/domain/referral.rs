//! 移送 — a referral (社会救助移送) or clue (司法救助线索): what the sender states, and the
//! projection of its events that the hub keeps.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rule::Rule;
use super::{
    directory::Directory,
    error::Violations,
    person::Person,
    vocabulary::{AidKind, Need, Outcome, PriorityGroup, RefusalGround, Situation},
    Caller, DomainError, MemberCode, Role,
};

/// Most recipients one submit may name: every agency of a joint meeting.
pub const MAX_RECIPIENTS: usize = 12;

/// The two flows of the opinion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralKind {
    /// 社会救助移送 — procuratorate → agency (Art. 19).
    SocialAssistance = 1,
    /// 司法救助线索 — agency → procuratorate (Art. 20).
    JudicialClue = 2,
}

impl ReferralKind {
    /// Who receives referrals of this kind: agencies get 社会救助移送, the
    /// procuratorate gets 司法救助线索.
    pub fn recipient_role(self) -> Role {
        match self {
            Self::SocialAssistance => Role::Agency,
            Self::JudicialClue => Role::Procuratorate,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::SocialAssistance => "social_assistance",
            Self::JudicialClue => "judicial_clue",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::SocialAssistance => "社会救助移送",
            Self::JudicialClue => "司法救助线索",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::SocialAssistance, Self::JudicialClue].into_iter().find(|k| k.code() == code)
    }
}

/// Where a referral stands in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 已移送 — delivered to the recipient's inbox.
    Submitted = 1,
    /// 已签收.
    Received = 2,
    /// 已启动程序.
    Started = 3,
    /// 已办结.
    Concluded = 4,
    /// 已反馈 — the loop is closed.
    FedBack = 5,
    /// 已退回.
    Returned = 6,
    /// 已撤回.
    Withdrawn = 7,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Submitted,
        State::Received,
        State::Started,
        State::Concluded,
        State::FedBack,
        State::Returned,
        State::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Received => "received",
            State::Started => "started",
            State::Concluded => "concluded",
            State::FedBack => "fed_back",
            State::Returned => "returned",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Submitted => "已移送",
            State::Received => "已签收",
            State::Started => "已启动",
            State::Concluded => "已办结",
            State::FedBack => "已反馈",
            State::Returned => "已退回",
            State::Withdrawn => "已撤回",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn from_number(number: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as i32 == number)
    }

    /// Closed referrals take no further transitions or comments.
    pub fn is_closed(self) -> bool {
        matches!(self, State::FedBack | State::Returned | State::Withdrawn)
    }
}

/// What the sender states about the person and the case; fixed once submitted. The
/// person is in full as the hub keeps it, and as a reader may see it
/// ([`Seen`](super::view::Seen)) once the application layer hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content<P = Person> {
    pub person: P,
    pub situations: Vec<Situation>,
    pub priority_groups: Vec<PriorityGroup>,
    pub needs: Vec<Need>,
    pub narrative: String,
    pub case_reference: String,
    /// Social-assistance referrals: when the investigation (调查核实) ended.
    pub investigation_ended_on: Option<NaiveDate>,
    /// 先行移送 (Art. 19 ¶2).
    pub advance: bool,
    pub advance_reason: String,
    /// Clues: when the agency found the person.
    pub discovered_on: Option<NaiveDate>,
    /// Clues: 立即告知 (Art. 20 ¶2).
    pub urgent: bool,
}

impl<P> Content<P> {
    /// 绿色通道 — any priority group (Art. 5).
    pub fn green_channel(&self) -> bool {
        !self.priority_groups.is_empty()
    }
}

/// 办结 — how the recipient concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conclusion {
    pub outcome: Outcome,
    pub concluded_on: NaiveDate,
    pub summary: String,
    pub refusal_grounds: Vec<RefusalGround>,
    /// The kinds of aid granted, each once, with its amount; none when nothing was.
    #[serde(default)]
    pub aids: Vec<Grant>,
}

impl Conclusion {
    /// 救助金额: the amounts of every kind of aid granted, in fen.
    pub fn amount_fen(&self) -> i64 {
        self.aids.iter().map(|g| g.fen).sum()
    }
}

/// One kind of aid a conclusion granted (纳入低保, 临时救助 …) and its amount in fen,
/// 0 when it is not money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub aid: AidKind,
    pub fen: i64,
}

impl Grant {
    /// 「纳入低保 3000.00 元」, or the kind alone when it is not money: 「法律援助」.
    pub fn said(&self) -> String {
        match self.fen {
            0 => self.aid.label().to_owned(),
            fen => format!("{} {} 元", self.aid.label(), super::money::yuan(fen)),
        }
    }

    /// Several, as one line: 「纳入低保 3000.00 元；临时救助 500.00 元」.
    pub fn all_said(aids: &[Grant]) -> String {
        aids.iter().map(Grant::said).collect::<Vec<_>>().join("；")
    }
}

/// A referral as the hub keeps it: the projection of its history; with the person as
/// a reader sees it, `Referral<Seen>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral<P = Person> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: ReferralKind,
    pub state: State,
    pub sender: MemberCode,
    pub recipient: MemberCode,
    pub content: Content<P>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub conclusion: Option<Conclusion>,
    pub feedback: Option<String>,
    pub closing_reason: Option<String>,
    /// The number of events so far.
    pub version: u32,
}

impl<P> Referral<P> {
    /// Whether `member` sent or received the referral: only they may see it.
    pub fn is_party(&self, member: &MemberCode) -> bool {
        &self.sender == member || &self.recipient == member
    }
}

/// A submit that passed every rule: one referral per recipient, all with `content`.
#[derive(Debug, Clone)]
pub struct Submission {
    pub kind: ReferralKind,
    pub content: Content,
    pub recipients: Vec<MemberCode>,
    /// What the sender tells the recipients beside the content (why a returned
    /// referral is sent on, 改送); usually empty.
    pub note: String,
}

impl Submission {
    /// Checks the rules that tie content, sender and recipients together: who may send
    /// which kind, to whom, and what each kind must state.
    pub fn check(
        caller: &Caller,
        kind: ReferralKind,
        content: Content,
        recipients: Vec<MemberCode>,
        directory: &Directory,
    ) -> Result<Self, DomainError> {
        match (kind, caller.role) {
            (ReferralKind::SocialAssistance, Role::Procuratorate) | (ReferralKind::JudicialClue, Role::Agency) => {}
            (ReferralKind::SocialAssistance, _) => {
                return Err(DomainError::Forbidden(
                    "only the procuratorate sends social-assistance referrals; agencies send judicial-assistance clues"
                        .into(),
                ))
            }
            (ReferralKind::JudicialClue, _) => {
                return Err(DomainError::Forbidden("only partner agencies send judicial-assistance clues".into()))
            }
        }
        let mut v = Violations::default();
        if recipients.is_empty() {
            v.add("recipients", Rule::AtLeastOneRecipient);
        }
        if recipients.len() > MAX_RECIPIENTS {
            v.add("recipients", Rule::AtMostRecipients { max: MAX_RECIPIENTS });
        }
        for (i, code) in recipients.iter().enumerate() {
            let field = format!("recipients[{i}]");
            if recipients[..i].contains(code) {
                v.add(field, Rule::NamedTwice);
                continue;
            }
            match directory.get(code) {
                None => v.add(field, Rule::NotAMember),
                Some(m) if !m.active => v.add(field, Rule::MemberSuspended { member: m.short_name.clone() }),
                Some(m) => match kind {
                    ReferralKind::SocialAssistance if m.role != Role::Agency => v.add(field, Rule::NotAnAgency),
                    ReferralKind::JudicialClue if m.role != Role::Procuratorate => v.add(
                        field,
                        Rule::CluesToProcuratorate { procuratorate: directory.procuratorate().short_name.clone() },
                    ),
                    _ => {}
                },
            }
        }
        match kind {
            ReferralKind::SocialAssistance => {
                if content.advance && content.advance_reason.is_empty() {
                    v.add("draft.advance_reason", Rule::AdvanceReasonRequired);
                }
                if !content.advance && content.investigation_ended_on.is_none() {
                    v.add("draft.investigation_ended_on", Rule::RequiredUnlessAdvance);
                }
                if !content.advance && !content.advance_reason.is_empty() {
                    v.add("draft.advance_reason", Rule::OnlyForAdvance);
                }
                if content.discovered_on.is_some() {
                    v.add("draft.discovered_on", Rule::OnlyForClues);
                }
                if content.urgent {
                    v.add("draft.urgent", Rule::OnlyCluesUrgent);
                }
            }
            ReferralKind::JudicialClue => {
                if content.discovered_on.is_none() {
                    v.add("draft.discovered_on", Rule::DiscoveredOnRequired);
                }
                if content.investigation_ended_on.is_some() {
                    v.add("draft.investigation_ended_on", Rule::OnlyForSocial);
                }
                if content.advance {
                    v.add("draft.advance", Rule::OnlyForSocial);
                }
            }
        }
        v.finish(|| Self { kind, content, recipients, note: String::new() })
    }
}
