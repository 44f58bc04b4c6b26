//! The figures for the joint meeting (Art. 23, 通报工作情况): what the store counts for
//! a period, made into the figures the office reports — referrals and clues each way
//! by member, distinct persons, 1+N cases, outcomes and refusal grounds, amounts by kind
//! of aid, how each deadline kind was kept, working days to start and to feed back,
//! priority groups, follow-up visits and their effect, the cases marked for the
//! meeting's study — beside the same period a year before. No person is ever in them.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{
    calendar::Calendar,
    deadline::{DeadlineKind, DeadlineState},
    directory::Directory,
    key_case::KeyCaseLine,
    money,
    period::Period,
    referral::ReferralKind,
    vocabulary::{AidKind, Outcome, PriorityGroup, RefusalGround, VisitEffect},
    MemberCode,
};

/// Referrals of one kind from one member to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub kind: ReferralKind,
    pub sender: MemberCode,
    pub recipient: MemberCode,
    pub count: u64,
}

/// Conclusions alike in what they granted or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concluded {
    pub outcome: Outcome,
    pub refusal_grounds: Vec<RefusalGround>,
    pub count: u64,
}

/// One kind of aid granted: by how many conclusions, and how much in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub aid: AidKind,
    pub count: u64,
    pub fen: i64,
}

/// Deadlines of one member and kind that ended one way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub responsible: MemberCode,
    pub kind: DeadlineKind,
    /// Met, met late or missed.
    pub state: DeadlineState,
    pub count: u64,
}

/// Deadlines of one kind met on `met_on`, having run from `runs_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Took {
    pub kind: DeadlineKind,
    pub runs_from: NaiveDate,
    pub met_on: NaiveDate,
    pub count: u64,
}

/// Follow-up visits alike in what they found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visited {
    pub effect: VisitEffect,
    pub aid_in_place: bool,
    pub another_referral: bool,
    pub count: u64,
}

/// What the store counts for a period: referrals by the day they were submitted,
/// conclusions by their date, deadlines by their due date (ended) or the day they were
/// met (took).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub flows: Vec<Flow>,
    /// Distinct ID numbers, through the blind index.
    pub persons: u64,
    /// Cases with more than one referral.
    pub one_plus_n: u64,
    pub concluded: Vec<Concluded>,
    pub granted: Vec<Granted>,
    pub ended: Vec<Ended>,
    pub took: Vec<Took>,
    /// Referrals by the priority groups they named.
    pub priority: Vec<(Vec<PriorityGroup>, u64)>,
    /// Follow-up visits by the day made.
    pub visits: Vec<Visited>,
    /// Cases marked for the joint meeting's study.
    pub key_cases: u64,
    /// The office's 催办, by the member chased.
    pub chased: Vec<(MemberCode, u64)>,
    /// The office's 督办函, by the member they went to.
    pub supervised: Vec<(MemberCode, u64)>,
    pub extensions: Stretched,
}

/// Deadlines moved: requests to extend (延期) asked and granted, with the working days
/// granted; start deadlines paused for materials (补充材料), with the working days they
/// stood still.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stretched {
    pub asked: u64,
    pub granted: u64,
    pub granted_days: u64,
    pub pauses: u64,
    pub paused_days: u64,
}

/// How one member's deadlines of one kind were kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kept {
    pub met: u64,
    pub late: u64,
    pub missed: u64,
}

impl Kept {
    pub fn total(&self) -> u64 {
        self.met + self.late + self.missed
    }

    /// The share kept on time, in percent; none when nothing ended.
    pub fn rate(&self) -> Option<f64> {
        (self.total() > 0).then(|| 100.0 * self.met as f64 / self.total() as f64)
    }
}

/// Working days taken: the median and the 90th percentile, by nearest rank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Days {
    pub count: u64,
    pub median: i64,
    pub p90: i64,
}

/// A member's referrals and clues each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberFlows {
    pub referrals_sent: u64,
    pub referrals_received: u64,
    pub clues_sent: u64,
    pub clues_received: u64,
}

