//! A per-connection message rate limit: a token bucket that holds two
//! seconds' worth, so a burst (a reconnect flushing its queue) passes and a
//! flood does not.

use std::time::Instant;

/// How many seconds of the rate one burst may use.
const BURST_SECONDS: f64 = 2.0;

/// Tokens refill at `rate` per second up to `2 × rate`; each message takes one.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    rate: f64,
    tokens: f64,
    refilled: Instant,
}

impl RateLimiter {
    /// `rate` messages per second; 0 lets everything through.
    pub fn new(rate: u32, now: Instant) -> Self {
        let rate = f64::from(rate);
        Self {
            rate,
            tokens: rate * BURST_SECONDS,
            refilled: now,
        }
    }

    /// Whether one more message may pass at `now`.
    pub fn allow(&mut self, now: Instant) -> bool {
        self.allow_many(1, now)
    }

    /// Whether `count` more messages (a POSTed batch) may pass at `now`;
    /// either all are counted or none.
    pub fn allow_many(&mut self, count: usize, now: Instant) -> bool {
        if self.rate == 0.0 {
            return true;
        }
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate * BURST_SECONDS);
        let count = count as f64;
        if self.tokens >= count {
            self.tokens -= count;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_of_two_seconds_passes_then_the_rate_holds() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(10, start);
        let burst = (0..100).take_while(|_| limiter.allow(start)).count();
        assert_eq!(burst, 20);
        assert!(!limiter.allow(start + Duration::from_millis(50)));
        assert!(
            limiter.allow(start + Duration::from_millis(110)),
            "one token after 0.1 s"
        );
        let later = start + Duration::from_secs(60);
        assert_eq!(
            (0..100).take_while(|_| limiter.allow(later)).count(),
            20,
            "never more than the burst"
        );
    }

    #[test]
    fn a_batch_passes_whole_or_not_at_all() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(10, start);
        assert!(limiter.allow_many(15, start));
        assert!(!limiter.allow_many(6, start), "5 left");
        assert!(limiter.allow_many(5, start));
        assert!(!limiter.allow(start));
    }

    #[test]
    fn zero_is_no_limit() {
        let now = Instant::now();
        let mut limiter = RateLimiter::new(0, now);
        assert!((0..10_000).all(|_| limiter.allow(now)));
    }
}
