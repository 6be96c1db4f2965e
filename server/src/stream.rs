//! Delivery bookkeeping per session: the numbered stream the server sends
//! (`seq`, with a bounded replay buffer) and the ids it has already received
//! (duplicate suppression for clients that resend until acknowledged).

use std::collections::{HashSet, VecDeque};

use serde_json::{json, Value};

/// Numbered frames kept for replay after a reconnect.
pub const REPLAY_CAPACITY: usize = 1000;
/// Received ids remembered for duplicate suppression.
pub const SEEN_CAPACITY: usize = 10_000;

/// The frames the server sent to one session, numbered from 1.
#[derive(Debug, Default)]
pub struct SessionStream {
    last_seq: u64,
    buffer: VecDeque<(u64, String)>,
}

/// What a reconnecting client gets: the frames after its `last_seq`, preceded
/// by a `gap` envelope when some of them are no longer buffered.
#[derive(Debug, PartialEq)]
pub struct Replay {
    /// Set when frames `after + 1 .. first_available` were lost to the bound.
    pub gap: Option<Value>,
    /// `(seq, JSON text)` in order.
    pub frames: Vec<(u64, String)>,
}

impl SessionStream {
    /// Gives `envelope` the next `seq`, keeps it for replay, and returns its text.
    pub fn number(&mut self, mut envelope: Value) -> String {
        self.last_seq += 1;
        if let Value::Object(fields) = &mut envelope {
            fields.insert("seq".to_owned(), Value::from(self.last_seq));
        }
        let text = envelope.to_string();
        if self.buffer.len() == REPLAY_CAPACITY {
            self.buffer.pop_front();
        }
        self.buffer.push_back((self.last_seq, text.clone()));
        text
    }

    /// The highest `seq` sent so far (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// What to send a client that has delivered everything up to `after`.
    pub fn replay_after(&self, after: u64) -> Replay {
        let first_available = self
            .buffer
            .front()
            .map_or(self.last_seq + 1, |(seq, _)| *seq);
        let gap = (after + 1 < first_available && after < self.last_seq).then(|| {
            json!({
                "type": "gap",
                "data": { "after": after, "firstAvailable": first_available },
            })
        });
        let frames = self
            .buffer
            .iter()
            .filter(|(seq, _)| *seq > after)
            .cloned()
            .collect();
        Replay { gap, frames }
    }
}

/// The envelope ids one session has sent, bounded (oldest forgotten first).
#[derive(Debug, Default)]
pub struct SeenIds {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl SeenIds {
    /// Records `id`; returns false if it was already seen (a duplicate).
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == SEEN_CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(&oldest);
            }
        }
        self.set.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq_of(text: &str) -> u64 {
        serde_json::from_str::<Value>(text).unwrap()["seq"]
            .as_u64()
            .unwrap()
    }

    #[test]
    fn numbers_frames_from_one_and_replays_what_follows() {
        let mut stream = SessionStream::default();
        let texts: Vec<String> = (0..3)
            .map(|n| stream.number(json!({"type": "message", "data": n})))
            .collect();
        assert_eq!(
            texts.iter().map(|t| seq_of(t)).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let replay = stream.replay_after(1);
        assert_eq!(replay.gap, None);
        let replayed: Vec<&String> = replay.frames.iter().map(|(_, text)| text).collect();
        assert_eq!(replayed, texts[1..].iter().collect::<Vec<_>>());
        assert_eq!(replay.frames[0].0, 2);
        assert!(stream.replay_after(3).frames.is_empty());
        assert_eq!(stream.last_seq(), 3);
    }

    #[test]
    fn a_replay_beyond_the_buffer_reports_the_gap() {
        let mut stream = SessionStream::default();
        for n in 0..(REPLAY_CAPACITY + 10) {
            stream.number(json!({"type": "message", "data": n}));
        }
        let replay = stream.replay_after(5);
        assert_eq!(
            replay.gap,
            Some(json!({"type": "gap", "data": {"after": 5, "firstAvailable": 11}}))
        );
        assert_eq!(replay.frames.len(), REPLAY_CAPACITY);
        assert_eq!(seq_of(&replay.frames[0].1), 11);
        // Caught up exactly at the edge: no gap.
        assert_eq!(stream.replay_after(10).gap, None);
    }

    #[test]
    fn seen_ids_catch_duplicates_within_the_bound() {
        let mut seen = SeenIds::default();
        assert!(seen.first_time("a"));
        assert!(!seen.first_time("a"));
        for n in 0..SEEN_CAPACITY {
            seen.first_time(&n.to_string());
        }
        assert!(seen.first_time("a"), "forgotten once the bound is passed");
    }
}
