//! Where session state lives beyond one process. In memory (the default:
//! [`crate::sessions`]) a node keeps everything itself; with the Redis
//! engine the numbered logs, epochs, seen ids, owners and rooms live in one
//! Redis that every node of a cluster shares, and numbered frames reach the
//! node holding a session's channel over pub/sub (issue 15).
//!
//! Either way a channel sends its numbered frames through a
//! [`sequencer::Sequencer`], so they go out in `seq` order whichever path
//! brought them.

pub mod redis;
pub mod relay;
pub mod sequencer;

use std::sync::Arc;

use self::redis::{EngineError, Feed, RedisOptions, RedisStore};

/// Where a server keeps its sessions' streams.
#[derive(Debug, Clone, Default)]
pub enum Engine {
    /// In this process (one node; nothing else needed).
    #[default]
    Memory,
    /// In a Redis shared by every node of a cluster.
    Redis(Arc<RedisEngine>),
}

/// The Redis engine of one node: the shared store and the node's feed.
#[derive(Debug)]
pub struct RedisEngine {
    /// Logs, ids, owners and rooms.
    pub store: RedisStore,
    /// The node's pub/sub connection.
    pub feed: Feed,
}

impl Engine {
    /// Connects to the Redis at `url`; an unreachable Redis is an error now,
    /// not at the first client.
    pub async fn redis(url: &str, options: RedisOptions) -> Result<Self, EngineError> {
        let store = RedisStore::connect(url, options).await?;
        let feed = Feed::start(&store).await?;
        Ok(Self::Redis(Arc::new(RedisEngine { store, feed })))
    }

    /// The Redis engine, if this is one.
    pub fn as_redis(&self) -> Option<&Arc<RedisEngine>> {
        match self {
            Self::Memory => None,
            Self::Redis(engine) => Some(engine),
        }
    }
}
