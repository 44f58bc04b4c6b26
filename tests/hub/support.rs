//! A real hub on a free port with real certificates, its clock set by the test, and
//! real clients for its members.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
};

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

/// What outlives a hub between a stop and a start: its data directory (certificates,
/// and the SQLite database), its database when on PostgreSQL, and its clock.
#[derive(Clone)]
pub struct Data {
    pub dir: Arc<tempfile::TempDir>,
    pub database_url: Option<String>,
    pub clock: Arc<ManualClock>,
    /// How often the hub signs an audit checkpoint (and sends it to every inbox).
    pub checkpoint_interval_ms: u64,
    /// Changes a test makes to the hub's configuration.
    pub tune: fn(&mut Config),
    /// Where the hub sends messages away from the workbench, when a test says.
    pub notify: Option<xianjie::config::NotifyConfig>,
}

impl Data {
    /// Fresh data: SQLite in a temporary directory, or with `XIANJIE_TEST_BACKEND=postgres`
    /// a new database on the cluster `XIANJIE_TEST_DATABASE_URL` names.
    pub async fn fresh() -> Self {
        Data {
            dir: Arc::new(tempfile::tempdir().expect("a temporary directory")),
            database_url: fresh_database().await,
            clock: ManualClock::new(at(T0)),
            checkpoint_interval_ms: 3_600_000,
            tune: |_| {},
            notify: None,
        }
    }

    /// Fresh data on the embedded store, whatever backend the suite runs on.
    pub fn sqlite() -> Self {
        Data {
            dir: Arc::new(tempfile::tempdir().expect("a temporary directory")),
            database_url: None,
            clock: ManualClock::new(at(T0)),
            checkpoint_interval_ms: 3_600_000,
            tune: |_| {},
            notify: None,
        }
    }

    pub fn config(&self) -> Config {
        // The scanner runs often; tests move the clock and wait for its events.
        let mut config = Config {
            data_dir: self.dir.path().to_owned(),
            database_url: self.database_url.clone(),
            scan_interval_ms: 20,
            reload_interval_ms: 20,
            checkpoint_interval_ms: self.checkpoint_interval_ms,
            shutdown_grace_ms: 0,
            metrics_listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
            workbench_listen: None,
            ..Config::default()
        };
        if let Some(notify) = &self.notify {
            config.notify = notify.clone();
        }
        (self.tune)(&mut config);
        config
    }
}

/// Runs one SQL statement on the hub's database from outside the hub, as someone with
/// access to the database (not to the keys) could; returns the rows it changed.
pub async fn sql(data: &Data, statement: &str) -> u64 {
    match &data.database_url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let done = sqlx::query(statement).execute(&pool).await.unwrap().rows_affected();
            pool.close().await;
            done
        }
        None => {
            let db = rusqlite::Connection::open(data.dir.path().join("xianjie.db")).unwrap();
            db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            db.execute(statement, []).unwrap() as u64
        }
    }
}

/// The text values one SQL query returns (one text column), read from outside the hub.
pub async fn sql_texts(data: &Data, query: &str) -> Vec<String> {
    match &data.database_url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let rows: Vec<String> = sqlx::query_scalar(query).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
        None => {
            let db = rusqlite::Connection::open(data.dir.path().join("xianjie.db")).unwrap();
            db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            let mut statement = db.prepare(query).unwrap();
            let rows = statement.query_map([], |r| r.get(0)).unwrap();
            rows.collect::<Result<Vec<String>, _>>().unwrap()
        }
    }
}

/// Runs the `xianjie` binary on `data`: whether it succeeded, and its output (standard
/// output, then error output).
pub fn xianjie_status(data: &Data, args: &[&str]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xianjie"));
    command.args(args).arg("--data-dir").arg(data.dir.path()).env_remove("XIANJIE_KEYRING");
    if let Some(url) = &data.database_url {
        command.env("XIANJIE_DATABASE_URL", url);
    }
    let out = command.output().expect("xianjie runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Runs the `xianjie` binary on `data`, which must succeed; returns its output.
pub fn xianjie(data: &Data, args: &[&str]) -> String {
    let (ok, out) = xianjie_status(data, args);
    assert!(ok, "xianjie {args:?} failed: {out}");
    out
}

/// The longest a test waits for something the hub should deliver.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// `future`'s output, or a failure of the test when it takes longer than
/// [`PATIENCE`]: a missing event fails the suite instead of hanging it.
pub async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(PATIENCE, future).await.expect("nothing came within the test's patience (10 s)")
}

/// `next()` with a bound on the wait.
pub trait NextWithin: tokio_stream::Stream + Unpin {
    fn next_within(&mut self) -> impl std::future::Future<Output = Option<Self::Item>>;
}

impl<S: tokio_stream::Stream + Unpin> NextWithin for S {
    async fn next_within(&mut self) -> Option<S::Item> {
        within(tokio_stream::StreamExt::next(self)).await
    }
}

/// Waits (up to 5 s) until `check` holds.
pub async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) {
    for _ in 0..250 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the condition did not come true within 5 s");
}

