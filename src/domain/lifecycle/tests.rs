use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::{
    directory::Directory,
    history::EntryKind,
    person::{IdNumber, Person},
    referral::{Content, Grant, Submission},
    vocabulary::{AidKind, Need, RefusalGround, Situation},
    Role,
};

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

fn caller(code: &str, role: Role) -> Caller {
    Caller { code: MemberCode::parse(code).unwrap(), role }
}

fn content(kind: ReferralKind) -> Content {
    Content {
        person: Person {
            name: "张三".into(),
            id_number: IdNumber::parse("11010519491231002X").unwrap(),
            phone: String::new(),
            address: String::new(),
            household: String::new(),
        },
        situations: vec![Situation::SeriousInjury],
        priority_groups: vec![],
        needs: vec![Need::SubsistenceAllowance],
        narrative: "受伤致残，无力维持生活".into(),
        case_reference: String::new(),
        investigation_ended_on: (kind == ReferralKind::SocialAssistance)
            .then(|| NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()),
        advance: false,
        advance_reason: String::new(),
        discovered_on: (kind == ReferralKind::JudicialClue).then(|| NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()),
        urgent: false,
    }
}

fn submitted(to: &str) -> Referral {
    let jcy = caller("jcy", Role::Procuratorate);
    let submission = Submission::check(
        &jcy,
        ReferralKind::SocialAssistance,
        content(ReferralKind::SocialAssistance),
        vec![MemberCode::parse(to).unwrap()],
        &Directory::jinjiang(),
    )
    .unwrap();
    let mut made = submit(&submission, &jcy, Uuid::new_v4(), &[Uuid::new_v4()], at("2026-09-02T01:00:00Z"));
    made.remove(0).referral
}

fn conclusion(on: &str) -> Conclusion {
    Conclusion {
        outcome: Outcome::Granted,
        concluded_on: on.parse().unwrap(),
        summary: "纳入低保".into(),
        refusal_grounds: vec![],
        aids: vec![Grant { aid: AidKind::Subsistence, fen: 0 }],
    }
}

#[test]
fn a_referral_runs_its_whole_life_and_notifies_the_sender_each_time() {
    let mz = caller("mz", Role::Agency);
    let now = at("2026-09-10T02:00:00Z");
    let mut r = submitted("mz");
    let mut kinds = vec![];
    for action in [
        Action::Receive,
        Action::Start,
        Action::Conclude { conclusion: conclusion("2026-09-10"), feedback: None },
        Action::Feedback("已纳入低保".into()),
    ] {
        let t = apply(&r, &mz, action, now).unwrap();
        assert!(t.notices.iter().all(|n| n.to.as_str() == "jcy"));
        kinds.extend(t.notices.iter().map(|n| n.kind));
        r = t.referral;
    }
    assert_eq!(r.state, State::FedBack);
    assert_eq!(r.version, 5);
    assert_eq!(kinds.last(), Some(&NoticeKind::Feedback));
    assert_eq!(kinds.iter().filter(|k| **k == NoticeKind::StateChanged).count(), 3);
}

#[test]
fn a_referral_rewound_to_a_version_is_what_the_act_then_answered() {
    let mz = caller("mz", Role::Agency);
    let mut answers = vec![submitted("mz")];
    let mut history = vec![HistoryEntry {
        referral_id: answers[0].id,
        version: 1,
        kind: EntryKind::Submitted,
        actor: MemberCode::parse("jcy").unwrap(),
        at: answers[0].submitted_at,
        state: State::Submitted,
        note: String::new(),
        clerk: String::new(),
    }];
    let acts = [
        (Action::Receive, "2026-09-03T02:00:00Z"),
        (Action::Comment("请补充材料".into()), "2026-09-04T02:00:00Z"),
        (Action::Start, "2026-09-07T02:00:00Z"),
        (
            Action::Conclude { conclusion: conclusion("2026-09-10"), feedback: Some("已纳入低保".into()) },
            "2026-09-10T02:00:00Z",
        ),
    ];
    for (action, when) in acts {
        let t = apply(answers.last().unwrap(), &mz, action, at(when)).unwrap();
        history.extend(t.entries);
        answers.push(t.referral);
    }
    let now = answers.last().unwrap().clone();
    for answer in &answers {
        assert_eq!(as_of(&now, &history, answer.version), *answer, "version {}", answer.version);
    }
}

