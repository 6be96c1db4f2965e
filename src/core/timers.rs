//! The timers the core asks the driver to run, one slot per kind.

/// How many kinds of timer there are.
pub const TIMER_KINDS: usize = 7;

/// What a timer is for. Each kind has at most one pending timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The backoff wait before the next connection attempt.
    Retry,
    /// An attempt that has not opened by then is abandoned.
    ConnectTimeout,
    /// Time to send the next heartbeat ping.
    Heartbeat,
    /// A ping that is not answered by then means the link is dead.
    PongTimeout,
    /// A connection that stays up this long resets the attempt counter.
    MinUptime,
    /// A tracked message not acknowledged by then means the channel is dead.
    AckTimeout,
    /// Time to try the WebSocket again while on the HTTP fallback.
    UpgradeProbe,
}

impl TimerKind {
    /// Every kind, in slot order.
    pub const ALL: [TimerKind; TIMER_KINDS] = [
        TimerKind::Retry,
        TimerKind::ConnectTimeout,
        TimerKind::Heartbeat,
        TimerKind::PongTimeout,
        TimerKind::MinUptime,
        TimerKind::AckTimeout,
        TimerKind::UpgradeProbe,
    ];

    /// This kind's slot number, for drivers that keep timers in an array.
    pub fn slot(self) -> usize {
        self as usize
    }
}

/// When each armed timer is due; `None` for a free slot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimerTable {
    due: [Option<f64>; TIMER_KINDS],
}

impl TimerTable {
    /// Records that `kind` is due at `at_ms` (replacing any earlier one).
    pub fn arm(&mut self, kind: TimerKind, at_ms: f64) {
        self.due[kind.slot()] = Some(at_ms);
    }

    /// Forgets `kind`; returns whether it was armed.
    pub fn disarm(&mut self, kind: TimerKind) -> bool {
        self.due[kind.slot()].take().is_some()
    }

    /// When `kind` is due, if armed.
    pub fn due(&self, kind: TimerKind) -> Option<f64> {
        self.due[kind.slot()]
    }

    /// Whether no timer is armed.
    pub fn is_idle(&self) -> bool {
        self.due.iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_distinct_and_track_due_times() {
        let slots: Vec<usize> = TimerKind::ALL.iter().map(|k| k.slot()).collect();
        assert_eq!(slots, [0, 1, 2, 3, 4, 5, 6]);
        let mut table = TimerTable::default();
        table.arm(TimerKind::Retry, 5.0);
        assert_eq!(table.due(TimerKind::Retry), Some(5.0));
        assert!(!table.is_idle());
        assert!(table.disarm(TimerKind::Retry));
        assert!(!table.disarm(TimerKind::Retry));
        assert!(table.is_idle());
    }
}
