//! What the server sends: which numbered frames were delivered, which wait
//! for a missing one (the stream is delivered in order), where to resume,
//! and the stream-reset rule.
//!
//! PROTOCOL.md §4: after a resume with `last_seq = n`, the first numbered
//! frame on the new channel is `n + 1` (or a `gap` moves it further). A first
//! frame at or below `n` means the server's stream was reset: it restarted,
//! lost its log, or is another process numbering from 1 again. Those frames
//! are new: they are delivered, the position starts over from them, and the
//! application hears of it (`"reset"`). Dropping them as replays would lose
//! every reply of the new stream up to `n` without a word.
//!
//! PROTOCOL.md §4.1 (v1.1) makes it explicit: a server names its stream's
//! epoch in a `welcome`, the client resumes with `epoch` beside `last_seq`,
//! and a server whose stream is another one says `reset` (with the new
//! stream's first `seq`) before replaying it. The rule above stays for
//! servers that do not speak v1.1.

use crate::prelude::*;

use super::input::{stream_position, FrameSource};
use super::seqs::{Arrival, DeliveredSeqs, Step};
use super::time::{Duration, Instant};

/// The longest epoch kept: a server's epoch rides in every URL, so a hostile
/// one must not make them grow without bound. A longer one is no epoch.
pub const MAX_EPOCH_BYTES: usize = 128;

/// How long frames wait for a missing number before the core gives up on it
/// and reports a gap, counted while connected. Over the HTTP fallback a
/// POST's answer and the event stream race by about a round trip; a hole
/// open across a reconnect is filled by the replay after it.
pub const HOLE_WAIT: Duration = Duration::from_ms(5000.0);

/// What to do with a numbered frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbered {
    /// New: deliver it.
    Deliver,
    /// Already delivered (a replay, or the same frame on two channels): drop it.
    Duplicate,
    /// Above a missing number: the driver keeps it until it comes out of
    /// [`Downstream::next_step`] (at once, when it was the missing one).
    Held,
    /// Farther above the last delivered number than frames are held: give
    /// up below it ([`Downstream::give_up_below`]), then it is the next.
    TooFar(u64),
    /// The stream was reset: deliver it; the position went from `previous` back to `first`.
    Reset {
        /// Where the client resumed from.
        previous: u64,
        /// The first `seq` of the new stream.
        first: u64,
    },
}

/// The server's stream as the client has seen it.
#[derive(Debug, Clone, Default)]
pub struct Downstream {
    seqs: DeliveredSeqs,
    /// Set when a channel opened with `last_seq`: its first numbered frame
    /// still has to show the stream continues.
    resumed_from: Option<u64>,
    /// The server's name for the stream the position counts in, once a
    /// v1.1 server said it.
    epoch: Option<String>,
    /// When the core gives up on the lowest missing number, while frames
    /// are held ([`HOLE_WAIT`] after the first was).
    hole_deadline: Option<Instant>,
}

impl Downstream {
    /// The `last_seq` to resume after, once anything numbered was delivered.
    pub fn resume_position(&self) -> Option<u64> {
        self.seqs.resume_after()
    }

    /// A channel that carries the stream (a WebSocket, or the event stream)
    /// opened; its URL asked to resume after `resumed_from` (the position when
    /// the URL was written: frames delivered since, on another channel, do
    /// not count). Its first numbered frame is checked against it.
    pub fn channel_opened(&mut self, resumed_from: Option<u64>) {
        self.resumed_from = resumed_from;
    }

    /// The epoch the position counts in, if the server named one.
    pub fn epoch(&self) -> Option<&str> {
        self.epoch.as_deref()
    }

    /// Whether `epoch` (from a welcome or a reset) can be one.
    pub fn is_epoch(epoch: Option<&str>) -> bool {
        epoch.is_some_and(|epoch| !epoch.is_empty() && epoch.len() <= MAX_EPOCH_BYTES)
    }

    /// A `welcome`: the server's stream is `epoch`. A v1.1 server follows
    /// it with a `reset` when that is not the stream the client resumed.
    pub fn welcome(&mut self, epoch: &str) {
        self.epoch = Some(epoch.to_owned());
    }

    /// A `reset`: the stream the client resumed is gone; `epoch` starts at
    /// `first_seq` (a JavaScript number, unvalidated; 1 when it is none).
    /// Returns the reset to report, when something had been delivered.
    /// The caller releases what the old stream held first
    /// ([`release_all`](Self::release_all)).
    pub fn reset(&mut self, epoch: &str, first_seq: f64) -> Option<Numbered> {
        let first = stream_position(first_seq).unwrap_or(1);
        let previous = self.resume_position();
        self.epoch = Some(epoch.to_owned());
        self.restart_before(first);
        // The reset is the server's answer to the resume.
        self.resumed_from = None;
        previous.map(|previous| Numbered::Reset { previous, first })
    }

