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
