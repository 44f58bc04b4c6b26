//! What the machine allows: durable writes per second on the data directory, and the
//! resident memory of a process.

use std::{
    fs::OpenOptions,
    io::{Seek, SeekFrom, Write},
    path::Path,
    time::{Duration, Instant},
};

/// fdatasync calls per second on a file in `dir`, each after a small overwrite, for
/// about `for_how_long`.
pub fn fdatasyncs_per_second(dir: &Path, for_how_long: Duration) -> std::io::Result<f64> {
    let path = dir.join("fdatasync.probe");
    let mut file = OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path)?;
    let block = [7u8; 512];
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < for_how_long {
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&block)?;
        file.sync_data()?;
        count += 1;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    std::fs::remove_file(path)?;
    Ok(rate)
}

/// Resident memory of process `pid` in MiB (Linux), from `/proc/PID/status`.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