    /// A tab that becomes the leader of a shared connection continues the
    /// stream the tabs were following: every frame up to `resume_after` was
    /// delivered, in `epoch` (ignored when it cannot be one).
    pub fn adopt(&mut self, epoch: Option<&str>, resume_after: Option<u64>) {
        self.seqs = resume_after.map_or_else(DeliveredSeqs::default, |last| {
            DeliveredSeqs::starting_at(last.saturating_add(1))
        });
        self.hole_deadline = None;
        self.epoch = epoch
            .filter(|epoch| Self::is_epoch(Some(epoch)))
            .map(ToOwned::to_owned);
        self.resumed_from = None;
    }

    /// A gap notice: frames before `first_available` are gone for good.
    /// [`next_step`](Self::next_step) reports each hole below it (the
    /// application hears the loss once, hole by hole, whoever noticed it)
    /// and releases the frames held between them. `false` when it names no
    /// position: an envelope of the application's.
    pub fn gap(&mut self, first_available: f64) -> bool {
        let Some(first) = stream_position(first_available) else {
            return false;
        };
        self.seqs.give_up_below(first);
        // A gap is the server's answer to the resume: it continues.
        self.resumed_from = None;
        true
    }

    /// A frame with `seq` (a JavaScript number, unvalidated) arrived on `source`.
    /// `None` when it carries no valid number (it is delivered as is).
    pub fn numbered(&mut self, source: FrameSource, seq: f64) -> Option<Numbered> {
        let seq = stream_position(seq)?;
        // POST replies race the event stream (PROTOCOL.md §6), so only the
        // channel that resumed may tell whether the stream continues.
        if source != FrameSource::PostReply {
            if let Some(previous) = self.resumed_from.take() {
                if seq <= previous {
                    return Some(Numbered::Reset {
                        previous,
                        first: seq,
                    });
                }
            }
        }
        Some(match self.seqs.arrive(seq) {
            Arrival::Next => Numbered::Deliver,
            Arrival::Duplicate => Numbered::Duplicate,
            Arrival::Held => Numbered::Held,
            Arrival::TooFar => Numbered::TooFar(seq),
        })
    }

    /// The stream starts over at `first` (a [`Numbered::Reset`], once the
    /// old stream's held frames are released): nothing before it is owed.
    pub fn restart_before(&mut self, first: u64) {
        self.seqs = DeliveredSeqs::default();
        self.seqs.give_up_below(first);
        self.hole_deadline = None;
    }

    /// The next held frame to deliver, or hole to report, in order.
    pub fn next_step(&mut self) -> Option<Step> {
        self.seqs.next_step()
    }

    /// Gives up on every number below `seq` not delivered yet.
    pub fn give_up_below(&mut self, seq: u64) {
        self.seqs.give_up_below(seq);
    }

    /// Releases every held frame.
    pub fn release_all(&mut self) {
        self.seqs.release_all();
    }

    /// Whether frames are held, waiting for a missing number.
    pub fn is_holding(&self) -> bool {
        self.seqs.is_holding()
    }

    /// When to give up on the lowest missing number, if frames wait for one
    /// (the caller counts it only while a channel is open).
    pub fn hole_deadline(&self) -> Option<Instant> {
        self.hole_deadline
    }

    /// Starts the hole clock when frames began to wait at `now`, stops it
    /// when none do.
    pub fn time_holes(&mut self, now: Instant) {
        self.hole_deadline = if self.is_holding() {
            Some(self.hole_deadline.unwrap_or(now + HOLE_WAIT))
        } else {
            None
        };
    }

    /// A channel opened: held frames wait [`HOLE_WAIT`] from `now` (for the
    /// replay that follows the resume, first).
    pub fn restart_hole_clock(&mut self, now: Instant) {
        self.hole_deadline = self.is_holding().then(|| now + HOLE_WAIT);
    }

