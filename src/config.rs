//! The hub's configuration: one typed struct, built from defaults, then a TOML file,
//! then `XIANJIE_…` environment variables, then command-line flags. Nothing else in
//! the hub reads the environment.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::deadline::Policy;
use crate::keys::{KeyringError, Keys};

/// Largest gRPC message the hub accepts or sends, by default.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the database and the development PKI live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH`; defaults to `DATA_DIR/xianjie.db`. May hold a password.
    pub database_url: Option<String>,
    /// The CA that signs member certificates; defaults to `DATA_DIR/pki/ca.crt`.
    pub ca_cert: Option<PathBuf>,
    /// The hub's own certificate and key; default `DATA_DIR/pki/server.{crt,key}`.
    pub server_cert: Option<PathBuf>,
    pub server_key: Option<PathBuf>,
    /// The CA's certificate revocation list; defaults to `crl.pem` beside `ca_cert`.
    /// While the file does not exist, no certificate is revoked.
    pub crl_file: Option<PathBuf>,
    /// How often the hub reads its keyring, CA, CRL and server certificate again.
    pub reload_interval_ms: u64,
    /// Names the development server certificate is issued for.
    pub server_names: Vec<String>,
    /// How long a clerk's (经办人) certificate is valid, in days from its issue.
    pub clerk_certificate_days: u32,
    /// The workbench's sessions end after this many idle minutes.
    pub session_idle_minutes: u32,
    /// Wrong passwords in a row that lock a clerk out, and for how many minutes.
    pub sign_in_attempts: u32,
    pub lockout_minutes: u32,
    /// The keyring that seals personal data; defaults to `DATA_DIR/keyring.toml`,
    /// created with fresh keys on first start. Keep it out of the database's backups.
    pub keyring_file: Option<PathBuf>,
    /// The keyring's text itself, from `XIANJIE_KEYRING` (never from the file): takes
    /// the place of `keyring_file`.
    #[serde(skip)]
    pub keyring: Option<String>,
    /// The key that signs checkpoints of the audit log (Ed25519, created on first
    /// start); defaults to `DATA_DIR/audit-signing.key`, its public half beside it
    /// (`.pub`). Keep it out of the database's backups.
    pub audit_key_file: Option<PathBuf>,
    /// How often the hub signs the audit log's head and sends it to every member.
    pub checkpoint_interval_ms: u64,
    /// The member directory (format of `data/members.toml`); the Jinjiang list when
    /// unset.
    pub directory_file: Option<PathBuf>,
    /// Largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
    /// Requests each member may make per second, and at once (`request_burst`): past
    /// them, RESOURCE_EXHAUSTED with the time to wait.
    pub requests_per_second: u32,
    pub request_burst: u32,
    /// Live streams (inbox subscriptions, the office's watch) each member may hold open.
    pub max_streams_per_member: usize,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Which logs to keep, as a tracing filter (`info`, `xianjie=debug`).
    pub log: String,
    /// Starts the hub's clock at this instant instead of now (drills and tests).
    pub clock_start: Option<DateTime<Utc>>,
    /// How often the deadline scanner looks for due-soon and missed deadlines.
    pub scan_interval_ms: u64,
    /// The working days each deadline allows (`[deadlines]`).
    pub deadlines: Policy,
    /// Where Prometheus metrics are served over plain HTTP (`/metrics`); localhost by
    /// default, as they are for the operator's monitoring alone. `off` in the
    /// environment variable serves none.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the workbench (工作台) is served to browsers, over HTTPS with the same
    /// certificates as gRPC; a listener of its own so that browsers and member systems
    /// can be let in from different networks. `off` in the environment variable serves
    /// none.
    pub workbench_listen: Option<SocketAddr>,
    /// How long a stopping hub reports NOT_SERVING to health checks while still
    /// answering, before it drains: time for a load balancer to look elsewhere.
    pub shutdown_grace_ms: u64,
    /// Attachments and letters (`[materials]`).
    pub materials: MaterialsConfig,
    /// Messages away from the workbench: e-mail, webhooks, SMS (`[notify]`).
    pub notify: NotifyConfig,
}

