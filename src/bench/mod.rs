//! `xianjie bench`: how fast and how lean the hub is, measured end to end on this
//! machine. It starts a hub process on a temporary data directory, opens real mTLS
//! connections as members, and prints each figure with min / median / max over runs.
//!
//! Nothing here is a test: it reports, it does not judge.

mod machine;
mod materials;
mod notify;
mod records;
mod stats;
mod store;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::{DateTime, Datelike, Utc};
use tokio_stream::StreamExt;
use uuid::Uuid;

use self::stats::{millis, percentile, Spread};
use crate::{
    client::{Client, Profile},
    domain::{calendar::Calendar, person::IdNumber},
    proto as pb,
};

/// The hub's clock during the bench: a Thursday, so that the drafts' dates are valid.
const CLOCK_START: &str = "2026-09-10T02:00:00Z";

#[derive(Debug, Clone)]
pub struct Options {
    /// Repetitions of each measurement.
    pub runs: usize,
    /// Length of each throughput run.
    pub seconds: f64,
    /// Referrals in the store for the office's overdue listing.
    pub referrals: usize,
    /// In-flight submits for the throughput runs.
    pub concurrency: Vec<usize>,
    /// A running hub to measure instead of starting one: its address and the directory
    /// with `ca.crt` and the members' certificates. Start-up, memory and the large store
    /// need the hub's own process and data, and are left out.
    pub running: Option<Target>,
    /// A PostgreSQL database to measure submits on too, with one hub and with two.
    pub postgres: Option<String>,
}

/// Where the members' connections go.
#[derive(Debug, Clone)]
pub struct Target {
    pub endpoint: String,
    pub pki: PathBuf,
}

impl Target {
    async fn client(&self, who: &str) -> anyhow::Result<Client> {
        let profile =
            Profile { server_name: Some("localhost".into()), ..Profile::from_pki_dir(&self.pki, who, &self.endpoint) };
        Ok(Client::connect(&profile).await?)
    }
}

/// `xianjie serve` as a process of its own.
struct HubProcess {
    child: Child,
    endpoint: String,
}

impl HubProcess {
    /// A hub on `dir`, with its SQLite store there or on the PostgreSQL `database`.
    fn start(dir: &Path, database: Option<&str>) -> anyhow::Result<Self> {
        Self::start_with(dir, database, &[])
    }