    /// The hole clock ran out: give up on the lowest missing number. The
    /// caller drains [`next_step`](Self::next_step), which times the next.
    pub fn hole_timed_out(&mut self) {
        self.seqs.give_up_hole();
        self.hole_deadline = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: FrameSource = FrameSource::Socket;

    fn delivered_through(n: u64) -> Downstream {
        let mut stream = Downstream::default();
        for seq in 1..=n {
            assert_eq!(stream.numbered(WS, seq as f64), Some(Numbered::Deliver));
        }
        stream
    }

    #[test]
    fn an_explicit_reset_starts_the_new_stream_at_its_first_seq() {
        let mut stream = delivered_through(5);
        stream.welcome("old");
        stream.channel_opened(stream.resume_position());
        assert_eq!(
            stream.reset("new", 3.0),
            Some(Numbered::Reset {
                previous: 5,
                first: 3
            })
        );
        assert_eq!(stream.epoch(), Some("new"));
        assert_eq!(
            stream.resume_position(),
            Some(2),
            "resume before the first seq"
        );
        // The replay of the new stream is delivered, not taken for old frames.
        for seq in 3..=6 {
            assert_eq!(stream.numbered(WS, seq as f64), Some(Numbered::Deliver));
        }
    }

    #[test]
    fn a_reset_before_anything_was_delivered_is_not_reported() {
        let mut stream = Downstream::default();
        assert_eq!(stream.reset("e", f64::NAN), None);
        assert_eq!(stream.resume_position(), Some(0));
        assert_eq!(stream.numbered(WS, 1.0), Some(Numbered::Deliver));
    }

    #[test]
    fn epochs_must_be_short_non_empty_strings() {
        assert!(Downstream::is_epoch(Some("a1b2")));
        assert!(!Downstream::is_epoch(Some("")));
        assert!(!Downstream::is_epoch(None));
        let long = "x".repeat(MAX_EPOCH_BYTES + 1);
        assert!(!Downstream::is_epoch(Some(&long)));
    }

    #[test]
    fn a_resume_that_continues_drops_only_replays() {
        let mut stream = delivered_through(5);
        let from = stream.resume_position();
        stream.channel_opened(from);
        assert_eq!(stream.numbered(WS, 6.0), Some(Numbered::Deliver));
        assert_eq!(stream.numbered(WS, 5.0), Some(Numbered::Duplicate));
        assert_eq!(stream.resume_position(), Some(6));
    }

    #[test]
    fn a_first_frame_at_or_below_the_resume_point_is_a_new_stream() {
        let mut stream = delivered_through(5);
        let from = stream.resume_position();
        stream.channel_opened(from);
        assert_eq!(
            stream.numbered(WS, 1.0),
            Some(Numbered::Reset {
                previous: 5,
                first: 1
            })
        );
        // The transport releases what the old stream held, then starts over.
        stream.restart_before(1);
        assert_eq!(stream.numbered(WS, 1.0), Some(Numbered::Deliver));
        for seq in 2..=5 {
            assert_eq!(stream.numbered(WS, seq as f64), Some(Numbered::Deliver));
        }
        assert_eq!(stream.resume_position(), Some(5));
        // The same frame again is still a duplicate: the check is once per channel.
        assert_eq!(stream.numbered(WS, 5.0), Some(Numbered::Duplicate));
    }

    #[test]
    fn frames_delivered_while_the_channel_opened_do_not_fake_a_reset() {
        // The probe socket's URL said last_seq=5; the event stream then
        // delivered 6 and 7 before the socket opened and replays from 6.
        let mut stream = delivered_through(5);
        let asked = stream.resume_position();
        assert_eq!(
            stream.numbered(FrameSource::Events, 6.0),
            Some(Numbered::Deliver)
        );
        assert_eq!(
            stream.numbered(FrameSource::Events, 7.0),
            Some(Numbered::Deliver)
        );
        stream.channel_opened(asked);
        assert_eq!(stream.numbered(WS, 6.0), Some(Numbered::Duplicate));
        assert_eq!(stream.numbered(WS, 7.0), Some(Numbered::Duplicate));
        assert_eq!(stream.numbered(WS, 8.0), Some(Numbered::Deliver));
    }

    #[test]
    fn a_post_reply_never_decides_a_reset_and_a_gap_settles_the_resume() {
        let mut stream = delivered_through(5);
        let from = stream.resume_position();
        stream.channel_opened(from);
        assert_eq!(
            stream.numbered(FrameSource::PostReply, 3.0),
            Some(Numbered::Duplicate)
        );
        assert!(stream.gap(9.0));
        assert_eq!(steps(&mut stream), [Step::Gap { after: 5, first: 9 }]);
        assert_eq!(stream.resume_position(), Some(8));
        assert_eq!(stream.numbered(WS, 9.0), Some(Numbered::Deliver));
        assert_eq!(stream.numbered(WS, 4.0), Some(Numbered::Duplicate));
    }

    fn steps(stream: &mut Downstream) -> Vec<Step> {
        core::iter::from_fn(|| stream.next_step()).collect()
    }

    #[test]
    fn frames_out_of_order_come_out_in_order() {
        // A hostile or broken server: 1, 5, 3, 4, 2 on one socket.
        let mut stream = delivered_through(1);
        for seq in [5.0, 3.0, 4.0] {
            assert_eq!(stream.numbered(WS, seq), Some(Numbered::Held));
            assert_eq!(steps(&mut stream), []);
        }
        assert!(stream.is_holding());
        assert_eq!(
            stream.resume_position(),
            Some(1),
            "the highest delivered in order"
        );
        assert_eq!(
            stream.numbered(WS, 4.0),
            Some(Numbered::Duplicate),
            "held already"
        );
        assert_eq!(stream.numbered(WS, 2.0), Some(Numbered::Held));
        assert_eq!(
            steps(&mut stream),
            [2, 3, 4, 5].map(Step::Release),
            "the missing one first, then what waited for it"
        );
        assert!(!stream.is_holding());
        assert_eq!(stream.resume_position(), Some(5));
    }

    #[test]
    fn a_hole_given_up_on_is_reported_and_what_waited_is_delivered() {
        let mut stream = delivered_through(1);
        assert_eq!(stream.numbered(WS, 4.0), Some(Numbered::Held));
        assert_eq!(stream.numbered(WS, 6.0), Some(Numbered::Held));
        stream.hole_timed_out();
        assert_eq!(
            steps(&mut stream),
            [Step::Gap { after: 1, first: 4 }, Step::Release(4)],
            "one hole at a time"
        );
        stream.hole_timed_out();
        assert_eq!(
            steps(&mut stream),
            [Step::Gap { after: 4, first: 6 }, Step::Release(6)]
        );
        assert_eq!(stream.numbered(WS, 2.0), Some(Numbered::Duplicate));
        assert_eq!(stream.resume_position(), Some(6));
    }

    #[test]
    fn a_number_far_ahead_is_a_reported_gap_then_the_next() {
        let mut stream = delivered_through(5);
        let top = 9_007_199_254_740_991.0;
        assert_eq!(stream.numbered(WS, 7.0), Some(Numbered::Held));
        let far = top as u64;
        assert_eq!(stream.numbered(WS, top), Some(Numbered::TooFar(far)));
        stream.give_up_below(far);
        assert_eq!(
            steps(&mut stream),
            [
                Step::Gap { after: 5, first: 7 },
                Step::Release(7),
                Step::Gap {
                    after: 7,
                    first: far
                }
            ]
        );
        assert_eq!(stream.numbered(WS, top), Some(Numbered::Deliver));
        assert_eq!(stream.resume_position(), Some(far), "the highest delivered");
        assert_eq!(stream.numbered(WS, 8.0), Some(Numbered::Duplicate));
    }

    #[test]
    fn a_gap_notice_is_told_hole_by_hole_around_what_waited() {
        let mut stream = delivered_through(1);
        assert_eq!(stream.numbered(WS, 3.0), Some(Numbered::Held));
        assert_eq!(stream.numbered(WS, 8.0), Some(Numbered::Held));
        assert!(stream.gap(6.0));
        assert_eq!(
            steps(&mut stream),
            [
                Step::Gap { after: 1, first: 3 },
                Step::Release(3),
                Step::Gap { after: 3, first: 6 }
            ]
        );
        assert_eq!(stream.resume_position(), Some(5));
        assert!(stream.is_holding(), "8 still waits for 6 and 7");
        stream.release_all();
        assert_eq!(
            steps(&mut stream),
            [Step::Gap { after: 5, first: 8 }, Step::Release(8)]
        );
        assert!(!stream.is_holding());
        assert!(!stream.gap(f64::NAN), "no position: the application's own");
    }

    #[test]
    fn the_hole_clock_runs_while_frames_wait_and_restarts_on_open() {
        let mut stream = delivered_through(1);
        let at = Instant::from_ms(100.0);
        stream.time_holes(at);
        assert_eq!(stream.hole_deadline(), None);
        assert_eq!(stream.numbered(WS, 3.0), Some(Numbered::Held));
        stream.time_holes(at);
        assert_eq!(stream.hole_deadline(), Some(at + HOLE_WAIT));
        stream.time_holes(at + HOLE_WAIT);
        assert_eq!(
            stream.hole_deadline(),
            Some(at + HOLE_WAIT),
            "kept, not pushed back"
        );
        let later = Instant::from_ms(60_000.0);
        stream.restart_hole_clock(later);
        assert_eq!(stream.hole_deadline(), Some(later + HOLE_WAIT));
        assert_eq!(stream.numbered(WS, 2.0), Some(Numbered::Held));
        assert_eq!(steps(&mut stream), [Step::Release(2), Step::Release(3)]);
        stream.time_holes(later);
        assert_eq!(stream.hole_deadline(), None);
    }

    #[test]
    fn frames_without_a_valid_number_are_not_numbered() {
        let mut stream = Downstream::default();
        for bad in [f64::NAN, 0.0, -1.0, 2.5, 1e20] {
            assert_eq!(stream.numbered(WS, bad), None);
        }
        assert_eq!(stream.resume_position(), None);
    }
}
