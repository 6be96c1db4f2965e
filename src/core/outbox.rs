//! What the transport holds on to: messages not yet on the wire, and (with
//! `delivery: "at-least-once"`) messages on the wire whose ack has not come.
//!
//! One FIFO for both, bounded by `messageQueueSize` with the queue's overflow
//! policy, so re-sending after a reconnect or a mode switch is simply "send
//! everything held, in order". An entry without an ack id is forgotten as soon
//! as it is on a socket (or its POST succeeded); one with an id stays until
//! [`Outbox::acknowledge`].

use crate::prelude::*;

use super::queue::{Enqueued, OfflineQueue, OverflowPolicy};

/// One held message.
#[derive(Debug, Clone, PartialEq)]
pub struct Held<P> {
    /// The serialised frame.
    pub payload: P,
    /// The number of the envelope the server will acknowledge (its id is
    /// `message_id(number)`: a number, so tracking a message allocates no
    /// string); `None` when not tracked.
    pub ack: Option<u64>,
    /// Whether it may travel in an HTTP POST (envelopes only: raw and binary
    /// frames wait for a WebSocket).
    pub http: bool,
    /// On the wire (or in a POST) on the current channel.
    pub sent: bool,
    /// Its size, as `Input::Send` gave it.
    pub bytes: u32,
}

/// The bounded FIFO of held messages.
#[derive(Debug, Clone)]
pub struct Outbox<P> {
    held: OfflineQueue<Held<P>>,
    /// How many messages the last POST carried.
    posted: usize,
}

impl<P: Clone> Outbox<P> {
    /// An empty outbox.
    pub fn new(capacity: usize, policy: OverflowPolicy) -> Self {
        Self {
            held: OfflineQueue::new(capacity, policy),
            posted: 0,
        }
    }

    /// Offers a message, applying the overflow policy when full.
    pub fn push(&mut self, held: Held<P>) -> Enqueued<Held<P>> {
        self.held.push(held)
    }

    /// The first `max_count` entries not on the wire, oldest first, for
    /// the open socket: tracked ones are marked sent, the others forgotten.
    pub fn take_for_socket(&mut self, max_count: usize) -> Vec<P> {
        let mut out = Vec::new();
        self.held.retain_mut(|held| {
            if held.sent || out.len() >= max_count {
                return true;
            }
            out.push(held.payload.clone());
            held.sent = true;
            held.ack.is_some()
        });
        out
    }

    /// The entries that may be POSTed and are not on the wire, oldest
    /// first, up to the first that would take the JSON array past
    /// `max_bytes` (a server's body limit is its message limit; the first
    /// always goes) and at most `max_count` (at least 1), marked sent until
    /// [`Outbox::post_finished`].
    pub fn take_for_post(&mut self, max_bytes: u32, max_count: usize) -> Vec<P> {
        let mut batch = Vec::new();
        // The brackets, then each message and its comma.
        let mut room = max_bytes.saturating_sub(1);
        for held in self.held.iter_mut() {
            if held.sent || !held.http {
                continue;
            }
            if !batch.is_empty() && (batch.len() >= max_count || held.bytes >= room) {
                break;
            }
            room = room.saturating_sub(held.bytes + 1);
            held.sent = true;
            batch.push(held.payload.clone());
        }
        self.posted = batch.len();
        batch
    }

    /// Whether the last POST carried one message.
    pub fn posted_alone(&self) -> bool {
        self.posted == 1
    }

    /// A POST ended. Success: its untracked messages were delivered. Failure:
    /// they go back to waiting, in place. (Tracked ones wait for their ack.)
    pub fn post_finished(&mut self, delivered: bool) {
        if delivered {
            self.held
                .retain_mut(|held| held.ack.is_some() || !held.sent);
        } else {
            for held in self.held.iter_mut() {
                if held.ack.is_none() {
                    held.sent = false;
                }
            }
        }
    }

    /// The channel went away: every tracked message goes out again on the next one.
    pub fn resend_unacked(&mut self) {
        for held in self.held.iter_mut() {
            if held.ack.is_some() {
                held.sent = false;
            }
        }
    }