/// How the hub tells members' people of what waits for them.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// The SMTP server: `smtp://user:password@host:587?tls=required` (STARTTLS),
    /// `smtps://user:password@host:465` or `smtp://host:25` (plain, a relay on the
    /// county's own network). None sends no e-mail.
    pub smtp_url: Option<String>,
    /// The sender of e-mail, `衔接工作台 <xianjie@county.gov.cn>`.
    pub from: String,
    /// Where messages send people: the workbench's address as users reach it;
    /// `https://` the first server name and the workbench's port by default.
    pub workbench_url: Option<String>,
    /// The key of the signature (HMAC-SHA256) of JSON webhooks, and a 钉钉 robot's
    /// 加签 secret.
    pub webhook_secret: Option<String>,
    /// The province's SMS gateway; none sends no text messages.
    pub sms: Option<SmsGateway>,
    /// The office's e-mail address: missed deadlines, naming the member, go there.
    pub office_email: String,
    /// Attempts to send a message before it is given up on (and shown as failed).
    pub attempts: u32,
    /// The wait before the second attempt; each later wait is twice the one before.
    pub retry_ms: u64,
    /// How often the sender looks for messages to queue and send.
    pub interval_ms: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "衔接工作台 <xianjie@localhost>".into(),
            workbench_url: None,
            webhook_secret: None,
            sms: None,
            office_email: String::new(),
            attempts: 6,
            retry_ms: 60_000,
            interval_ms: 2_000,
        }
    }
}

impl fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact))
            .field("from", &self.from)
            .field("workbench_url", &self.workbench_url)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "***"))
            .field("sms", &self.sms.as_ref().map(|g| (&g.method, redact(&g.url))))
            .field("office_email", &self.office_email)
            .field("attempts", &self.attempts)
            .field("retry_ms", &self.retry_ms)
            .field("interval_ms", &self.interval_ms)
            .finish()
    }
}

/// An SMS gateway reached over HTTP, as the province's government SMS platform is.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsGateway {
    /// Where to send; `{phone}` and `{text}` in it are replaced (URL-encoded).
    pub url: String,
    /// `POST` (default) or `GET`.
    #[serde(default = "post")]
    pub method: String,
    /// The body's type; a JSON body has `{phone}` and `{text}` replaced as JSON strings'
    /// contents, any other as form values.
    #[serde(default = "json_type")]
    pub content_type: String,
    /// The body, `{"mobile":"{phone}","content":"{text}"}`; empty for none (GET).
    #[serde(default)]
    pub body: String,
    /// What the answer's body must hold for a message to count as sent (with a 2xx
    /// status); empty: any 2xx.
    #[serde(default)]
    pub success: String,
}

fn post() -> String {
    "POST".into()
}

fn json_type() -> String {
    "application/json".into()
}

/// What members may attach, and how their letters are written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaterialsConfig {
    /// The largest file, in MiB.
    pub file_mib: u64,
    /// All the files of one referral together, in MiB.
    pub referral_mib: u64,
    /// How many files one referral carries.
    pub referral_files: usize,
    /// Uploads taken at once, hub-wide: each holds at most a megabyte in memory, its
    /// chunks written ahead as they arrive.
    pub uploads_at_once: usize,
    /// Hours a file is kept that was staged and never completed, or stored and never
    /// attached to a referral (a refused form, an abandoned upload).
    pub keep_unattached_hours: u64,
    /// A DOCX template for the letters (移送函) in place of the shipped one: its text
    /// holds placeholders such as `{{文号}}` and `{{正文}}` (see the README). Checked
    /// when the hub starts (a broken one stops it) and read again when the file
    /// changes (a broken one is refused, the last good one kept); each letter is
    /// written once, when it is issued.
    pub letter_template: Option<PathBuf>,
    /// Each member's prefix of document numbers, by member code (`jcy = "晋检八部社救移"`);
    /// a member without one numbers under its short name and 移. `office` is the prefix of
    /// the office's 督办函, by default the county's name and 衔接办督.
    pub document_prefixes: std::collections::BTreeMap<String, String>,
}

