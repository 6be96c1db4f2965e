//! A node's one pub/sub connection to Redis: it listens to a session's feed
//! while a channel of that session is open on this node, and hands every
//! message to those channels. The append script publishes each numbered
//! frame as `"<seq> <text>"`, and a waiting copy's ack as `"0 <text>"`.
//!
//! Order of operations for a channel that opens (subscribe, then read the
//! log, then merge by seq): [`Feed::subscribe`] returns once Redis has
//! confirmed the subscription, so anything numbered after the opening's
//! read of the log arrives here, and the channel's sequencer drops what the
//! opening already sent.
//!
//! If the pub/sub connection is lost (Redis restarted or unreachable),
//! frames published meanwhile are lost with it: every subscription is told
//! (`lost`), its channel closes, and the client resumes by `seq` on a
//! connection whose feed is whole.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use redis::aio::PubSubSink;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{EngineError, RedisStore};
use crate::faults::lock;

/// Messages queued for one channel before it counts as not keeping up.
const QUEUED_PER_CHANNEL: usize = 1024;

/// A message of a session's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem {
    /// A numbered frame.
    Numbered(u64, String),
    /// An ack owed to a copy that waited while another node handled it.
    Unnumbered(String),
}

impl FeedItem {
    fn parse(payload: &str) -> Option<Self> {
        let (seq, text) = payload.split_once(' ')?;
        let seq: u64 = seq.parse().ok()?;
        Some(if seq == 0 {
            Self::Unnumbered(text.to_owned())
        } else {
            Self::Numbered(seq, text.to_owned())
        })
    }
}

struct Route {
    id: u64,
    sender: mpsc::Sender<FeedItem>,
    overflowed: CancellationToken,
}

struct Shared {
    /// Changes to what Redis is subscribed to, one at a time, so that a
    /// second channel of a session never returns before the first's
    /// SUBSCRIBE is confirmed.
    sink: tokio::sync::Mutex<PubSubSink>,
    routes: Mutex<HashMap<String, Vec<Route>>>,
    next_id: AtomicU64,
    /// Cancelled when the pub/sub connection is gone.
    lost: CancellationToken,
}

/// A node's listener to session feeds.
#[derive(Clone)]
pub struct Feed {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("lost", &self.shared.lost.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// One channel's share of a session's feed; leaves it when dropped.
pub struct Subscription {
    /// The feed's messages, in the order Redis sent them.
    pub items: mpsc::Receiver<FeedItem>,
    /// Cancelled when the channel fell behind ([`QUEUED_PER_CHANNEL`]
    /// messages queued): it must close, and its client resume.
    pub overflowed: CancellationToken,
    /// Cancelled when the node's pub/sub connection is lost.
    pub lost: CancellationToken,
    channel: String,
    id: u64,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let now_empty = {
            let mut routes = lock(&self.shared.routes);
            let Some(list) = routes.get_mut(&self.channel) else {
                return;
            };
            list.retain(|route| route.id != self.id);
            list.is_empty()
        };
        if now_empty && !self.shared.lost.is_cancelled() {
            let shared = Arc::clone(&self.shared);
            let channel = std::mem::take(&mut self.channel);
            // Under the sink's lock, and only if nobody subscribed meanwhile.
            tokio::spawn(async move {
                let mut sink = shared.sink.lock().await;
                let still_empty = {
                    let mut routes = lock(&shared.routes);
                    let empty = routes.get(&channel).is_some_and(Vec::is_empty);
                    if empty {
                        routes.remove(&channel);
                    }
                    empty
                };
                if still_empty {
                    let _ = sink.unsubscribe(&channel).await;
                }
            });
        }
    }
}

impl Feed {
    /// Opens the node's pub/sub connection and starts reading it.
    pub async fn start(store: &RedisStore) -> Result<Self, EngineError> {
        let (sink, mut stream) = store.client().get_async_pubsub().await?.split();
        let shared = Arc::new(Shared {
            sink: tokio::sync::Mutex::new(sink),
            routes: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            lost: CancellationToken::new(),
        });
        let reader = Arc::clone(&shared);
        tokio::spawn(async move {
            while let Some(message) = stream.next().await {
                let channel = message.get_channel_name().to_owned();
                let Ok(payload) = message.get_payload::<String>() else {
                    continue;
                };
                let Some(item) = FeedItem::parse(&payload) else {
                    continue;
                };
                let mut routes = lock(&reader.routes);
                if let Some(list) = routes.get_mut(&channel) {
                    list.retain(|route| match route.sender.try_send(item.clone()) {
                        Ok(()) => true,
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            route.overflowed.cancel();
                            false
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => false,
                    });
                }
            }
            reader.lost.cancel();
        });
        Ok(Self { shared })
    }

    /// Whether the pub/sub connection is gone (the node then serves no
    /// channel: `/health` says degraded).
    pub fn is_lost(&self) -> bool {
        self.shared.lost.is_cancelled()
    }

    /// Listens to `store`'s feed of `session` for one channel; returns once
    /// Redis confirms the subscription.
    pub async fn subscribe(
        &self,
        store: &RedisStore,
        session: &str,
    ) -> Result<Subscription, EngineError> {
        if self.is_lost() {
            return Err(EngineError(
                "the pub/sub connection to Redis is lost".to_owned(),
            ));
        }
        let channel = store.feed_channel(session);
        let (sender, items) = mpsc::channel(QUEUED_PER_CHANNEL);
        let overflowed = CancellationToken::new();
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let mut sink = self.shared.sink.lock().await;
        let first = {
            let mut routes = lock(&self.shared.routes);
            let list = routes.entry(channel.clone()).or_default();
            list.push(Route {
                id,
                sender,
                overflowed: overflowed.clone(),
            });
            list.len() == 1
        };
        let subscription = Subscription {
            items,
            overflowed,
            lost: self.shared.lost.clone(),
            channel: channel.clone(),
            id,
            shared: Arc::clone(&self.shared),
        };
        if first {
            // On failure the subscription is dropped, which takes its route back.
            sink.subscribe(&channel).await?;
        }
        drop(sink);
        Ok(subscription)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_numbered_frames_or_acks() {
        assert_eq!(
            FeedItem::parse(r#"12 {"seq":12,"type":"m"}"#),
            Some(FeedItem::Numbered(
                12,
                r#"{"seq":12,"type":"m"}"#.to_owned()
            ))
        );
        assert_eq!(
            FeedItem::parse(r#"0 {"type":"ack","id":"a"}"#),
            Some(FeedItem::Unnumbered(
                r#"{"type":"ack","id":"a"}"#.to_owned()
            ))
        );
        assert_eq!(FeedItem::parse("nonsense"), None);
        assert_eq!(FeedItem::parse("x y"), None);
    }
}