#[test]
fn a_transition_from_the_wrong_state_names_the_current_state() {
    let mz = caller("mz", Role::Agency);
    let r = submitted("mz");
    let err = apply(&r, &mz, Action::Start, at("2026-09-10T02:00:00Z")).unwrap_err();
    assert_eq!(err, DomainError::WrongState { action: "start", current: "submitted" });
}

#[test]
fn only_the_recipient_acts_on_a_referral_and_only_the_sender_withdraws() {
    let jcy = caller("jcy", Role::Procuratorate);
    let mz = caller("mz", Role::Agency);
    let r = submitted("mz");
    let now = at("2026-09-10T02:00:00Z");
    assert!(matches!(apply(&r, &jcy, Action::Receive, now), Err(DomainError::Forbidden(_))));
    assert!(matches!(apply(&r, &mz, Action::Withdraw("x".into()), now), Err(DomainError::Forbidden(_))));
    let withdrawn = apply(&r, &jcy, Action::Withdraw("重复移送".into()), now).unwrap();
    assert_eq!(withdrawn.referral.state, State::Withdrawn);
    assert_eq!(withdrawn.notices[0].to.as_str(), "mz");
    assert_eq!(withdrawn.notices[0].kind, NoticeKind::Withdrawn);
    let err = apply(&withdrawn.referral, &jcy, Action::Comment("补充".into()), now).unwrap_err();
    assert_eq!(err, DomainError::WrongState { action: "comment", current: "withdrawn" });
}

#[test]
fn comments_go_to_the_other_party_and_keep_the_state() {
    let jcy = caller("jcy", Role::Procuratorate);
    let mz = caller("mz", Role::Agency);
    let r = submitted("mz");
    let now = at("2026-09-10T02:00:00Z");
    let asked = apply(&r, &mz, Action::Comment("请补充户籍证明".into()), now).unwrap();
    assert_eq!((asked.notices[0].to.as_str(), asked.referral.state), ("jcy", State::Submitted));
    let answered = apply(&asked.referral, &jcy, Action::Comment("已补充".into()), now).unwrap();
    assert_eq!(answered.notices[0].to.as_str(), "mz");
    assert_eq!(answered.referral.version, 3);
}

#[test]
fn conclusion_dates_must_lie_between_the_start_and_today() {
    let mz = caller("mz", Role::Agency);
    let started_at = at("2026-09-10T02:00:00Z");
    let r = apply(&submitted("mz"), &mz, Action::Receive, started_at).unwrap().referral;
    let r = apply(&r, &mz, Action::Start, started_at).unwrap().referral;
    let later = started_at + Duration::days(3);
    for (on, rule) in [("2026-09-09", "before the procedure started"), ("2026-09-14", "in the future")] {
        let err = apply(&r, &mz, Action::Conclude { conclusion: conclusion(on), feedback: None }, later).unwrap_err();
        let DomainError::Invalid(violations) = err else { panic!("{err:?}") };
        assert_eq!(violations[0].field, "conclusion.concluded_on");
        assert!(violations[0].description().contains(rule), "{}", violations[0].description());
    }
    let done = apply(
        &r,
        &mz,
        Action::Conclude { conclusion: conclusion("2026-09-13"), feedback: Some("已纳入低保".into()) },
        later,
    )
    .unwrap();
    assert_eq!(done.referral.state, State::FedBack);
    assert_eq!(done.entries.iter().map(|e| e.kind).collect::<Vec<_>>(), [EntryKind::Concluded, EntryKind::FedBack]);
}

