//! `xianjie pki`: create the joint meeting's CA and issue certificates.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;

use clap::{Args, Subcommand};

use crate::{
    config::{Config, Flags},
    domain::date::local_date,
    pki::{
        authority::{Authority, Previous, Replaced, Standing},
        p12, Clerk, Holder, Identity,
    },
};

#[derive(Args)]
pub struct PkiArgs {
    /// The CA directory; `DATA_DIR/pki` of the hub's configuration when unset.
    #[arg(long, global = true)]
    dir: Option<PathBuf>,
    /// The hub's data directory (its database keeps clerks' passwords).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: PkiCommand,
}

#[derive(Subcommand)]
enum PkiCommand {
    /// Creates the CA, the server certificate and a certificate for every member of the
    /// directory, the office and an admin.
    Init,
    /// Issues (or re-issues) the certificate of a member code, `office` or `admin`, or
    /// of one of its clerks (`--clerk`): `mz.wangfang.crt`/`.key` beside the unit's. The
    /// certificate it held before is revoked, unless `--keep-previous`.
    Issue {
        identity: String,
        /// A clerk (经办人) of the unit: a lower-case code of letters and digits
        /// (`wangfang`). A clerk's certificate is valid for `clerk_certificate_days`.
        #[arg(long, requires = "name")]
        clerk: Option<String>,
        /// The clerk's name, as pages and records show it (王某).
        #[arg(long, requires = "clerk")]
        name: Option<String>,
        /// The clerk's first password for the workbench (at least 10 characters, not
        /// only digits or letters), to be changed at the first sign-in; a new one is
        /// made and printed when unset. Hand it over apart from the .p12.
        #[arg(long, requires = "clerk", env = "XIANJIE_INITIAL_PASSWORD", hide_env_values = true)]
        initial_password: Option<String>,
        /// Also writes it as a password-protected PKCS#12 file, for a browser.
        #[arg(long, value_name = "FILE")]
        p12: Option<PathBuf>,
        /// Keeps the previous certificate valid until its own end (a changeover without
        /// a gap), rather than revoking it now.
        #[arg(long)]
        keep_previous: bool,
        #[command(flatten)]
        password: Password,
    },
    /// Writes the current certificate of a member code, `office` or `admin` (or a
    /// clerk's, `mz.wangfang`), with its key and the CA, as a password-protected PKCS#12
    /// file that browsers and the Windows certificate store import: the login to the
    /// workbench.
    ExportP12 {
        identity: String,
        /// Where to write it; `IDENTITY.p12` when unset.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        password: Password,
    },
    /// Re-issues the server certificate for the given DNS names and IP addresses.
    Server { names: Vec<String> },
    /// Revokes the current certificate of a member code, `office`, `admin` or a clerk
    /// (`mz.wangfang`), or any certificate ever issued by its serial number (`--serial`,
    /// as `pki list` shows it), and writes a new CRL; running hubs refuse it within
    /// their reload interval, on connections already open too. Issue a new one with
    /// `pki issue`.
    Revoke {
        #[arg(required_unless_present = "serial", conflicts_with = "serial")]
        identity: Option<String>,
        #[arg(long)]
        serial: Option<String>,
    },
    /// Every certificate ever issued, newest first for each holder: serial number,
    /// validity and state (valid, superseded, revoked, expired).
    List,
    /// Resets a clerk's workbench password (`mz.wangfang`) to a new initial one, which
    /// the clerk must change at the next sign-in; the clerk's sessions end.
    Password {
        clerk: String,
        /// The new initial password; a new one is made and printed when unset.
        #[arg(long, env = "XIANJIE_INITIAL_PASSWORD", hide_env_values = true)]
        initial_password: Option<String>,
    },
}

/// The password of a PKCS#12 file: from the environment, or made up and printed; and
/// its encryption.
#[derive(Args)]
struct Password {
    /// The file's password (at least 8 characters); a new one is made and printed when
    /// unset.
    #[arg(long = "password", env = "XIANJIE_P12_PASSWORD", hide_env_values = true, value_name = "PASSWORD")]
    given: Option<String>,
    /// Writes the file with the older encryption (PBE-SHA1-3DES) that Windows 7 and 8,
    /// older Windows Server and some domestic browsers need to import it.
    #[arg(long)]
    legacy: bool,
}