/// The figures of one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub referrals: u64,
    pub clues: u64,
    pub persons: u64,
    pub one_plus_n: u64,
    pub members: BTreeMap<MemberCode, MemberFlows>,
    pub outcomes: BTreeMap<Outcome, u64>,
    pub refusals: BTreeMap<RefusalGround, u64>,
    /// Conclusions and fen granted, by kind of aid.
    pub amounts: BTreeMap<AidKind, (u64, i64)>,
    pub granted_fen: i64,
    pub kept: BTreeMap<(MemberCode, DeadlineKind), Kept>,
    pub to_start: Days,
    pub to_feedback: Days,
    pub priority: BTreeMap<PriorityGroup, u64>,
    /// Follow-up visits made.
    pub visits: u64,
    /// Of which the aid was found in place.
    pub aid_in_place: u64,
    /// Of which asked for another referral.
    pub another_referral: u64,
    pub effects: BTreeMap<VisitEffect, u64>,
    pub key_cases: u64,
    /// The office's 催办, by the member chased.
    pub chased: BTreeMap<MemberCode, u64>,
    /// The office's 督办函, by the member they went to.
    pub supervised: BTreeMap<MemberCode, u64>,
    pub extensions: Stretched,
}

/// The median and 90th percentile of `samples` (value, how many), by nearest rank.
fn days(mut samples: Vec<(i64, u64)>) -> Days {
    samples.sort_unstable();
    let count: u64 = samples.iter().map(|(_, n)| n).sum();
    let at = |p: f64| {
        let rank = ((p / 100.0) * count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (value, n) in &samples {
            seen += n;
            if seen >= rank {
                return *value;
            }
        }
        0
    };
    if count == 0 {
        return Days::default();
    }
    Days { count, median: at(50.0), p90: at(90.0) }
}

impl Tally {
    /// The figures `counts` make, working days counted on `calendar`.
    pub fn of(counts: &Counts, calendar: &Calendar) -> Tally {
        let mut t = Tally {
            persons: counts.persons,
            one_plus_n: counts.one_plus_n,
            key_cases: counts.key_cases,
            chased: counts.chased.iter().cloned().collect(),
            supervised: counts.supervised.iter().cloned().collect(),
            extensions: counts.extensions,
            ..Tally::default()
        };
        for v in &counts.visits {
            t.visits += v.count;
            t.aid_in_place += if v.aid_in_place { v.count } else { 0 };
            t.another_referral += if v.another_referral { v.count } else { 0 };
            *t.effects.entry(v.effect).or_default() += v.count;
        }
        for f in &counts.flows {
            match f.kind {
                ReferralKind::SocialAssistance => {
                    t.referrals += f.count;
                    t.members.entry(f.sender.clone()).or_default().referrals_sent += f.count;
                    t.members.entry(f.recipient.clone()).or_default().referrals_received += f.count;
                }
                ReferralKind::JudicialClue => {
                    t.clues += f.count;
                    t.members.entry(f.sender.clone()).or_default().clues_sent += f.count;
                    t.members.entry(f.recipient.clone()).or_default().clues_received += f.count;
                }
            }
        }
        for c in &counts.concluded {
            *t.outcomes.entry(c.outcome).or_default() += c.count;
            for ground in &c.refusal_grounds {
                *t.refusals.entry(*ground).or_default() += c.count;
            }
        }
        for g in &counts.granted {
            let entry = t.amounts.entry(g.aid).or_default();
            entry.0 += g.count;
            entry.1 += g.fen;
            t.granted_fen += g.fen;
        }
        for e in &counts.ended {
            let kept = t.kept.entry((e.responsible.clone(), e.kind)).or_default();
            match e.state {
                DeadlineState::Met => kept.met += e.count,
                DeadlineState::MetLate => kept.late += e.count,
                _ => kept.missed += e.count,
            }
        }
        let took = |kind: DeadlineKind| {
            let samples = counts
                .took
                .iter()
                .filter(|t| t.kind == kind)
                .map(|t| (calendar.working_days_between(t.runs_from, t.met_on).value.max(0), t.count))
                .collect();
            days(samples)
        };
        t.to_start = took(DeadlineKind::Start);
        t.to_feedback = took(DeadlineKind::Feedback);
        for (groups, count) in &counts.priority {
            for group in groups {
                *t.priority.entry(*group).or_default() += count;
            }
        }
        t
    }

    /// How every deadline of `kind` was kept, all members together.
    pub fn kept_of(&self, kind: DeadlineKind) -> Kept {
        self.kept.iter().filter(|((_, k), _)| *k == kind).fold(Kept::default(), |sum, (_, k)| Kept {
            met: sum.met + k.met,
            late: sum.late + k.late,
            missed: sum.missed + k.missed,
        })
    }
}

/// Outstanding deadlines past due today, of one member and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub responsible: MemberCode,
    pub kind: DeadlineKind,
    pub count: u64,
}

