//! The outbox every tab of a shared connection keeps a copy of
//! (docs/shared-connection.md).
//!
//! A tab's send is posted to all tabs and enters every mirror; the leader's
//! report of the message's fate (on the wire for an at-most-once message,
//! acknowledged for an at-least-once one, dropped or failed) takes it out of
//! every mirror. So whichever tab becomes leader holds every message not yet
//! settled, in the order it was posted, and re-sends them before anything
//! new: the messages of a leader that went away are not lost, and the ids
//! they were first sent with make the server drop any copy it already had.

use crate::core::OverflowPolicy;
use crate::prelude::*;

use super::TabId;

/// How many settled ids a mirror remembers (see [`Mirror::joined`]): the
/// settlements a late tab can hear between the leader copying its mirror
/// and the copy arriving, which is a few messages' worth, whatever the
/// capacity.
pub const SETTLED_MEMORY: usize = 256;

/// One message in the mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirrored {
    /// The tab that sent it (its `sendWithAck` promise is there).
    pub tab: TabId,
    /// The envelope's id: the sending tab's prefix and number.
    pub id: String,
    /// The frame as the sending tab wrote it.
    pub frame: String,
    /// It waits for the server's acknowledgement (at-least-once).
    pub awaits_ack: bool,
}

/// The messages posted and not yet settled, oldest first.
#[derive(Debug, Clone)]
pub struct Mirror {
    messages: Vec<Mirrored>,
    capacity: usize,
    /// Which message goes when a post finds the mirror full: the same rule
    /// as the leader's queue (`queueOverflow`), so that both let the same
    /// message go.
    overflow: OverflowPolicy,
    /// The ids settled lately (at most [`SETTLED_MEMORY`], newest last): a
    /// leader's mirror sent to a late tab may be older than a settlement
    /// the tab heard, and must not bring such a message back.
    settled: Vec<String>,
}

impl Mirror {
    /// A mirror of at most `capacity` messages (at least one); a post that
    /// finds it full lets go of the message `overflow` says.
    pub fn new(capacity: usize, overflow: OverflowPolicy) -> Self {
        Self {
            messages: Vec::new(),
            capacity: capacity.max(1),
            overflow,
            settled: Vec::new(),
        }
    }

    /// A tab posted `message`. A repeat of an id already here (a tab
    /// re-posting after a hand-over) keeps its first place. Returns the
    /// message let go when the mirror was full: the oldest under
    /// `"drop-oldest"`, else `message` itself, which is not kept.
    pub fn posted(&mut self, message: Mirrored) -> Option<Mirrored> {
        if self.messages.iter().any(|held| held.id == message.id) {
            return None;
        }
        if self.messages.len() >= self.capacity && self.overflow != OverflowPolicy::DropOldest {
            return Some(message);
        }
        self.messages.push(message);
        // One push over a full mirror pushes out one message at most.
        drop_oldest(&mut self.messages, self.capacity).pop()
    }

    /// The leader settled `id` (written, acknowledged, dropped or failed):
    /// returns the message, if it was here.
    pub fn settled(&mut self, id: &str) -> Option<Mirrored> {
        self.settled.push(id.to_owned());
        drop_oldest(&mut self.settled, SETTLED_MEMORY);
        self.take_first(|held| held.id == id)
    }

    /// Takes the leader's capacity (one for every tab, so that every mirror
    /// evicts the same messages); returns the oldest messages pushed out if
    /// it is smaller than what is held, oldest first.
    pub fn set_capacity(&mut self, capacity: usize) -> Vec<Mirrored> {
        self.capacity = capacity.max(1);
        drop_oldest(&mut self.messages, self.capacity)
    }

    /// A tab that joined late gets the leader's mirror: it holds those
    /// messages in the leader's order, then any it heard posted since that
    /// the leader's copy did not have yet. Returns what the capacity pushed out.
    pub fn joined(&mut self, mut leaders: Vec<Mirrored>) -> Vec<Mirrored> {
        leaders.retain(|message| !self.settled.contains(&message.id));
        let mine = ::core::mem::replace(&mut self.messages, leaders);
        let mut evicted = drop_oldest(&mut self.messages, self.capacity);
        for message in mine {
            evicted.extend(self.posted(message));
        }
        evicted
    }

    /// What a tab that becomes leader re-sends, oldest first.
    pub fn to_resend(&self) -> &[Mirrored] {
        &self.messages
    }

    /// How many messages wait.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether no message waits.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Takes out the first message that `matches`, keeping the others' order
    /// (`retain`, not `Vec::remove`: see lint/size).
    fn take_first(&mut self, matches: impl Fn(&Mirrored) -> bool) -> Option<Mirrored> {
        let mut taken = None;
        self.messages.retain(|held| {
            if taken.is_none() && matches(held) {
                taken = Some(held.clone());
                return false;
            }
            true
        });
        taken
    }
}

/// Keeps the newest `keep` items of `items`; returns the older ones, oldest
/// first. (`split_off` at a length it computed: within bounds.)
fn drop_oldest<T>(items: &mut Vec<T>, keep: usize) -> Vec<T> {
    let excess = items.len().saturating_sub(keep);
    let kept = items.split_off(excess);
    ::core::mem::replace(items, kept)
}
