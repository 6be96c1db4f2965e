//! A tab of a shared connection: what it delivers of the frames the leader
//! publishes, and what it takes over with when it becomes the leader.
//!
//! The leader publishes each frame its own core delivered, with its `seq`.
//! Every tab hears them in the order they were posted, so the only
//! duplicates a tab can see come at a hand-over: the new leader resumes
//! from its own last delivered `seq`, which may be below a tab that had
//! heard more of the old leader before it went, and the server replays from
//! there. A tab drops every `seq` it has delivered, exactly as a transport
//! drops a replayed frame ([`DeliveredSeqs`]), so each frame reaches each
//! tab's application once.

use crate::core::seqs::DeliveredSeqs;
use crate::core::OverflowPolicy;
use crate::prelude::*;

use super::{Mirror, Mirrored};

/// Where the shared session stands, as its leader announces it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionPoint {
    /// The session every tab shares: the first leader's.
    pub session_id: String,
    /// The server's stream epoch (PROTOCOL.md §4.1), once known.
    pub epoch: Option<String>,
    /// The leader's `last_seq` when it announced this: a tab that joined
    /// later is not owed the frames before it, and resumes after it at the
    /// latest if it takes over before any frame reached it.
    pub last_seq: Option<u64>,
    /// The mirror's capacity, the same in every tab: the leader's
    /// `messageQueueSize`.
    pub mirror_capacity: usize,
}

/// What a tab that becomes the leader opens its connection with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Takeover<'a> {
    /// The session to resume: the last leader's, or this tab's own when it
    /// never heard a leader (it is the first).
    pub session_id: &'a str,
    /// The epoch to resume in, when the last leader had one.
    pub epoch: Option<&'a str>,
    /// `last_seq`: every frame up to it was delivered in this tab.
    pub resume_after: Option<u64>,
    /// Re-send these first, oldest first, with the ids they were posted with.
    pub resend: &'a [Mirrored],
}

/// One tab's side of a shared connection.
#[derive(Debug, Clone)]
pub struct Follower {
    own_session_id: String,
    announced: Option<SessionPoint>,
    delivered: DeliveredSeqs,
    mirror: Mirror,
}

impl Follower {
    /// A tab whose own transport would use `session_id`, mirroring at most
    /// `capacity` unsettled messages (its `messageQueueSize`), full by its
    /// `overflow` policy (its `queueOverflow`).
    pub fn new(session_id: &str, capacity: usize, overflow: OverflowPolicy) -> Self {
        Self {
            own_session_id: session_id.to_owned(),
            announced: None,
            delivered: DeliveredSeqs::default(),
            mirror: Mirror::new(capacity, overflow),
        }
    }

    /// The leader announced where the session stands. Returns the messages
    /// its mirror capacity pushed out of this tab's mirror (their tabs
    /// reject their promises, as a full queue does), oldest first.
    ///
    /// A session or an epoch other than the last announced (a leader that
    /// never heard the last one started its own; the server started the
    /// stream over) numbers its frames afresh: what this tab delivered of
    /// the old one says nothing about the new one.
    pub fn announced(&mut self, point: SessionPoint) -> Vec<Mirrored> {
        let stream_changed = self.announced.as_ref().is_some_and(|last| {
            last.session_id != point.session_id
                || (last.epoch.is_some() && last.epoch != point.epoch)
        });
        if stream_changed {
            self.delivered = DeliveredSeqs::default();
        }
        if let (None, Some(last)) = (self.delivered.resume_after(), point.last_seq) {
            self.delivered.skip_to(last.saturating_add(1));
        }
        let evicted = self.mirror.set_capacity(point.mirror_capacity);
        self.announced = Some(point);
        evicted
    }

    /// This tab joined late and the leader answered with its mirror: see
    /// [`Mirror::joined`]. Returns what the capacity pushed out.
    pub fn joined(&mut self, leaders_mirror: Vec<Mirrored>) -> Vec<Mirrored> {
        self.mirror.joined(leaders_mirror)
    }

    /// The session this tab's snapshot shows: the leader's once announced.
    pub fn session_id(&self) -> &str {
        self.announced
            .as_ref()
            .map_or(&self.own_session_id, |point| &point.session_id)
    }

    /// The leader published a frame (numbered `seq`, or not numbered):
    /// whether this tab delivers it to its application.
    pub fn frame(&mut self, seq: Option<u64>) -> bool {
        seq.is_none_or(|seq| self.delivered.deliver(seq))
    }

    /// The leader found the server's stream started over at `first_seq`
    /// (a `reset`): frames from there on are new again.
    pub fn stream_reset(&mut self, first_seq: u64) {
        self.delivered = DeliveredSeqs::starting_at(first_seq);
    }

    /// The leader was told frames before `first_available` are gone (a `gap`).
    pub fn gap(&mut self, first_available: u64) {
        self.delivered.skip_to(first_available);
    }

    /// A tab posted a message: it enters this tab's mirror. Returns the
    /// oldest message, pushed out when the mirror was full (its tab rejects
    /// its promise, as a full queue does).
    pub fn posted(&mut self, message: Mirrored) -> Option<Mirrored> {
        self.mirror.posted(message)
    }

    /// The leader settled message `id` (written, acknowledged, dropped or
    /// failed): it leaves the mirror.
    pub fn settled(&mut self, id: &str) -> Option<Mirrored> {
        self.mirror.settled(id)
    }

    /// How many messages wait for a leader to settle them.
    pub fn unsettled(&self) -> usize {
        self.mirror.len()
    }

    /// This tab becomes the leader: what it opens its connection with.
    pub fn takeover(&self) -> Takeover<'_> {
        let announced = self.announced.as_ref();
        Takeover {
            session_id: self.session_id(),
            epoch: announced.and_then(|point| point.epoch.as_deref()),
            resume_after: self.delivered.resume_after(),
            resend: self.mirror.to_resend(),
        }
    }
}
