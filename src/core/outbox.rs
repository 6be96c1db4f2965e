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
}

/// The bounded FIFO of held messages.
#[derive(Debug, Clone)]
pub struct Outbox<P> {
    held: OfflineQueue<Held<P>>,
}

impl<P: Clone> Outbox<P> {
    /// An empty outbox.
    pub fn new(capacity: usize, policy: OverflowPolicy) -> Self {
        Self {
            held: OfflineQueue::new(capacity, policy),
        }
    }

    /// Offers a message, applying the overflow policy when full.
    pub fn push(&mut self, held: Held<P>) -> Enqueued<Held<P>> {
        self.held.push(held)
    }

    /// Every entry not on the wire, oldest first, for a socket that just
    /// opened: tracked ones are marked sent, the others forgotten.
    pub fn take_for_socket(&mut self) -> Vec<P> {
        let mut out = Vec::new();
        self.held.retain_mut(|held| {
            if held.sent {
                return true;
            }
            out.push(held.payload.clone());
            held.sent = true;
            held.ack.is_some()
        });
        out
    }

    /// Every entry that may be POSTed and is not on the wire, oldest first,
    /// marked sent until [`Outbox::post_finished`].
    pub fn take_for_post(&mut self) -> Vec<P> {
        let mut batch = Vec::new();
        for held in self.held.iter_mut() {
            if !held.sent && held.http {
                held.sent = true;
                batch.push(held.payload.clone());
            }
        }
        batch
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
        assert_eq!(outbox.take_for_socket(), [1, 2, 3]);
        assert_eq!(outbox.iter().copied().collect::<Vec<_>>(), [1, 3]);
        assert!(outbox.take_for_socket().is_empty());
        outbox.resend_unacked();
        assert!(outbox.acknowledge(1));
        assert!(!outbox.acknowledge(1));
        assert_eq!(outbox.take_for_socket(), [3]);
    }

    #[test]
    fn a_post_takes_envelopes_only_and_a_failed_one_puts_them_back() {
        let mut outbox = outbox(&[(1, false, true), (2, false, false), (3, false, true)]);
        assert_eq!(outbox.take_for_post(), [1, 3]);
        assert!(outbox.take_for_post().is_empty());
        outbox.post_finished(false);
        assert_eq!(outbox.take_for_post(), [1, 3]);
        outbox.post_finished(true);
        assert_eq!(outbox.iter().copied().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn tracked_messages_survive_a_successful_post_until_acked() {
        let mut outbox = outbox(&[(1, true, true), (2, false, true)]);
        assert_eq!(outbox.take_for_post(), [1, 2]);
        outbox.post_finished(true);
        assert!(outbox.awaiting_ack());
        assert_eq!(outbox.tracked(), [1]);
        assert_eq!(outbox.clear(), [1]);
        assert!(outbox.is_empty());
    }
}
