//! A real hub on a free port with real certificates, its clock set by the test, and
//! real clients for its members.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use chrono::{DateTime, Utc};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use xianjie::{
    client::{Client, Profile},
    clock::ManualClock,
    config::Config,
    proto as pb,
    server::Prepared,
};

/// 2026-09-10 10:00 in China: a Thursday.
pub const T0: &str = "2026-09-10T02:00:00Z";

pub fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().expect("an RFC 3339 instant")
}

pub struct TestHub {
    pub dir: Arc<tempfile::TempDir>,
    pub clock: Arc<ManualClock>,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestHub {
    pub async fn start() -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("a temporary directory"));
        Self::start_in(dir, ManualClock::new(at(T0))).await
    }

    /// Starts a hub on an existing data directory.
    pub async fn start_in(dir: Arc<tempfile::TempDir>, clock: Arc<ManualClock>) -> Self {
        // The scanner runs often; tests move the clock and wait for its events.
        let config = Config { data_dir: dir.path().to_owned(), scan_interval_ms: 20, ..Config::default() };
        let prepared = Prepared::open(&config, clock.clone()).await.expect("the hub opens");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("an address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(prepared.run(listener, async {
            let _ = stopped.await;
        }));
        Self { dir, clock, addr, stop: Some(stop), task }
    }

    pub fn pki(&self) -> PathBuf {
        self.dir.path().join("pki")
    }

    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn profile(&self, who: &str) -> Profile {
        Profile { server_name: Some("localhost".into()), ..Profile::from_pki_dir(&self.pki(), who, &self.endpoint()) }
    }

    pub async fn client(&self, who: &str) -> Client {
        Client::connect(&self.profile(who)).await.expect("the client connects")
    }

    /// A TLS channel that presents `identity` (cert and key PEM), or no certificate.
    pub async fn channel_with(&self, identity: Option<(Vec<u8>, Vec<u8>)>) -> Channel {
        let ca = std::fs::read(self.pki().join("ca.crt")).expect("the CA");
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name("localhost");
        if let Some((cert, key)) = identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        Endpoint::from_shared(self.endpoint())
            .expect("an endpoint")
            .tls_config(tls)
            .expect("TLS settings")
            .connect()
            .await
            .expect("the TLS connection opens")
    }

    /// Stops the hub and hands back its data directory and clock.
    pub async fn stop(mut self) -> (Arc<tempfile::TempDir>, Arc<ManualClock>) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.expect("the hub task").expect("the hub stops cleanly");
        (self.dir.clone(), self.clock.clone())
    }
}

pub fn person(name: &str) -> pb::Person {
    pb::Person {
        name: name.into(),
        id_number: "11010519491231002X".into(),
        phone: "13800000000".into(),
        address: "晋江市青阳街道".into(),
        household: "独自抚养两名未成年子女".into(),
    }
}

/// A social-assistance referral (procuratorate → agencies).
pub fn referral_draft() -> pb::ReferralDraft {
    pb::ReferralDraft {
        kind: pb::ReferralKind::SocialAssistance as i32,
        person: Some(person("李某")),
        situations: vec![pb::Situation::SeriousInjury as i32],
        priority_groups: vec![pb::PriorityGroup::Woman as i32],
        needs: vec![pb::Need::SubsistenceAllowance as i32, pb::Need::StudentAid as i32, pb::Need::WomenSupport as i32],
        narrative: "被害人遭故意伤害致八级伤残，加害人无赔偿能力，家庭生活困难".into(),
        case_reference: "晋检刑诉〔2026〕101号".into(),
        investigation_ended_on: "2026-09-08".into(),
        ..Default::default()
    }
}

/// A judicial-assistance clue (agency → procuratorate).
pub fn clue_draft(urgent: bool) -> pb::ReferralDraft {
    pb::ReferralDraft {
        kind: pb::ReferralKind::JudicialClue as i32,
        person: Some(person("王某")),
        situations: vec![if urgent { pb::Situation::LifeThreatening } else { pb::Situation::CivilTort } as i32],
        needs: vec![if urgent { pb::Need::AdvanceAid } else { pb::Need::JudicialAssistance } as i32],
        narrative: "低保核查中发现其因交通事故受伤，无法获得赔偿".into(),
        discovered_on: "2026-09-09".into(),
        urgent,
        ..Default::default()
    }
}

pub fn granted(on: &str) -> pb::Conclusion {
    pb::Conclusion {
        outcome: pb::Outcome::Granted as i32,
        concluded_on: on.into(),
        summary: "已纳入帮扶".into(),
        amount_fen: 0,
        refusal_grounds: vec![],
    }
}

/// The fields named by a status's BadRequest details.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
