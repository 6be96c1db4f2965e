//! Round-trip statistics from heartbeat pings, measured on the client's clock.
//!
//! Every figure is rounded to 0.1 ms: browsers' clocks are coarser than that
//! (Firefox moves in 20 µs steps, and both add jitter), so more digits would
//! only show noise (`1.2000000001862645`).

/// Latency figures in milliseconds; `None` until the first sample.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LatencyStats {
    /// The most recent round trip.
    pub last: Option<f64>,
    /// Mean of all samples.
    pub avg: Option<f64>,
    /// Smallest sample.
    pub min: Option<f64>,
    /// Largest sample.
    pub max: Option<f64>,
    /// Smoothed variation between consecutive samples (RFC 3550 §6.4.1).
    pub jitter: Option<f64>,
    /// How many samples were taken.
    pub samples: u32,
    /// The exact running mean and jitter behind the rounded figures.
    exact_avg: f64,
    exact_jitter: f64,
}

/// `ms` rounded to the nearest 0.1 (half up), without std's `round`.
fn tenths(ms: f64) -> f64 {
    // Saturating cast: an absurd figure stays huge rather than wrapping.
    ((ms.max(0.0) * 10.0 + 0.5) as u64) as f64 / 10.0
}

impl LatencyStats {
    /// Adds one round-trip sample.
    pub fn record(&mut self, rtt_ms: f64) {
        let rtt = tenths(rtt_ms);
        let count = f64::from(self.samples);
        self.exact_jitter = match self.last {
            Some(previous) => {
                self.exact_jitter + ((rtt - previous).abs() - self.exact_jitter) / 16.0
            }
            None => 0.0,
        };
        self.exact_avg += (rtt - self.exact_avg) / (count + 1.0);
        self.jitter = Some(tenths(self.exact_jitter));
        self.avg = Some(tenths(self.exact_avg));
        self.min = Some(self.min.map_or(rtt, |min| min.min(rtt)));
        self.max = Some(self.max.map_or(rtt, |max| max.max(rtt)));
        self.last = Some(rtt);
        self.samples = self.samples.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::LatencyStats;

    #[test]
    fn tracks_last_mean_extremes_and_jitter() {
        let mut stats = LatencyStats::default();
        assert_eq!(stats.last, None);
        for rtt in [10.0, 30.0, 20.0] {
            stats.record(rtt);
        }
        assert_eq!(stats.last, Some(20.0));
        assert_eq!(stats.avg, Some(20.0));
        assert_eq!(stats.min, Some(10.0));
        assert_eq!(stats.max, Some(30.0));
        assert_eq!(stats.samples, 3);
        // 0, then 0 + (20 - 0)/16 = 1.25, then 1.25 + (10 - 1.25)/16 = 1.8
        assert_eq!(stats.jitter, Some(1.8));
    }

    #[test]
    fn figures_are_rounded_to_a_tenth_of_a_millisecond() {
        let mut stats = LatencyStats::default();
        stats.record(1.2000000001862645);
        stats.record(1.44);
        assert_eq!(stats.last, Some(1.4));
        assert_eq!(stats.min, Some(1.2));
        assert_eq!(stats.avg, Some(1.3));
        stats.record(-3.0);
        assert_eq!(
            stats.min,
            Some(0.0),
            "a clock step back is no negative trip"
        );
    }
}
