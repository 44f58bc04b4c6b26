//! The two flows of the opinion, end to end.

use chrono::Duration;
use tokio_stream::StreamExt;
use xianjie::proto as pb;

use crate::support::*;

#[tokio::test]
async fn one_person_referred_to_three_agencies_closes_three_loops() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let sent = jcy
        .submit(referral_draft(), vec!["mz".into(), "jy".into(), "fl".into()], None)
        .await
        .expect("the procuratorate submits");
    assert_eq!(sent.referrals.len(), 3);
    assert!(sent.referrals.iter().all(|r| r.case_id == sent.case_id && r.green_channel));
    let recipients: Vec<_> = sent.referrals.iter().map(|r| r.recipient.as_str()).collect();
    assert_eq!(recipients, ["mz", "jy", "fl"]);

    hub.clock.advance(Duration::days(1));
    for (i, code) in ["mz", "jy", "fl"].into_iter().enumerate() {
        let agency = hub.client(code).await;
        let mut inbox = agency.subscribe(Some(0)).await.expect("the agency subscribes");
        let event = inbox.next_within().await.expect("an event").expect("delivered");
        assert_eq!(event.kind, pb::InboxEventKind::NewReferral as i32);
        assert_eq!(event.referral_id, sent.referrals[i].id);
        assert!(event.green_channel);
        let id = event.referral_id.as_str();
        assert_eq!(agency.receive(id).await.unwrap().state, pb::ReferralState::Received as i32);
        assert_eq!(agency.start(id).await.unwrap().state, pb::ReferralState::Started as i32);
        let done = if code == "fl" {
            // Conclusion and feedback in one step.
            agency.conclude(id, granted("2026-09-11"), Some("已链接心理疏导资源".into())).await.unwrap()
        } else {
            let concluded = agency.conclude(id, granted("2026-09-11"), None).await.unwrap();
            assert_eq!(concluded.state, pb::ReferralState::Concluded as i32);
            agency.feedback(id, "已办结并反馈").await.unwrap()
        };
        assert_eq!(done.state, pb::ReferralState::FedBack as i32);
    }

    let case = jcy.case(&sent.case_id).await.expect("the case");
    assert!(case.complete, "every loop is closed");
    assert!(case.referrals.iter().all(|r| r.state == pb::ReferralState::FedBack as i32));

    // The procuratorate was told of each step: 3 × (received, started, concluded, fed back).
    let mut inbox = jcy.subscribe(Some(0)).await.unwrap();
    let mut feedback = 0;
    for _ in 0..12 {
        let event = inbox.next_within().await.unwrap().unwrap();
        feedback += usize::from(event.kind == pb::InboxEventKind::Feedback as i32);
    }
    assert_eq!(feedback, 3);

    let history = jcy.get(&sent.referrals[0].id).await.unwrap().history;
    let kinds: Vec<i32> = history.iter().map(|e| e.kind).collect();
    use pb::ReferralEventKind as K;
    assert_eq!(kinds, [K::Submitted, K::Received, K::Started, K::Concluded, K::FedBack].map(|k| k as i32));
    assert_eq!(history[0].actor, "jcy");
    assert_eq!(history[1].actor, "mz");
}

#[tokio::test]
async fn an_agency_sends_clues_and_the_procuratorate_handles_them_to_feedback() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    let jcy = hub.client("jcy").await;
    let plain = mz.submit(clue_draft(false), vec!["jcy".into()], None).await.unwrap().referrals.remove(0);
    let urgent = mz.submit(clue_draft(true), vec!["jcy".into()], None).await.unwrap().referrals.remove(0);
    assert_eq!(plain.kind, pb::ReferralKind::JudicialClue as i32);
    assert!(urgent.urgent && !plain.urgent);

    let mut inbox = jcy.subscribe(Some(0)).await.unwrap();
    let first = inbox.next_within().await.unwrap().unwrap();
    let second = inbox.next_within().await.unwrap().unwrap();
    assert_eq!((first.referral_id.as_str(), first.urgent), (plain.id.as_str(), false));
    assert_eq!((second.referral_id.as_str(), second.urgent), (urgent.id.as_str(), true));

    for id in [&plain.id, &urgent.id] {
        jcy.receive(id).await.unwrap();
        jcy.start(id).await.unwrap();
    }
    let refused = pb::Conclusion {
        outcome: pb::Outcome::NotGranted as i32,
        concluded_on: "2026-09-10".into(),
        summary: "已获社会救助合理补偿".into(),
        refusal_grounds: vec![pb::RefusalGround::AlreadyAssisted as i32],
        ..Default::default()
    };
    let done = jcy.conclude(&plain.id, refused, Some("不予救助：已获合理补偿".into())).await.unwrap();
    assert_eq!(done.conclusion.unwrap().refusal_grounds, [pb::RefusalGround::AlreadyAssisted as i32]);
    // A client from before `aids` names one kind and its amount; the hub reads it as one aid.
    let aid = pb::Conclusion {
        amount_fen: 2_000_000,
        summary: "先行救助 2 万元".into(),
        aid: pb::AidKind::JudicialAssistance as i32,
        aids: vec![],
        ..granted("2026-09-10")
    };
    jcy.conclude(&urgent.id, aid, None).await.unwrap();
    jcy.feedback(&urgent.id, "已先行救助，补办手续中").await.unwrap();

    let seen = mz.get(&urgent.id).await.unwrap().referral.unwrap();
    assert_eq!(seen.state, pb::ReferralState::FedBack as i32);
    let conclusion = seen.conclusion.unwrap();
    assert_eq!(conclusion.amount_fen, 2_000_000);
    assert_eq!(conclusion.aids, [pb::Aid { kind: pb::AidKind::JudicialAssistance as i32, fen: 2_000_000 }]);
    assert_eq!(seen.feedback, "已先行救助，补办手续中");
}