#[test]
fn aid_granted_names_its_kind_and_none_is_named_when_refused() {
    let social = Referral { started_at: Some(at("2026-09-10T02:00:00Z")), ..submitted("mz") };
    let now = at("2026-09-12T02:00:00Z");
    let field = |c: &Conclusion| match check_conclusion(&social, c, now) {
        Err(DomainError::Invalid(v)) => v.iter().map(|v| v.field.clone()).collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let granted = conclusion("2026-09-11");
    assert!(field(&granted).is_empty());
    assert_eq!(field(&Conclusion { aids: vec![], ..granted.clone() }), ["conclusion.aids"]);
    let refused = Conclusion { outcome: Outcome::NotGranted, ..granted };
    assert_eq!(field(&refused), ["conclusion.aids"]);
}

#[test]
fn a_refused_clue_needs_art_6_grounds_and_only_then() {
    let clue =
        Referral { kind: ReferralKind::JudicialClue, started_at: Some(at("2026-09-10T02:00:00Z")), ..submitted("mz") };
    let now = at("2026-09-12T02:00:00Z");
    let mut refused = conclusion("2026-09-11");
    refused.outcome = Outcome::NotGranted;
    refused.aids.clear();
    assert!(check_conclusion(&clue, &refused, now).is_err());
    refused.refusal_grounds = vec![RefusalGround::AlreadyAssisted];
    assert!(check_conclusion(&clue, &refused, now).is_ok());
    let social = Referral { kind: ReferralKind::SocialAssistance, ..clue };
    assert!(check_conclusion(&social, &refused, now).is_err());
}

#[test]
fn clues_go_from_agencies_to_the_procuratorate_only() {
    let directory = Directory::jinjiang();
    let mz = caller("mz", Role::Agency);
    let to = |code: &str| vec![MemberCode::parse(code).unwrap()];
    let clue = content(ReferralKind::JudicialClue);
    assert!(Submission::check(&mz, ReferralKind::JudicialClue, clue.clone(), to("jcy"), &directory).is_ok());
    let Err(DomainError::Invalid(v)) =
        Submission::check(&mz, ReferralKind::JudicialClue, clue.clone(), to("jy"), &directory)
    else {
        panic!()
    };
    assert_eq!(v[0].field, "recipients[0]");
    let social = content(ReferralKind::SocialAssistance);
    assert!(matches!(
        Submission::check(&mz, ReferralKind::SocialAssistance, social, to("jy"), &directory),
        Err(DomainError::Forbidden(_))
    ));
}

#[test]
fn an_advance_referral_needs_its_reason() {
    let jcy = caller("jcy", Role::Procuratorate);
    let mut advance = content(ReferralKind::SocialAssistance);
    advance.advance = true;
    advance.investigation_ended_on = None;
    let err = Submission::check(
        &jcy,
        ReferralKind::SocialAssistance,
        advance,
        vec![MemberCode::parse("mz").unwrap()],
        &Directory::jinjiang(),
    )
    .unwrap_err();
    let DomainError::Invalid(v) = err else { panic!() };
    assert_eq!(v.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["draft.advance_reason"]);
}

#[test]
fn the_acts_allowed_are_those_apply_accepts() {
    let mut r = submitted("mz");
    let (sender, recipient) = (caller("jcy", Role::Procuratorate), caller("mz", Role::Agency));
    assert_eq!(allowed(&r, &recipient), ["receive", "return", "comment", "ask_materials"]);
    assert_eq!(allowed(&r, &sender), ["withdraw", "comment"]);
    assert!(allowed(&r, &caller("jy", Role::Agency)).is_empty());
    r.state = State::Started;
    assert_eq!(allowed(&r, &recipient), ["conclude", "comment"]);
    r.state = State::FedBack;
    assert!(allowed(&r, &recipient).is_empty() && allowed(&r, &sender).is_empty());
}

#[test]
fn each_party_is_awaited_for_the_act_its_side_owes() {
    use crate::domain::awaited::Awaited;
    let mut r = submitted("mz");
    let (jcy, mz) = (MemberCode::parse("jcy").unwrap(), MemberCode::parse("mz").unwrap());
    for (state, recipient) in [
        (State::Submitted, Some(Awaited::Receipt)),
        (State::Received, Some(Awaited::Start)),
        (State::Started, Some(Awaited::Conclusion)),
        (State::Concluded, Some(Awaited::Feedback)),
        (State::FedBack, Some(Awaited::Visit)),
        (State::Returned, None),
        (State::Withdrawn, None),
    ] {
        r.state = state;
        assert_eq!(Awaited::of(&r, &mz, false), recipient, "{state:?}");
        let sender = (state == State::Returned).then_some(Awaited::Reroute);
        assert_eq!(Awaited::of(&r, &jcy, false), sender, "{state:?}");
        // The other party's comment awaits a reply when the side owes nothing else.
        assert_eq!(Awaited::of(&r, &jcy, true), sender.or(Some(Awaited::Reply)), "{state:?}");
    }
    for a in [Awaited::Receipt, Awaited::Reroute, Awaited::Reply] {
        assert_eq!(Awaited::from_code(a.code()), Some(a));
    }
}