impl Default for MaterialsConfig {
    fn default() -> Self {
        Self {
            file_mib: 20,
            referral_mib: 100,
            referral_files: 30,
            uploads_at_once: 8,
            keep_unattached_hours: 24,
            letter_template: None,
            document_prefixes: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7443)),
            data_dir: PathBuf::from("hub-data"),
            database_url: None,
            ca_cert: None,
            server_cert: None,
            server_key: None,
            crl_file: None,
            reload_interval_ms: 5_000,
            server_names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            clerk_certificate_days: crate::pki::authority::CLERK_DAYS,
            session_idle_minutes: 30,
            sign_in_attempts: 5,
            lockout_minutes: 15,
            keyring_file: None,
            keyring: None,
            audit_key_file: None,
            checkpoint_interval_ms: 3_600_000,
            directory_file: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            requests_per_second: 100,
            request_burst: 200,
            max_streams_per_member: 8,
            log_format: LogFormat::Text,
            log: "info".into(),
            clock_start: None,
            scan_interval_ms: 30_000,
            deadlines: Policy::default(),
            shutdown_grace_ms: 2_000,
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 7444))),
            workbench_listen: Some(SocketAddr::from(([127, 0, 0, 1], 7445))),
            materials: MaterialsConfig::default(),
            notify: NotifyConfig::default(),
        }
    }
}

/// A listening address, or `off` for none; `None` when it is neither.
fn address_or_off(value: &str) -> Option<Option<SocketAddr>> {
    match value {
        "off" => Some(None),
        address => address.parse().ok().map(Some),
    }
}

/// An address to serve on given on the command line, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen(pub Option<SocketAddr>);

impl std::str::FromStr for Listen {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        address_or_off(value).map(Listen).ok_or_else(|| "HOST:PORT or off".to_owned())
    }
}

/// Redacts the password of a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(redact))
            .field("ca_cert", &self.ca_cert)
            .field("server_cert", &self.server_cert)
            .field("server_key", &self.server_key)
            .field("crl_file", &self.crl_file)
            .field("reload_interval_ms", &self.reload_interval_ms)
            .field("server_names", &self.server_names)
            .field("clerk_certificate_days", &self.clerk_certificate_days)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("sign_in_attempts", &self.sign_in_attempts)
            .field("lockout_minutes", &self.lockout_minutes)
            .field("keyring_file", &self.keyring_file)
            .field("keyring", &self.keyring.as_ref().map(|_| "***"))
            .field("audit_key_file", &self.audit_key_file)
            .field("checkpoint_interval_ms", &self.checkpoint_interval_ms)
            .field("directory_file", &self.directory_file)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("requests_per_second", &self.requests_per_second)
            .field("request_burst", &self.request_burst)
            .field("max_streams_per_member", &self.max_streams_per_member)
            .field("log_format", &self.log_format)
            .field("log", &self.log)
            .field("clock_start", &self.clock_start)
            .field("scan_interval_ms", &self.scan_interval_ms)
            .field("deadlines", &self.deadlines)
            .field("shutdown_grace_ms", &self.shutdown_grace_ms)
            .field("metrics_listen", &self.metrics_listen)
            .field("workbench_listen", &self.workbench_listen)
            .field("materials", &self.materials)
            .field("notify", &self.notify)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("{name}={value:?}: {rule}")]
    Env { name: String, value: String, rule: String },
}

/// Overrides from the command line.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub workbench_listen: Option<Listen>,
    pub metrics_listen: Option<Listen>,
}

