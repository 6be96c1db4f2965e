//! How long to wait before reconnect attempt `n`.
//!
//! `ceiling(n) = min(max, initial · factor^(n−1))`, and the delay is drawn per
//! attempt from `[ceiling · (1 − jitter), ceiling]`: `jitter = 1` is full jitter
//! (uniform in `[0, ceiling]`), `0.5` is "equal jitter", `0` is none. Drawing per
//! attempt (not once per page) is what keeps a crowd of clients from retrying in
//! lockstep after a server restart.

/// The longest `Retry-After` honoured: a proxy's "come back tomorrow" must
/// not park a chat for a day.
pub const MAX_RETRY_AFTER_MS: f64 = 600_000.0;

/// A `Retry-After` header's delay in ms: whole seconds (RFC 9110 §10.2.3),
/// at most [`MAX_RETRY_AFTER_MS`]; 0 for anything else (absent, or an HTTP
/// date, which would need the wall clock).
pub fn retry_after_ms(header: &str) -> f64 {
    // Trimmed by hand: `str::trim_matches` costs 400 bytes of wasm.
    let mut digits = header.as_bytes();
    while let [b' ', rest @ ..] = digits {
        digits = rest;
    }
    while let [rest @ .., b' '] = digits {
        digits = rest;
    }
    seconds_ms(digits)
}

/// The wait a 1013 close (try again later) asks for at the end of its
/// reason, `… retry after N s` (PROTOCOL.md §7: a close frame has no
/// headers), read as [`retry_after_ms`] reads `N`; 0 when it asks for
/// none. (Over the bytes from the end, without slicing: `str`'s substring
/// search costs kilobytes of wasm, and slicing a panic path.)
pub fn close_retry_after_ms(reason: &str) -> f64 {
    const HINT: &[u8] = b"retry after ";
    let [number @ .., b' ', b's'] = reason.as_bytes() else {
        return 0.0;
    };
    let mut head = number;
    while let [before @ .., b'0'..=b'9'] = head {
        head = before;
    }
    let hinted = head.len() >= HINT.len()
        && HINT
            .iter()
            .rev()
            .zip(head.iter().rev())
            .all(|(a, b)| a == b);
    match number.get(head.len()..) {
        Some(digits) if hinted => seconds_ms(digits),
        _ => 0.0,
    }
}

/// `digits`, 1 to 9 ASCII digits, as seconds in ms, at most
/// [`MAX_RETRY_AFTER_MS`]; 0 for anything else.
fn seconds_ms(digits: &[u8]) -> f64 {
    if digits.is_empty() || digits.len() > 9 {
        return 0.0;
    }
    let mut seconds = 0.0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return 0.0;
        }
        seconds = seconds * 10.0 + f64::from(digit - b'0');
    }
    (seconds * 1000.0).min(MAX_RETRY_AFTER_MS)
}

/// The reconnect delay policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay ceiling of the first attempt, in ms.
    pub initial_ms: f64,
    /// Upper bound of any delay, in ms.
    pub max_ms: f64,
    /// Growth per attempt (≥ 1).
    pub factor: f64,
    /// Share of the ceiling that is randomised, in `[0, 1]`.
    pub jitter: f64,
}

impl Backoff {
    /// The un-jittered delay for attempt `attempt` (1-based).
    pub fn ceiling(&self, attempt: u32) -> f64 {
        if self.initial_ms <= 0.0 {
            return 0.0;
        }
        // Multiplied out rather than `powi` (std-only; the package is no_std).
        // Stops once past the cap, so a huge attempt number costs nothing.
        let mut delay = self.initial_ms;
        for _ in 1..attempt {
            if delay >= self.max_ms {
                break;
            }
            delay *= self.factor;
        }
        delay.min(self.max_ms)
    }

    /// The delay for attempt `attempt` given a uniform draw `unit` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, unit: f64) -> f64 {
        let ceiling = self.ceiling(attempt);
        // max/min rather than clamp: clamp's NaN assertion formats floats, which
        // would link ~17 KB of float printing into the wasm build.
        #[allow(clippy::manual_clamp)]
        (ceiling * (1.0 - self.jitter * unit))
            .max(0.0)
            .min(self.max_ms)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn retry_after_takes_whole_seconds_within_the_bound() {
        assert_eq!(super::retry_after_ms("3"), 3000.0);
        assert_eq!(super::retry_after_ms(" 120 "), 120_000.0);
        assert_eq!(super::retry_after_ms("86400"), super::MAX_RETRY_AFTER_MS);
        for not_seconds in [
            "",
            "1.5",
            "-1",
            "Wed, 21 Oct 2026 07:28:00 GMT",
            "9999999999",
        ] {
            assert_eq!(super::retry_after_ms(not_seconds), 0.0, "{not_seconds:?}");
        }
    }

    #[test]
    fn a_close_reason_may_end_asking_for_a_wait() {
        assert_eq!(
            super::close_retry_after_ms("the server is full; retry after 5 s"),
            5000.0
        );
        assert_eq!(
            super::close_retry_after_ms("retry after 9999 s"),
            super::MAX_RETRY_AFTER_MS
        );
        assert_eq!(super::close_retry_after_ms("retry after 1234567890 s"), 0.0);
        for no_hint in [
            "",
            "message rate limit",
            "retry after 5",
            "retry after s s",
            "retry after -1 s",
            "retry after 5 s, or not",
        ] {
            assert_eq!(super::close_retry_after_ms(no_hint), 0.0, "{no_hint:?}");
        }
    }

    use super::Backoff;

    const SEEDS: Backoff = Backoff {
        initial_ms: 1000.0,
        max_ms: 30_000.0,
        factor: 2.0,
        jitter: 0.0,
    };

    #[test]
    fn grows_geometrically_up_to_the_maximum() {
        let delays: Vec<f64> = (1..=7).map(|n| SEEDS.delay(n, 0.9)).collect();
        assert_eq!(
            delays,
            [1000.0, 2000.0, 4000.0, 8000.0, 16_000.0, 30_000.0, 30_000.0]
        );
        assert_eq!(SEEDS.delay(u32::MAX, 0.5), 30_000.0);
    }

    #[test]
    fn jitter_draws_below_the_ceiling() {
        let full = Backoff {
            jitter: 1.0,
            ..SEEDS
        };
        assert_eq!(full.delay(3, 0.0), 4000.0);
        assert_eq!(full.delay(3, 0.25), 3000.0);
        let equal = Backoff {
            jitter: 0.5,
            ..SEEDS
        };
        assert_eq!(equal.delay(1, 0.75), 625.0);
        assert_eq!(equal.delay(1, 0.0), 1000.0);
    }

    #[test]
    fn zero_initial_delay_means_retry_at_once() {
        let none = Backoff {
            initial_ms: 0.0,
            factor: 1e300,
            ..SEEDS
        };
        assert_eq!(none.delay(1000, 0.5), 0.0);
    }
}
