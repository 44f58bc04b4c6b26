//! A member's client profile: where the hub is and which certificate to present.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ClientError;

/// Paths in a profile file are relative to the file's own directory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Whom the certificate names: a member code, `office` or `admin`.
    pub identity: String,
    /// `https://HOST:PORT`.
    pub endpoint: String,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The name the hub's certificate must carry; the endpoint's host when unset.
    #[serde(default)]
    pub server_name: Option<String>,
}

impl Profile {
    /// Reads a profile file (TOML).
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|error| ClientError::Read { path: path.to_owned(), error })?;
        let mut profile: Profile =
            toml::from_str(&text).map_err(|e| ClientError::Profile { path: path.to_owned(), reason: e.to_string() })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for file in [&mut profile.ca, &mut profile.cert, &mut profile.key] {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        }
        Ok(profile)
    }

    /// The profile of `identity` in a PKI directory laid out by the hub
    /// (`ca.crt`, `<identity>.crt`, `<identity>.key`).
    pub fn from_pki_dir(dir: &Path, identity: &str, endpoint: &str) -> Self {
        Self {
            identity: identity.to_owned(),
            endpoint: endpoint.to_owned(),
            ca: dir.join("ca.crt"),
            cert: dir.join(format!("{identity}.crt")),
            key: dir.join(format!("{identity}.key")),
            server_name: None,
        }
    }

    /// The name to check the hub's certificate against.
    pub fn server_name(&self) -> String {
        if let Some(name) = &self.server_name {
            return name.clone();
        }
        let rest = self.endpoint.split("://").nth(1).unwrap_or(&self.endpoint);
        let host = rest.split('/').next().unwrap_or(rest);
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => host.rsplit_once(':').map_or(host, |(h, _)| h),
        };
        host.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_name_is_the_endpoint_host() {
        let p = |endpoint: &str| Profile::from_pki_dir(Path::new("/p"), "mz", endpoint).server_name();
        assert_eq!(p("https://localhost:7443"), "localhost");
        assert_eq!(p("https://127.0.0.1:7443"), "127.0.0.1");
        assert_eq!(p("https://[::1]:7443"), "::1");
        assert_eq!(p("https://hub.example.cn"), "hub.example.cn");
    }

    #[test]
    fn every_shipped_member_profile_names_its_own_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/members");
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let profile = Profile::load(&path).unwrap();
            let stem = path.file_stem().unwrap().to_str().unwrap();
            assert_eq!(profile.identity, stem);
            assert!(profile.cert.ends_with(format!("hub-data/pki/{stem}.crt")), "{}", path.display());
            assert!(profile.key.ends_with(format!("hub-data/pki/{stem}.key")), "{}", path.display());
            count += 1;
        }
        assert_eq!(count, 14, "13 members and the office");
    }

    #[test]
    fn relative_paths_follow_the_profile_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mz.toml");
        std::fs::write(&path, "identity = \"mz\"\nendpoint = \"https://localhost:7443\"\nca = \"pki/ca.crt\"\ncert = \"/abs/mz.crt\"\nkey = \"pki/mz.key\"\n").unwrap();
        let profile = Profile::load(&path).unwrap();
        assert_eq!(profile.ca, dir.path().join("pki/ca.crt"));
        assert_eq!(profile.cert, PathBuf::from("/abs/mz.crt"));
    }
}
