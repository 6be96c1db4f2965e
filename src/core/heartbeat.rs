//! The heartbeat: pings on a WebSocket, round-trip statistics from the pongs,
//! and the rule that decides when a link is dead.
//!
//! **Silence kills a link, not a missing pong.** Most servers users already
//! run answer no `{"type":"ping"}` (DESIGN.md §8), so:
//! - any frame received after a ping proves the link alive; latency still
//!   comes only from answers (a pong, or our own ping echoed back);
//! - once the server has answered a ping, a ping followed by `timeout` of
//!   silence means the link is dead (dead-link detection within
//!   `interval + timeout`);
//! - while it never has, only `interval + timeout` without any frame counts as
//!   dead, and only once in the transport's life: after one connection was
//!   closed that way, a server that still answers nothing is taken for one that
//!   is simply quiet. The transport then stops checking that connection and
//!   says so in one `error` event, instead of reconnecting every 40 s forever.
//!
//! The first ping goes out as soon as a connection opens, so `latencyMs` is
//! known within one round trip.

use super::latency::LatencyStats;
use super::options::HeartbeatConfig;
use super::time::{earliest, is_due, Duration, Instant};

/// A deadline reached this much later than it was due means the tab was
/// throttled or frozen: its silence says nothing about the link, so the
/// heartbeat pings again before it judges.
pub const LATE_TIMER: Duration = Duration::from_ms(1000.0);

/// What the heartbeat has learnt about the server over the transport's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    /// It has not answered a ping yet.
    Unknown,
    /// It has answered at least one ping: a missing answer means a dead link.
    Answers,
    /// One connection was already closed because it answered nothing: it is
    /// taken for a server that does not speak the heartbeat.
    Never,
}

/// Why the heartbeat gave up on a link, or stopped checking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silence {
    /// A server that answers pings left one unanswered, with nothing else
    /// heard since it was sent: the link is dead.
    Unanswered,
    /// A server that never answered a ping sent nothing for `interval +
    /// timeout`: closed once, in case the link is dead.
    NeverAnswered,
    /// The same again on a later connection: the link is kept and no longer
    /// checked.
    StoppedChecking,
}

/// What the heartbeat wants done when its deadline is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Nothing (a deadline that moved, or a check that found the link alive).
    Nothing,
    /// Send ping number `n`.
    Ping(u64),
    /// Close the link (`Unanswered`, `NeverAnswered`) or report that it is no
    /// longer checked (`StoppedChecking`).
    Silent(Silence),
}

/// The ping waiting for its answer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ping {
    number: u64,
    sent_at: Instant,
}

/// Heartbeat state for the transport's WebSocket connections.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    config: Option<HeartbeatConfig>,
    /// Whether a connection is being checked (open, on a WebSocket).
    checking: bool,
    /// When the next regular ping is due.
    next_ping_at: Option<Instant>,
    /// The unanswered ping.
    pending: Option<Ping>,
    /// When a frame last arrived on this connection (or it opened).
    last_heard: Instant,
    answering: Answering,
    /// Whether `StoppedChecking` was already reported (it is said once).
    said_stopped: bool,
    pings: u64,
    latency: LatencyStats,
}

impl Heartbeat {
    /// Heartbeat state for `config` (`None`: the heartbeat is off).
    pub fn new(config: Option<HeartbeatConfig>) -> Self {
        Self {
            config,
            checking: false,
            next_ping_at: None,
            pending: None,
            last_heard: Instant::ZERO,
            answering: Answering::Unknown,
            said_stopped: false,
            pings: 0,
            latency: LatencyStats::default(),
        }
    }

    /// The round-trip statistics so far.
    pub fn latency(&self) -> &LatencyStats {
        &self.latency
    }

    /// What is known about the server's answers.
    pub fn answering(&self) -> Answering {
        self.answering
    }

    /// The settings (`None` when off).
    pub fn config(&self) -> Option<HeartbeatConfig> {
        self.config
    }

    /// The number of the ping waiting for its answer.
    pub fn pending(&self) -> Option<u64> {
        self.pending.map(|ping| ping.number)
    }

    /// A WebSocket connection opened: the first ping goes out at once.
    pub fn start(&mut self, now: Instant) -> Option<u64> {
        self.config?;
        self.checking = true;
        self.last_heard = now;
        Some(self.ping(now))
    }

    /// The connection ended (or moved off the WebSocket).
    pub fn stop(&mut self) {
        self.checking = false;
        self.pending = None;
        self.next_ping_at = None;
    }