    /// Drops the tracked entry of envelope `number`; returns whether there was one.
    pub fn acknowledge(&mut self, number: u64) -> bool {
        self.held.remove_first(|held| held.ack == Some(number))
    }

    /// Removes the largest entry on the wire (the one a server that refused
    /// a message as too big most likely refused), oldest among equals.
    /// Untracked messages on a socket are already forgotten, so only POSTed
    /// ones could be on the wire untracked: those are taken as delivered too
    /// (at-most-once), as their POST would be. (A 413 refuses a POST of one
    /// message: then that is the one.)
    pub fn remove_largest_sent(&mut self) -> Option<Held<P>> {
        let mut largest: Option<&mut Held<P>> = None;
        for held in self.held.iter_mut() {
            let larger = largest
                .as_deref()
                .is_none_or(|other| held.bytes > other.bytes);
            if held.sent && larger {
                largest = Some(held);
            }
        }
        let largest = largest?;
        let given_up = largest.clone();
        // Untracked and on the wire: the sweep of a delivered POST forgets it
        // (one removal for both, not a second copy of `retain`).
        largest.ack = None;
        self.post_finished(true);
        Some(given_up)
    }

    /// Whether a tracked message is on the wire awaiting its ack.
    pub fn awaiting_ack(&self) -> bool {
        self.held.iter().any(|held| held.sent && held.ack.is_some())
    }

    /// The envelope numbers of every tracked message.
    pub fn tracked(&self) -> Vec<u64> {
        // A loop, not `filter_map(..).collect()`: the iterator's collect is
        // a generic instantiation of its own in the wasm build.
        let mut numbers = Vec::new();
        for held in self.held.iter() {
            if let Some(number) = held.ack {
                numbers.push(number);
            }
        }
        numbers
    }

