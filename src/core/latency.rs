//! Round-trip statistics from heartbeat pings, measured on the client's clock.

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
}

impl LatencyStats {
    /// Adds one round-trip sample.
    pub fn record(&mut self, rtt_ms: f64) {
        let rtt = rtt_ms.max(0.0);
        let count = f64::from(self.samples);
        self.jitter = Some(match (self.last, self.jitter) {
            (Some(previous), Some(jitter)) => jitter + ((rtt - previous).abs() - jitter) / 16.0,
            _ => 0.0,
        });
        self.avg = Some(
            self.avg
                .map_or(rtt, |avg| avg + (rtt - avg) / (count + 1.0)),
        );
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
        // 0, then 0 + (20 - 0)/16 = 1.25, then 1.25 + (10 - 1.25)/16
        assert_eq!(stats.jitter, Some(1.25 + (10.0 - 1.25) / 16.0));
    }
}
