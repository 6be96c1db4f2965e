//! Where session state lives beyond one process. In memory (the default:
//! [`crate::sessions`]) a node keeps everything itself; with the Redis
//! engine the numbered logs, epochs, seen ids, owners and rooms live in one
//! Redis that every node of a cluster shares, and numbered frames reach the
//! node holding a session's channel over pub/sub (issue 15).

pub mod redis;
pub mod sequencer;
