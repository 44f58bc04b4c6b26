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
