//! One channel's numbered frames in order, whatever order they arrive in.
//!
//! A channel (a WebSocket or an event stream) gets numbered frames from
//! several places: the replies to what it sent (numbered by the node it is
//! on), and everything else numbered for its session, by any node, over the
//! session's feed (Redis pub/sub) or the local push path. Those can cross:
//! reply 5 may be ready before push 4 from another node has arrived. A
//! client drops any frame at or below the last `seq` it delivered, so a
//! channel must never send 5 before 4. The sequencer holds a frame until
//! the ones before it have been sent, and says when a hole has waited long
//! enough to be read from the log instead (a feed message lost with a
//! pub/sub connection, or a frame numbered by a node that died before it
//! published). Frames at or below what was sent are copies: dropped.
//!
//! Pure bookkeeping on a clock it is given, tested natively.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a hole may wait for its frame before the log is read.
pub const FILL_AFTER: Duration = Duration::from_millis(250);

/// Frames held past a hole, at most: beyond that the channel is too far
/// behind to catch up in order, and is closed (the client resumes by `seq`).
pub const MAX_HELD: usize = 4096;

/// What [`Sequencer::offer`] and [`Sequencer::fill`] make of frames.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Release {
    /// Texts to send now, in order.
    pub ready: Vec<String>,
    /// Too many frames held behind a hole: close the channel.
    pub overflowed: bool,
}

/// The ordering state of one channel.
#[derive(Debug)]
pub struct Sequencer {
    /// The highest seq sent (or replayed) on the channel.
    sent: u64,
    /// Frames above `sent + 1` waiting for the hole before them.
    held: BTreeMap<u64, String>,
    /// When the current hole opened (the first frame held behind it).
    hole_since: Option<Instant>,
}

impl Sequencer {
    /// A channel whose opening sent everything up to `sent`.
    pub fn new(sent: u64) -> Self {
        Self {
            sent,
            held: BTreeMap::new(),
            hole_since: None,
        }
    }

    /// The highest seq sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Frames sent by the opening after this sequencer was made (the feed
    /// was listened to first, so nothing numbered meanwhile is missed):
    /// everything up to `sent` is now out, and what was held for it is a
    /// copy or next in line.
    pub fn opened(&mut self, sent: u64, now: Instant) -> Release {
        self.sent = self.sent.max(sent);
        self.held = self.held.split_off(&(self.sent + 1));
        self.release(now)
    }

    /// A numbered frame for the channel.
    pub fn offer(&mut self, seq: u64, text: String, now: Instant) -> Release {
        if seq > self.sent {
            self.held.entry(seq).or_insert(text);
        }
        self.release(now)
    }

    /// The frames a read of the log returned, after `self.sent()`, and the
    /// lowest seq the log still keeps: a hole below it can never be filled
    /// (trimmed away), so the channel moves past it (the client sees the
    /// jump and learns of the loss on its next resume, as a `gap`).
    pub fn fill(
        &mut self,
        frames: Vec<(u64, String)>,
        first_available: u64,
        now: Instant,
    ) -> Release {
        for (seq, text) in frames {
            if seq > self.sent {
                self.held.entry(seq).or_insert(text);
            }
        }
        if first_available > self.sent + 1 && !self.held.contains_key(&(self.sent + 1)) {
            self.sent = first_available - 1;
            self.held = self.held.split_off(&(self.sent + 1));
        }
        self.release(now)
    }

    /// When the log should be read for the current hole, if there is one.
    pub fn fill_at(&self) -> Option<Instant> {
        self.hole_since.map(|since| since + FILL_AFTER)
    }

