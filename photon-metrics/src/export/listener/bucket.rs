//! A token bucket: the one shape of every rate the listener keeps (a
//! peer's connections, all strangers' connections, a peer's TLS
//! handshakes, a peer's failed passwords).

use std::time::Instant;

/// How fast something may happen: sustained, and at once after a quiet
/// time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rate {
    /// Times a second, sustained.
    pub per_second: f64,
    /// Times at once after a quiet time.
    pub burst: f64,
}

/// What is left of a [`Rate`] now.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    /// A bucket with its whole burst.
    pub(super) fn full(rate: Rate, now: Instant) -> Self {
        Bucket {
            tokens: rate.burst,
            refilled: now,
        }
    }

    /// Adds what was earned since the last refill; returns the tokens.
    pub(super) fn refill(&mut self, now: Instant, rate: Rate) -> f64 {
        let earned = now.duration_since(self.refilled).as_secs_f64() * rate.per_second;
        self.tokens = (self.tokens + earned).min(rate.burst);
        self.refilled = now;
        self.tokens
    }

    /// Takes one token (after [`refill`](Self::refill) said there is one).
    pub(super) fn spend(&mut self) {
        self.tokens -= 1.0;
    }

    /// Gives one token back, up to the burst.
    #[cfg_attr(not(feature = "web-config"), allow(dead_code))]
    pub(super) fn give_back(&mut self, rate: Rate) {
        self.tokens = (self.tokens + 1.0).min(rate.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let rate = Rate {
            per_second: 10.0,
            burst: 2.0,
        };
        let start = Instant::now();
        let mut b = Bucket::full(rate, start);
        b.spend();
        b.spend();
        assert_eq!(b.refill(start, rate), 0.0);
        assert!((b.refill(start + Duration::from_millis(100), rate) - 1.0).abs() < 1e-9);
        assert_eq!(b.refill(start + Duration::from_secs(10), rate), 2.0);
        b.give_back(rate);
        assert_eq!(b.refill(start + Duration::from_secs(10), rate), 2.0);
    }
}
