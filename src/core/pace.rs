//! Sending no faster than the server takes. A server that announces its
//! message rate in its `welcome` (protocol 1.2: `data.limits.messageRate`,
//! messages per second) closes a connection that goes over it with 1013;
//! the client paces its frames under the rate instead, so a reconnect that
//! flushes a long queue, or an app that sends in bursts, is spread out
//! rather than closed.
//!
//! A token bucket of one second's worth: a burst of `rate` frames passes at
//! once, then one frame per `1 / rate` s. A server that announces a rate
//! lets at least one second's worth through at once (PROTOCOL.md §7; the
//! reference server lets two), so the client stays under it even when the
//! network bunches its frames.

use super::time::{Duration, Instant};

/// The token bucket. Off (every frame passes) until a rate is announced.
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    /// Frames per second; 0 when no rate is known.
    rate: f64,
    /// Frames that may go now; below 0 after frames that may not wait (pings).
    tokens: f64,
    /// When `tokens` was last refilled.
    refilled: Instant,
}

impl Pacer {
    /// Adopts the rate a server announced at `now`; a rate that is not a
    /// positive number (nothing announced) turns pacing off. A first rate
    /// starts with a full bucket (the server's is full for a new
    /// connection). The same rate again, as each channel's `welcome` says it,
    /// changes nothing: the server counts a session's POSTs across requests,
    /// so a welcome must not refill the bucket. A changed rate keeps what is
    /// left, up to its own second's worth.
    pub fn announce(&mut self, rate: f64, now: Instant) {
        // 0 for NaN too. Under one a second is taken as one a second: no
        // announcement may hold the queue for longer than that per frame.
        let rate = if rate > 0.0 { rate.max(1.0) } else { 0.0 };
        if !self.is_on() {
            self.tokens = rate;
            self.refilled = now;
        } else {
            self.allowance(now);
        }
        self.rate = rate;
        self.tokens = self.tokens.min(rate);
    }

    /// Whether a rate is known (frames are paced).
    pub fn is_on(&self) -> bool {
        self.rate > 0.0
    }

    /// How many frames may go at `now`: every one when pacing is off.
    pub fn allowance(&mut self, now: Instant) -> usize {
        if !self.is_on() {
            return usize::MAX;
        }
        let earned = now.since(self.refilled).as_ms() * self.rate / 1000.0;
        self.tokens = (self.tokens + earned).min(self.rate);
        self.refilled = now;
        // Not negative, and a whole number of frames.
        self.tokens.max(0.0) as usize
    }

    /// `count` frames went, after [`Pacer::allowance`] at the same instant.
    pub fn spend(&mut self, count: usize) {
        self.tokens -= count as f64;
    }

    /// A frame goes at `now`, allowed or not (a ping does not wait): the
    /// frames after it wait the longer.
    pub fn charge(&mut self, now: Instant) {
        self.allowance(now);
        self.spend(1);
    }

    /// When the next frame may go, after [`Pacer::allowance`] said none
    /// may: at least a millisecond later, so the deadline is never the
    /// instant it was set at (the earned share of a token can round just
    /// under one, and a tiny wait can vanish in a large clock reading).
    pub fn next_at(&self) -> Instant {
        let missing = 1.0 - self.tokens;
        self.refilled + Duration::from_ms((missing * 1000.0 / self.rate).max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: f64) -> Instant {
        Instant::from_ms(ms)
    }

    #[test]
    fn off_until_a_rate_is_announced() {
        let mut pacer = Pacer::default();
        assert_eq!(pacer.allowance(at(0.0)), usize::MAX);
        pacer.announce(f64::NAN, at(0.0));
        assert_eq!(pacer.allowance(at(0.0)), usize::MAX);
        pacer.announce(-5.0, at(0.0));
        assert_eq!(pacer.allowance(at(0.0)), usize::MAX);
        pacer.announce(f64::INFINITY, at(0.0));
        assert_eq!(pacer.allowance(at(0.0)), usize::MAX, "no limit at all");
    }

    #[test]
    fn no_rate_holds_a_frame_for_more_than_a_second() {
        let mut pacer = Pacer::default();
        pacer.announce(1e-300, at(0.0));
        let allowance = pacer.allowance(at(0.0));
        assert_eq!(allowance, 1, "one a second");
        pacer.spend(allowance);
        assert_eq!(pacer.allowance(at(0.0)), 0);
        assert_eq!(pacer.next_at(), at(1000.0));
    }

    #[test]
    fn one_seconds_worth_at_once_then_the_rate() {
        let mut pacer = Pacer::default();
        pacer.announce(10.0, at(1000.0));
        assert_eq!(pacer.allowance(at(1000.0)), 10);
        pacer.spend(10);
        assert_eq!(pacer.allowance(at(1000.0)), 0);
        assert_eq!(pacer.next_at(), at(1100.0));
        assert_eq!(pacer.allowance(at(1099.0)), 0);
        assert_eq!(pacer.allowance(at(1100.0)), 1);
        assert_eq!(
            pacer.allowance(at(60_000.0)),
            10,
            "never more than a second's worth"
        );
    }

    #[test]
    fn the_next_frame_is_always_later() {
        let mut pacer = Pacer::default();
        let late = at(1e15);
        pacer.announce(5000.0, late);
        let allowance = pacer.allowance(late);
        pacer.spend(allowance);
        assert!(pacer.next_at() > late, "a 0.2 ms wait is lost at 1e15 ms");
        pacer.charge(late);
        assert!(pacer.next_at() > late);
    }

    #[test]
    fn frames_that_may_not_wait_are_paid_back() {
        let mut pacer = Pacer::default();
        pacer.announce(10.0, at(0.0));
        pacer.spend(10);
        pacer.charge(at(0.0));
        pacer.charge(at(0.0));
        assert_eq!(pacer.allowance(at(0.0)), 0);
        assert_eq!(pacer.next_at(), at(300.0), "two owed, then one earned");
        assert_eq!(pacer.allowance(at(250.0)), 0);
        assert_eq!(pacer.allowance(at(300.0)), 1);
    }

    #[test]
    fn a_welcome_per_channel_does_not_refill_the_bucket() {
        let mut pacer = Pacer::default();
        pacer.announce(10.0, at(0.0));
        pacer.spend(10);
        pacer.announce(10.0, at(50.0));
        assert_eq!(pacer.allowance(at(50.0)), 0);
        pacer.announce(4.0, at(1000.0));
        assert_eq!(
            pacer.allowance(at(1000.0)),
            4,
            "a lower rate's second's worth"
        );
        pacer.spend(4);
        pacer.announce(100.0, at(1000.0));
        assert_eq!(
            pacer.allowance(at(1000.0)),
            0,
            "a higher rate adds nothing at once"
        );
        assert_eq!(pacer.allowance(at(1010.0)), 1);
    }
}
