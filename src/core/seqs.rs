//! Which server `seq` numbers have been delivered to the application, and
//! which arrived early and wait for the ones before them.
//!
//! One WebSocket delivers a session's frames in order, so a high-water mark
//! would do for it. The HTTP fallback has two downstream channels (a POST's
//! reply and the event stream) that race: a push numbered 14 can arrive on
//! the event stream after the reply numbered 15 came back in a POST response.
//! PROTOCOL.md §4 promises the application the stream in order, so a frame
//! that arrives above a missing number is held ([`Arrival::Held`]) until the
//! missing one arrives, the server says it is gone (a `gap`), or the core
//! gives up on it and reports the loss itself ([`Step::Gap`]). The floor is
//! the highest `seq` delivered with everything before it: resuming reports
//! it, the server replays what follows, and copies of held frames are dropped.
//!
//! [`DeliveredSeqs::deliver`] is the other use, for a tab that follows a
//! shared connection: its leader already delivers in order, so a bit there
//! marks a number delivered rather than held.

/// How far above the floor delivered numbers are remembered. A hole that
/// stays open this long is a frame the server no longer has (or never
/// sends): give up on it rather than wait for ever.
const WINDOW: u64 = 1024;

/// The delivered `seq` numbers: a floor, and a window of bits above it.
///
/// Bit `seq % WINDOW` says whether `seq` (in `floor + 1 ..= floor + WINDOW`)
/// arrived: held, waiting for the numbers below it ([`arrive`](Self::arrive)),
/// or delivered out of order ([`deliver`](Self::deliver)). Fixed size, no
/// allocation, and small code: a `BTreeSet` would add ~10 KB to the wasm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredSeqs {
    /// Every `seq` from 1 to `floor` was delivered (or given up on).
    floor: u64,
    /// Numbers above the floor that arrived, by `seq % WINDOW`.
    window: [u64; (WINDOW / 64) as usize],
    /// Whether any number was delivered yet (the first sets the baseline).
    started: bool,
    /// Numbers below this are given up on: the floor passes them, each hole
    /// reported as a [`Step::Gap`] (the server said they are gone, or they
    /// did not come in time).
    give_up_below: u64,
    /// The highest number held (frames are held while it is above the floor).
    highest: u64,
}

/// What became of an arriving numbered frame ([`DeliveredSeqs::arrive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Delivered before, or given up on: drop it.
    Duplicate,
    /// The next in order, and nothing held continues it: deliver it now.
    Next,
    /// Held until the numbers below it are delivered or given up on; it
    /// comes out as a [`Step::Release`] (at once, when it was the next).
    Held,
    /// Farther above the floor than the window reaches: give up below it
    /// ([`DeliveredSeqs::give_up_below`]), then it is the next.
    TooFar,
}

/// What moving the floor up does, in order ([`DeliveredSeqs::next_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Deliver the held frame numbered so.
    Release(u64),
    /// The numbers after `after` and before `first` are given up on: tell
    /// the application, as a server's `gap` does.
    Gap {
        /// The floor before.
        after: u64,
        /// The first number after the hole.
        first: u64,
    },
}

impl Default for DeliveredSeqs {
    fn default() -> Self {
        Self {
            floor: 0,
            window: [0; (WINDOW / 64) as usize],
            started: false,
            give_up_below: 0,
            highest: 0,
        }
    }
}

impl DeliveredSeqs {
    /// A numbered frame of the server's stream arrived: what to do with it.
    /// A [`Held`](Arrival::Held) frame comes out of [`next_step`](Self::next_step).
    pub fn arrive(&mut self, seq: u64) -> Arrival {
        self.start(seq);
        if seq <= self.floor || self.has(seq) {
            return Arrival::Duplicate;
        }
        if seq - self.floor > WINDOW {
            return Arrival::TooFar;
        }
        if seq - self.floor == 1 && !self.has(seq + 1) {
            self.floor = seq;
            return Arrival::Next;
        }
        self.flip(seq);
        self.highest = self.highest.max(seq);
        Arrival::Held
    }

    /// The next step of the floor: a held frame that continues it, or a
    /// hole given up on. `None` when the floor waits (or nothing is held).
    pub fn next_step(&mut self) -> Option<Step> {
        let after = self.floor;
        let mut first = after + 1;
        if self.has(first) {
            self.flip(first);
            self.floor = first;
            return Some(Step::Release(first));
        }
        if first >= self.give_up_below {
            return None;
        }
        // The hole ends at the next held frame, or where the giving up does.
        while first < self.give_up_below && !self.has(first) {
            first = if first > self.highest {
                self.give_up_below
            } else {
                first + 1
            };
        }
        self.floor = first - 1;
        Some(Step::Gap { after, first })
    }

    /// Whether frames are held, waiting for a missing number.
    pub fn is_holding(&self) -> bool {
        self.highest > self.floor
    }

    /// Gives up on every number below `seq` not delivered yet: each hole
    /// becomes a [`Step::Gap`], each held frame a release. The first
    /// number ever seen sets the baseline without a report.
    pub fn give_up_below(&mut self, seq: u64) {
        self.start(seq);
        self.give_up_below = self.give_up_below.max(seq);
    }

    /// Gives up on the lowest missing number, and those after it up to the
    /// next held frame (a hole that stayed open too long).
    pub fn give_up_hole(&mut self) {
        let mut seq = self.floor + 1;
        while seq < self.highest && !self.has(seq) {
            seq += 1;
        }
        self.give_up_below(seq);
    }

    /// Delivers every held frame, reporting the holes between them (the
    /// stream they belong to ended).
    pub fn release_all(&mut self) {
        if self.is_holding() {
            self.give_up_below(self.highest + 1);
        }
    }

    /// The first frame sets the baseline: a transport that joins a session
    /// late (a reused session id) is not owed what came before.
    fn start(&mut self, seq: u64) {
        if !self.started {
            self.started = true;
            self.floor = seq.saturating_sub(1);
        }
    }

    /// Records `seq` delivered, in whatever order: returns whether it is new
    /// (deliver it) or a duplicate (drop it). For a follower tab, whose
    /// leader delivers in order; a transport's own stream uses
    /// [`arrive`](Self::arrive).
    pub fn deliver(&mut self, seq: u64) -> bool {
        self.start(seq);
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
