//! One connection for all the tabs of an origin (`shareAcrossTabs`): the
//! rules the tabs follow between them, sans-IO like the rest of the core.
//! The design, the measurements behind it and what is left are in
//! docs/shared-connection.md.
//!
//! - [`Lease`]: electing the leader where the browser has no Web Locks.
//! - [`Mirror`]: the outbox every tab keeps a copy of, so a new leader
//!   re-sends what the old one had not settled.
//! - [`Follower`]: what a tab that does not hold the socket delivers, and
//!   what it takes over with when it becomes the leader.
//!
//! The leader's side lives in the transport: `Input::Adopt` (continue the
//! tabs' session) and `Input::Relay` (send another tab's envelope, tracked
//! by the id that tab gave it), behind the `shared-tabs` feature.
//!
//! Not reached from the boundary yet: it is tested natively here
//! (src/core/tests/tabs.rs), and wired to `transport.js` by a later step.

mod follower;
mod lease;
mod mirror;

pub use follower::{Follower, SessionPoint, Takeover};
pub use lease::{
    Ballot, BallotKind, Lease, Verdict, CLAIM_WINDOW, JOIN_WAIT, LEASE_BEAT, LEASE_TIMEOUT,
};
pub use mirror::{Mirror, Mirrored, SETTLED_MEMORY};

/// A tab's random id, drawn when its transport is made.
pub type TabId = u64;

/// An election's number: each new leader leads in a higher term than the
/// last, so a leader that was frozen and wakes up knows it was replaced.
pub type Term = u64;
