//! What a server process costs, read from `/proc`: CPU time (utime + stime of every thread,
//! living or gone, from `/proc/<pid>/stat`) and resident memory (`VmRSS`). A process can be
//! found by the TCP port it listens on, so a local deployment needs no pid from its operator.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::Duration;

/// The kernel reports CPU time in USER_HZ ticks, 100 per second on every Linux architecture.
const USER_HZ: u64 = 100;

/// CPU time and resident memory of a set of processes at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    pub cpu: Duration,
    pub rss_kib: u64,
}

/// Watches the server processes (and, apart, the broker's).
#[derive(Clone, Debug, Default)]
pub struct Probe {
    pub servers: Vec<u32>,
    pub broker: Option<u32>,
}

/// What the server spent between two snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Server CPU time (every server process), milliseconds.
    pub cpu_ms: f64,
    /// Resident memory of the server processes before and after, KiB.
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// The broker's CPU time, milliseconds, when its process is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_cpu_ms: Option<f64>,
}

/// Snapshots of the servers and the broker taken at the start of a measured phase.
pub struct Mark {
    servers: Option<Snapshot>,
    broker: Option<Snapshot>,
}

impl Probe {
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// Starts measuring.
    pub fn mark(&self) -> Mark {
        Mark {
            servers: snapshot(&self.servers),
            broker: self.broker.and_then(|pid| snapshot(&[pid])),
        }
    }

    /// What was spent since `mark`; `None` when the servers are unknown or gone.
    pub fn since(&self, mark: &Mark) -> Option<Usage> {
        let before = mark.servers?;
        let after = snapshot(&self.servers)?;
        let broker = match (mark.broker, self.broker.and_then(|pid| snapshot(&[pid]))) {
            (Some(b), Some(a)) => Some(ms(a.cpu.saturating_sub(b.cpu))),
            _ => None,
        };
        Some(Usage {
            cpu_ms: ms(after.cpu.saturating_sub(before.cpu)),
            rss_before_kib: before.rss_kib,
            rss_after_kib: after.rss_kib,
            broker_cpu_ms: broker,
        })
    }

    /// Resident memory of the servers now, KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        snapshot(&self.servers).map(|s| s.rss_kib)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Summed CPU time and resident memory of `pids`; `None` if any cannot be read.
pub fn snapshot(pids: &[u32]) -> Option<Snapshot> {
    if pids.is_empty() {
        return None;
    }
    let mut total = Snapshot::default();
    for &pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        total.cpu += cpu_from_stat(&stat)?;
        total.rss_kib += rss_from_status(&status)?;
    }
    Some(total)
}

/// utime + stime from a `/proc/<pid>/stat` line. The command name may hold spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn cpu_from_stat(stat: &str) -> Option<Duration> {
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the name: state is field 3 of the man page, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

/// `VmRSS` in KiB from `/proc/<pid>/status`.
pub fn rss_from_status(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The machine's load average over the last minute: how busy the cores were besides the run.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The process listening on TCP `port` (any local address), if this user can see it.
pub fn listener_pid(port: u16) -> Option<u32> {
    let mut inodes = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            inodes.extend(listening_inodes(&text, port));
        }
    }
    if inodes.is_empty() {
        return None;
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path())
                && let Some(inode) = link
                    .to_str()
                    .and_then(|l| l.strip_prefix("socket:["))
                    .and_then(|l| l.strip_suffix(']'))
                    .and_then(|l| l.parse::<u64>().ok())
                && inodes.contains(&inode)
            {
                return Some(pid);
            }
        }
    }
    None
}

/// Inodes of the sockets listening on `port` in a `/proc/net/tcp{,6}` table.
pub fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    const LISTEN: &str = "0A";
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = u16::from_str_radix(f.get(1)?.rsplit_once(':')?.1, 16).ok()?;
            (local_port == port && *f.get(3)? == LISTEN)
                .then(|| f.get(9)?.parse().ok())
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_read_after_the_command_name() {
        let stat = "4242 (gochat (x) y) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(cpu_from_stat(stat), Some(Duration::from_millis(2000)));
    }

    #[test]
    fn rss_is_read_from_status() {
        let status = "Name:\tgochat\nVmPeak:\t  100 kB\nVmRSS:\t   13120 kB\nThreads:\t9\n";
        assert_eq!(rss_from_status(status), Some(13120));
    }

    #[test]
    fn only_listening_sockets_on_the_port_are_found() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0\n\
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 20 4 30 10 -1\n\
   2: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0\n";
        assert_eq!(listening_inodes(table, 8080), vec![111]);
    }

    #[test]
    fn this_process_can_be_measured() {
        let me = std::process::id();
        let snap = snapshot(&[me]).expect("own /proc entry");
        assert!(snap.rss_kib > 0);
    }
}
