//! A hub in the test's own process: on a temporary SQLite (or, with
//! `XIANJIE_TEST_BACKEND=postgres`, a fresh database on the cluster
//! `XIANJIE_TEST_DATABASE_URL` names), no TLS, no background task, its clock in the
//! test's hand. What the background would do (a scanner's pass) the test runs when it
//! chooses.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    assembly::Surroundings,
    referrals::{self, Draft, Submitted},
    Actor, Hub, RequestKey,
};
use crate::{
    clock::ManualClock,
    config::Config,
    domain::view::Seen,
    domain::{
        person::{IdNumber, Person},
        referral::{Content, ReferralKind},
        vocabulary::{Need, Situation},
        Caller, MemberCode, Role,
    },
    pki::Certificate,
};

pub struct Harness {
    pub hub: Hub,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    _dir: tempfile::TempDir,
}

/// 2026-09-10 10:00 in China: a Thursday.
pub const T0: &str = "2026-09-10T02:00:00Z";

pub fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().expect("an RFC 3339 instant")
}

impl Harness {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config =
            Config { data_dir: dir.path().to_owned(), database_url: fresh_database().await, ..Config::default() };
        let clock = ManualClock::new(at(T0));
        let hub = Hub::open(&config, clock.clone(), Surroundings::none()).await.expect("the hub opens");
        Self { hub, clock, config, _dir: dir }
    }

    /// A unit acting with its own system certificate.
    pub fn actor(&self, code: &str) -> Actor {
        let code = MemberCode::parse(code).expect("a member code");
        let role = match code.as_str() {
            "office" => Role::Office,
            "admin" => Role::Admin,
            _ => self.hub.directory().now().get(&code).expect("a member of the directory").role,
        };
        Actor {
            caller: Caller { code, role },
            certificate: Certificate { serial: "01".into(), not_after: DateTime::<Utc>::MAX_UTC, clerk: None },
        }
    }

    /// Rotates the keyring (a new active key, written and reloaded) and reseals the store
    /// `batch` rows at a time: the new key's id, and how many rows were sealed again.
    pub async fn rotate_and_reseal(&self, batch: u32) -> (String, u64) {
        let path = self.config.keyring_file();
        let mut keyring =
            crate::keys::Keyring::parse(&std::fs::read_to_string(&path).expect("the keyring")).expect("parsed");
        let new = keyring.rotate().expect("rotated");
        crate::keys::write(&path, &keyring).expect("written");
        self.hub.keys().reload().expect("reloaded");
        let mut resealed = 0;
        loop {
            match self.hub.store().reseal(batch).await.expect("a batch resealed") {
                0 => return (new, resealed),
                done => resealed += done,
            }
        }
    }

    /// Submits a social-assistance referral of `person` from the procuratorate to `to`.
    pub async fn refer(&self, person: &str, to: &[&str]) -> Submitted<Seen> {
        let draft = Draft {
            kind: ReferralKind::SocialAssistance,
            content: content(person, ReferralKind::SocialAssistance),
            recipients: to.iter().map(|c| MemberCode::parse(c).expect("a member code")).collect(),
            case_id: None,
            attachments: Vec::new(),
            note: String::new(),
        };
        referrals::submit(&self.hub, &self.actor("jcy"), &key("Submit"), draft).await.expect("submitted")
    }

    pub async fn close(self) {
        self.hub.close().await;
    }
}

/// A fresh request key for `method`.
pub fn key(method: &str) -> RequestKey {
    RequestKey::new(&Uuid::new_v4().to_string(), method, Uuid::new_v4().as_bytes())
}

/// The content of a referral of a person whose ID number is made from `person`.
pub fn content(person: &str, kind: ReferralKind) -> Content {
    Content {
        person: Person {
            name: person.into(),
            id_number: id_number(person),
            phone: String::new(),
            address: String::new(),
            household: String::new(),
        },
        situations: vec![Situation::SeriousInjury],
        priority_groups: vec![],
        needs: vec![Need::SubsistenceAllowance],
        narrative: "受伤致残，无力维持生活".into(),
        case_reference: "晋检刑诉〔2026〕1号".into(),
        investigation_ended_on: NaiveDate::from_ymd_opt(2026, 9, 1),
        advance: false,
        advance_reason: String::new(),
        discovered_on: (kind == ReferralKind::JudicialClue).then(|| NaiveDate::from_ymd_opt(2026, 9, 1)).flatten(),
        urgent: false,
    }
}

/// A valid ID number (its check digit computed) for each distinct `person`.
fn id_number(person: &str) -> IdNumber {
    let serial = person.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 1000;
    let body = format!("350582199001{:02}{serial:03}", 1 + serial % 28);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.bytes().zip(weights).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    IdNumber::parse(&format!("{body}{check}")).expect("a valid ID number")
}

async fn fresh_database() -> Option<String> {
    if !std::env::var("XIANJIE_TEST_BACKEND").is_ok_and(|b| b == "postgres") {
        return None;
    }
    let cluster = std::env::var("XIANJIE_TEST_DATABASE_URL")
        .expect("XIANJIE_TEST_BACKEND=postgres needs a cluster: run under scripts/with-postgres.sh");
    let name = format!("t_{}", Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&cluster).await.expect("the PostgreSQL cluster answers");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("a fresh database");
    admin.close().await;
    let base = cluster.rsplit_once('/').map_or(cluster.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}
