//! The bounded offline queue: what `send()` keeps while there is no socket.

use crate::prelude::*;

/// What to do when a message arrives and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Drop the oldest queued message to make room (default).
    DropOldest,
    /// Drop the message being sent.
    DropNewest,
    /// Refuse the message; `send()` throws.
    Error,
}

impl OverflowPolicy {
    /// Parses the option value (`"drop-oldest"`, `"drop-newest"`, `"error"`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "drop-oldest" => Some(Self::DropOldest),
            "drop-newest" => Some(Self::DropNewest),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

/// The result of offering a message to a full or non-full queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued<P> {
    /// The message is queued; `dropped` is the oldest one it displaced, if any.
    Queued {
        /// The message dropped to make room (drop-oldest only).
        dropped: Option<P>,
    },
    /// The queue was full and the policy dropped the new message.
    DroppedNewest(P),
    /// The queue was full and the policy refuses new messages.
    Full(P),
}

/// A FIFO queue that never holds more than `capacity` messages.
///
/// A `Vec`, not a `VecDeque`: the queue is short (100 by default) and drained
/// whole, and `VecDeque`'s ring-buffer code costs ~2.5 KB of wasm.
#[derive(Debug, Clone)]
pub struct OfflineQueue<P> {
    items: Vec<P>,
    capacity: usize,
    policy: OverflowPolicy,
    /// Changes whenever a message may have left (see [`Self::removals`]).
    removals: u32,
}

impl<P> OfflineQueue<P> {
    /// An empty queue.
    pub fn new(capacity: usize, policy: OverflowPolicy) -> Self {
        Self {
            items: Vec::new(),
            capacity,
            policy,
            removals: 0,
        }
    }

    /// Offers a message, applying the overflow policy when full.
    pub fn push(&mut self, message: P) -> Enqueued<P> {
        if self.items.len() < self.capacity {
            self.items.push(message);
            return Enqueued::Queued { dropped: None };
        }
        match self.policy {
            OverflowPolicy::DropOldest if self.capacity > 0 => {
                // Not `Vec::remove(0)`: its bounds assertion links integer
                // formatting into wasm. Collecting the rest reuses the buffer.
                self.removed();
                let mut rest = ::core::mem::take(&mut self.items).into_iter();
                let dropped = rest.next();
                self.items = rest.collect();
                self.items.push(message);
                Enqueued::Queued { dropped }
            }
            // A zero-capacity queue can only drop what it is given.
            OverflowPolicy::DropOldest | OverflowPolicy::DropNewest => {
                Enqueued::DroppedNewest(message)
            }
            OverflowPolicy::Error => Enqueued::Full(message),
        }
    }

    /// Removes and returns everything, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = P> {
        self.removed();
        ::core::mem::take(&mut self.items).into_iter()
    }

    /// Keeps only the messages `keep` approves (it may change them), in order.
    pub fn retain_mut(&mut self, keep: impl FnMut(&mut P) -> bool) {
        self.removed();
        self.items.retain_mut(keep);
    }

    /// Removes the first message matching `matches`; returns whether one did.
    pub fn remove_first(&mut self, mut matches: impl FnMut(&P) -> bool) -> bool {
        self.removed();
        let mut found = false;
        self.items.retain(|item| {
            let remove = !found && matches(item);
            found |= remove;
            !remove
        });
        found
    }

    /// Queued messages, oldest first, for changing in place.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut P> {
        self.items.iter_mut()
    }

    /// Drops everything queued.
    pub fn clear(&mut self) {
        self.removed();
        self.items.clear();
    }

    /// Queued messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &P> {
        self.items.iter()
    }

    /// The queued messages after the first `skip`, oldest first, without
    /// walking those.
    pub fn iter_from(&self, skip: usize) -> impl Iterator<Item = &P> {
        self.items.get(skip..).unwrap_or_default().iter()
    }

    /// A number that changes whenever a message may have left the queue
    /// (it wraps). While it stays the same, the queue only grew at its
    /// end: a driver that mirrors it adds what follows what it has, in
    /// O(1) per message, instead of comparing the whole queue.
    pub fn removals(&self) -> u32 {
        self.removals
    }

    fn removed(&mut self) {
        self.removals = self.removals.wrapping_add(1);
    }

    /// How many messages are queued.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The maximum number of messages kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_queue(policy: OverflowPolicy) -> OfflineQueue<u32> {
        let mut queue = OfflineQueue::new(3, policy);
        for n in 1..=3 {
            assert_eq!(queue.push(n), Enqueued::Queued { dropped: None });
        }
        queue
    }

    #[test]
    fn drop_oldest_keeps_the_newest_in_order() {
        let mut queue = full_queue(OverflowPolicy::DropOldest);
        assert_eq!(queue.push(4), Enqueued::Queued { dropped: Some(1) });
        assert_eq!(queue.iter().copied().collect::<Vec<_>>(), [2, 3, 4]);
    }

    #[test]
    fn drop_newest_keeps_the_oldest() {
        let mut queue = full_queue(OverflowPolicy::DropNewest);
        assert_eq!(queue.push(4), Enqueued::DroppedNewest(4));
        assert_eq!(queue.drain().collect::<Vec<_>>(), [1, 2, 3]);
        assert!(queue.is_empty());
    }

    #[test]
    fn error_refuses_without_changing_the_queue() {
        let mut queue = full_queue(OverflowPolicy::Error);
        assert_eq!(queue.push(4), Enqueued::Full(4));
        assert_eq!(queue.len(), 3);
    }

    #[test]
    fn zero_capacity_never_holds_anything() {
        let mut queue = OfflineQueue::new(0, OverflowPolicy::DropOldest);
        assert_eq!(queue.push(1), Enqueued::DroppedNewest(1));
        assert_eq!(queue.len(), 0);
        assert_eq!(
            OverflowPolicy::parse("drop-newest"),
            Some(OverflowPolicy::DropNewest)
        );
        assert_eq!(OverflowPolicy::parse("drop"), None);
    }
}
