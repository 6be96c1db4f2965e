//! Fault injection: the per-session and server-wide misbehaviour tests ask for.
//!
//! Everything is keyed by session id so concurrent tests cannot disturb each
//! other, except [`ServerDown`], which exists to simulate a restart.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest any fault may last (or delay): an hour. Durations come from
/// the query string, and `Instant + u64::MAX ms` would overflow.
pub const MAX_FAULT_DURATION: Duration = Duration::from_secs(3600);

/// An order for one live connection, sent through its command channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionCommand {
    /// Send this unnumbered text frame (an ack owed to a copy that waited).
    Send(String),
    /// Send this frame, numbered `seq` in the session's stream (a server
    /// push): in `seq` order with the connection's other numbered frames.
    Numbered(u64, String),
    /// Drop the TCP connection without a close frame (the client sees 1006).
    Drop,
    /// Send a close frame with this code and reason, then finish the handshake.
    Close {
        /// The close code to send.
        code: u16,
        /// The close reason to send.
        reason: String,
    },
}

impl crate::queue::Weighed for ConnectionCommand {
    fn bytes(&self) -> usize {
        match self {
            Self::Send(text) | Self::Numbered(_, text) => text.len(),
            Self::Drop | Self::Close { .. } => 0,
        }
    }
}

/// How the server answers pings for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PongPolicy {
    /// Answer at once.
    Immediate,
    /// Answer after this long.
    Delay(Duration),
    /// Never answer while the socket stays open: a half-open link.
    Mute,
}

/// A fault that is active from when it is opened until a deadline.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FaultWindow {
    until: Option<Instant>,
}

impl FaultWindow {
    /// Active for `duration` from `now` (zero ends it), at most [`MAX_FAULT_DURATION`].
    pub fn open_for(&mut self, duration: Duration, now: Instant) {
        self.until = now.checked_add(duration.min(MAX_FAULT_DURATION));
    }

    /// Whether the fault applies at `now`.
    pub fn is_open(&self, now: Instant) -> bool {
        self.until.is_some_and(|until| now < until)
    }
}

/// Faults configured for one session.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SessionFaults {
    /// Upgrades answered with HTTP 503.
    pub refuse_upgrades: FaultWindow,
    /// `POST /messages` answered with HTTP 503.
    pub fail_posts: FaultWindow,
    /// Sockets open in this window lose every frame, both ways, for the rest
    /// of their life, without closing: a dead network path that only a
    /// heartbeat (or an ack timeout) can notice.
    pub blackhole: FaultWindow,
    pong_delay: Duration,
    mute_pings: bool,
}

impl SessionFaults {
    /// Delay every pong by `delay` (zero turns it off), at most [`MAX_FAULT_DURATION`].
    pub fn set_pong_delay(&mut self, delay: Duration) {
        self.pong_delay = delay.min(MAX_FAULT_DURATION);
    }

    /// Stop (or resume) answering pings.
    pub fn set_mute_pings(&mut self, mute: bool) {
        self.mute_pings = mute;
    }

    /// How to answer the next ping.
    pub fn pong_policy(&self) -> PongPolicy {
        if self.mute_pings {
            PongPolicy::Mute
        } else if self.pong_delay.is_zero() {
            PongPolicy::Immediate
        } else {
            PongPolicy::Delay(self.pong_delay)
        }
    }
}

/// The server-wide "down for N ms" switch: every upgrade and HTTP request is
/// refused until then.
#[derive(Debug, Default)]
pub struct ServerDown {
    window: Mutex<FaultWindow>,
}

impl ServerDown {
    /// Go down for `duration` from `now`.
    pub fn down_for(&self, duration: Duration, now: Instant) {
        lock(&self.window).open_for(duration, now);
    }

    /// Whether the server counts as down at `now`.
    pub fn is_down(&self, now: Instant) -> bool {
        lock(&self.window).is_open(now)
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: every
/// critical section here leaves the data consistent, so poison carries no meaning.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_window_lasts_exactly_the_requested_time() {
        let start = Instant::now();
        let mut window = FaultWindow::default();
        assert!(!window.is_open(start));
        window.open_for(Duration::from_millis(100), start);
        assert!(window.is_open(start + Duration::from_millis(99)));
        assert!(!window.is_open(start + Duration::from_millis(100)));
        window.open_for(Duration::ZERO, start);
        assert!(!window.is_open(start));
    }

    #[test]
    fn durations_from_the_wire_are_capped_not_overflowed() {
        let now = Instant::now();
        let mut window = FaultWindow::default();
        window.open_for(Duration::from_millis(u64::MAX), now);
        assert!(window.is_open(now + MAX_FAULT_DURATION - Duration::from_millis(1)));
        assert!(!window.is_open(now + MAX_FAULT_DURATION));
        let mut faults = SessionFaults::default();
        faults.set_pong_delay(Duration::from_millis(u64::MAX));
        assert_eq!(faults.pong_policy(), PongPolicy::Delay(MAX_FAULT_DURATION));
    }

    #[test]
    fn mute_wins_over_delay() {
        let mut faults = SessionFaults::default();
        assert_eq!(faults.pong_policy(), PongPolicy::Immediate);
        faults.set_pong_delay(Duration::from_millis(300));
        assert_eq!(
            faults.pong_policy(),
            PongPolicy::Delay(Duration::from_millis(300))
        );
        faults.set_mute_pings(true);
        assert_eq!(faults.pong_policy(), PongPolicy::Mute);
        faults.set_mute_pings(false);
        faults.set_pong_delay(Duration::ZERO);
        assert_eq!(faults.pong_policy(), PongPolicy::Immediate);
    }

    #[test]
    fn server_down_expires() {
        let start = Instant::now();
        let down = ServerDown::default();
        down.down_for(Duration::from_millis(50), start);
        assert!(down.is_down(start));
        assert!(!down.is_down(start + Duration::from_millis(50)));
    }
}
