//! `xianjie keys`: the keyring that seals personal data. Rotation goes on while hubs
//! run: a hub opening a value under a key it does not know yet reads the keyring file
//! again, and takes up the new active key on its next pass of background work.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::{
    audit::Signer,
    config::{Config, Flags},
    keys::{self, Keyring, Keys},
    store::{self, Store},
};

/// Referrals resealed per batch.
const BATCH: u32 = 500;

#[derive(Args)]
pub struct KeysArgs {
    /// A TOML configuration file (for the database and the keyring file).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Creates the keyring and the audit signing key where the configuration names them,
    /// if they do not exist yet (a hub does so on first start too).
    Init,
    /// Each data key, whether it is active, and how many rows it seals.
    List,
    /// Adds a new data key, makes it active and reseals every referral under it.
    Rotate,
    /// Reseals under the active key every referral sealed under another key (run it
    /// again if a hub sealed under the old key until it took up the new one).
    Reseal,
    /// Removes a data key that seals nothing any more.
    Retire { id: String },
}

pub async fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    let config = Config::from_process(args.config.as_deref(), &Flags { data_dir: args.data_dir, ..Flags::default() })?;
    if let KeysCommand::Init = args.command {
        Keys::open_or_create(&config.keyring_file())?;
        Signer::open_or_create(&config.audit_key_file())?;
        println!("{} and {} are in place", config.keyring_file().display(), config.audit_key_file().display());
        return Ok(ExitCode::SUCCESS);
    }
    let keys = Arc::new(config.keys().context("loading the keyring")?);
    let store = store::open(&config.database_url(), keys.clone()).await.context("opening the database")?;
    let file = || {
        anyhow::ensure!(config.keyring.is_none(), "the keyring comes from XIANJIE_KEYRING; change it there");
        Ok(config.keyring_file())
    };
    match args.command {
        KeysCommand::Init => {}
        KeysCommand::List => {
            let keyring = keys.current();
            let usage = store.key_usage().await?;
            for id in keyring.ids() {
                let sealed = usage.iter().find(|(key, _)| key.as_deref() == Some(id)).map_or(0, |(_, n)| *n);
                let active = if id == keyring.active() { "active" } else { "" };
                println!("{id:<16} {active:<8} {sealed:>10} rows");
            }
            for (key, count) in
                usage.iter().filter(|(key, _)| key.as_deref().is_none_or(|k| keyring.data_key(k).is_none()))
            {
                println!("{:<16} {:<8} {count:>10} rows", key.as_deref().unwrap_or("(unsealed)"), "missing");
            }
        }
        KeysCommand::Rotate => {
            let path = file()?;
            let mut keyring = Keyring::parse(&std::fs::read_to_string(&path)?)?;
            let id = keyring.rotate()?;
            keys::write(&path, &keyring)?;
            keys.reload()?;
            println!("{id} is the active key");
            println!("resealed {} rows under {id}", reseal(store.as_ref()).await?);
        }
        KeysCommand::Reseal => {
            println!("resealed {} rows under {}", reseal(store.as_ref()).await?, keys.current().active());
        }
        KeysCommand::Retire { id } => {
            let path = file()?;
            let mut keyring = Keyring::parse(&std::fs::read_to_string(&path)?)?;
            keyring.retire(&id)?;
            let usage = store.key_usage().await?;
            if let Some((_, count)) = usage.iter().find(|(key, _)| key.as_deref() == Some(id.as_str())) {
                anyhow::bail!("{id} still seals {count} rows; run `xianjie keys reseal` first");
            }
            keys::write(&path, &keyring)?;
            println!("{id} retired");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn reseal(store: &dyn Store) -> anyhow::Result<u64> {
    let mut total = 0;
    loop {
        let done = store.reseal(BATCH).await?;
        total += done;
        if done == 0 {
            return Ok(total);
        }
    }
}
