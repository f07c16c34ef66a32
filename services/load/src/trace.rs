//! A per-message trace of a run: when each message was sent on the kernel's monotonic clock,
//! and its latencies. A percentile says how slow the tail is; lined up with `perf sched` (whose
//! `-k CLOCK_MONOTONIC` uses the same clock), the trace says what the server did meanwhile.

use anyhow::Context;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// One pair's messages, in the order sent.
#[derive(Default)]
pub struct Trace(Vec<(Instant, Duration, Duration)>);

impl Trace {
    /// A message sent at `sent`, accepted at `accepted` and received at `received`.
    pub fn record(&mut self, sent: Instant, accepted: Instant, received: Instant) {
        self.0.push((sent, accepted - sent, received - sent));
    }

    /// Writes every trace's lines to `path`, ordered by the time sent.
    pub fn write_all(path: &Path, traces: impl IntoIterator<Item = Trace>) -> anyhow::Result<()> {
        let mut lines: Vec<_> = traces.into_iter().flat_map(|t| t.0).collect();
        lines.sort_by_key(|(sent, ..)| *sent);
        // An `Instant` is opaque: its distance from now, subtracted from the clock read now.
        let (now, clock) = (Instant::now(), monotonic());
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        writeln!(out, "# sent (s, CLOCK_MONOTONIC)\taccepted (µs)\treceived (µs)")?;
        for (sent, accepted, received) in lines {
            let at = clock - (now - sent);
            writeln!(
                out,
                "{}.{:09}\t{}\t{}",
                at.as_secs(),
                at.subsec_nanos(),
                accepted.as_micros(),
                received.as_micros()
            )?;
        }
        out.flush()?;
        Ok(())
    }
}

/// The time on CLOCK_MONOTONIC, the clock `Instant` reads on Linux.
fn monotonic() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    Duration::new(t.tv_sec.unsigned_abs(), t.tv_nsec.unsigned_abs() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_ordered_by_sending_on_the_monotonic_clock() {
        let ms = Duration::from_millis;
        // Sent in the past, as every traced message was.
        let start = Instant::now().checked_sub(ms(10)).expect("the clock is past 10 ms");
        let mut first = Trace::default();
        first.record(start + ms(2), start + ms(3), start + ms(5));
        let mut second = Trace::default();
        second.record(start, start + ms(1), start + ms(4));
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let clock_at_start = monotonic();

        Trace::write_all(file.path(), [first, second]).expect("written");

        let text = std::fs::read_to_string(file.path()).expect("read");
        let lines: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split('\t').collect()).collect();
        assert_eq!(
            lines.iter().map(|l| (l[1], l[2])).collect::<Vec<_>>(),
            [("1000", "4000"), ("1000", "3000")]
        );
        let sent: Vec<f64> = lines.iter().map(|l| l[0].parse().expect("seconds")).collect();
        // The same clock as `Instant`: within a few milliseconds of a reading taken beside it.
        assert!(
            (sent[0] - clock_at_start.as_secs_f64()).abs() < 0.5,
            "{sent:?} vs {clock_at_start:?}"
        );
        assert!((sent[1] - sent[0] - 0.002).abs() < 1e-6, "2 ms apart: {sent:?}");
    }
}
