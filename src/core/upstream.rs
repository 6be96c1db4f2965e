//! What the application sends: the outbox (held until sent, or until
//! acknowledged with `delivery: "at-least-once"`) and the ack clock.
//!
//! One clock for all tracked messages, not one per message: it runs from the
//! last acknowledgement (or from when tracking started), so a channel that
//! keeps acknowledging stays up however long the backlog, and one that stops
//! is taken for dead `ackTimeout` after its last sign of life.

use crate::prelude::*;

use super::outbox::{Held, Outbox};
use super::queue::{Enqueued, OverflowPolicy};
use super::time::{Duration, Instant};

/// The outbox and its ack clock.
#[derive(Debug, Clone)]
pub struct Upstream<P> {
    outbox: Outbox<P>,
    ack_timeout: Option<Duration>,
    /// When the ack clock last saw progress; `None` while it is not running.
    ack_progress_at: Option<Instant>,
    #[cfg(any(test, feature = "shared-tabs"))]
    /// The ids other tabs gave the tracked envelopes this tab relays for
    /// them (the leader of a connection shared across tabs), by this tab's
    /// number for each: their acks name those ids, not this tab's.
    relayed: Vec<(u64, String)>,
}

impl<P: Clone> Upstream<P> {
    /// An empty outbox of `capacity` with `policy`; `ack_timeout` zero means
    /// tracked messages wait for their acks forever.
    pub fn new(capacity: usize, policy: OverflowPolicy, ack_timeout: Duration) -> Self {
        Self {
            outbox: Outbox::new(capacity, policy),
            ack_timeout: ack_timeout.non_zero(),
            ack_progress_at: None,
            #[cfg(any(test, feature = "shared-tabs"))]
            relayed: Vec::new(),
        }
    }

    #[cfg(any(test, feature = "shared-tabs"))]
    /// Tracked envelope `number` is another tab's, sent with `id`.
    pub fn relaying(&mut self, number: u64, id: String) {
        self.relayed.push((number, id));
    }

    #[cfg(any(test, feature = "shared-tabs"))]
    /// This tab's number for the relayed envelope `id`, while it is tracked.
    pub fn relayed_number(&self, id: &str) -> Option<u64> {
        self.relayed
            .iter()
            .find(|(_, relayed)| relayed == id)
            .map(|(number, _)| *number)
    }

    #[cfg(any(test, feature = "shared-tabs"))]
    /// Envelope `number` is no longer tracked (acknowledged, dropped, refused).
    fn forget_relayed(&mut self, number: u64) {
        self.relayed.retain(|(relayed, _)| *relayed != number);
    }

    /// The held messages.
    pub fn outbox(&self) -> &Outbox<P> {
        &self.outbox
    }

    /// Offers a message to the outbox (overflow policy applies).
    pub fn hold(&mut self, held: Held<P>) -> Enqueued<Held<P>> {
        let enqueued = self.outbox.push(held);
        // A tracked message the policy dropped or refused is no longer
        // tracked: its relayed id goes with it.
        #[cfg(any(test, feature = "shared-tabs"))]
        if let Enqueued::Queued {
            dropped: Some(gone),
        }
        | Enqueued::DroppedNewest(gone)
        | Enqueued::Full(gone) = &enqueued
        {
            if let Some(number) = gone.ack {
                self.forget_relayed(number);
            }
        }
        enqueued
    }

    /// The first `max_count` messages not on the wire, for the open socket.
    pub fn take_for_socket(&mut self, max_count: usize) -> Vec<P> {
        self.outbox.take_for_socket(max_count)
    }

    /// Envelopes not on the wire, for the next POST of at most
    /// `max_bytes` and `max_count` (see [`Outbox::take_for_post`]).
    pub fn take_for_post(&mut self, max_bytes: u32, max_count: usize) -> Vec<P> {
        self.outbox.take_for_post(max_bytes, max_count)
    }

    /// Whether the last POST carried one message.
    pub fn posted_alone(&self) -> bool {
        self.outbox.posted_alone()
    }