impl Config {
    /// Defaults, then `file` (if given), then the `XIANJIE_…` variables of `env`, then
    /// `flags`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &Flags,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })?
            }
            None => Config::default(),
        };
        for (name, value) in env {
            config.apply_env(&name, value)?;
        }
        if let Some(listen) = flags.listen {
            config.listen = listen;
        }
        if let Some(dir) = &flags.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(url) = &flags.database_url {
            config.database_url = Some(url.clone());
        }
        if let Some(Listen(address)) = flags.workbench_listen {
            config.workbench_listen = address;
        }
        if let Some(Listen(address)) = flags.metrics_listen {
            config.metrics_listen = address;
        }
        Ok(config)
    }

    /// The configuration from the process environment and an optional file.
    pub fn from_process(file: Option<&Path>, flags: &Flags) -> Result<Self, ConfigError> {
        Self::load(file, std::env::vars(), flags)
    }

    fn apply_env(&mut self, name: &str, value: String) -> Result<(), ConfigError> {
        let bad = |rule: &str| ConfigError::Env { name: name.into(), value: value.clone(), rule: rule.into() };
        match name {
            "XIANJIE_LISTEN" => self.listen = value.parse().map_err(|_| bad("HOST:PORT"))?,
            "XIANJIE_DATA_DIR" => self.data_dir = PathBuf::from(&value),
            "XIANJIE_DATABASE_URL" => self.database_url = Some(value),
            "XIANJIE_CA_CERT" => self.ca_cert = Some(PathBuf::from(&value)),
            "XIANJIE_SERVER_CERT" => self.server_cert = Some(PathBuf::from(&value)),
            "XIANJIE_SERVER_KEY" => self.server_key = Some(PathBuf::from(&value)),
            "XIANJIE_CRL_FILE" => self.crl_file = Some(PathBuf::from(&value)),
            "XIANJIE_RELOAD_INTERVAL_MS" => {
                self.reload_interval_ms =
                    value.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| bad("milliseconds, > 0"))?
            }
            "XIANJIE_CLERK_CERTIFICATE_DAYS" => {
                self.clerk_certificate_days =
                    value.parse().ok().filter(|days| (1..=3660).contains(days)).ok_or_else(|| bad("days, 1 to 3660"))?
            }
            "XIANJIE_SESSION_IDLE_MINUTES" => {
                self.session_idle_minutes =
                    value.parse().ok().filter(|m| (1..=1440).contains(m)).ok_or_else(|| bad("minutes, 1 to 1440"))?
            }
            "XIANJIE_SIGN_IN_ATTEMPTS" => {
                self.sign_in_attempts =
                    value.parse().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| bad("a count, 1 to 100"))?
            }
            "XIANJIE_LOCKOUT_MINUTES" => {
                self.lockout_minutes =
                    value.parse().ok().filter(|m| (1..=1440).contains(m)).ok_or_else(|| bad("minutes, 1 to 1440"))?
            }
            "XIANJIE_KEYRING_FILE" => self.keyring_file = Some(PathBuf::from(&value)),
            "XIANJIE_KEYRING" => self.keyring = Some(value),
            "XIANJIE_AUDIT_KEY_FILE" => self.audit_key_file = Some(PathBuf::from(&value)),
            "XIANJIE_CHECKPOINT_INTERVAL_MS" => {
                self.checkpoint_interval_ms =
                    value.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| bad("milliseconds, > 0"))?
            }
            "XIANJIE_DIRECTORY_FILE" => self.directory_file = Some(PathBuf::from(&value)),
            "XIANJIE_MAX_MESSAGE_BYTES" => {
                self.max_message_bytes = value.parse().map_err(|_| bad("a number of bytes"))?
            }
            "XIANJIE_LOG_FORMAT" => {
                self.log_format = match value.as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(bad("text or json")),
                }
            }
            "XIANJIE_LOG" => self.log = value,
            "XIANJIE_REQUESTS_PER_SECOND" => {
                self.requests_per_second = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("a number, > 0"))?
            }
            "XIANJIE_REQUEST_BURST" => {
                self.request_burst = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("a number, > 0"))?
            }
            "XIANJIE_MAX_STREAMS_PER_MEMBER" => {
                self.max_streams_per_member =
                    value.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("a number, > 0"))?
            }
            "XIANJIE_SCAN_INTERVAL_MS" => {
                self.scan_interval_ms =
                    value.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| bad("milliseconds, > 0"))?
            }
            "XIANJIE_URGENT_DAYS" => {
                self.deadlines.urgent_days = value.parse().map_err(|_| bad("a number of working days"))?
            }
            "XIANJIE_WARN_DAYS" => {
                self.deadlines.warn_days = value.parse().map_err(|_| bad("a number of working days"))?
            }
            "XIANJIE_METRICS_LISTEN" => {
                self.metrics_listen = address_or_off(&value).ok_or_else(|| bad("HOST:PORT or off"))?
            }
            "XIANJIE_WORKBENCH_LISTEN" => {
                self.workbench_listen = address_or_off(&value).ok_or_else(|| bad("HOST:PORT or off"))?
            }
            "XIANJIE_SHUTDOWN_GRACE_MS" => self.shutdown_grace_ms = value.parse().map_err(|_| bad("milliseconds"))?,
            "XIANJIE_CLOCK_START" => self.clock_start = Some(value.parse().map_err(|_| bad("an RFC 3339 instant"))?),
            "XIANJIE_SMTP_URL" => self.notify.smtp_url = Some(value),
            "XIANJIE_NOTIFY_FROM" => self.notify.from = value,
            "XIANJIE_WORKBENCH_URL" => self.notify.workbench_url = Some(value),
            "XIANJIE_WEBHOOK_SECRET" => self.notify.webhook_secret = Some(value),
            "XIANJIE_OFFICE_EMAIL" => self.notify.office_email = value,
            "XIANJIE_NOTIFY_ATTEMPTS" => {
                self.notify.attempts = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("a number, > 0"))?
            }
            "XIANJIE_NOTIFY_RETRY_MS" => {
                self.notify.retry_ms =
                    value.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| bad("milliseconds, > 0"))?
            }
            "XIANJIE_NOTIFY_INTERVAL_MS" => {
                self.notify.interval_ms =
                    value.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| bad("milliseconds, > 0"))?
            }
            _ => {}
        }
        Ok(())
    }

    /// How clerks' sign-ins to the workbench are held.
    pub fn sign_in_policy(&self) -> crate::domain::sign_in::SignInPolicy {
        crate::domain::sign_in::SignInPolicy {
            attempts: self.sign_in_attempts,
            lockout: chrono::Duration::minutes(i64::from(self.lockout_minutes)),
            idle: chrono::Duration::minutes(i64::from(self.session_idle_minutes)),
        }
    }

    /// The clock this configuration asks for: the system's, or one started at
    /// `clock_start` and running from there.
    pub fn clock(&self) -> crate::clock::SharedClock {
        match self.clock_start {
            Some(start) => std::sync::Arc::new(crate::clock::SystemClock::starting_at(start)),
            None => std::sync::Arc::new(crate::clock::SystemClock::default()),
        }
    }

    /// The member directory this configuration seeds the hub with: its file, or
    /// Jinjiang's.
    pub fn directory(&self) -> anyhow::Result<crate::domain::directory::Directory> {
        use anyhow::Context;
        match &self.directory_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                crate::domain::directory::Directory::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
            None => Ok(crate::domain::directory::Directory::jinjiang()),
        }
    }

    pub fn pki_dir(&self) -> PathBuf {
        self.data_dir.join("pki")
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("xianjie.db").display()))
    }

    /// Whether the TLS files are the development PKI of the data directory.
    pub fn uses_dev_pki(&self) -> bool {
        self.ca_cert.is_none() && self.server_cert.is_none() && self.server_key.is_none()
    }

    pub fn keyring_file(&self) -> PathBuf {
        self.keyring_file.clone().unwrap_or_else(|| self.data_dir.join("keyring.toml"))
    }

    /// The keys that seal personal data: from `XIANJIE_KEYRING`, else the keyring file.
    /// The default file is created with fresh keys when missing; a configured one must
    /// exist, since keys made up in its place would open nothing.
    pub fn keys(&self) -> Result<Keys, KeyringError> {
        match (&self.keyring, &self.keyring_file) {
            (Some(text), _) => Keys::from_text(text),
            (None, Some(path)) => Keys::from_file(path),
            (None, None) => Keys::open_or_create(&self.keyring_file()),
        }
    }

    pub fn audit_key_file(&self) -> PathBuf {
        self.audit_key_file.clone().unwrap_or_else(|| self.data_dir.join("audit-signing.key"))
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.ca_cert.clone().unwrap_or_else(|| self.pki_dir().join("ca.crt"))
    }

    pub fn server_cert(&self) -> PathBuf {
        self.server_cert.clone().unwrap_or_else(|| self.pki_dir().join("server.crt"))
    }

    pub fn server_key(&self) -> PathBuf {
        self.server_key.clone().unwrap_or_else(|| self.pki_dir().join("server.key"))
    }

    /// Beside the CA certificate unless configured.
    pub fn crl_file(&self) -> PathBuf {
        self.crl_file.clone().unwrap_or_else(|| self.ca_cert().with_file_name("crl.pem"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn later_sources_win() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/a\"\nmax_message_bytes = 5\n").unwrap();
        let flags = Flags { data_dir: Some("/srv/c".into()), ..Flags::default() };
        let config = Config::load(
            Some(&file),
            env(&[("XIANJIE_DATA_DIR", "/srv/b"), ("XIANJIE_MAX_MESSAGE_BYTES", "7")]),
            &flags,
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.data_dir, PathBuf::from("/srv/c"));
        assert_eq!(config.max_message_bytes, 7);
        assert_eq!(config.database_url(), "sqlite:///srv/c/xianjie.db");
        let flags = Flags { database_url: Some("postgres://hub@db/c".into()), ..Flags::default() };
        let config = Config::load(None, env(&[("XIANJIE_DATABASE_URL", "postgres://hub@db/b")]), &flags).unwrap();
        assert_eq!(config.database_url(), "postgres://hub@db/c");
    }

    #[test]
    fn the_workbench_and_metrics_addresses_are_flags_too() {
        let vars = env(&[("XIANJIE_WORKBENCH_LISTEN", "127.0.0.1:8001"), ("XIANJIE_METRICS_LISTEN", "127.0.0.1:8002")]);
        let flags = Flags {
            workbench_listen: Some("0.0.0.0:9445".parse().unwrap()),
            metrics_listen: Some("off".parse().unwrap()),
            ..Flags::default()
        };
        let config = Config::load(None, vars, &flags).unwrap();
        assert_eq!(config.workbench_listen, Some("0.0.0.0:9445".parse().unwrap()));
        assert_eq!(config.metrics_listen, None);
        assert_eq!("nowhere".parse::<Listen>().unwrap_err(), "HOST:PORT or off");
    }

    #[test]
    fn bad_values_name_their_source() {
        let err = Config::load(None, env(&[("XIANJIE_LISTEN", "nowhere")]), &Flags::default()).unwrap_err();
        assert!(err.to_string().starts_with("XIANJIE_LISTEN=\"nowhere\""), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.toml");
        std::fs::write(&file, "listne = \"x\"\n").unwrap();
        assert!(Config::load(Some(&file), vec![], &Flags::default()).unwrap_err().to_string().contains("listne"));
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/xianjie.toml");
        let config = Config::load(Some(&file), vec![], &Flags::default()).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/xianjie"));
        assert_eq!((config.deadlines.statutory_days, config.deadlines.urgent_days), (5, 1));
        assert_eq!(config.deadlines.warn_days, 1);
        assert_eq!(config.deadlines.visit_after, crate::domain::visit::VisitAfter::Months(3));
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/xianjie-postgres.toml");
        let config = Config::load(Some(&file), vec![], &Flags::default()).unwrap();
        assert!(config.database_url().starts_with("postgres://"));
        assert!(!config.uses_dev_pki());
    }

    #[test]
    fn the_follow_up_visit_is_due_in_months_or_working_days() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.toml");
        std::fs::write(&file, "[deadlines]\nvisit_after = { working_days = 60 }\n").unwrap();
        let config = Config::load(Some(&file), vec![], &Flags::default()).unwrap();
        assert_eq!(config.deadlines.visit_after, crate::domain::visit::VisitAfter::WorkingDays(60));
        assert_eq!(config.deadlines.statutory_days, 5, "the rest stays as it was");
        std::fs::write(&file, "[deadlines]\nvisit_after = { weeks = 2 }\n").unwrap();
        let err = Config::load(Some(&file), vec![], &Flags::default()).unwrap_err().to_string();
        assert!(err.contains("weeks"), "{err}");
    }

    #[test]
    fn passwords_stay_out_of_debug_output() {
        let config = Config { database_url: Some("postgres://hub:s3cret@db/xianjie".into()), ..Config::default() };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret") && shown.contains("postgres://hub:***@db/xianjie"), "{shown}");
    }
}
