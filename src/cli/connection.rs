//! How a command reaches the hub: a client profile, or the hub's address and the
//! development PKI directory.

use std::path::PathBuf;

use clap::Args;
use tonic::Status;
use tonic_types::StatusExt;

use crate::client::{Client, ClientError, Profile};

#[derive(Args, Clone)]
pub struct Connection {
    /// A client profile (TOML, see `deploy/members/`).
    #[arg(long, global = true)]
    profile: Option<PathBuf>,
    /// Without a profile: the hub's address.
    #[arg(long, global = true, default_value = "https://localhost:7443")]
    endpoint: String,
    /// Without a profile: the directory with `ca.crt` and `<code>.crt`/`.key`.
    #[arg(long, global = true, default_value = "hub-data/pki")]
    pki_dir: PathBuf,
    /// Act as this clerk (经办人) of the unit, with the clerk's own certificate
    /// (`<code>.<clerk>.crt`/`.key`) rather than the unit's system certificate.
    #[arg(long, global = true, value_name = "CLERK")]
    clerk: Option<String>,
}

impl Connection {
    /// Connects as `identity` (a member code, `office` or `admin`), or as its clerk.
    pub async fn connect(&self, identity: &str) -> anyhow::Result<Client> {
        let holder;
        let identity = match &self.clerk {
            None => identity,
            Some(clerk) => {
                crate::pki::Clerk::check_code(clerk).map_err(|rule| anyhow::anyhow!("--clerk: {rule}"))?;
                holder = format!("{identity}.{clerk}");
                &holder
            }
        };
        let profile = match &self.profile {
            Some(path) => {
                let profile = Profile::load(path)?;
                anyhow::ensure!(
                    profile.identity == identity,
                    "{} is the profile of {}, not of {identity}",
                    path.display(),
                    profile.identity
                );
                profile
            }
            None => Profile::from_pki_dir(&self.pki_dir, identity, &self.endpoint),
        };
        // Which flag mends what could not be found: the profile's, or the two that
        // stand in for one.
        let (files, address) = match self.profile {
            Some(_) => ("", "the profile's endpoint"),
            None => (
                " (the hub's certificates are in DATA_DIR/pki of `xianjie serve --data-dir`: give that as --pki-dir)",
                "--endpoint",
            ),
        };
        Client::connect(&profile).await.map_err(|e| match e {
            ClientError::Read { .. } => anyhow::anyhow!("{e}{files}"),
            ClientError::Connect { .. } => {
                anyhow::anyhow!("{e}: is it running, and listening there? (the address is {address})")
            }
            other => other.into(),
        })
    }
}

/// A failed call, as a person should read it: the code, the message and each field.
pub fn explain(status: Status) -> anyhow::Error {
    let bad = status.get_details_bad_request();
    // The status message repeats the violations for clients that cannot read details.
    let message = if bad.is_some() { "invalid request" } else { status.message() };
    let mut text = format!("{:?}: {message}", status.code());
    if let Some(bad) = bad {
        for v in bad.field_violations {
            text.push_str(&format!("\n  {}: {}", v.field, v.description));
        }
    }
    anyhow::anyhow!(text)
}