#[tokio::test]
async fn a_returned_referral_is_rerouted_in_the_same_case_and_a_withdrawal_reaches_the_recipient() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    let wj = hub.client("wj").await;
    let sent = jcy.submit(referral_draft(), vec!["wj".into()], None).await.unwrap();
    let id = &sent.referrals[0].id;
    let returned = wj.return_referral(id, "医疗救助属医保部门职责").await.unwrap();
    assert_eq!(returned.state, pb::ReferralState::Returned as i32);
    assert_eq!(returned.closing_reason, "医疗救助属医保部门职责");

    let rerouted = jcy.submit(referral_draft(), vec!["yb".into()], Some(sent.case_id.clone())).await.unwrap();
    assert_eq!(rerouted.case_id, sent.case_id);
    let case = jcy.case(&sent.case_id).await.unwrap();
    assert_eq!(case.referrals.len(), 2);
    assert!(!case.complete);

    let yb = hub.client("yb").await;
    let again = &rerouted.referrals[0].id;
    yb.comment(again, "请补充住院费用清单").await.unwrap();
    jcy.comment(again, "已补充").await.unwrap();
    let withdrawn = jcy.withdraw(again, "当事人已获商业保险赔付").await.unwrap();
    assert_eq!(withdrawn.state, pb::ReferralState::Withdrawn as i32);
    let events: Vec<_> = within(yb.subscribe(Some(0)).await.unwrap().take(3).collect::<Vec<_>>()).await;
    let kinds: Vec<i32> = events.into_iter().map(|e| e.unwrap().kind).collect();
    use pb::InboxEventKind as K;
    assert_eq!(kinds, [K::NewReferral as i32, K::Comment as i32, K::Withdrawn as i32]);
    assert!(jcy.case(&sent.case_id).await.unwrap().complete);
}

#[tokio::test]
async fn the_directory_lists_the_thirteen_members_and_suggests_by_need() {
    let hub = TestHub::start().await;
    let mz = hub.client("mz").await;
    let members = mz.members().await.unwrap();
    assert_eq!(members.len(), 13);
    assert_eq!(members[0].name, "晋江市人民检察院");
    let suggested = mz.suggest(vec![pb::Need::MinorCare as i32, pb::Need::LegalAid as i32]).await.unwrap();
    let codes: Vec<_> = suggested.iter().map(|s| s.member.as_ref().unwrap().code.as_str()).collect();
    assert_eq!(codes, ["sf", "tw", "ggw"]);
    let office = hub.client("office").await.who_am_i().await.unwrap();
    assert_eq!((office.code.as_str(), office.role.as_str()), ("office", "office"));
}

#[tokio::test]
async fn listing_pages_through_a_members_referrals_newest_first() {
    let hub = TestHub::start().await;
    let jcy = hub.client("jcy").await;
    for _ in 0..5 {
        jcy.submit(referral_draft(), vec!["mz".into()], None).await.unwrap();
        hub.clock.advance(Duration::minutes(1));
    }
    jcy.submit(referral_draft(), vec!["jy".into()], None).await.unwrap();
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = jcy
            .list(pb::ListReferralsRequest {
                counterpart: "mz".into(),
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.referrals.into_iter().map(|r| (r.submitted_at.unwrap().seconds, r.recipient)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|(_, to)| to == "mz"));
    assert!(seen.windows(2).all(|w| w[0].0 > w[1].0), "newest first");
    let mz = hub.client("mz").await;
    let received = mz
        .list(pb::ListReferralsRequest { direction: pb::Direction::Received as i32, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(received.referrals.len(), 5);
    let sent = mz
        .list(pb::ListReferralsRequest { direction: pb::Direction::Sent as i32, ..Default::default() })
        .await
        .unwrap();
    assert!(sent.referrals.is_empty());
}