/// The figures of a period beside the same period a year before, for the office (all
/// members) or one member.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub period: Period,
    pub member: Option<MemberCode>,
    pub this: Tally,
    pub before: Tally,
    pub overdue: Vec<Overdue>,
    /// The day "overdue now" was counted.
    pub today: NaiveDate,
    /// The cases marked for the meeting's study within the period, oldest mark first.
    pub key_cases: Vec<KeyCaseLine>,
}

/// A figure's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Count(u64),
    Yuan(i64),
    /// A share, in percent; none when there was nothing to share.
    Percent(Option<f64>),
    Days(i64),
}

impl Value {
    /// As a person reads it: 12, 3,000.00 元, 87.5%, 3 个工作日.
    pub fn text(&self) -> String {
        match self {
            Value::Count(n) => n.to_string(),
            Value::Yuan(fen) => format!("{} 元", money::yuan(*fen)),
            Value::Percent(Some(p)) => format!("{p:.1}%"),
            Value::Percent(None) => "—".to_owned(),
            Value::Days(d) => format!("{d} 个工作日"),
        }
    }

    fn amount(&self) -> Option<f64> {
        match self {
            Value::Count(n) => Some(*n as f64),
            Value::Yuan(fen) => Some(*fen as f64),
            _ => None,
        }
    }
}

/// One line of the figures: its section, what it counts, this period's value and the
/// year before's.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub section: &'static str,
    pub label: String,
    pub this: Value,
    pub before: Value,
}

impl Line {
    /// The change on the year before (同比), in percent: for counts and amounts, when the
    /// year before had any.
    pub fn change(&self) -> Option<f64> {
        let (now, then) = (self.this.amount()?, self.before.amount()?);
        (then > 0.0).then(|| 100.0 * (now - then) / then)
    }

    /// The change as the report prints it: 上升 25.0%, 下降 10.0%, 持平, —; for shares,
    /// in percentage points (上升 5.0 个百分点).
    pub fn change_text(&self) -> String {
        if let (Value::Percent(Some(now)), Value::Percent(Some(then))) = (self.this, self.before) {
            let points = now - then;
            return match points {
                p if p > 0.05 => format!("上升 {p:.1} 个百分点"),
                p if p < -0.05 => format!("下降 {:.1} 个百分点", -p),
                _ => "持平".to_owned(),
            };
        }
        match self.change() {
            Some(c) if c > 0.05 => format!("上升 {c:.1}%"),
            Some(c) if c < -0.05 => format!("下降 {:.1}%", -c),
            Some(_) => "持平".to_owned(),
            None => "—".to_owned(),
        }
    }
}

/// `members`, each once, in the order of the directory (the procuratorate first); any
/// no longer in it after.
fn in_directory_order<'a>(directory: &Directory, members: impl Iterator<Item = &'a MemberCode>) -> Vec<&'a MemberCode> {
    let mut members: Vec<&MemberCode> = members.collect();
    members.sort_by_key(|m| (directory.place(m), (*m).clone()));
    members.dedup();
    members
}

fn name(directory: &Directory, code: &MemberCode) -> String {
    directory.get(code).map_or_else(|| code.to_string(), |m| m.short_name.clone())
}