    /// Gives up the largest message on the wire (a server refused one as
    /// too big): it is no longer held, nor tracked.
    pub fn give_up_largest_sent(&mut self) -> Option<Held<P>> {
        let held = self.outbox.remove_largest_sent()?;
        #[cfg(any(test, feature = "shared-tabs"))]
        if let Some(number) = held.ack {
            self.forget_relayed(number);
        }
        Some(held)
    }

    /// A POST ended (see [`Outbox::post_finished`]).
    pub fn post_finished(&mut self, delivered: bool) {
        self.outbox.post_finished(delivered);
    }

    /// The channel went away: tracked messages go out again on the next one,
    /// and the clock stops until they do.
    pub fn channel_lost(&mut self) {
        self.outbox.resend_unacked();
        self.ack_progress_at = None;
    }

    /// Stops the ack clock (its deadline was reached and dealt with).
    pub fn stop_clock(&mut self) {
        self.ack_progress_at = None;
    }

    /// Starts the ack clock if tracked messages are on the wire and it is not running.
    pub fn start_clock(&mut self, now: Instant) {
        if self.ack_timeout.is_some()
            && self.ack_progress_at.is_none()
            && self.outbox.awaiting_ack()
        {
            self.ack_progress_at = Some(now);
        }
    }

    /// The server acknowledged envelope `number`; false when it was not
    /// held (a second ack for a resent copy, or a number never tracked).
    pub fn acknowledge(&mut self, now: Instant, number: u64) -> bool {
        if !self.outbox.acknowledge(number) {
            return false;
        }
        #[cfg(any(test, feature = "shared-tabs"))]
        self.forget_relayed(number);
        self.ack_progress_at = self.outbox.awaiting_ack().then_some(now);
        true
    }

    /// When the channel is taken for dead if no ack comes.
    pub fn poll_timeout(&self) -> Option<Instant> {
        Some(self.ack_progress_at? + self.ack_timeout?)
    }

    /// Forgets everything held; returns the tracked numbers forgotten.
    pub fn clear(&mut self) -> Vec<u64> {
        self.ack_progress_at = None;
        #[cfg(any(test, feature = "shared-tabs"))]
        self.relayed.clear();
        self.outbox.clear()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(payload: u32) -> Held<u32> {
        Held {
            payload,
            ack: Some(u64::from(payload)),
            http: true,
            sent: false,
            bytes: 1,
        }
    }

    fn at(ms: f64) -> Instant {
        Instant::from_ms(ms)
    }

    #[test]
    fn the_clock_runs_from_the_last_ack_and_stops_when_all_are_in() {
        let mut up = Upstream::new(10, OverflowPolicy::DropOldest, Duration::from_ms(1000.0));
        up.hold(tracked(1));
        up.hold(tracked(2));
        up.start_clock(at(0.0));
        assert_eq!(up.poll_timeout(), None, "nothing on the wire yet");
        assert_eq!(up.take_for_socket(usize::MAX), [1, 2]);
        up.start_clock(at(10.0));
        assert_eq!(up.poll_timeout(), Some(at(1010.0)));
        assert!(up.acknowledge(at(600.0), 1));
        assert_eq!(up.poll_timeout(), Some(at(1600.0)));
        assert!(!up.acknowledge(at(700.0), 1));
        assert!(up.acknowledge(at(800.0), 2));
        assert_eq!(up.poll_timeout(), None);
    }

    #[test]
    fn without_an_ack_timeout_there_is_no_deadline() {
        let mut up = Upstream::new(10, OverflowPolicy::DropOldest, Duration::ZERO);
        up.hold(tracked(1));
        up.take_for_socket(usize::MAX);
        up.start_clock(at(0.0));
        assert_eq!(up.poll_timeout(), None);
    }

    #[test]
    fn a_lost_channel_stops_the_clock_and_sends_tracked_messages_again() {
        let mut up = Upstream::new(10, OverflowPolicy::DropOldest, Duration::from_ms(50.0));
        up.hold(tracked(1));
        up.take_for_socket(usize::MAX);
        up.start_clock(at(0.0));
        up.channel_lost();
        assert_eq!(up.poll_timeout(), None);
        assert_eq!(up.take_for_socket(usize::MAX), [1]);
    }
}
