//! Attempt budgets, counted when an attempt starts (so parallel attempts cannot all slip in
//! before the first one fails), keyed by bounded strings (inputs are length-checked first).
//!
//! - [`Window`]: at most `max` attempts per key in a fixed window (sign-in failures per client
//!   address, sign-ups per client address). A successful sign-in gives its attempt back.
//! - [`Backoff`]: a progressive delay per key (an account from one address): the first `free`
//!   failures cost nothing, then each further attempt waits 1 s, 2 s, 4 s… (at most `max_delay`)
//!   after the previous one. A success clears it. Keyed by account *and* address, so nobody can
//!   lock someone else out of their account.

use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Most keys each budget remembers; beyond, the least recently used are forgotten.
const MAX_KEYS: u64 = 100_000;
/// First delay of a [`Backoff`] once its free failures are used.
const FIRST_DELAY: Duration = Duration::from_secs(1);

/// The key of a client address: IPv6 clients by their /64 (one subscriber's whole network),
/// others by their address.
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        v4 => v4.to_string(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().expect("limiter lock poisoned")
}

/// At most `max` attempts per key in each window.
pub struct Window {
    max: u32,
    window: Duration,
    /// key → (attempts, start of the window).
    counts: Cache<String, Arc<Mutex<(u32, Instant)>>>,
}

/// An attempt counted by a [`Window`]; [`Attempt::give_back`] uncounts it.
pub struct Attempt {
    entry: Arc<Mutex<(u32, Instant)>>,
    started: Instant,
}

impl Attempt {
    pub fn give_back(self) {
        let mut entry = lock(&self.entry);
        if entry.1 == self.started {
            entry.0 = entry.0.saturating_sub(1);
        }
    }
}

impl Window {
    pub fn new(max: u32, window: Duration) -> Self {
        let counts = Cache::builder().max_capacity(MAX_KEYS).time_to_live(window).build();
        Self { max, window, counts }
    }

    /// Counts an attempt, or `Err(retry_after)` when the key's budget is used up.
    pub fn attempt(&self, key: &str) -> Result<Attempt, Duration> {
        let entry = self
            .counts
            .get_with_by_ref(key, || Arc::new(Mutex::new((0, Instant::now()))));
        let mut counted = lock(&entry);
        if counted.1.elapsed() >= self.window {
            *counted = (0, Instant::now());
        }
        if counted.0 >= self.max {
            return Err(self.window.saturating_sub(counted.1.elapsed()));
        }
        counted.0 += 1;
        let started = counted.1;
        drop(counted);
        Ok(Attempt { entry, started })
    }
}

/// A progressive delay per key.
pub struct Backoff {
    free: u32,
    max_delay: Duration,
    /// key → (failures, when the last attempt started).
    failures: Cache<String, Arc<Mutex<(u32, Instant)>>>,
}

/// An attempt counted by a [`Backoff`] as a failure until it succeeds or is given back.
pub struct Try {
    entry: Arc<Mutex<(u32, Instant)>>,
}

impl Try {
    /// The attempt did not happen after all (the server was too busy to judge it).
    pub fn give_back(self) {
        let mut entry = lock(&self.entry);
        entry.0 = entry.0.saturating_sub(1);
    }

    /// The right password: the slate is clean.
    pub fn succeeded(self) {
        *lock(&self.entry) = (0, Instant::now());
    }
}

impl Backoff {
    pub fn new(free: u32, max_delay: Duration) -> Self {
        let failures = Cache::builder()
            .max_capacity(MAX_KEYS)
            .time_to_idle(max_delay.max(FIRST_DELAY))
            .build();
        Self {
            free,
            max_delay,
            failures,
        }
    }

    fn delay_after(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(31);
        FIRST_DELAY.saturating_mul(1 << doublings).min(self.max_delay)
    }

    /// Counts an attempt as a failure (until it succeeds), or `Err(retry_after)` while the key
    /// must still wait.
    pub fn attempt(&self, key: &str) -> Result<Try, Duration> {
        let entry = self
            .failures
            .get_with_by_ref(key, || Arc::new(Mutex::new((0, Instant::now()))));
        let mut state = lock(&entry);
        let wait = self.delay_after(state.0).saturating_sub(state.1.elapsed());
        if !wait.is_zero() {
            return Err(wait);
        }
        *state = (state.0 + 1, Instant::now());
        drop(state);
        Ok(Try { entry })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_attempts_as_they_start_and_takes_back_given_ones() {
        let window = Window::new(2, Duration::from_secs(60));
        let first = window.attempt("k").expect("first");
        let _second = window.attempt("k").expect("second");
        // Both still in flight: a third is refused before anything is known of them.
        let retry = window.attempt("k").err().expect("third refused");
        assert!(retry <= Duration::from_secs(60) && retry > Duration::from_secs(50));
        assert!(window.attempt("other").is_ok());
        first.give_back();
        assert!(window.attempt("k").is_ok());
        assert!(window.attempt("k").is_err());
    }

    #[test]
    fn a_new_window_starts_afresh() {
        let window = Window::new(1, Duration::from_millis(20));
        let _ = window.attempt("k").expect("first");
        assert!(window.attempt("k").is_err());
        std::thread::sleep(Duration::from_millis(25));
        assert!(window.attempt("k").is_ok());
    }

    #[test]
    fn backoff_allows_the_free_failures_then_doubles_the_wait() {
        let backoff = Backoff::new(3, Duration::from_secs(900));
        for _ in 0..3 {
            backoff.attempt("k").expect("free");
        }
        let wait = backoff.attempt("k").err().expect("must wait");
        assert!(wait > Duration::from_millis(900) && wait <= FIRST_DELAY, "{wait:?}");
        assert_eq!(backoff.delay_after(4), Duration::from_secs(2));
        assert_eq!(backoff.delay_after(5), Duration::from_secs(4));
        assert_eq!(backoff.delay_after(40), Duration::from_secs(900));
        // Another key (the same account from another address) is untouched.
        assert!(backoff.attempt("k2").is_ok());
    }

    #[test]
    fn a_success_clears_the_backoff_and_a_given_back_try_does_not_count() {
        let backoff = Backoff::new(1, Duration::from_secs(900));
        backoff.attempt("k").expect("free").give_back();
        backoff.attempt("k").expect("still free").succeeded();
        backoff.attempt("k").expect("clean slate");
        assert!(backoff.attempt("k").is_err());
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap_or(IpAddr::from([0; 4])));
        let b = address_key("2001:db8:1:2:bbbb::9".parse().unwrap_or(IpAddr::from([0; 4])));
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(address_key(IpAddr::from([203, 0, 113, 7])), "203.0.113.7");
        let mapped = address_key("::ffff:203.0.113.7".parse().unwrap_or(IpAddr::from([0; 4])));
        assert_eq!(mapped, "203.0.113.7");
    }
}