impl Figures {
    /// Every figure as a line, in the order of the report.
    pub fn lines(&self, directory: &Directory) -> Vec<Line> {
        let (a, b) = (&self.this, &self.before);
        let mut lines = Vec::new();
        let mut push = |section, label: String, this, before| lines.push(Line { section, label, this, before });
        let count = Value::Count;
        push("总体", "社会救助移送（件）".into(), count(a.referrals), count(b.referrals));
        push("总体", "司法救助线索（件）".into(), count(a.clues), count(b.clues));
        push("总体", "涉及人数（人，按身份证号去重）".into(), count(a.persons), count(b.persons));
        push("总体", "“1+N”案件（件）".into(), count(a.one_plus_n), count(b.one_plus_n));
        for m in in_directory_order(directory, a.members.keys().chain(b.members.keys())) {
            let (x, y) = (a.members.get(m).copied().unwrap_or_default(), b.members.get(m).copied().unwrap_or_default());
            let who = name(directory, m);
            for (what, this, before) in [
                ("移出社会救助", x.referrals_sent, y.referrals_sent),
                ("接收社会救助移送", x.referrals_received, y.referrals_received),
                ("移送司法救助线索", x.clues_sent, y.clues_sent),
                ("接收司法救助线索", x.clues_received, y.clues_received),
            ] {
                if this + before > 0 {
                    push("各成员单位", format!("{who}：{what}（件）"), count(this), count(before));
                }
            }
        }
        for outcome in Outcome::ALL {
            let n = |t: &Tally| t.outcomes.get(outcome).copied().unwrap_or(0);
            push("办理结果", format!("{}（件）", outcome.label()), count(n(a)), count(n(b)));
        }
        for ground in RefusalGround::ALL {
            let n = |t: &Tally| t.refusals.get(ground).copied().unwrap_or(0);
            if n(a) + n(b) > 0 {
                push("不予救助理由", format!("{}（件）", ground.label()), count(n(a)), count(n(b)));
            }
        }
        push("救助金额", "救助金额合计".into(), Value::Yuan(a.granted_fen), Value::Yuan(b.granted_fen));
        for aid in AidKind::ALL {
            let n = |t: &Tally| t.amounts.get(aid).copied().unwrap_or((0, 0));
            if n(a).0 + n(b).0 > 0 {
                push("救助金额", format!("{}（件）", aid.label()), count(n(a).0), count(n(b).0));
                if n(a).1 + n(b).1 > 0 {
                    push("救助金额", format!("{}金额", aid.label()), Value::Yuan(n(a).1), Value::Yuan(n(b).1));
                }
            }
        }
        for kind in DeadlineKind::STATUTORY {
            let (x, y) = (a.kept_of(kind), b.kept_of(kind));
            if x.total() + y.total() > 0 {
                push("期限", format!("{}按期率", kind.label()), Value::Percent(x.rate()), Value::Percent(y.rate()));
            }
        }
        for m in in_directory_order(directory, a.kept.keys().chain(b.kept.keys()).map(|(m, _)| m)) {
            for kind in DeadlineKind::STATUTORY {
                let key = (m.clone(), kind);
                let rate = |t: &Tally| t.kept.get(&key).and_then(Kept::rate);
                if rate(a).is_some() || rate(b).is_some() {
                    let label = format!("{}：{}按期率", name(directory, m), kind.label());
                    push("期限", label, Value::Percent(rate(a)), Value::Percent(rate(b)));
                }
            }
        }
        for (what, by, steps) in [
            ("催办（次）", "被催办（次）", (|t: &Tally| &t.chased) as fn(&Tally) -> &BTreeMap<MemberCode, u64>),
            ("督办函（份）", "被督办（份）", |t: &Tally| &t.supervised),
        ] {
            let total = |t: &Tally| steps(t).values().sum::<u64>();
            push("期限", what.into(), count(total(a)), count(total(b)));
            for m in in_directory_order(directory, steps(a).keys().chain(steps(b).keys())) {
                let n = |t: &Tally| steps(t).get(m).copied().unwrap_or(0);
                push("期限", format!("{}：{by}", name(directory, m)), count(n(a)), count(n(b)));
            }
        }
        let (x, y) = (a.extensions, b.extensions);
        push("期限", "申请延期（件）".into(), count(x.asked), count(y.asked));
        push("期限", "批准延期（件）".into(), count(x.granted), count(y.granted));
        push("期限", "批准延长（工作日）".into(), count(x.granted_days), count(y.granted_days));
        push("期限", "补充材料暂停计时（次）".into(), count(x.pauses), count(y.pauses));
        push("期限", "暂停计时（工作日）".into(), count(x.paused_days), count(y.paused_days));
        push(
            "期限",
            "启动程序用时（半数案件不超过）".into(),
            Value::Days(a.to_start.median),
            Value::Days(b.to_start.median),
        );
        push("期限", "启动程序用时（九成案件不超过）".into(), Value::Days(a.to_start.p90), Value::Days(b.to_start.p90));
        push(
            "期限",
            "反馈用时（半数案件不超过）".into(),
            Value::Days(a.to_feedback.median),
            Value::Days(b.to_feedback.median),
        );
        push(
            "期限",
            "反馈用时（九成案件不超过）".into(),
            Value::Days(a.to_feedback.p90),
            Value::Days(b.to_feedback.p90),
        );
        for group in PriorityGroup::ALL {
            let n = |t: &Tally| t.priority.get(group).copied().unwrap_or(0);
            push("重点群体", format!("{}（件）", group.label()), count(n(a)), count(n(b)));
        }
        let (x, y) = (a.kept_of(DeadlineKind::Visit), b.kept_of(DeadlineKind::Visit));
        push("跟踪回访", "应回访（件，回访期限在本期届满）".into(), count(x.total()), count(y.total()));
        push("跟踪回访", "按期回访（件）".into(), count(x.met), count(y.met));
        push("跟踪回访", "逾期回访（件）".into(), count(x.late), count(y.late));
        push("跟踪回访", "逾期未回访（件）".into(), count(x.missed), count(y.missed));
        push("跟踪回访", "按期回访率".into(), Value::Percent(x.rate()), Value::Percent(y.rate()));
        push("跟踪回访", "回访（次）".into(), count(a.visits), count(b.visits));
        push("跟踪回访", "救助措施到位（次）".into(), count(a.aid_in_place), count(b.aid_in_place));
        for effect in VisitEffect::ALL {
            let n = |t: &Tally| t.effects.get(effect).copied().unwrap_or(0);
            push("跟踪回访", format!("{}（次）", effect.label()), count(n(a)), count(n(b)));
        }
        push("跟踪回访", "需再次移送（次）".into(), count(a.another_referral), count(b.another_referral));
        push("重点救助对象", "提请联席会议研究（件）".into(), count(a.key_cases), count(b.key_cases));
        lines
    }

