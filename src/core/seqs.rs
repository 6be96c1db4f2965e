//! Which server `seq` numbers have been delivered to the application.
//!
//! One WebSocket delivers a session's frames in order, so a high-water mark
//! would do for it. The HTTP fallback has two downstream channels (a POST's
//! reply and the event stream) that race: a push numbered 14 can arrive on
//! the event stream after the reply numbered 15 came back in a POST response.
//! So the tracker keeps a contiguous floor (every `seq` ≤ floor delivered) plus
//! the delivered numbers above it. Resuming reports the floor, the server
//! replays everything after it, and whatever was already delivered is dropped.

use crate::prelude::*;

/// Out-of-order numbers kept above the floor. A hole that stays open this long
/// is a frame the server no longer has (or never sends): give up on it rather
/// than grow without bound.
const MAX_ABOVE_FLOOR: usize = 1024;

/// The set of delivered `seq` numbers, compressed to a floor and the rest.
///
/// `above` is a plain unsorted `Vec`: it is empty whenever frames arrive in
/// order, and small otherwise; a `BTreeSet` would add ~10 KB to the wasm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveredSeqs {
    /// Every `seq` from 1 to `floor` was delivered (or given up on).
    floor: u64,
    /// Delivered numbers above `floor + 1`, in no order.
    above: Vec<u64>,
}

impl DeliveredSeqs {
    /// Records `seq`; returns whether it is new (deliver it) or a duplicate (drop it).
    pub fn deliver(&mut self, seq: u64) -> bool {
        if self.floor == 0 && self.above.is_empty() {
            // The first frame sets the baseline: a transport that joins a
            // session late (a reused session id) is not owed what came before.
            self.floor = seq.saturating_sub(1);
        }
        if seq <= self.floor || self.above.contains(&seq) {
            return false;
        }
        self.above.push(seq);
        self.compact();
        if self.above.len() > MAX_ABOVE_FLOOR {
            if let Some(&lowest) = self.above.iter().min() {
                self.raise_floor(lowest);
            }
        }
        true
    }

    /// The server said frames before `first_available` are gone: stop waiting for them.
    pub fn skip_to(&mut self, first_available: u64) {
        self.raise_floor(first_available.saturating_sub(1));
    }

    /// The number to resume after (`last_seq`), or `None` before the first frame.
    pub fn resume_after(&self) -> Option<u64> {
        (self.floor > 0 || !self.above.is_empty()).then_some(self.floor)
    }

    fn raise_floor(&mut self, floor: u64) {
        self.floor = self.floor.max(floor);
        let floor = self.floor;
        self.above.retain(|&seq| seq > floor);
        self.compact();
    }

    /// Folds numbers that continue the floor into it.
    fn compact(&mut self) {
        loop {
            let next = self.floor + 1;
            let before = self.above.len();
            self.above.retain(|&seq| seq != next);
            if self.above.len() == before {
                break;
            }
            self.floor = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_frames_move_the_floor_and_duplicates_are_dropped() {
        let mut seqs = DeliveredSeqs::default();
        assert_eq!(seqs.resume_after(), None);
        assert!(seqs.deliver(1));
        assert!(seqs.deliver(2));
        assert!(!seqs.deliver(2));
        assert!(!seqs.deliver(1));
        assert_eq!(seqs.resume_after(), Some(2));
    }

    #[test]
    fn a_frame_that_overtakes_another_leaves_a_hole_to_resume_from() {
        let mut seqs = DeliveredSeqs::default();
        assert!(seqs.deliver(1));
        assert!(seqs.deliver(3)); // a POST reply overtook push 2
        assert_eq!(seqs.resume_after(), Some(1));
        assert!(seqs.deliver(2)); // the push arrives late: still delivered
        assert!(!seqs.deliver(3)); // and a replay of 3 is not
        assert_eq!(seqs.resume_after(), Some(3));
    }

    #[test]
    fn a_gap_moves_the_floor_past_what_the_server_lost() {
        let mut seqs = DeliveredSeqs::default();
        seqs.deliver(1);
        seqs.deliver(9);
        assert_eq!(seqs.resume_after(), Some(1));
        seqs.skip_to(5);
        assert_eq!(seqs.resume_after(), Some(4));
        assert!(seqs.deliver(5));
        assert!(!seqs.deliver(3));
        for seq in 6..=8 {
            assert!(seqs.deliver(seq));
        }
        assert_eq!(seqs.resume_after(), Some(9));
    }

    #[test]
    fn a_hole_that_never_fills_is_given_up_on_and_memory_stays_bounded() {
        let mut seqs = DeliveredSeqs::default();
        seqs.deliver(1);
        for seq in 3..=(MAX_ABOVE_FLOOR as u64 + 10) {
            assert!(seqs.deliver(seq));
        }
        assert!(seqs.above.len() <= MAX_ABOVE_FLOOR);
        assert_eq!(seqs.resume_after(), Some(MAX_ABOVE_FLOOR as u64 + 10));
        assert!(!seqs.deliver(2)); // given up on: a late copy is not delivered
    }
}
