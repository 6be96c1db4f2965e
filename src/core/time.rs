//! Points in time and spans of time, in milliseconds, as distinct types.
//!
//! The core never reads a clock: every input arrives with the driver's `now`
//! (`performance.now()` in a browser, a simulated clock in tests). An
//! [`Instant`] is a point on that clock and a [`Duration`] a span, so a
//! deadline cannot be passed where a delay is expected, or the other way round.

use ::core::ops::{Add, Sub};

/// A point on the driver's monotonic clock, in milliseconds since its origin.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Instant(f64);

/// A span of time in milliseconds; never negative.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Duration(f64);

impl Instant {
    /// The clock's origin.
    pub const ZERO: Instant = Instant(0.0);

    /// The instant `ms` milliseconds after the clock's origin.
    pub const fn from_ms(ms: f64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the clock's origin.
    pub const fn as_ms(self) -> f64 {
        self.0
    }

    /// How long after `earlier` this is (zero if it is not after it).
    pub fn since(self, earlier: Instant) -> Duration {
        Duration::from_ms(self.0 - earlier.0)
    }

    /// The later of two instants.
    pub fn max(self, other: Instant) -> Instant {
        if other.0 > self.0 {
            other
        } else {
            self
        }
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0.0);

    /// A span of `ms` milliseconds (negative and NaN spans become zero).
    pub const fn from_ms(ms: f64) -> Self {
        // `f64::max` is not const; NaN fails the comparison and becomes zero.
        if ms > 0.0 {
            Self(ms)
        } else {
            Self(0.0)
        }
    }

    /// The span in milliseconds.
    pub const fn as_ms(self) -> f64 {
        self.0
    }

    /// Whether the span is zero (an option's "off" value).
    pub fn is_zero(self) -> bool {
        self.0 == 0.0
    }

    /// `Some(self)` unless it is zero: for options where 0 means "no limit".
    pub fn non_zero(self) -> Option<Duration> {
        (!self.is_zero()).then_some(self)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, span: Duration) -> Instant {
        Instant(self.0 + span.0)
    }
}

impl Add for Duration {
    type Output = Duration;

    fn add(self, other: Duration) -> Duration {
        Duration(self.0 + other.0)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, earlier: Instant) -> Duration {
        self.since(earlier)
    }
}

/// The earliest of two optional deadlines.
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Whether `deadline` is set and has been reached at `now`.
pub fn is_due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|due| due.0 <= now.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_durations_combine_only_the_right_way() {
        let start = Instant::from_ms(100.0);
        let later = start + Duration::from_ms(50.0);
        assert_eq!(later.as_ms(), 150.0);
        assert_eq!((later - start).as_ms(), 50.0);
        assert_eq!((start - later), Duration::ZERO, "spans never go negative");
        assert_eq!(Duration::from_ms(f64::NAN), Duration::ZERO);
        assert_eq!(Duration::ZERO.non_zero(), None);
    }

    #[test]
    fn the_earliest_deadline_wins_and_due_means_reached() {
        let (a, b) = (Instant::from_ms(5.0), Instant::from_ms(3.0));
        assert_eq!(earliest(Some(a), Some(b)), Some(b));
        assert_eq!(earliest(None, Some(a)), Some(a));
        assert_eq!(earliest(None, None), None);
        assert!(is_due(Some(b), a));
        assert!(is_due(Some(a), a));
        assert!(!is_due(Some(a), b));
        assert!(!is_due(None, a));
    }
}
