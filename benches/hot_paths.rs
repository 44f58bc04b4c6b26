//! Criterion benchmarks of the hot paths every submit and every deadline goes through:
//! the working-day calendar and request validation. Run with `cargo bench`; they are
//! not part of the test suite.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{DateTime, Days, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use xianjie::{
    api::convert,
    domain::{
        calendar::Calendar,
        directory::Directory,
        person::IdNumber,
        referral::{ReferralKind, Submission},
        Caller, MemberCode, Role,
    },
    proto as pb,
};

fn calendar(c: &mut Criterion) {
    let calendar = Calendar::shipped();
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut i = 0u64;
    c.bench_function("calendar: add 5 working days", |b| {
        b.iter(|| {
            i = (i + 1) % 1000;
            calendar.add_working_days(black_box(first + Days::new(i)), 5)
        })
    });
    c.bench_function("calendar: working days in a year", |b| {
        b.iter(|| {
            calendar.working_days_between(black_box(first), black_box(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()))
        })
    });
    c.bench_function("calendar: load the shipped schedules", |b| b.iter(Calendar::shipped));
}

fn validation(c: &mut Criterion) {
    c.bench_function("validation: resident ID number", |b| b.iter(|| IdNumber::parse(black_box("11010519491231002X"))));
    let draft = pb::ReferralDraft {
        kind: pb::ReferralKind::SocialAssistance as i32,
        person: Some(pb::Person {
            name: "李某".into(), id_number: "11010519491231002X".into(), ..Default::default()
        }),
        situations: vec![pb::Situation::SeriousInjury as i32],
        priority_groups: vec![pb::PriorityGroup::Woman as i32],
        needs: vec![pb::Need::SubsistenceAllowance as i32, pb::Need::StudentAid as i32],
        narrative: "被害人遭故意伤害致残，加害人无赔偿能力，家庭生活困难。".repeat(8),
        investigation_ended_on: "2026-09-08".into(),
        ..Default::default()
    };
    let now: DateTime<Utc> = "2026-09-10T02:00:00Z".parse().unwrap();
    c.bench_function("validation: parse a referral draft", |b| b.iter(|| convert::draft(black_box(Some(&draft)), now)));
    let directory = Directory::jinjiang();
    let jcy = Caller { code: MemberCode::parse("jcy").unwrap(), role: Role::Procuratorate };
    let (_, content) = convert::draft(Some(&draft), now).unwrap();
    let to: Vec<MemberCode> = ["mz", "jy", "fl"].iter().map(|c| MemberCode::parse(c).unwrap()).collect();
    c.bench_function("validation: submission rules, three recipients", |b| {
        b.iter(|| Submission::check(&jcy, ReferralKind::SocialAssistance, content.clone(), to.clone(), &directory))
    });
}

criterion_group!(benches, calendar, validation);
criterion_main!(benches);
