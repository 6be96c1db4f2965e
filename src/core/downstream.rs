//! What the server sends: which numbered frames were delivered, where to
//! resume, and the stream-reset rule.
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
use super::seqs::DeliveredSeqs;

/// The longest epoch kept: a server's epoch rides in every URL, so a hostile
/// one must not make them grow without bound. A longer one is no epoch.
pub const MAX_EPOCH_BYTES: usize = 128;

/// What to do with a numbered frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbered {
    /// New: deliver it.
    Deliver,
    /// Already delivered (a replay, or the same frame on two channels): drop it.
    Duplicate,
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
    pub fn reset(&mut self, epoch: &str, first_seq: f64) -> Option<Numbered> {
        let first = stream_position(first_seq).unwrap_or(1);
        let previous = self.resume_position();
        self.epoch = Some(epoch.to_owned());
        self.seqs = DeliveredSeqs::default();
        // The new stream starts at `first`: nothing before it will come.
        // (Spelled out, not `DeliveredSeqs::starting_at`: that costs this
        // wasm path 20 B of gzip.)
        self.seqs.skip_to(first);
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
        self.epoch = epoch
            .filter(|epoch| Self::is_epoch(Some(epoch)))
            .map(ToOwned::to_owned);
        self.resumed_from = None;
    }

    /// A gap notice: frames before `first_available` are gone for good.
    pub fn gap(&mut self, first_available: f64) {
        if let Some(first) = stream_position(first_available) {
            self.seqs.skip_to(first);
            // A gap is the server's answer to the resume: it continues.
            self.resumed_from = None;
        }
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
                    self.seqs = DeliveredSeqs::default();
                    self.seqs.deliver(seq);
                    return Some(Numbered::Reset {
                        previous,
                        first: seq,
                    });
                }
            }
        }
        Some(if self.seqs.deliver(seq) {
            Numbered::Deliver
        } else {
            Numbered::Duplicate
        })
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
        stream.gap(9.0);
        assert_eq!(stream.numbered(WS, 9.0), Some(Numbered::Deliver));
        assert_eq!(stream.numbered(WS, 4.0), Some(Numbered::Duplicate));
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