/// Whether the suite runs on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("XIANJIE_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

async fn fresh_database() -> Option<String> {
    if !on_postgres() {
        return None;
    }
    let Ok(cluster) = std::env::var("XIANJIE_TEST_DATABASE_URL") else {
        panic!("XIANJIE_TEST_BACKEND=postgres needs a cluster: run under scripts/with-postgres.sh");
    };
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&cluster).await.expect("the PostgreSQL cluster answers");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("a fresh database");
    admin.close().await;
    let base = cluster.rsplit_once('/').map_or(cluster.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

pub struct TestHub {
    pub data: Data,
    pub clock: Arc<ManualClock>,
    pub addr: SocketAddr,
    /// Where `/metrics` is served.
    pub metrics: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestHub {
    pub async fn start() -> Self {
        Self::start_on(Data::fresh().await).await
    }

    /// Starts a hub on existing data. What it logs at warning and above goes to the
    /// test's output, shown when the test fails (an internal error's cause is logged
    /// only there).
    pub async fn start_on(data: Data) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .try_init();
        let clock = data.clock.clone();
        let prepared = Prepared::open(&data.config(), clock.clone()).await.expect("the hub opens");
        let metrics = prepared.metrics_address().expect("metrics are served");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("an address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(prepared.run(listener, async {
            let _ = stopped.await;
        }));
        Self { data, clock, addr, metrics, stop: Some(stop), task }
    }

    pub fn pki(&self) -> PathBuf {
        self.data.dir.path().join("pki")
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

    /// Tells the hub to stop, without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the hub and hands back its data.
    pub async fn stop(mut self) -> Data {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.expect("the hub task").expect("the hub stops cleanly");
        self.data.clone()
    }
}

/// A new person each time: the hub holds one open referral per person and recipient.
pub fn person(name: &str) -> pb::Person {
    static PEOPLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PEOPLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let born = chrono::NaiveDate::from_ymd_opt(1980, 1, 1).expect("a date") + chrono::Days::new(n / 1000);
    let digits = format!("350582{}{:03}", born.format("%Y%m%d"), n % 1000);
    pb::Person {
        name: name.into(),
        id_number: xianjie::domain::person::IdNumber::completing(&digits).expect("a valid number").as_str().into(),
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
        aids: vec![pb::Aid { kind: pb::AidKind::Subsistence as i32, fen: 0 }],
        ..Default::default()
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

/// `xianjie serve` as a process of its own, on the test's data, its clock starting at
/// `clock_start`. It is listening once `start` returns.
pub struct HubProcess {
    child: Child,
    endpoint: String,
}

impl HubProcess {
    pub fn start(data: &Data, clock_start: &str) -> Self {
        Self::start_with(data, clock_start, &[])
    }

    /// A hub with more variables in its environment.
    pub fn start_with(data: &Data, clock_start: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xianjie"));
        command.envs(env.iter().copied());
        if let Some(url) = &data.database_url {
            command.env("XIANJIE_DATABASE_URL", url);
        }
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.dir.path())
            .env("XIANJIE_CLOCK_START", clock_start)
            .env("XIANJIE_SCAN_INTERVAL_MS", "20")
            .env("XIANJIE_LOG", "warn")
            .env("XIANJIE_SHUTDOWN_GRACE_MS", "0")
            .env("XIANJIE_METRICS_LISTEN", "off")
            .env("XIANJIE_WORKBENCH_LISTEN", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the hub starts");
        let stdout = child.stdout.take().expect("its output");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the listening line");
        let address = line.split_whitespace().nth(3).expect("xianjie listening on ADDRESS …").to_owned();
        Self { child, endpoint: format!("https://{address}") }
    }

    pub async fn client(&self, dir: &std::path::Path, who: &str) -> Client {
        let profile = Profile {
            server_name: Some("localhost".into()),
            ..Profile::from_pki_dir(&dir.join("pki"), who, &self.endpoint)
        };
        Client::connect(&profile).await.expect("connects")
    }

    /// Where it listens for gRPC.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SIGKILL: a crash.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Waits for the hub to exit on its own, and returns how it did.
    pub fn wait(mut self) -> std::process::ExitStatus {
        self.child.wait().expect("reaped")
    }

    /// Sends SIGTERM and returns how the hub exited.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success());
        self.child.wait().expect("reaped")
    }
}
