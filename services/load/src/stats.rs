//! Latency histograms (HdrHistogram, microsecond resolution) and the percentiles reported.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Latencies recorded in microseconds, from 1 µs to 10 minutes, three significant digits.
#[derive(Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, 600_000_000, 3).expect("static histogram bounds are valid"))
    }
}

impl Latencies {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.max(1));
    }

    pub fn add(&mut self, other: &Latencies) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let ms = |micros: u64| micros as f64 / 1000.0;
        Summary {
            count: self.0.len(),
            mean_ms: self.0.mean() / 1000.0,
            p50_ms: ms(self.0.value_at_quantile(0.50)),
            p90_ms: ms(self.0.value_at_quantile(0.90)),
            p99_ms: ms(self.0.value_at_quantile(0.99)),
            max_ms: ms(self.0.max()),
        }
    }
}

/// Percentiles of a set of latencies, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// `p50 / p90 / p99 / max` with a unit that suits the values (µs below 1 ms, s above 10 s).
    pub fn percentiles(&self) -> String {
        format!(
            "{} / {} / {} / {}",
            duration(self.p50_ms),
            duration(self.p90_ms),
            duration(self.p99_ms),
            duration(self.max_ms)
        )
    }
}

/// A duration given in milliseconds, written with three significant digits and a fitting unit.
pub fn duration(ms: f64) -> String {
    if ms < 1.0 {
        format!("{} µs", significant(ms * 1000.0))
    } else if ms < 10_000.0 {
        format!("{} ms", significant(ms))
    } else {
        format!("{} s", significant(ms / 1000.0))
    }
}

/// Three significant digits, at most three decimals, no trailing exponent.
pub fn significant(value: f64) -> String {
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else if value >= 1.0 {
        2
    } else {
        3
    };
    format!("{value:.decimals$}")
}

/// A count per second with thousands separators (`12,345/s`).
pub fn rate(per_second: f64) -> String {
    format!("{}/s", thousands(per_second.round() as u64))
}

pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_recorded_values() {
        let mut l = Latencies::default();
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        assert!((s.p50_ms - 50.0).abs() < 0.1, "{s:?}");
        assert!((s.p99_ms - 99.0).abs() < 0.1, "{s:?}");
        assert!((s.max_ms - 100.0).abs() < 0.1, "{s:?}");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(0.0423), "42.3 µs");
        assert_eq!(duration(0.92), "920 µs");
        assert_eq!(duration(2.8), "2.80 ms");
        assert_eq!(duration(43.0), "43.0 ms");
        assert_eq!(duration(1700.0), "1700 ms");
        assert_eq!(duration(31_000.0), "31.0 s");
    }

    #[test]
    fn rates_have_thousands_separators() {
        assert_eq!(rate(2385.4), "2,385/s");
        assert_eq!(rate(60000.0), "60,000/s");
        assert_eq!(rate(999.0), "999/s");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
