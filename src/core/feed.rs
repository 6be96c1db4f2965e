//! The HTTP fallback's way down: the event stream, or long-polling once the
//! event stream has shown it cannot get through (PROTOCOL.md §6.2).
//!
//! Some proxies hold a streamed response back (nginx buffers one unless the
//! upstream says `X-Accel-Buffering: no`), and then the event stream
//! delivers nothing, not even its headers. An event stream that has not
//! opened within [`Feed::proof_bound`] is given up, and the same URL is
//! long-polled instead for the rest of the transport's life: every poll
//! answer is a complete response, which any proxy passes. The upstream
//! (POSTs) never waits for any of this.

use super::time::{earliest, Duration, Instant};

/// The longest an event stream may take to open before it is taken for
/// held back by a proxy.
pub const STREAM_PROOF: Duration = Duration::from_ms(3000.0);

/// How long a poll asks the server to hold it when nothing is waiting
/// (servers may shorten it: the reference server holds at most 25 s).
pub const POLL_WAIT: Duration = Duration::from_ms(20_000.0);

/// [`POLL_WAIT`] as the poll's URL says it (a test holds the two equal).
pub const POLL_WAIT_MS: &str = "20000";

/// The query parameter that makes a request of the events URL a long-poll,
/// its value the wait in ms.
pub const POLL_QUERY_PARAM: &str = "poll";

/// Which way down the fallback uses, and its deadlines.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    /// The event stream did not open in time once: poll from now on.
    polling: bool,
    /// An event stream that has not opened is given up for polling at this time.
    proof_at: Option<Instant>,
    /// The poll in flight is abandoned at this time (none: no poll in flight).
    poll_deadline: Option<Instant>,
}

impl Feed {
    /// Whether the fallback long-polls.
    pub fn is_polling(&self) -> bool {
        self.polling
    }

    /// How long an event stream may take to open: half the connect
    /// timeout, so the first poll still has time to show the server is
    /// there, or [`STREAM_PROOF`] without one.
    pub fn proof_bound(connect_timeout: Duration) -> Duration {
        connect_timeout.non_zero().map_or(STREAM_PROOF, |timeout| {
            Duration::from_ms(timeout.as_ms() / 2.0)
        })
    }

    /// An event stream was asked for at `now`: it must open by `now + bound`.
    pub fn stream_requested(&mut self, now: Instant, bound: Duration) {
        self.proof_at = Some(now + bound);
    }

    /// The event stream opened: whether it is the first time on this
    /// connection (the only open that counts).
    pub fn stream_opened(&mut self) -> bool {
        !self.polling && self.proof_at.take().is_some()
    }

    /// The event stream did not open in time: poll from now on.
    pub fn give_up_stream(&mut self) {
        self.proof_at = None;
        self.polling = true;
    }

    /// A poll that waits `wait` went out at `now`, to be answered within
    /// `wait + limit`.
    pub fn poll_sent(&mut self, now: Instant, wait: Duration, limit: Duration) {
        self.poll_deadline = Some(now + wait + limit);
    }

    /// The poll in flight was answered (or failed): whether there was one,
    /// so late answers of an abandoned poll are ignored.
    pub fn poll_ended(&mut self) -> bool {
        self.poll_deadline.take().is_some()
    }

    /// The connection ended: its deadlines go (the choice to poll stays).
    pub fn stop(&mut self) {
        self.proof_at = None;
        self.poll_deadline = None;
    }

    /// The event stream's deadline to open, while it has one.
    pub fn proof_at(&self) -> Option<Instant> {
        self.proof_at
    }

    /// The poll in flight's deadline, while one is in flight.
    pub fn poll_deadline(&self) -> Option<Instant> {
        self.poll_deadline
    }

    /// The earliest of the two.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(self.proof_at, self.poll_deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_spelled_as_it_is() {
        assert_eq!(POLL_WAIT_MS.parse::<f64>().ok(), Some(POLL_WAIT.as_ms()));
    }

    #[test]
    fn the_proof_bound_leaves_the_first_poll_half_the_connect_timeout() {
        let bound = |ms| Feed::proof_bound(Duration::from_ms(ms)).as_ms();
        assert_eq!(bound(0.0), 3000.0, "no connect timeout");
        assert_eq!(bound(5000.0), 2500.0);
    }

    #[test]
    fn a_stream_given_up_stays_given_up_and_a_poll_ends_once() {
        let mut feed = Feed::default();
        feed.stream_requested(Instant::from_ms(0.0), STREAM_PROOF);
        feed.give_up_stream();
        assert!(feed.is_polling() && feed.proof_at().is_none());
        let limit = Duration::from_ms(100.0);
        feed.poll_sent(Instant::from_ms(20.0), POLL_WAIT, limit);
        assert!(
            !feed.stream_opened(),
            "a late open of the stream does not count"
        );
        assert_eq!(
            feed.poll_deadline(),
            Some(Instant::from_ms(20.0) + POLL_WAIT + limit)
        );
        assert!(feed.poll_ended());
        assert!(!feed.poll_ended(), "only once");
        feed.stop();
        assert_eq!(feed.poll_timeout(), None);
        assert!(feed.is_polling(), "the choice outlives the connection");
    }
}
