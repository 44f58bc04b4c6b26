//! The command line as a person or a script meets it.

use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn output_into_a_reader_that_stops_early_ends_quietly() {
    let data = Data::sqlite();
    for _ in 0..5 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xianjie"))
            .args(["calendar", "year", "2026", "--data-dir"])
            .arg(data.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first line is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
        assert!(out.status.success(), "{:?}: {stderr}", out.status);
    }
}

#[test]
fn serve_takes_the_database_url_as_a_flag() {
    let help = Command::new(env!("CARGO_BIN_EXE_xianjie")).args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--database-url"));
}

/// What a newcomer meets with another data directory or port: each mistake said once,
/// with the flag that mends it.
#[test]
fn a_missing_ca_or_an_unreachable_hub_is_named_once_with_the_flag_to_give() {
    let data = Data::sqlite();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_xianjie"))
            .args(args)
            .current_dir(data.dir.path())
            .env_remove("XIANJIE_DATA_DIR")
            .env("XIANJIE_P12_PASSWORD", "a long password")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = run(&["pki", "export-p12", "mz"]);
    assert!(said.contains("no CA in hub-data/pki") && said.contains("--data-dir"), "{said}");
    assert!(!said.contains("PEM"), "{said}");

    let said = run(&["member", "mz", "whoami"]);
    assert_eq!(said.matches("hub-data/pki/ca.crt").count(), 1, "{said}");
    assert_eq!(said.matches("No such file").count(), 1, "{said}");
    assert!(said.contains("--pki-dir"), "{said}");

    let pki = data.dir.path().join("pki");
    assert!(Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["pki", "init", "--dir"])
        .arg(&pki)
        .status()
        .unwrap()
        .success());
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("https://localhost:{port}");
    let pki = pki.to_str().unwrap();
    let said = run(&["member", "--pki-dir", pki, "--endpoint", &endpoint, "mz", "whoami"]);
    assert!(said.contains(&format!("cannot reach the hub at {endpoint}")) && said.contains("--endpoint"), "{said}");
    assert!(!said.contains("transport error"), "{said}");

    let said = run(&["serve", "--workbench-listen", "nowhere"]);
    assert!(said.contains("--workbench-listen") && said.contains("HOST:PORT or off"), "{said}");
}

#[test]
fn certificates_about_to_expire_are_announced_by_pki_list() {
    let data = Data::sqlite();
    let pki = data.dir.path().join("pki");
    let run = |clock: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_xianjie"))
            .args(["pki", "list", "--dir"])
            .arg(&pki)
            .env("XIANJIE_CLOCK_START", clock)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let made = Command::new(env!("CARGO_BIN_EXE_xianjie")).args(["pki", "init", "--dir"]).arg(&pki).output().unwrap();
    assert!(made.status.success());
    let mz = |listing: String| listing.lines().find(|l| l.starts_with("mz ")).unwrap().to_owned();
    assert!(mz(run("2026-09-10T02:00:00Z")).ends_with("valid"));
    // Member certificates of the development CA end on 2036-01-01.
    assert!(mz(run("2035-12-15T00:00:00Z")).contains("EXPIRES IN 16 DAYS"));
    assert!(mz(run("2036-02-01T00:00:00Z")).contains("EXPIRED"));
}

#[test]
fn pki_writes_a_pkcs12_file_for_the_browser_with_the_password_given_or_a_new_one() {
    let data = Data::sqlite();
    let pki = data.dir.path().join("pki");
    let xianjie = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xianjie"));
        command.env_remove("XIANJIE_P12_PASSWORD");
        command
    };
    assert!(xianjie().args(["pki", "init", "--dir"]).arg(&pki).output().unwrap().status.success());
    let opens = |file: &std::path::Path, password: &str| {
        let bytes = std::fs::read(file).unwrap();
        let store =
            p12_keystore::KeyStore::from_pkcs12(&bytes, password, p12_keystore::Pkcs12ImportPolicy::Strict).ok()?;
        let (label, chain) = store.private_key_chain()?;
        let identity = xianjie::pki::Identity::from_certificate(chain.certs()[0].as_der()).ok()?;
        Some((label.to_owned(), identity.to_string()))
    };

    // Issued anew, with the password from the environment.
    let issued = data.dir.path().join("mz.p12");
    let out = xianjie()
        .args(["pki", "issue", "mz", "--p12"])
        .arg(&issued)
        .arg("--dir")
        .arg(&pki)
        .env("XIANJIE_P12_PASSWORD", "a long password")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(opens(&issued, "a long password"), Some(("晋江市民政局 (mz)".into(), "mz".into())));
    assert_eq!(opens(&issued, "another password"), None);

    // Exported with a password it makes up and says.
    let exported = data.dir.path().join("office.p12");
    let out = xianjie()
        .args(["pki", "export-p12", "office", "--out"])
        .arg(&exported)
        .arg("--dir")
        .arg(&pki)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let password = said.trim().rsplit(' ').next().unwrap();
    assert_eq!(password.len(), 12, "{said}");
    assert_eq!(opens(&exported, password), Some(("联席会议办公室".into(), "office".into())));

    // Too short a password writes nothing.
    let short = data.dir.path().join("jy.p12");
    let out = xianjie()
        .args(["pki", "export-p12", "jy", "--password", "short", "--out"])
        .arg(&short)
        .arg("--dir")
        .arg(&pki)
        .output()
        .unwrap();
    assert!(!out.status.success() && !short.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));
}

/// A hub's log sent to a file or the journal is plain text: no colour codes for an
/// administrator to read around.
#[test]
fn the_log_is_plain_text_when_standard_error_is_not_a_terminal() {
    let data = Data::sqlite();
    // A port already taken: the hub logs its start, then cannot listen.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_xianjie"))
        .args(["serve", "--data-dir"])
        .arg(data.dir.path())
        .args(["--listen", &listen, "--workbench-listen", "off", "--metrics-listen", "off"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("INFO") && log.contains("starting"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
}