    /// Whether a connection is being checked (frames then count as signs of life).
    pub fn is_checking(&self) -> bool {
        self.checking
    }

    /// A frame arrived on the connection: it is alive.
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// Checks the link now (the network came back, the page became visible),
    /// unless a ping is already waiting for its answer.
    pub fn probe(&mut self, now: Instant) -> Option<u64> {
        (self.checking && self.pending.is_none()).then(|| self.ping(now))
    }

    /// Ping `number` was answered (a pong, or the ping echoed back). Returns
    /// the updated statistics when it is the ping waiting for its answer.
    pub fn answered(&mut self, now: Instant, number: u64) -> Option<LatencyStats> {
        let config = self.config?;
        let ping = self.pending.filter(|ping| ping.number == number)?;
        self.pending = None;
        self.answering = Answering::Answers;
        self.latency.record(now.since(ping.sent_at).as_ms());
        if self.checking {
            self.next_ping_at = Some((ping.sent_at + config.interval).max(now));
        }
        Some(self.latency)
    }

    /// The heartbeat's next deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(self.next_ping_at, self.silence_deadline())
    }

    /// When the waiting ping's silence becomes conclusive.
    fn silence_deadline(&self) -> Option<Instant> {
        let config = self.config?;
        let ping = self.pending?;
        let answer_due = ping.sent_at + config.timeout;
        Some(match self.answering {
            Answering::Answers => answer_due,
            // Only a whole interval (plus the timeout) without any frame counts.
            Answering::Unknown | Answering::Never => {
                (self.last_heard + config.interval + config.timeout).max(answer_due)
            }
        })
    }

    /// The deadline from [`Heartbeat::poll_timeout`] may have been reached.
    pub fn handle_timeout(&mut self, now: Instant) -> Beat {
        let Some(config) = self.config else {
            return Beat::Nothing;
        };
        if let Some(due) = self
            .silence_deadline()
            .filter(|&due| is_due(Some(due), now))
        {
            let beat = self.judge_silence(now, due, config);
            if !matches!(beat, Beat::Nothing) {
                return beat;
            }
            // Judged alive: the next ping may be due already.
        }
        if is_due(self.next_ping_at, now) {
            return Beat::Ping(self.ping(now));
        }
        Beat::Nothing
    }

    fn judge_silence(&mut self, now: Instant, due: Instant, config: HeartbeatConfig) -> Beat {
        let Some(ping) = self.pending else {
            return Beat::Nothing;
        };
        if now.since(due) > LATE_TIMER {
            // The tab slept through the deadline; an answer may be queued
            // behind this very callback. Ask again before judging.
            return Beat::Ping(self.ping(now));
        }
        if self.last_heard >= ping.sent_at && self.answering == Answering::Answers {
            // Something arrived after the ping: alive, though unanswered.
            self.pending = None;
            self.next_ping_at = Some((ping.sent_at + config.interval).max(now));
            return Beat::Nothing;
        }
        // Judged: this connection is closed, or no longer checked.
        self.stop();
        match self.answering {
            Answering::Answers => Beat::Silent(Silence::Unanswered),
            Answering::Unknown => {
                self.answering = Answering::Never;
                Beat::Silent(Silence::NeverAnswered)
            }
            Answering::Never => {
                if self.said_stopped {
                    Beat::Nothing
                } else {
                    self.said_stopped = true;
                    Beat::Silent(Silence::StoppedChecking)
                }
            }
        }
    }

    fn ping(&mut self, now: Instant) -> u64 {
        self.pings += 1;
        self.pending = Some(Ping {
            number: self.pings,
            sent_at: now,
        });
        // The next regular ping is scheduled when this one is settled (an
        // answer, or a silence judged alive): one ping out at a time, so a
        // slow answer is never overtaken by the next ping.
        self.next_ping_at = None;
        self.pings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: f64 = 3000.0;
    const TIMEOUT: f64 = 700.0;

    fn at(ms: f64) -> Instant {
        Instant::from_ms(ms)
    }

    fn heartbeat() -> Heartbeat {
        Heartbeat::new(Some(HeartbeatConfig {
            interval: Duration::from_ms(INTERVAL),
            timeout: Duration::from_ms(TIMEOUT),
        }))
    }

    /// Runs the heartbeat's deadlines up to `until`, answering nothing.
    fn run_until(hb: &mut Heartbeat, until: f64) -> Vec<(f64, Beat)> {
        let mut beats = Vec::new();
        while let Some(due) = hb.poll_timeout().filter(|due| due.as_ms() <= until) {
            let beat = hb.handle_timeout(due);
            beats.push((due.as_ms(), beat));
        }
        beats
    }

    #[test]
    fn the_first_ping_goes_out_on_open_and_its_pong_gives_latency() {
        let mut hb = heartbeat();
        assert_eq!(hb.start(at(100.0)), Some(1));
        let stats = hb.answered(at(101.25), 1).expect("the pending ping");
        assert_eq!(stats.last, Some(1.3), "rounded to 0.1 ms");
        assert_eq!(hb.answering(), Answering::Answers);
        assert_eq!(hb.poll_timeout(), Some(at(100.0 + INTERVAL)));
        assert_eq!(hb.answered(at(102.0), 1), None, "answered once");
    }

    #[test]
    fn against_a_server_that_answers_pings_silence_after_a_ping_is_a_dead_link() {
        let mut hb = heartbeat();
        hb.start(at(0.0));
        hb.answered(at(5.0), 1);
        assert_eq!(hb.handle_timeout(at(INTERVAL)), Beat::Ping(2));
        assert_eq!(
            run_until(&mut hb, 10_000.0),
            [(INTERVAL + TIMEOUT, Beat::Silent(Silence::Unanswered))]
        );
    }

    #[test]
    fn any_frame_after_a_ping_proves_the_link_alive() {
        let mut hb = heartbeat();
        hb.start(at(0.0));
        hb.answered(at(5.0), 1);
        hb.handle_timeout(at(INTERVAL));
        hb.heard(at(INTERVAL + 100.0));
        assert_eq!(hb.handle_timeout(at(INTERVAL + TIMEOUT)), Beat::Nothing);
        assert_eq!(hb.poll_timeout(), Some(at(2.0 * INTERVAL)));
    }

    #[test]
    fn a_server_that_never_answers_but_talks_once_per_interval_is_never_closed() {
        let mut hb = heartbeat();
        hb.start(at(0.0));
        let mut t = 0.0;
        // A frame every interval, at the worst phase (just before it ends).
        while t < 600_000.0 {
            t += INTERVAL - 1.0;
            for (when, beat) in run_until(&mut hb, t) {
                assert!(
                    matches!(beat, Beat::Ping(_) | Beat::Nothing),
                    "{beat:?} at {when}"
                );
            }
            hb.heard(at(t));
        }
        assert_eq!(hb.answering(), Answering::Unknown);
    }

    #[test]
    fn a_server_that_says_nothing_is_closed_once_then_kept_and_reported_once() {
        let mut hb = heartbeat();
        hb.start(at(0.0));
        let first = run_until(&mut hb, 100_000.0);
        assert_eq!(
            first.last(),
            Some(&(INTERVAL + TIMEOUT, Beat::Silent(Silence::NeverAnswered)))
        );
        hb.stop();
        // The next connection: same silence, but no close this time.
        hb.start(at(200_000.0));
        let second = run_until(&mut hb, 300_000.0);
        assert_eq!(
            second.last(),
            Some(&(
                200_000.0 + INTERVAL + TIMEOUT,
                Beat::Silent(Silence::StoppedChecking)
            ))
        );
        assert_eq!(hb.poll_timeout(), None, "no longer checked");
        hb.stop();
        // And the one after is not reported again.
        hb.start(at(400_000.0));
        let third = run_until(&mut hb, 500_000.0);
        assert!(
            third
                .iter()
                .all(|(_, beat)| !matches!(beat, Beat::Silent(_))),
            "{third:?}"
        );
        // A server that starts answering is checked again.
        hb.start(at(600_000.0));
        assert!(hb.answered(at(600_001.0), hb.pings).is_some());
        assert_eq!(hb.answering(), Answering::Answers);
    }

    #[test]
    fn a_deadline_reached_far_too_late_pings_again_instead_of_judging() {
        let mut hb = heartbeat();
        hb.start(at(0.0));
        hb.answered(at(1.0), 1);
        hb.handle_timeout(at(INTERVAL));
        let late = INTERVAL + TIMEOUT + 60_000.0;
        assert_eq!(hb.handle_timeout(at(late)), Beat::Ping(3));
        assert_eq!(hb.poll_timeout(), Some(at(late + TIMEOUT)));
    }

    #[test]
    fn switched_off_it_never_pings_or_judges() {
        let mut hb = Heartbeat::new(None);
        assert_eq!(hb.start(at(0.0)), None);
        assert_eq!(hb.poll_timeout(), None);
        assert_eq!(hb.handle_timeout(at(1e9)), Beat::Nothing);
        assert_eq!(hb.probe(at(1.0)), None);
    }
}
