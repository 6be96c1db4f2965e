//! A node's pub/sub listener against a real redis-server: every channel of
//! a session gets its numbered frames in order from the moment `subscribe`
//! returns, acks for waiting copies arrive unnumbered, a channel that does
//! not read is told, and a lost Redis is reported to every subscription.
mod common;

use std::time::Duration;

use resocket_server::engine::redis::{Feed, FeedItem, RedisOptions, RedisStore};
use serde_json::json;

use common::redis::RedisServer;

const PROMPTLY: Duration = Duration::from_secs(5);

async fn next(subscription: &mut resocket_server::engine::redis::Subscription) -> FeedItem {
    tokio::time::timeout(PROMPTLY, subscription.items.recv())
        .await
        .expect("a feed message arrives")
        .expect("the feed is open")
}

#[tokio::test]
async fn every_channel_of_a_session_gets_its_frames_in_order_from_the_moment_subscribe_returns() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let feed = Feed::start(&store).await.unwrap();
    let mut first = feed.subscribe(&store, "s").await.unwrap();
    let mut second = feed.subscribe(&store, "s").await.unwrap();
    let mut other = feed.subscribe(&store, "t").await.unwrap();
    // No wait between subscribe and append: the subscription is confirmed.
    let appended = store
        .append("s", vec![json!({"type": "m"}); 3], false)
        .await
        .unwrap()
        .unwrap();
    for (seq, text) in &appended.frames {
        assert_eq!(
            next(&mut first).await,
            FeedItem::Numbered(*seq, text.clone())
        );
        assert_eq!(
            next(&mut second).await,
            FeedItem::Numbered(*seq, text.clone())
        );
    }
    drop(first);
    let more = store
        .append("s", vec![json!({"type": "n"})], false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        next(&mut second).await,
        FeedItem::Numbered(4, more.frames[0].1.clone())
    );
    store
        .append("t", vec![json!({"type": "m"})], false)
        .await
        .unwrap();
    assert!(
        matches!(next(&mut other).await, FeedItem::Numbered(1, _)),
        "sessions do not mix"
    );
}

#[tokio::test]
async fn a_copy_that_waited_gets_its_ack_unnumbered() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let feed = Feed::start(&store).await.unwrap();
    let mut subscription = feed.subscribe(&store, "s").await.unwrap();
    store.begin("s", "m1").await.unwrap();
    store.begin("s", "m1").await.unwrap();
    store
        .finish("s", "m1", r#"{"type":"ack","id":"m1"}"#)
        .await
        .unwrap();
    assert_eq!(
        next(&mut subscription).await,
        FeedItem::Unnumbered(r#"{"type":"ack","id":"m1"}"#.to_owned())
    );
}

#[tokio::test]
async fn a_channel_that_does_not_read_is_told_and_others_go_on() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(
        &redis.url(),
        RedisOptions {
            replay_bytes: 1 << 20,
            ..RedisOptions::default()
        },
    )
    .await
    .unwrap();
    let feed = Feed::start(&store).await.unwrap();
    let stuck = feed.subscribe(&store, "s").await.unwrap();
    let mut reading = feed.subscribe(&store, "s").await.unwrap();
    let reader = tokio::spawn(async move {
        let mut count = 0;
        while count < 1100 {
            if let FeedItem::Numbered(seq, _) = next(&mut reading).await {
                count += 1;
                assert_eq!(seq, count);
            }
        }
        count
    });
    for _ in 0..11 {
        store
            .append("s", vec![json!({"type": "m"}); 100], false)
            .await
            .unwrap();
    }
    tokio::time::timeout(PROMPTLY, stuck.overflowed.cancelled())
        .await
        .expect("the stuck channel is told");
    assert_eq!(reader.await.unwrap(), 1100);
}

#[tokio::test]
async fn a_lost_redis_is_reported_to_every_subscription_and_refuses_new_ones() {
    let mut redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let feed = Feed::start(&store).await.unwrap();
    let subscription = feed.subscribe(&store, "s").await.unwrap();
    redis.kill();
    tokio::time::timeout(PROMPTLY, subscription.lost.cancelled())
        .await
        .expect("told");
    assert!(feed.is_lost());
    assert!(feed.subscribe(&store, "s").await.is_err());
}
