//! `xianjie audit`: read the audit log and verify it.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::{
    audit::{self, dossier, Verdict},
    config::{Config, Flags},
    domain::{audit::Checkpoint, hex},
    store,
};

#[derive(Args)]
pub struct AuditArgs {
    /// A TOML configuration file (for the database and the key files).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recomputes the hash chain, checks every stored checkpoint and those given, and
    /// names the first thing broken. Exits 1 if anything is.
    Verify {
        /// A checkpoint a member kept (the `checkpoint` object of an inbox event in
        /// `--json`); repeatable.
        #[arg(long = "checkpoint")]
        checkpoints: Vec<PathBuf>,
        /// The hub's public key; `audit_key_file` with `.pub` when unset.
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Checks a case's dossier (zip) on its own, without the hub: its audit entries are
    /// in the log the hub's checkpoint signed (Merkle proofs to its root), the export's
    /// entry records the manifest, and every letter, file and the record matches the
    /// manifest and the digests the log recorded. Names anything missing, added or
    /// altered, and exits 1.
    VerifyDossier {
        file: PathBuf,
        /// The hub's audit public key (`audit-signing.key.pub`).
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Prints a referral's access record: every read and act of it the log holds
    /// (when, which member, with which certificate, what), oldest first.
    Access {
        referral: String,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Prints entries of the log, oldest first.
    Show {
        #[arg(long, default_value_t = 0)]
        after: u64,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

pub async fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    if let AuditCommand::VerifyDossier { file, public_key } = &args.command {
        let opened = std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
        let public_key = audit::read_public_key(public_key)?;
        return Ok(match dossier::verify(std::io::BufReader::new(opened), &public_key) {
            Ok(report) => {
                println!("dossier intact: {report}");
                ExitCode::SUCCESS
            }
            Err(broken) => {
                println!("dossier broken: {broken}");
                ExitCode::FAILURE
            }
        });
    }
    let config = Config::from_process(args.config.as_deref(), &Flags { data_dir: args.data_dir, ..Flags::default() })?;
    let keys = Arc::new(config.keys().context("loading the keyring")?);
    let store = store::open(&config.database_url(), keys).await.context("opening the database")?;
    let code = match args.command {
        AuditCommand::Verify { checkpoints, public_key } => {
            let public_key = public_key.unwrap_or_else(|| audit::public_key_file(&config.audit_key_file()));
            let public_key = audit::read_public_key(&public_key)?;
            let mut handed_back = Vec::new();
            for path in &checkpoints {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                let checkpoint: Checkpoint =
                    serde_json::from_str(&text).with_context(|| format!("{}: not a checkpoint", path.display()))?;
                handed_back.push(checkpoint);
            }
            match audit::verify(store.as_ref(), &public_key, &handed_back).await? {
                Verdict::Intact(verified) => {
                    println!(
                        "audit log intact: {} entries, {} checkpoints ({} handed back) agree",
                        verified.entries,
                        verified.checkpoints,
                        handed_back.len()
                    );
                    ExitCode::SUCCESS
                }
                Verdict::Broken(broken) => {
                    println!("audit log broken: {broken}");
                    ExitCode::FAILURE
                }
            }
        }
        AuditCommand::VerifyDossier { .. } => unreachable!("answered above"),
        AuditCommand::Access { referral, json } => {
            let id = uuid::Uuid::parse_str(referral.trim()).map_err(|_| anyhow::anyhow!("REFERRAL: not a UUID"))?;
            let entries = store.audit_of(id).await?;
            // The clerk of each certificate, where the hub's own authority issued them.
            let authority = crate::pki::authority::Authority::at(config.pki_dir());
            let clerks = if authority.exists() { authority.clerks()? } else { Default::default() };
            if entries.is_empty() {
                eprintln!("the audit log names no referral {id}");
            }
            for e in entries {
                let at = crate::domain::date::local_time(e.at).format("%Y-%m-%d %H:%M:%S");
                let what = crate::domain::audit::action_label(&e.record.action);
                let masked = e.record.detail == "masked";
                let clerk = clerks.get(&e.record.certificate).map_or("系统", String::as_str);
                if json {
                    let line = serde_json::json!({
                        "seq": e.seq, "at": e.at.to_rfc3339(), "member": e.record.actor.as_str(), "clerk": clerk,
                        "certificate": e.record.certificate, "action": e.record.action, "what": what, "masked": masked,
                    });
                    println!("{line}");
                } else {
                    let certificate = if e.record.certificate.is_empty() { "-" } else { &e.record.certificate };
                    println!(
                        "{at}  {:<6} {clerk}  {certificate:<40} {what}{}",
                        e.record.actor.as_str(),
                        if masked { "（已脱敏）" } else { "" }
                    );
                }
            }
            ExitCode::SUCCESS
        }
        AuditCommand::Show { after, limit } => {
            for e in store.audit_log(after, limit).await? {
                let referrals: Vec<String> = e.record.referrals.iter().map(ToString::to_string).collect();
                println!(
                    "{:>8}  {}  {:<6} {:<18} {:<20} {}{}  {}",
                    e.seq,
                    e.at.format("%Y-%m-%d %H:%M:%S%.3f"),
                    e.record.actor,
                    e.record.certificate,
                    e.record.action,
                    referrals.join(","),
                    if e.record.detail.is_empty() { String::new() } else { format!(" ({})", e.record.detail) },
                    &hex::lower(&e.hash)[..16],
                );
            }
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}
