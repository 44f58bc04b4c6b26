//! The command line: `serve`, `member <code> …`, `pki …`. Parses flags, then calls the
//! library; prints for people by default and JSON with `--json`.

mod audit;
mod calendar;
mod connection;
mod directory;
mod keys;
mod member;
mod office;
mod pki;
mod records;
mod render;
mod submit_file;
mod supervision;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};

use crate::config::{Config, Flags, Listen};

#[derive(Parser)]
#[command(
    name = "xianjie",
    version,
    about = "衔接 — the referral hub of a joint meeting on judicial and social assistance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the hub (mutual TLS gRPC). Creates a development CA on first start.
    Serve {
        /// A TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where the database and the development PKI live.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// HOST:PORT to listen on (port 0 picks a free port).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// The database: `postgres://USER@HOST/DB`, or `sqlite://PATH` (default
        /// `DATA_DIR/xianjie.db`).
        #[arg(long)]
        database_url: Option<String>,
        /// HOST:PORT of the workbench (browsers), or `off` (default 127.0.0.1:7445).
        #[arg(long, value_name = "HOST:PORT")]
        workbench_listen: Option<Listen>,
        /// HOST:PORT of the metrics (Prometheus), or `off` (default 127.0.0.1:7444).
        #[arg(long, value_name = "HOST:PORT")]
        metrics_listen: Option<Listen>,
    },
    /// Writes a consistent copy of the embedded SQLite store to a new file, while the
    /// hub runs or not. (PostgreSQL: `pg_dump`, see docs/operations.md.)
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Puts a backup in place of the embedded store, with the hub stopped. Inbox
    /// numbers after the backup are numbered again under a new epoch, which tells
    /// members to resync.
    Restore {
        /// The backup written by `xianjie backup`.
        #[arg(required_unless_present = "mark_restored", conflicts_with = "mark_restored")]
        backup: Option<PathBuf>,
        /// PostgreSQL: the database was just restored with pg_restore; give it a new
        /// inbox epoch.
        #[arg(long)]
        mark_restored: bool,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Acts as one member (or `office`, `admin`) through the hub.
    Member(member::MemberArgs),
    /// The administrator: the directory of members (add, rename, suspend, resume,
    /// contacts, history).
    Admin(directory::AdminArgs),
    /// The joint-meeting office: overdue and due-soon deadlines, reminders, events.
    Office(office::OfficeArgs),
    /// The working-day calendar; loading next year's holiday schedule.
    Calendar(calendar::CalendarArgs),
    /// The joint meeting's certificate authority.
    Pki(pki::PkiArgs),
    /// The keys that seal personal data: list, rotate, reseal, retire.
    Keys(keys::KeysArgs),
    /// The audit log: show entries, verify the chain and its signed checkpoints.
    Audit(audit::AuditArgs),
    /// Measures the hub on this machine: throughput, latency, memory, start-up, the
    /// office's listing over a large store. Build with `--release` first.
    Bench {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Seconds per throughput run.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Referrals in the store for the office's overdue listing.
        #[arg(long, default_value_t = 1_000_000)]
        referrals: usize,
        /// In-flight submits; repeatable.
        #[arg(long = "concurrency", default_values_t = [1, 16, 64])]
        concurrency: Vec<usize>,
        /// Measure the hub running at this address instead of starting one.
        #[arg(long)]
        endpoint: Option<String>,
        /// With `--endpoint`: the directory with `ca.crt` and the members' certificates.
        #[arg(long, default_value = "hub-data/pki")]
        pki_dir: PathBuf,
        /// Also measure submits on this PostgreSQL database, with one hub and with
        /// two: a scratch database, as the bench writes referrals into it.
        #[arg(long, env = "XIANJIE_BENCH_DATABASE_URL")]
        postgres: Option<String>,
    },
    /// Copies everything from the embedded SQLite store into an empty PostgreSQL
    /// database (referrals, history, deadlines, inboxes, request ids, schedules) and
    /// verifies the row counts. Stop the hub first.
    MigrateStore {
        /// The SQLite store; the configured one (`DATA_DIR/xianjie.db`) when unset.
        #[arg(long)]
        from: Option<String>,
        /// The PostgreSQL database, `postgres://USER@HOST/DB`.
        #[arg(long)]
        to: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// Whether a panic is Rust's print macros meeting a closed pipe.
fn closed_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    message.starts_with("failed printing to stdout") && message.contains("os error 32")
}

/// Runs the command line and turns failures into a message and exit code 1. Output read
/// by a reader that stops early (`xianjie … | head`) ends quietly with exit code 0, as
/// the print macros panic on a closed pipe.
pub fn main() -> ExitCode {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !closed_pipe(info.payload()) {
            default_hook(info);
        }
    }));
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(run(cli)))) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(panic) if closed_pipe(panic.as_ref()) => ExitCode::SUCCESS,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config, data_dir, listen, database_url, workbench_listen, metrics_listen } => {
            let flags = Flags { listen, data_dir, database_url, workbench_listen, metrics_listen };
            let config = Config::from_process(config.as_deref(), &flags)?;
            serve(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { out, data_dir, database_url } => {
            let config = Config::from_process(None, &Flags { data_dir, database_url, ..Flags::default() })?;
            let snapshot = crate::store::backup::backup(&config.database_url(), &out).await?;
            println!(
                "backed up to {}: {} referrals, {} inbox events, {} audit entries (checked)",
                out.display(),
                snapshot.referrals,
                snapshot.inbox_events,
                snapshot.audit_entries
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { backup, mark_restored, data_dir, database_url } => {
            let config = Config::from_process(None, &Flags { data_dir, database_url, ..Flags::default() })?;
            let url = config.database_url();
            let epoch = match backup {
                Some(backup) if !mark_restored => {
                    let stamp = config.clock().now().format("%Y%m%dT%H%M%SZ").to_string();
                    let restored = crate::store::backup::restore(&url, &backup, &stamp).await?;
                    let s = &restored.snapshot;
                    println!(
                        "restored {}: {} referrals, {} inbox events, {} audit entries",
                        backup.display(),
                        s.referrals,
                        s.inbox_events,
                        s.audit_entries
                    );
                    if let Some(aside) = restored.replaced {
                        println!("the database it replaced is kept as {}", aside.display());
                    }
                    restored.epoch
                }
                _ => crate::store::backup::mark_restored(&url).await?,
            };
            println!("new inbox epoch {epoch}: members resync from their acknowledged position");
            Ok(ExitCode::SUCCESS)
        }
        Command::Member(args) => member::run(args).await,
        Command::Office(args) => office::run(args).await,
        Command::Admin(args) => directory::run(args).await,
        Command::Calendar(args) => calendar::run(args).await,
        Command::Pki(args) => pki::run(args).await,
        Command::Keys(args) => keys::run(args).await,
        Command::Audit(args) => audit::run(args).await,
        Command::Bench { runs, seconds, referrals, concurrency, endpoint, pki_dir, postgres } => {
            let running = endpoint.map(|endpoint| crate::bench::Target { endpoint, pki: pki_dir });
            let options = crate::bench::Options { runs, seconds, referrals, concurrency, running, postgres };
            crate::bench::run(options).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::MigrateStore { from, to, data_dir } => {
            let config = Config::from_process(None, &Flags { data_dir, ..Flags::default() })?;
            let from = from.unwrap_or_else(|| config.database_url());
            let counts = crate::store::migrate::sqlite_to_postgres(&from, &to, Arc::new(config.keys()?)).await?;
            for (table, rows) in counts {
                println!("{table:<20} {rows:>10} rows copied and verified");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init(config.log_format, &config.log);
    tracing::info!(?config, "starting");
    crate::server::serve(&config, shutdown_signal()).await
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