    /// Outstanding statutory deadlines past due on [`Figures::today`], all together.
    pub fn overdue_total(&self) -> u64 {
        self.overdue.iter().filter(|o| o.kind.is_statutory()).map(|o| o.count).sum()
    }

    /// Follow-up visits past due and not yet made on [`Figures::today`].
    pub fn visits_overdue(&self) -> u64 {
        self.overdue.iter().filter(|o| o.kind == DeadlineKind::Visit).map(|o| o.count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_the_90th_percentile_count_each_sample_as_often_as_it_came() {
        assert_eq!(days(vec![]), Days::default());
        assert_eq!(days(vec![(3, 1)]), Days { count: 1, median: 3, p90: 3 });
        // 1, 2, 2, 2, 5, 5, 5, 5, 5, 9: the 5th is 5, the 9th is 5.
        assert_eq!(days(vec![(5, 5), (2, 3), (9, 1), (1, 1)]), Days { count: 10, median: 5, p90: 5 });
        assert_eq!(days(vec![(1, 1), (9, 1)]), Days { count: 2, median: 1, p90: 9 });
    }

    #[test]
    fn the_change_on_the_year_before_is_said_in_words() {
        let line = |this, before| Line { section: "", label: String::new(), this, before };
        assert_eq!(line(Value::Count(15), Value::Count(12)).change_text(), "上升 25.0%");
        assert_eq!(line(Value::Count(9), Value::Count(12)).change_text(), "下降 25.0%");
        assert_eq!(line(Value::Count(12), Value::Count(12)).change_text(), "持平");
        assert_eq!(line(Value::Count(3), Value::Count(0)).change_text(), "—");
        assert_eq!(line(Value::Percent(Some(90.0)), Value::Percent(Some(80.0))).change(), None);
        assert_eq!(line(Value::Percent(Some(90.0)), Value::Percent(Some(80.0))).change_text(), "上升 10.0 个百分点");
        assert_eq!(line(Value::Percent(Some(90.0)), Value::Percent(None)).change_text(), "—");
        assert_eq!(line(Value::Yuan(450_000), Value::Yuan(300_000)).change(), Some(50.0));
    }
}