    /// Held messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &P> {
        self.held.iter().map(|held| &held.payload)
    }

    /// The held messages after the first `skip`, oldest first.
    pub fn iter_from(&self, skip: usize) -> impl Iterator<Item = &P> {
        self.held.iter_from(skip).map(|held| &held.payload)
    }

    /// See [`OfflineQueue::removals`].
    pub fn removals(&self) -> u32 {
        self.held.removals()
    }

    /// How many messages are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The maximum number held.
    pub fn capacity(&self) -> usize {
        self.held.capacity()
    }

    /// Forgets everything; returns the numbers of tracked messages forgotten.
    pub fn clear(&mut self) -> Vec<u64> {
        let numbers = self.tracked();
        self.held.clear();
        numbers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(payload: u32, tracked: bool, http: bool) -> Held<u32> {
        Held {
            payload,
            ack: tracked.then_some(u64::from(payload)),
            http,
            sent: false,
            bytes: payload,
        }
    }

    fn outbox(entries: &[(u32, bool, bool)]) -> Outbox<u32> {
        let mut outbox = Outbox::new(10, OverflowPolicy::DropOldest);
        for &(payload, tracked, http) in entries {
            outbox.push(held(payload, tracked, http));
        }
        outbox
    }

    #[test]
    fn a_socket_takes_everything_and_keeps_only_the_tracked() {
        let mut outbox = outbox(&[(1, true, true), (2, false, false), (3, true, true)]);
        assert_eq!(outbox.take_for_socket(usize::MAX), [1, 2, 3]);
        assert_eq!(outbox.iter().copied().collect::<Vec<_>>(), [1, 3]);
        assert!(outbox.take_for_socket(usize::MAX).is_empty());
        outbox.resend_unacked();
        assert!(outbox.acknowledge(1));
        assert!(!outbox.acknowledge(1));
        assert_eq!(outbox.take_for_socket(usize::MAX), [3]);
    }

    #[test]
    fn a_paced_socket_takes_the_oldest_unsent_up_to_its_allowance() {
        let mut socket = outbox(&[(1, true, true), (2, false, true), (3, true, true)]);
        assert_eq!(socket.take_for_socket(2), [1, 2]);
        assert_eq!(socket.iter().copied().collect::<Vec<_>>(), [1, 3]);
        assert!(socket.take_for_socket(0).is_empty());
        assert_eq!(socket.take_for_socket(5), [3]);
        let mut posts = outbox(&[(1, false, true), (2, false, true), (3, false, true)]);
        assert_eq!(posts.take_for_post(u32::MAX, 2), [1, 2], "a POST too");
    }

    #[test]
    fn a_post_takes_envelopes_only_and_a_failed_one_puts_them_back() {
        let mut outbox = outbox(&[(1, false, true), (2, false, false), (3, false, true)]);
        assert_eq!(outbox.take_for_post(u32::MAX, usize::MAX), [1, 3]);
        assert!(outbox.take_for_post(u32::MAX, usize::MAX).is_empty());
        outbox.post_finished(false);
        assert_eq!(outbox.take_for_post(u32::MAX, usize::MAX), [1, 3]);
        outbox.post_finished(true);
        assert_eq!(outbox.iter().copied().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn the_largest_message_on_the_wire_is_the_one_given_up() {
        // Sizes are the payloads: 7 is the largest sent and tracked; 9 was
        // never sent; 8 is not tracked (a socket forgot it).
        let mut outbox = outbox(&[
            (3, true, true),
            (7, true, true),
            (8, false, false),
            (5, true, true),
        ]);
        outbox.take_for_socket(usize::MAX);
        outbox.push(held(9, true, true));
        let given_up = outbox.remove_largest_sent().map(|held| held.payload);
        assert_eq!(given_up, Some(7));
        assert_eq!(outbox.iter().copied().collect::<Vec<_>>(), [3, 5, 9]);
        let mut empty = super::Outbox::<u32>::new(3, OverflowPolicy::DropOldest);
        assert_eq!(empty.remove_largest_sent(), None);
    }

    #[test]
    fn a_post_takes_what_fits_in_the_limit_in_order() {
        // Sizes are the payloads: 5 and 3 make an array of 2 + 5 + 1 + 3 = 11 bytes.
        let mut outbox = outbox(&[(5, false, true), (3, false, true), (2, false, true)]);
        assert_eq!(outbox.take_for_post(11, usize::MAX), [5, 3]);
        outbox.post_finished(true);
        let mut outbox = super::Outbox::new(10, OverflowPolicy::DropOldest);
        for size in [20, 1] {
            outbox.push(held(size, false, true));
        }
        assert_eq!(
            outbox.take_for_post(10, usize::MAX),
            [20],
            "one too big goes alone"
        );
        assert_eq!(outbox.take_for_post(10, usize::MAX), [1]);
    }

    #[test]
    fn after_a_413_each_post_carries_one_message_and_the_one_refused_alone_goes() {
        let mut outbox = outbox(&[(4, false, true), (6, false, true), (5, true, true)]);
        assert_eq!(outbox.take_for_post(u32::MAX, 1), [4]);
        assert!(outbox.posted_alone());
        // Refused alone: it is the largest on the wire, untracked or not,
        // and the others stay as they were.
        assert_eq!(
            outbox.remove_largest_sent().map(|held| held.payload),
            Some(4)
        );
        assert_eq!(outbox.iter().copied().collect::<Vec<_>>(), [6, 5]);
        assert_eq!(outbox.take_for_post(u32::MAX, usize::MAX), [6, 5]);
        assert!(!outbox.posted_alone());
        outbox.post_finished(false);
        assert_eq!(
            outbox.iter().copied().collect::<Vec<_>>(),
            [6, 5],
            "back to waiting"
        );
    }

    #[test]
    fn tracked_messages_survive_a_successful_post_until_acked() {
        let mut outbox = outbox(&[(1, true, true), (2, false, true)]);
        assert_eq!(outbox.take_for_post(u32::MAX, usize::MAX), [1, 2]);
        outbox.post_finished(true);
        assert!(outbox.awaiting_ack());
        assert_eq!(outbox.tracked(), [1]);
        assert_eq!(outbox.clear(), [1]);
        assert!(outbox.is_empty());
    }
}
