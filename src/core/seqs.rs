//! Which server `seq` numbers have been delivered to the application.
//!
//! One WebSocket delivers a session's frames in order, so a high-water mark
//! would do for it. The HTTP fallback has two downstream channels (a POST's
//! reply and the event stream) that race: a push numbered 14 can arrive on
//! the event stream after the reply numbered 15 came back in a POST response.
//! So the tracker keeps a contiguous floor (every `seq` ≤ floor delivered) plus
//! a window of the delivered numbers above it. Resuming reports the floor, the server
//! replays everything after it, and whatever was already delivered is dropped.

/// How far above the floor delivered numbers are remembered. A hole that
/// stays open this long is a frame the server no longer has (or never
/// sends): give up on it rather than wait for ever.
const WINDOW: u64 = 1024;

/// The set of delivered `seq` numbers: a floor, and a window of bits above it.
///
/// Bit `seq % WINDOW` says whether `seq` (in `floor + 1 ..= floor + WINDOW`)
/// was delivered. Fixed size, no allocation, and small code: a `BTreeSet`
/// would add ~10 KB to the wasm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredSeqs {
    /// Every `seq` from 1 to `floor` was delivered (or given up on).
    floor: u64,
    /// Delivered numbers above the floor, by `seq % WINDOW`.
    window: [u64; (WINDOW / 64) as usize],
    /// Whether any number was delivered yet (the first sets the baseline).
    started: bool,
}

impl Default for DeliveredSeqs {
    fn default() -> Self {
        Self {
            floor: 0,
            window: [0; (WINDOW / 64) as usize],
            started: false,
        }
    }
}

impl DeliveredSeqs {
    /// Records `seq`; returns whether it is new (deliver it) or a duplicate (drop it).
    pub fn deliver(&mut self, seq: u64) -> bool {
        if !self.started {
            // The first frame sets the baseline: a transport that joins a
            // session late (a reused session id) is not owed what came before.
            self.started = true;
            self.floor = seq.saturating_sub(1);
        }
        if seq <= self.floor {
            return false;
        }
        if seq - self.floor > WINDOW {
            self.raise_floor(seq - WINDOW);
        }
        if self.has(seq) {
            return false;
        }
        self.flip(seq);
        self.compact();
        true
    }

    /// A stream that starts at `first`: nothing before it is owed (a reset
    /// stream, or one a tab takes over after `first - 1`).
    pub fn starting_at(first: u64) -> Self {
        let mut seqs = Self::default();
        seqs.skip_to(first);
        seqs
    }

    /// The server said frames before `first_available` are gone: stop waiting for them.
    pub fn skip_to(&mut self, first_available: u64) {
        self.started = true;
        self.raise_floor(first_available.saturating_sub(1));
        self.compact();
    }

    /// The number to resume after (`last_seq`), or `None` before the first frame.
    pub fn resume_after(&self) -> Option<u64> {
        self.started.then_some(self.floor)
    }

    fn slot(seq: u64) -> (usize, u64) {
        let bit = seq % WINDOW;
        ((bit / 64) as usize, 1 << (bit % 64))
    }

    fn has(&self, seq: u64) -> bool {
        let (word, mask) = Self::slot(seq);
        self.window.get(word).is_some_and(|bits| bits & mask != 0)
    }

    fn flip(&mut self, seq: u64) {
        let (word, mask) = Self::slot(seq);
        if let Some(bits) = self.window.get_mut(word) {
            *bits ^= mask;
        }
    }

    /// Moves the floor up to `floor`, forgetting what it passes.
    fn raise_floor(&mut self, floor: u64) {
        if floor.saturating_sub(self.floor) >= WINDOW {
            self.window = [0; (WINDOW / 64) as usize];
            self.floor = self.floor.max(floor);
            return;
        }
        while self.floor < floor {
            self.floor += 1;
            if self.has(self.floor) {
                self.flip(self.floor);
            }
        }
    }

    /// Folds numbers that continue the floor into it.
    fn compact(&mut self) {
        while let Some(next) = self.floor.checked_add(1).filter(|&next| self.has(next)) {
            self.floor = next;
            self.flip(next);
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
    fn a_number_far_ahead_gives_up_on_the_window_below_it() {
        let mut seqs = DeliveredSeqs::default();
        seqs.deliver(1);
        assert!(seqs.deliver(5));
        assert!(seqs.deliver(10 * WINDOW));
        assert_eq!(seqs.resume_after(), Some(9 * WINDOW));
        assert!(!seqs.deliver(5));
        assert!(!seqs.deliver(10 * WINDOW));
        assert!(seqs.deliver(10 * WINDOW - 1));
        assert!(seqs.deliver(9 * WINDOW + 1));
        assert_eq!(seqs.resume_after(), Some(9 * WINDOW + 1));
        // The largest numbers do not overflow.
        assert!(seqs.deliver(u64::MAX));
        assert!(!seqs.deliver(u64::MAX));
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
        for seq in 3..=(WINDOW + 10) {
            assert!(seqs.deliver(seq));
        }
        assert_eq!(seqs.resume_after(), Some(WINDOW + 10));
        assert!(!seqs.deliver(2)); // given up on: a late copy is not delivered
    }
}
