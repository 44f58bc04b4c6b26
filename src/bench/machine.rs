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

/// The CPU time process `pid` has used, all its threads, in user and kernel mode
/// (Linux, from `/proc/PID/stat`; its ticks are the ABI's fixed 100 a second).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Bytes the SQLite writer and checkpointer threads of process `pid` have written
/// (the writer's to the write-ahead log, the checkpointer's into the database), or
/// `None` when it has no such threads (a hub on PostgreSQL).
pub fn store_written(pid: u32) -> Option<u64> {
    use crate::store::sqlite::{CHECKPOINTER_THREAD, WRITER_THREAD};
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let written = |task: &std::path::Path| -> Option<u64> {
        let io = std::fs::read_to_string(task.join("io")).ok()?;
        io.lines().find_map(|line| line.strip_prefix("wchar:")).and_then(|n| n.trim().parse().ok())
    };
    tasks
        .flatten()
        .map(|t| t.path())
        .filter(|task| {
            std::fs::read_to_string(task.join("comm"))
                .is_ok_and(|name| [WRITER_THREAD, CHECKPOINTER_THREAD].contains(&name.trim()))
        })
        .map(|task| written(&task))
        .try_fold(None, |total: Option<u64>, bytes| Some(Some(total.unwrap_or(0) + bytes?)))?
}

/// A process's resident memory in MiB: all of it, and its anonymous part (the heap and
/// stacks; the rest is files mapped, such as the database pages SQLite's readers map,
/// which the kernel takes back when it needs them).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Memory {
    pub resident: f64,
    pub anonymous: f64,
}

impl Memory {
    /// The larger of each.
    pub fn max(self, other: Memory) -> Memory {
        Memory { resident: self.resident.max(other.resident), anonymous: self.anonymous.max(other.anonymous) }
    }
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} MiB ({:.1} MiB anonymous)", self.resident, self.anonymous)
    }
}

/// The memory of process `pid` (Linux), from `/proc/PID/status`.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mib = |field: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(field))?;
        Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
    };
    Some(Memory { resident: mib("VmRSS:")?, anonymous: mib("RssAnon:")? })
}