    fn release(&mut self, now: Instant) -> Release {
        let mut ready = Vec::new();
        while let Some(text) = self.held.remove(&(self.sent + 1)) {
            self.sent += 1;
            ready.push(text);
        }
        self.hole_since = if self.held.is_empty() {
            None
        } else if ready.is_empty() {
            self.hole_since.or(Some(now))
        } else {
            // Progress: the remaining hole is a new one.
            Some(now)
        };
        Release {
            ready,
            overflowed: self.held.len() > MAX_HELD,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(release: &Release) -> Vec<&str> {
        release.ready.iter().map(String::as_str).collect()
    }

    #[test]
    fn frames_in_order_go_straight_through_and_copies_are_dropped() {
        let now = Instant::now();
        let mut sequencer = Sequencer::new(3);
        assert_eq!(texts(&sequencer.offer(4, "4".into(), now)), ["4"]);
        assert_eq!(texts(&sequencer.offer(5, "5".into(), now)), ["5"]);
        assert!(sequencer.offer(5, "5 again".into(), now).ready.is_empty());
        assert!(sequencer.offer(2, "old".into(), now).ready.is_empty());
        assert_eq!(sequencer.fill_at(), None);
        assert_eq!(sequencer.sent(), 5);
    }

    #[test]
    fn a_reply_ready_before_the_push_numbered_before_it_waits_for_it() {
        let start = Instant::now();
        let mut sequencer = Sequencer::new(3);
        // Reply 5 is ready; push 4 is still on its way from another node.
        assert!(sequencer.offer(5, "reply 5".into(), start).ready.is_empty());
        assert_eq!(sequencer.fill_at(), Some(start + FILL_AFTER));
        let later = start + Duration::from_millis(10);
        assert_eq!(
            texts(&sequencer.offer(4, "push 4".into(), later)),
            ["push 4", "reply 5"]
        );
        assert_eq!(sequencer.fill_at(), None);
    }

    #[test]
    fn a_hole_that_waits_too_long_is_filled_from_the_log() {
        let start = Instant::now();
        let mut sequencer = Sequencer::new(0);
        sequencer.offer(3, "3".into(), start);
        let fill_at = sequencer.fill_at().expect("a hole");
        // The log read returns 1..3 (3 again: a copy of what is held).
        let release = sequencer.fill(
            vec![(1, "1".into()), (2, "2".into()), (3, "3".into())],
            1,
            fill_at,
        );
        assert_eq!(texts(&release), ["1", "2", "3"]);
        assert_eq!(sequencer.fill_at(), None);
    }

    #[test]
    fn a_hole_trimmed_out_of_the_log_is_skipped() {
        let start = Instant::now();
        let mut sequencer = Sequencer::new(10);
        sequencer.offer(50, "50".into(), start);
        // The log now keeps 40.. only: 11..39 are gone for good.
        let frames = (40..=50).map(|seq| (seq, seq.to_string())).collect();
        let release = sequencer.fill(frames, 40, start + FILL_AFTER);
        assert_eq!(release.ready.len(), 11);
        assert_eq!(release.ready[0], "40");
        assert_eq!(sequencer.sent(), 50);
    }

    #[test]
    fn progress_past_one_hole_restarts_the_clock_for_the_next() {
        let start = Instant::now();
        let mut sequencer = Sequencer::new(0);
        sequencer.offer(2, "2".into(), start);
        sequencer.offer(4, "4".into(), start);
        let later = start + Duration::from_millis(200);
        assert_eq!(texts(&sequencer.offer(1, "1".into(), later)), ["1", "2"]);
        assert_eq!(
            sequencer.fill_at(),
            Some(later + FILL_AFTER),
            "hole 3 is new"
        );
    }

    #[test]
    fn frames_buffered_before_the_opening_are_released_after_it_without_copies() {
        let start = Instant::now();
        // Listening to the feed began before the opening read the log.
        let mut sequencer = Sequencer::new(0);
        sequencer.offer(7, "7".into(), start);
        sequencer.offer(8, "8".into(), start);
        // The opening replayed up to 7 (it read the log after 7 was numbered).
        assert_eq!(texts(&sequencer.opened(7, start)), ["8"]);
        assert_eq!(sequencer.sent(), 8);
    }

    #[test]
    fn too_many_frames_behind_a_hole_close_the_channel() {
        let now = Instant::now();
        let mut sequencer = Sequencer::new(0);
        let mut overflowed = false;
        for seq in 2..(MAX_HELD as u64 + 3) {
            overflowed |= sequencer.offer(seq, String::new(), now).overflowed;
        }
        assert!(overflowed);
    }
}
