//! An event stream's numbered frames on the Redis engine: a task per stream
//! takes the session's feed through a sequencer (in `seq` order, copies
//! dropped, holes read from the log) into the stream's queue. It ends, and
//! with it the stream (the client reopens it and resumes by `seq`), when
//! the client is gone, the feed is lost, the stream falls behind, or the
//! log was replaced (another epoch: the reopened stream reports the reset).

use std::sync::Arc;
use std::time::Instant;

use super::redis::{FeedItem, Subscription};
use super::sequencer::{Release, Sequencer};
use super::RedisEngine;
use crate::queue;

/// Relays `subscription` to `sender` from after `sent`, for the session's
/// log of `epoch`, until one of the ends above.
pub async fn relay_feed(
    redis: Arc<RedisEngine>,
    session_id: String,
    epoch: String,
    mut subscription: Subscription,
    sent: u64,
    sender: queue::Sender<(Option<u64>, String)>,
) {
    let mut sequencer = Sequencer::new(sent);
    loop {
        let before = sequencer.sent();
        let fill_at = sequencer.fill_at().map(tokio::time::Instant::from_std);
        let release = tokio::select! {
            item = subscription.items.recv() => match item {
                Some(FeedItem::Numbered(seq, text)) => sequencer.offer(seq, text, Instant::now()),
                // Acks for copies that waited are for sockets.
                Some(FeedItem::Unnumbered(_)) => continue,
                None => return,
            },
            () = async {
                match fill_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => match redis.store.continuation(&session_id, &epoch, before).await {
                Some((frames, first_available)) => sequencer.fill(frames, first_available, Instant::now()),
                None => return,
            },
            () = subscription.lost.cancelled() => return,
            () = subscription.overflowed.cancelled() => return,
            () = sender.closed() => return,
        };
        if !forward(&sender, before, sequencer.sent(), release) {
            return;
        }
    }
}

/// Queues what the sequencer released (numbered `before + 1 ..= after`);
/// false when the stream is gone or full.
fn forward(
    sender: &queue::Sender<(Option<u64>, String)>,
    before: u64,
    after: u64,
    release: Release,
) -> bool {
    if release.overflowed {
        return false;
    }
    let first = after + 1 - release.ready.len() as u64;
    debug_assert!(first > before || release.ready.is_empty());
    release
        .ready
        .into_iter()
        .zip(first..)
        .all(|(text, seq)| sender.try_send((Some(seq), text)).is_ok())
}
