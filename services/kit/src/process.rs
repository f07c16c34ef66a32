//! The standard `process_*` metrics of Prometheus client libraries, read from `/proc/self` at
//! each scrape: resident and virtual memory, CPU seconds, open and maximum file descriptors,
//! threads and start time. Rendered as exposition text next to the recorder's (the `metrics`
//! crate has integer counters only, and CPU seconds are fractional).

use std::fmt::Write;

/// Clock ticks per second of `/proc/<pid>/stat` times: USER_HZ, 100 on every architecture
/// Linux exports to user space (x86, ARM, RISC-V).
const TICKS_PER_SECOND: f64 = 100.0;

/// The `process_*` series in Prometheus's text format; empty where `/proc` is not readable.
pub fn render() -> String {
    let mut out = String::new();
    let Some(stat) = Stat::read() else { return out };
    let mut series = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n");
    };
    series(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        (stat.utime + stat.stime) as f64 / TICKS_PER_SECOND,
    );
    if let Some(rss) = status_kib("VmRSS:") {
        series(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            rss * 1024.0,
        );
    }
    series(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        stat.vsize as f64,
    );
    series(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        stat.threads as f64,
    );
    if let Some(start) = boot_time().map(|boot| boot + stat.starttime as f64 / TICKS_PER_SECOND) {
        series(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            start,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        series(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            fds.count() as f64,
        );
    }
    if let Some(max) = max_fds() {
        series(
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max,
        );
    }
    out
}

/// The fields of `/proc/self/stat` that the metrics need.
struct Stat {
    utime: u64,
    stime: u64,
    threads: u64,
    starttime: u64,
    vsize: u64,
}

impl Stat {
    fn read() -> Option<Self> {
        let text = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) is in parentheses and may hold spaces: count from after it.
        let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
        // fields[0] is field 3 (state) of proc(5).
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        Some(Self {
            utime: field(14)?,
            stime: field(15)?,
            threads: field(20)?,
            starttime: field(22)?,
            vsize: field(23)?,
        })
    }
}

/// A `<key> <n> kB` line of /proc/self/status, in KiB (no page size to know, unlike statm).
fn status_kib(key: &str) -> Option<f64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Seconds since the epoch at which the machine booted (`btime` of /proc/stat).
fn boot_time() -> Option<f64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The soft limit on open files (`Max open files` of /proc/self/limits).
fn max_fds() -> Option<f64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, name: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .parse()
            .unwrap()
    }

    #[test]
    fn process_series_are_plausible_and_each_has_help_and_type() {
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        let text = render();
        let rss = value(&text, "process_resident_memory_bytes");
        // The test binary holds at least a megabyte and far less than a terabyte.
        assert!(rss > 1e6 && rss < 1e12, "{rss}");
        assert!(value(&text, "process_virtual_memory_bytes") >= rss);
        assert!(value(&text, "process_open_fds") >= 1.0);
        assert!(value(&text, "process_max_fds") >= value(&text, "process_open_fds"));
        assert!(value(&text, "process_cpu_seconds_total") >= 0.0);
        assert!(value(&text, "process_threads") >= 1.0);
        let start = value(&text, "process_start_time_seconds");
        let now = chrono::Utc::now().timestamp() as f64;
        assert!(start <= now + 1.0 && start > now - 86_400.0 * 365.0, "{start}");
        for name in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let name = name.split(' ').next().unwrap();
            assert!(text.contains(&format!("# HELP {name} ")) && text.contains(&format!("# TYPE {name} ")));
        }
        drop(file);
    }
}
