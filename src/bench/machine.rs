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

/// A process's CPU time, user and kernel mode: all its threads', and of them its SQLite
/// writer's and checkpointer's (none on PostgreSQL); and how long its writer was ready
/// to run but waited for a core. The writer is the store's one serial part: under load
/// its time on a core, its wait for one and its syncs make a commit's turn.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cpu {
    pub all: f64,
    pub writer: f64,
    pub checkpointer: f64,
    pub writer_waiting: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;

    fn sub(self, before: Cpu) -> Cpu {
        Cpu {
            all: self.all - before.all,
            writer: self.writer - before.writer,
            checkpointer: self.checkpointer - before.checkpointer,
            writer_waiting: self.writer_waiting - before.writer_waiting,
        }
    }
}

/// Process `pid`'s CPU time so far, in seconds (Linux, from `/proc/PID/stat` and each
/// thread's `/proc/PID/task/TID/stat`, the writer's wait from its `schedstat`).
pub fn cpu(pid: u32) -> Option<Cpu> {
    use crate::store::sqlite::{CHECKPOINTER_THREAD, WRITER_THREAD};
    let all = stat_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
    let mut cpu = Cpu { all, ..Cpu::default() };
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let name = stat.split_once('(').and_then(|(_, rest)| rest.rsplit_once(')')).map(|(name, _)| name);
        match name {
            Some(WRITER_THREAD) => {
                cpu.writer += stat_seconds(&stat).unwrap_or(0.0);
                let schedstat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
                cpu.writer_waiting += waited_seconds(&schedstat).unwrap_or(0.0);
            }
            Some(CHECKPOINTER_THREAD) => cpu.checkpointer += stat_seconds(&stat).unwrap_or(0.0),
            _ => {}
        }
    }
    Some(cpu)
}

/// The time a thread spent ready to run but waiting for a core, from its `schedstat`
/// line (nanoseconds on a core, nanoseconds waiting, slices), in seconds.
fn waited_seconds(schedstat: &str) -> Option<f64> {
    let nanos: u64 = schedstat.split_whitespace().nth(1)?.parse().ok()?;
    Some(nanos as f64 / 1e9)
}

/// The machine's CPU time so far, as ticks: all of it, and what the host took for
/// others (`steal`, on a virtual machine), from the first line of `/proc/stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ticks {
    pub all: u64,
    pub stolen: u64,
}

impl Ticks {
    /// The share of the time between `before` and `self` that the host took.
    pub fn stolen_since(self, before: Ticks) -> Option<f64> {
        let all = self.all.checked_sub(before.all).filter(|&all| all > 0)?;
        Some(self.stolen.saturating_sub(before.stolen) as f64 / all as f64)
    }
}

/// The machine's ticks so far (Linux).
pub fn ticks() -> Option<Ticks> {
    ticks_of(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The ticks of the `cpu` line of a `/proc/stat`: user, nice, system, idle, iowait,
/// irq, softirq, steal, then the guests' (already counted in user and nice).
fn ticks_of(proc_stat: &str) -> Option<Ticks> {
    let line = proc_stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line.split_whitespace().take(8).map(str::parse).collect::<Result<_, _>>().ok()?;
    let stolen = *fields.get(7)?;
    Some(Ticks { all: fields.iter().sum(), stolen })
}

/// User and kernel time of a `stat` line, in seconds (its ticks are the ABI's fixed
/// 100 a second).
fn stat_seconds(stat: &str) -> Option<f64> {
    // The command name may hold spaces and parentheses; the fields after its last
    // closing parenthesis do not.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_lines_times_are_read_after_its_name_whatever_the_name_holds() {
        let line = "1225 (sqlite) writer) S 1 1219 1219 0 -1 4194368 3 0 0 0 250 37 0 0 20 0 1 0 7 0 0";
        assert_eq!(stat_seconds(line), Some(2.87));
        assert_eq!(stat_seconds("1225 (short) S 1 2"), None);
        assert_eq!(stat_seconds("no name at all"), None);
    }

    #[test]
    fn a_threads_wait_for_a_core_is_the_second_field_of_its_schedstat() {
        assert_eq!(waited_seconds("4864000000 2250000000 4788\n"), Some(2.25));
        assert_eq!(waited_seconds("4864000000"), None);
        assert_eq!(waited_seconds(""), None);
    }

    #[test]
    fn the_hosts_share_is_the_steal_column_of_the_cpu_line() {
        let before = ticks_of("cpu  900 0 300 700 50 0 30 20 0 0\ncpu0 450 0 150 350 25 0 15 10 0 0\n").unwrap();
        assert_eq!(before, Ticks { all: 2000, stolen: 20 });
        let after = ticks_of("cpu  1800 0 600 1000 100 0 60 440 7 0\n").unwrap();
        assert_eq!(after.stolen_since(before), Some(420.0 / 2000.0));
        assert_eq!(before.stolen_since(before), None);
        assert_eq!(ticks_of("cpu0 1 2 3 4 5 6 7 8\n"), None);
        assert_eq!(ticks_of("cpu  1 2 3\n"), None);
    }

    #[test]
    fn a_thread_named_as_the_writer_is_counted_as_the_writer() {
        // Other tests of this process run writers of their own, so the writer's figures
        // here are at least this thread's. It spins until the process has counted a
        // tick of its writers and one of its own (the two are rounded apart), for five
        // seconds at most, and reads the figures while it is alive (a thread's figures
        // go with it).
        let spun = std::thread::Builder::new()
            .name(crate::store::sqlite::WRITER_THREAD.into())
            .spawn(|| {
                let start = std::time::Instant::now();
                let mut cpu = cpu(std::process::id()).unwrap();
                while (cpu.writer == 0.0 || cpu.all == 0.0) && start.elapsed() < Duration::from_secs(5) {
                    std::hint::black_box((0..100_000u64).fold(0u64, |a, i| a.wrapping_mul(31).wrapping_add(i)));
                    cpu = super::cpu(std::process::id()).unwrap();
                }
                cpu
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(spun.writer > 0.0);
        assert!(spun.all > 0.0);
        assert!(spun.writer_waiting >= 0.0);
        assert_eq!(spun - spun, Cpu::default());
        assert!(ticks().unwrap().all > 0);
    }
}