    /// The same, with more variables in its environment.
    fn start_with(dir: &Path, database: Option<&str>, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let mut command = Command::new(std::env::current_exe().context("finding this program")?);
        command.envs(env.iter().copied());
        if let Some(url) = database {
            command.env("XIANJIE_DATABASE_URL", url);
        }
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .env("XIANJIE_CLOCK_START", CLOCK_START)
            .env("XIANJIE_LOG", "warn")
            .env("XIANJIE_METRICS_LISTEN", "127.0.0.1:0")
            .env("XIANJIE_WORKBENCH_LISTEN", "off")
            // The bench is one member sending as fast as it can: no per-member limit.
            .env("XIANJIE_REQUESTS_PER_SECOND", "1000000")
            .env("XIANJIE_REQUEST_BURST", "1000000")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the hub")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("the hub's output")?).read_line(&mut line)?;
        let address = line.split_whitespace().nth(3).context("the hub did not say where it listens")?;
        Ok(Self { endpoint: format!("https://{address}"), child })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn target(&self, dir: &Path) -> Target {
        Target { endpoint: self.endpoint.clone(), pki: dir.join("pki") }
    }

    fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for HubProcess {
    /// A hub the bench leaves when a measurement fails is killed, not left serving a
    /// data directory that is then removed.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `n`th of many made-up people: the hub holds one open referral per person and
/// recipient.
pub fn person(n: u64) -> anyhow::Result<IdNumber> {
    let born = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default() + chrono::Days::new(n / 1000 % 20_000);
    IdNumber::completing(&format!("350582{}{:03}", born.format("%Y%m%d"), n % 1000)).map_err(anyhow::Error::msg)
}

/// Person `n`'s name: one of 12,000, so that the index by name takes each submit in a
/// place of its own, as a county's different names do, not at the end of one run.
pub fn name(n: u64) -> String {
    const SURNAMES: [char; 30] = [
        '李', '王', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林',
        '罗', '高', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹',
    ];
    const GIVEN: [char; 20] = [
        '伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀',
        '霞', '平',
    ];
    let given = |k: u64| GIVEN[(k % GIVEN.len() as u64) as usize];
    let surname = SURNAMES[(n % SURNAMES.len() as u64) as usize];
    let rest = n / SURNAMES.len() as u64;
    [surname, given(rest), given(rest / GIVEN.len() as u64)].iter().collect()
}

/// Numbers people for the submits the bench sends, apart from those it loads.
static SENT: AtomicU64 = AtomicU64::new(5_000_000);

/// A draft about the next person.
fn draft() -> anyhow::Result<pb::ReferralDraft> {
    let n = SENT.fetch_add(1, Ordering::Relaxed);
    Ok(pb::ReferralDraft {
        kind: pb::ReferralKind::SocialAssistance as i32,
        person: Some(pb::Person { name: name(n), id_number: person(n)?.as_str().into(), ..Default::default() }),
        situations: vec![pb::Situation::SeriousInjury as i32],
        needs: vec![pb::Need::SubsistenceAllowance as i32],
        narrative: "被害人遭故意伤害致残，加害人无赔偿能力，家庭生活困难。".repeat(8),
        investigation_ended_on: "2026-09-08".into(),
        ..Default::default()
    })
}

/// The hub's (`pid`) peak memory while `work` runs, sampled every 20 ms.
async fn peak_while<T>(
    pid: u32,
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<(T, machine::Memory)> {
    let stop = Arc::new(AtomicBool::new(false));
    let sampling = stop.clone();
    let sampler = std::thread::spawn(move || {
        let mut peak = machine::Memory::default();
        while !sampling.load(Ordering::Relaxed) {
            peak = peak.max(machine::memory(pid).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    let done = work.await;
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap_or_default();
    Ok((done?, peak))
}

/// What each bench client sends, back to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// A referral to 民政.
    Submit,
    /// WhoAmI: no store, no domain; the ceiling of the connection, TLS and gRPC.
    NoOp,
}

/// One throughput run: `clients` connections, spread over `hubs`, each sending `call`
/// back to back for `seconds`.
async fn calls_run(hubs: &[Target], call: Call, clients: usize, seconds: f64) -> anyhow::Result<(f64, Vec<Duration>)> {
    let mut connected = Vec::with_capacity(clients);
    for i in 0..clients {
        connected.push(hubs[i % hubs.len()].client("jcy").await?);
    }
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for client in connected {
        let latencies = latencies.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                match call {
                    Call::Submit => {
                        let draft = draft().map_err(|e| tonic::Status::internal(e.to_string()))?;
                        client.submit(draft, vec!["mz".into()], None).await?;
                    }
                    Call::NoOp => drop(client.who_am_i().await?),
                }
                mine.push(t.elapsed());
            }
            latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(mine);
            Ok::<_, tonic::Status>(())
        }));
    }
    for task in tasks {
        task.await?.map_err(|s| match s.code() {
            tonic::Code::ResourceExhausted => anyhow::anyhow!(
                "{call:?} failed: {}: the hub's request allowance is spent; for a bench, start it with \
                 XIANJIE_REQUESTS_PER_SECOND=1000000 XIANJIE_REQUEST_BURST=1000000 (requests_per_second and \
                 request_burst in its configuration)",
                s.message()
            ),
            _ => anyhow::anyhow!("{call:?} failed: {s}"),
        })?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut all = std::mem::take(&mut *latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    all.sort();
    Ok((all.len() as f64 / elapsed, all))
}

/// `runs` runs of `call` with `clients` in flight: the rate's spread, and the medians
/// of the runs' p50 and p99 latencies (ms).
async fn throughput(
    hubs: &[Target],
    call: Call,
    clients: usize,
    options: &Options,
) -> anyhow::Result<(Spread, f64, f64)> {
    let measured = measured(hubs, call, clients, options, None).await?;
    Ok((measured.rate, measured.p50, measured.p99))
}

/// Calls per second over the runs, their latencies, and the CPU time process `pid`
/// (the hub) spent on each call.
struct Measured {
    rate: Spread,
    p50: f64,
    p99: f64,
    /// Microseconds of the hub's CPU per call: all of it, its writer's, its
    /// checkpointer's; and its writer's wait for a core.
    cpu: Option<machine::Cpu>,
    /// KiB the hub's SQLite writer and checkpointer wrote per call (the write-ahead log
    /// and the pages folded into the database).
    written: Option<f64>,
    /// The share of the machine's time the host took for others over the runs: the
    /// rounds of a comparison are alike only when it is alike.
    stolen: Option<f64>,
}

async fn measured(
    hubs: &[Target],
    call: Call,
    clients: usize,
    options: &Options,
    pid: Option<u32>,
) -> anyhow::Result<Measured> {
    let (mut rates, mut p50s, mut p99s) = (Vec::new(), Vec::new(), Vec::new());
    let before = pid.and_then(machine::cpu);
    let written_before = pid.and_then(machine::store_written);
    let ticks_before = pid.and_then(|_| machine::ticks());
    let mut calls = 0;
    for _ in 0..options.runs.max(1) {
        let (rate, latencies) = calls_run(hubs, call, clients, options.seconds).await?;
        calls += latencies.len();
        rates.push(rate);
        p50s.push(millis(percentile(&latencies, 50.0)));
        p99s.push(millis(percentile(&latencies, 99.0)));
    }
    let after = pid.and_then(machine::cpu);
    let stolen = ticks_before.zip(machine::ticks()).and_then(|(b, a)| a.stolen_since(b));
    let per_call = |seconds: f64| seconds * 1e6 / calls.max(1) as f64;
    let cpu = before.zip(after).map(|(b, a)| a - b).map(|spent| machine::Cpu {
        all: per_call(spent.all),
        writer: per_call(spent.writer),
        checkpointer: per_call(spent.checkpointer),
        writer_waiting: per_call(spent.writer_waiting),
    });
    let written = written_before
        .zip(pid.and_then(machine::store_written))
        .map(|(b, a)| a.saturating_sub(b) as f64 / 1024.0 / calls.max(1) as f64);
    let (p50, p99) = (Spread::of(&p50s).median, Spread::of(&p99s).median);
    Ok(Measured { rate: Spread::of(&rates), p50, p99, cpu, written, stolen })
}

/// "  hub CPU N µs/call" when measured (on SQLite with its writer's and checkpointer's
/// part, and the writer's wait for a core), what the store wrote per call when it
/// wrote, and the host's share of the machine when it took any.
fn cost_note(measured: &Measured) -> String {
    let mut note = measured
        .cpu
        .map(|us| {
            let all = format!("  hub CPU {:.0} µs/call", us.all);
            if us.writer + us.checkpointer > 0.0 {
                format!(
                    "{all} (writer {:.0}, checkpointer {:.0}; the writer waited {:.0} for a core)",
                    us.writer, us.checkpointer, us.writer_waiting
                )
            } else {
                all
            }
        })
        .unwrap_or_default();
    if let Some(kib) = measured.written.filter(|&kib| kib >= 0.1) {
        note.push_str(&format!(", store wrote {kib:.0} KiB/call"));
    }
    if let Some(stolen) = measured.stolen.filter(|&stolen| stolen >= 0.005) {
        note.push_str(&format!(", the host took {:.0} % of the cores", stolen * 100.0));
    }
    note
}

/// Submit to the live inbox stream of the recipient, one at a time.
async fn delivery_latencies(hub: &Target, count: usize) -> anyhow::Result<Vec<Duration>> {
    let jcy = hub.client("jcy").await?;
    let mz = hub.client("mz").await?;
    let head = mz.ack(0).await?.head_seq;
    let mut stream = mz.subscribe(Some(head)).await?;
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        let (sent, event) = tokio::join!(jcy.submit(draft()?, vec!["mz".into()], None), stream.next());
        sent?;
        event.context("the stream ended")??;
        samples.push(t.elapsed());
    }
    samples.sort();
    Ok(samples)
}

/// Add-working-days calls per second on the shipped calendar.
fn calendar_rate(seconds: f64) -> f64 {
    let calendar = Calendar::shipped();
    let first = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed().as_secs_f64() < seconds {
        for i in 0..1000u64 {
            let day = first + chrono::Days::new((n + i) % 1000);
            std::hint::black_box(calendar.add_working_days(day, 5));
        }
        n += 1000;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn temp_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("xianjie-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Runs every measurement and prints the figures.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let dir = temp_dir()?;
    let result = measure(&options, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(options: &Options, dir: &Path) -> anyhow::Result<()> {
    let runs = options.runs.max(1);
    println!("xianjie bench — {} runs each; data in {}", runs, dir.display());
    let fsync = machine::fdatasyncs_per_second(dir, Duration::from_secs(1))?;
    println!(
        "machine: {} cores; fdatasync on {}: {fsync:.0}/s",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        dir.display()
    );
    if let Some(target) = &options.running {
        println!("measuring the running hub at {}", target.endpoint);
        traffic(options, target, None, fsync).await?;
        let (listing, rows) = store::overdue_listing(target, 20).await?;
        store::print_listing(&listing, rows, "the running hub's store");
        return Ok(());
    }

    // The first start creates the development PKI and the schema; then time restarts.
    HubProcess::start(dir, None)?.stop()?;
    let mut startups = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let hub = HubProcess::start(dir, None)?;
        startups.push(millis(t.elapsed()));
        hub.stop()?;
    }
    let hub = HubProcess::start(dir, None)?;
    let idle = machine::memory(hub.pid()).unwrap_or_default();
    println!("start-up to serving (ms, min / median / max): {}", Spread::of(&startups));
    println!("resident memory idle: {idle}");
    let files = temp_dir()?;
    let in_flight = materials::uploads_in_flight(&hub.target(dir), hub.pid(), &files).await;
    let ((), peak) = peak_while(hub.pid(), traffic(options, &hub.target(dir), Some(hub.pid()), fsync)).await?;
    println!("resident memory under load (peak): {peak}");
    let dossier = materials::dossier(&hub.target(dir), hub.pid(), &files).await;
    let _ = std::fs::remove_dir_all(&files);
    in_flight?;
    dossier?;
    hub.stop()?;
    notify::figures(options, &dir.join("notify")).await?;
    if let Some(url) = &options.postgres {
        on_postgres(options, &dir.join("postgres"), url).await?;
    }

    let made = store::referrals(options.referrals)?;
    let visits = made.visits.len();
    println!("deadlines computed for {} referrals in {:.0} ms", options.referrals, millis(made.computing));
    let loading = store::load(dir, made).await?;
    println!(
        "loaded {} referrals with their deadlines and {visits} follow-up visits in {:.1} s",
        options.referrals,
        loading.as_secs_f64()
    );
    let hub = HubProcess::start(dir, None)?;
    let (listing, rows) = store::overdue_listing(&hub.target(dir), 20).await?;
    store::print_listing(&listing, rows, &format!("{} referrals", options.referrals));
    let year = CLOCK_START.parse::<DateTime<Utc>>()?.year();
    records::figures(&hub.target(dir), dir, runs, options.referrals, year).await?;
    records::office_year(&hub.target(dir), hub.pid(), dir, year).await?;
    hub.stop()?;
    Ok(())
}

/// Submit throughput and latency beside the no-op ceiling, delivery, and the calendar.
async fn traffic(options: &Options, hub: &Target, pid: Option<u32>, fsync: f64) -> anyhow::Result<()> {
    println!("submit (referrals/s min / median / max; latency p50 / p99 ms, median of runs), beside the no-op ceiling (WhoAmI on the same connections), with the hub's CPU time per call (from the process's accounting; on SQLite its writer's and checkpointer's, and how long its writer, the store's one serial part, was ready but waited for a core), what its SQLite writer and checkpointer wrote per call (the write-ahead log and the pages folded into the database), and the share of the cores the host took for others (steal, on a virtual machine: rounds compare only when it is alike):");
    for &clients in &options.concurrency {
        let noop = measured(std::slice::from_ref(hub), Call::NoOp, clients, options, pid).await?;
        println!(
            "  {clients:>3} in flight, no-op: {} /s  p50 {:.2} ms  p99 {:.2} ms{}",
            noop.rate,
            noop.p50,
            noop.p99,
            cost_note(&noop)
        );
        let submit = measured(std::slice::from_ref(hub), Call::Submit, clients, options, pid).await?;
        println!(
            "  {clients:>3} in flight, submit: {} /s  p50 {:.2} ms  p99 {:.2} ms{}  ({:.2} of the fdatasync rate, {:.2} of the no-op ceiling)",
            submit.rate,
            submit.p50,
            submit.p99,
            cost_note(&submit),
            submit.rate.median / fsync,
            submit.rate.median / noop.rate.median
        );
    }
    let delivery = delivery_latencies(hub, 500).await?;
    println!(
        "submit to the recipient's live stream: p50 {:.2} ms  p99 {:.2} ms",
        millis(percentile(&delivery, 50.0)),
        millis(percentile(&delivery, 99.0))
    );
    let rates: Vec<f64> = (0..options.runs.max(1)).map(|_| calendar_rate(0.5)).collect();
    println!("calendar add-working-days (calls/s): {}", Spread::of(&rates));
    let files = temp_dir()?;
    let moved = materials::figures(hub, &files, options.runs.max(1)).await;
    let _ = std::fs::remove_dir_all(&files);
    moved
}

/// Submits on PostgreSQL: one hub, then two replicas on the same database, with the
/// clients spread over both.
async fn on_postgres(options: &Options, dir: &Path, url: &str) -> anyhow::Result<()> {
    println!("submit on PostgreSQL (referrals/s min / median / max; latency p50 / p99 ms):");
    let first = HubProcess::start(dir, Some(url))?;
    let second = HubProcess::start(dir, Some(url))?;
    let (one, two) = (first.target(dir), [first.target(dir), second.target(dir)]);
    for &clients in &options.concurrency {
        let one = measured(std::slice::from_ref(&one), Call::Submit, clients, options, Some(first.pid())).await?;
        println!(
            "  {clients:>3} in flight, one hub: {} /s  p50 {:.2} ms  p99 {:.2} ms{}",
            one.rate,
            one.p50,
            one.p99,
            cost_note(&one)
        );
        let (rate, p50, p99) = throughput(&two, Call::Submit, clients, options).await?;
        println!("  {clients:>3} in flight, two hubs: {rate} /s  p50 {p50:.2} ms  p99 {p99:.2} ms");
    }
    first.stop()?;
    second.stop()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn twelve_thousand_people_have_twelve_thousand_names_of_three_characters() {
        let names: std::collections::HashSet<String> = (0..12_000).map(super::name).collect();
        assert_eq!(names.len(), 12_000);
        assert!(names.iter().all(|n| n.chars().count() == 3));
        assert_eq!(super::name(0), super::name(12_000));
    }
}