/// Writes the PKCS#12 file of `holder` to `out`, labelled with its name in the
/// directory, and says where and with which password.
fn write_p12(
    authority: &Authority,
    config: &Config,
    holder: &Holder,
    out: &Path,
    password: Password,
) -> anyhow::Result<()> {
    let directory = config.directory()?;
    let password_text = match &password.given {
        Some(given) => given.clone(),
        None => p12::new_password()?,
    };
    let encryption = if password.legacy { p12::Encryption::Legacy } else { p12::Encryption::Modern };
    let file = p12::export(authority, &holder.name(), &holder.label(&directory), &password_text, encryption)?;
    p12::write(out, &file).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} (PKCS#12) with password {password_text}", out.display());
    Ok(())
}

/// The hub of the data directory, for what only it keeps (clerks' passwords) and
/// records (the audit log), with its own authority.
async fn console_hub(config: &Config, authority: &Authority) -> anyhow::Result<crate::app::Hub> {
    anyhow::ensure!(
        authority.dir() == config.pki_dir(),
        "clerks are issued by the hub's own authority, {}: give the hub's --data-dir, not another --dir",
        config.pki_dir().display()
    );
    crate::app::Hub::open(config, config.clock(), crate::app::assembly::Surroundings::none()).await
}

/// Issues `holder`'s certificate through the hub (audited; a clerk's with its initial
/// password); the PKCS#12 file it makes is written, if asked for, from the files.
async fn console_issue(
    hub: &crate::app::Hub,
    holder: &Holder,
    previous: Previous,
    initial_password: Option<&str>,
) -> anyhow::Result<crate::app::certificates::Issued> {
    let unused = p12::new_password()?;
    crate::app::certificates::issue(hub, &crate::app::Actor::console(), holder, &unused, previous, initial_password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Says what became of the certificate a holder had before.
fn say_previous(authority: &Authority, previous: Option<Replaced>) {
    match previous {
        None => {}
        Some(Replaced::Revoked(old)) => {
            println!("revoked the previous certificate {old}; {} updated", authority.crl().display())
        }
        Some(Replaced::Kept { serial, until }) => println!(
            "the previous certificate {serial} stays valid until {}: both work until then; revoke it with \
             `xianjie pki revoke --serial {serial}` once the new one is in use",
            until.format("%Y-%m-%d")
        ),
    }
}

pub async fn run(args: PkiArgs) -> anyhow::Result<ExitCode> {
    let config = Config::from_process(None, &Flags { data_dir: args.data_dir, ..Flags::default() })?;
    // The CA looked for where the hub keeps it: say so when it is not there.
    let looked_in_data_dir = args.dir.is_none();
    let authority = Authority::at(args.dir.unwrap_or_else(|| config.pki_dir()));
    if looked_in_data_dir && !matches!(args.command, PkiCommand::Init) && !authority.ca_cert().exists() {
        anyhow::bail!(
            "no CA in {}: give the hub's --data-dir, as given to `xianjie serve`, or the CA's own --dir \
             (`xianjie pki init` creates one)",
            authority.dir().display()
        );
    }
    match args.command {
        PkiCommand::Init => {
            let directory = config.directory()?;
            let mut identities: Vec<Identity> =
                directory.members().iter().map(|m| Identity::Member(m.code.clone())).collect();
            identities.extend([Identity::Office, Identity::Admin]);
            authority.create("联席会议", &config.server_names, &identities)?;
            println!("created a CA and {} certificates in {}", identities.len() + 1, authority.dir().display());
        }
        PkiCommand::Issue { identity, clerk, name, initial_password, p12, keep_previous, password } => {
            let identity = Identity::parse(&identity).map_err(anyhow::Error::msg)?;
            let clerk = match (clerk, name) {
                (Some(code), Some(name)) => {
                    Clerk::check_code(&code).map_err(|rule| anyhow::anyhow!("--clerk: {rule}"))?;
                    Clerk::check_name(&name).map_err(|rule| anyhow::anyhow!("--name: {rule}"))?;
                    Some(Clerk { code, name: name.trim().to_owned() })
                }
                _ => None,
            };
            let holder = Holder { identity, clerk };
            let previous = if keep_previous { Previous::Keep } else { Previous::Revoke };
            // The hub's own authority issues through the hub, into its audit log; a
            // clerk's password is kept there too.
            let (reissued, initial) = if holder.clerk.is_some() || authority.dir() == config.pki_dir() {
                let hub = console_hub(&config, &authority).await?;
                let issued = console_issue(&hub, &holder, previous, initial_password.as_deref()).await;
                hub.close().await;
                let issued = issued?;
                (issued.reissued, issued.initial_password)
            } else {
                (authority.reissue(&holder, previous, local_date(config.clock().now()))?, None)
            };
            let (cert, key) = authority.pair(&holder.name());
            println!("issued {} and {} (serial {})", cert.display(), key.display(), reissued.serial);
            say_previous(&authority, reissued.previous);
            if let Some(out) = p12 {
                write_p12(&authority, &config, &holder, &out, password)?;
            }
            if let Some(initial) = initial {
                println!("initial workbench password {initial} (to be changed at the first sign-in; hand it over apart from the .p12)");
            }
        }
        PkiCommand::Password { clerk, initial_password } => {
            let hub = console_hub(&config, &authority).await?;
            let initial = crate::app::sign_in::reset_password(
                &hub,
                &crate::app::Actor::console(),
                &clerk,
                initial_password.as_deref(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            hub.close().await;
            println!("reset {clerk}'s workbench password to {initial} (to be changed at the next sign-in)");
        }
        PkiCommand::ExportP12 { identity, out, password } => {
            let named = Holder::parse(&identity).map_err(anyhow::Error::msg)?;
            // A clerk's name is in its certificate, not in the file name.
            let (cert, _) = authority.pair(&named.name());
            let holder = match crate::pki::read_certificates(&cert) {
                Ok(certs) => Holder::from_certificate(certs[0].as_ref()).unwrap_or(named),
                Err(_) => named,
            };
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{}.p12", holder.name())));
            write_p12(&authority, &config, &holder, &out, password)?;
        }
        PkiCommand::Server { names } => {
            anyhow::ensure!(!names.is_empty(), "name at least one DNS name or IP address");
            authority.issue_server(&names)?;
            println!("issued {}", authority.pair("server").0.display());
        }
        PkiCommand::Revoke { identity, serial } => {
            let today = local_date(config.clock().now());
            let serial = match (identity, serial) {
                (_, Some(serial)) => serial,
                (Some(identity), None) => {
                    let holder = Holder::parse(&identity).map_err(anyhow::Error::msg)?.name();
                    let current = authority.list()?.into_iter().find(|i| i.name == holder && i.current && !i.revoked);
                    current
                        .map(|i| i.serial)
                        .ok_or_else(|| anyhow::anyhow!("{holder} holds no certificate to revoke"))?
                }
                (None, None) => anyhow::bail!("name a holder or give --serial"),
            };
            // The hub's own authority revokes through the hub, into its audit log.
            let holder = if authority.dir() == config.pki_dir() {
                let hub = console_hub(&config, &authority).await?;
                let revoked = crate::app::certificates::revoke(&hub, &crate::app::Actor::console(), &serial).await;
                hub.close().await;
                revoked.map_err(|e| anyhow::anyhow!("{e}"))?
            } else {
                authority.revoke_serial(&serial, today)?
            };
            println!("revoked {holder}'s certificate {serial}; {} updated", authority.crl().display());
        }
        PkiCommand::List => {
            let now = config.clock().now();
            for issued in authority.list()? {
                let status = match issued.standing(now) {
                    Standing::Revoked => "revoked".to_owned(),
                    Standing::Expired => "EXPIRED".to_owned(),
                    Standing::Superseded => "superseded (still valid: revoke it with --serial)".to_owned(),
                    Standing::ExpiresIn(days) => format!("EXPIRES IN {days} DAYS: issue a new one"),
                    Standing::Valid => "valid".to_owned(),
                };
                let who = match &issued.holder {
                    None => "(server)".to_owned(),
                    Some(holder) => match &holder.clerk {
                        Some(clerk) => format!("{} {}", holder.uri(), clerk.name),
                        None => holder.uri(),
                    },
                };
                let until = issued.not_after.format("%Y-%m-%d");
                println!("{:<8} {:<28} {} until {until}  {status}", issued.name, who, issued.serial);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
