//! How long to wait before trying again: doubling from a first pause up to a cap, and back to
//! the first pause once things worked again.

use std::time::Duration;

/// Pauses between attempts: `first`, twice that, and so on, never more than `cap`.
#[derive(Clone, Debug)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    next: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, cap: Duration) -> Self {
        Self {
            first,
            cap,
            next: first,
        }
    }

    /// The pause before the next attempt; the one after it is twice as long, up to the cap.
    pub fn next_pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (pause * 2).min(self.cap);
        pause
    }

    /// The last attempt worked: a later failure starts again from the first pause.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap_and_start_over_after_a_reset() {
        let ms = Duration::from_millis;
        let mut backoff = Backoff::new(ms(100), ms(1000));
        let pauses: Vec<_> = (0..6).map(|_| backoff.next_pause()).collect();
        assert_eq!(pauses, [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]);
        backoff.reset();
        assert_eq!(backoff.next_pause(), ms(100));
        assert_eq!(backoff.next_pause(), ms(200));
    }
}
