//! Counts failed sign-ins per key (a client address or an account) in a fixed window; at the
//! limit, further attempts are refused until the window ends. Only failures count, so a user
//! who types the right password is never slowed by their own successes.

use moka::sync::Cache;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    max: u32,
    window: Duration,
    /// key → (failures, start of the window); entries vanish once their window is over.
    failures: Cache<String, Arc<Mutex<(u32, Instant)>>>,
}

impl FailureLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        let failures = Cache::builder().max_capacity(100_000).time_to_live(window).build();
        Self { max, window, failures }
    }

    /// `Err(retry_after)` when `key` has used up its failures.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let Some(entry) = self.failures.get(key) else {
            return Ok(());
        };
        let (count, started) = *entry.lock().expect("limiter lock poisoned");
        let elapsed = started.elapsed();
        if count >= self.max && elapsed < self.window {
            return Err(self.window - elapsed);
        }
        Ok(())
    }

    pub fn record_failure(&self, key: &str) {
        let entry = self
            .failures
            .get_with(key.to_owned(), || Arc::new(Mutex::new((0, Instant::now()))));
        let mut entry = entry.lock().expect("limiter lock poisoned");
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn clear(&self, key: &str) {
        self.failures.invalidate(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_max_failures_and_clears_on_success() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(60));
        limiter.record_failure("k");
        assert!(limiter.check("k").is_ok());
        limiter.record_failure("k");
        let retry = limiter.check("k").unwrap_err();
        assert!(retry <= Duration::from_secs(60) && retry > Duration::from_secs(50));
        assert!(limiter.check("other").is_ok());
        limiter.clear("k");
        assert!(limiter.check("k").is_ok());
    }
}
