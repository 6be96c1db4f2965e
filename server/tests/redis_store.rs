//! The Redis engine's store against a real redis-server (Debian's 7.0): the
//! numbering script under concurrent writers, epochs when the log is lost,
//! the byte budget, duplicate suppression, the feed, owners and rooms.
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use resocket_server::engine::redis::{RedisOptions, RedisStore};
use resocket_server::stream::{ResumeRequest, Seen};
use serde_json::{json, Value};

use common::redis::RedisServer;

async fn store(server: &RedisServer, options: RedisOptions) -> RedisStore {
    RedisStore::connect(&server.url(), options)
        .await
        .expect("redis answers")
}

fn seq_of(text: &str) -> u64 {
    serde_json::from_str::<Value>(text).unwrap()["seq"]
        .as_u64()
        .unwrap()
}

/// The raw pub/sub messages of `session`'s feed channel.
async fn feed_of(store: &RedisStore, session: &str) -> redis::aio::PubSubStream {
    let mut pubsub = store.client().get_async_pubsub().await.unwrap();
    pubsub.subscribe(store.feed_channel(session)).await.unwrap();
    pubsub.into_on_message()
}

fn v1_1(last_seq: Option<u64>, epoch: Option<&str>) -> ResumeRequest<'_> {
    ResumeRequest {
        v1_1: true,
        last_seq,
        epoch,
        limits: None,
    }
}

#[tokio::test]
async fn frames_are_numbered_from_one_kept_and_replayed_after_a_position() {
    let redis = RedisServer::start();
    let store = store(&redis, RedisOptions::default()).await;
    let appended = store
        .append(
            "s",
            vec![
                json!({"type": "a", "seq": 99}),
                json!({"type": "b"}),
                json!({}),
            ],
            false,
        )
        .await
        .unwrap()
        .unwrap();
    let seqs: Vec<u64> = appended.frames.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(
        appended
            .frames
            .iter()
            .map(|(_, t)| seq_of(t))
            .collect::<Vec<_>>(),
        [1, 2, 3],
        "a seq sent in is replaced"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&appended.frames[1].1).unwrap(),
        json!({"seq": 2, "type": "b"})
    );

    let request = v1_1(Some(1), Some(&appended.epoch));
    let opening = store.opening("s", &request).await.unwrap();
    assert_eq!((opening.last_seq, opening.first_available), (3, 1));
    assert_eq!(opening.frames, appended.frames[1..].to_vec());
    let frames = opening.state().opening(&request, opening.frames.clone());
    assert_eq!(frames[0].0, None, "the welcome first");
    assert_eq!(
        frames[1..].iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        [Some(2), Some(3)]
    );
    // No replay asked: nothing but the state.
    let fresh = store
        .opening(
            "s",
            &ResumeRequest {
                v1_1: true,
                last_seq: None,
                epoch: None,
                limits: None,
            },
        )
        .await
        .unwrap();
    assert!(fresh.frames.is_empty());
    assert_eq!(fresh.epoch, appended.epoch);
}

#[tokio::test]
async fn writers_on_several_connections_at_once_never_skip_or_repeat_a_number() {
    let redis = RedisServer::start();
    let options = RedisOptions {
        replay_bytes: 64 << 20,
        ..RedisOptions::default()
    };
    // Four connections: four nodes writing to one session.
    let mut writers = Vec::new();
    for node in 0..4 {
        let store = store(&redis, options.clone()).await;
        writers.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..200 {
                let batch = vec![json!({"type": "m", "data": [node, n]}); 1 + (n % 2)];
                let appended = store.append("shared", batch, false).await.unwrap().unwrap();
                seqs.extend(appended.frames.iter().map(|(seq, text)| {
                    assert_eq!(seq_of(text), *seq);
                    *seq
                }));
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for writer in writers {
        all.extend(writer.await.unwrap());
    }
    let total = all.len() as u64;
    assert_eq!(total, 4 * (100 + 200));
    let distinct: BTreeSet<u64> = all.into_iter().collect();
    assert_eq!(distinct.len() as u64, total, "no number twice");
    assert_eq!(
        distinct.iter().copied().collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>(),
        "no gap"
    );
    let replay = store(&redis, options)
        .await
        .opening("shared", &v1_1(Some(0), None))
        .await
        .unwrap();
    assert_eq!(
        replay.frames.len() as u64,
        total,
        "every frame kept, in order"
    );
    assert!(replay
        .frames
        .windows(2)
        .all(|pair| pair[0].0 + 1 == pair[1].0));
}

#[tokio::test]
async fn a_log_lost_with_a_redis_restart_or_a_flush_is_a_new_epoch_and_a_reset() {
    let mut redis = RedisServer::start();
    let store = store(&redis, RedisOptions::default()).await;
    let first = store
        .append("s", vec![json!({"type": "m"}); 5], false)
        .await
        .unwrap()
        .unwrap();

    redis.restart(); // no persistence: everything is gone
    let request = v1_1(Some(5), Some(&first.epoch));
    let opening = store
        .opening("s", &request)
        .await
        .expect("the connection manager reconnects");
    assert_ne!(
        opening.epoch, first.epoch,
        "a new log, never the old stream's continuation"
    );
    assert_eq!(opening.last_seq, 0);
    let state = opening.state();
    assert!(state.is_stale(&request));
    let frames = state.opening(&request, opening.frames.clone());
    let reset: Value = serde_json::from_str(&frames[1].1).unwrap();
    assert_eq!(reset["type"], "reset");
    assert_eq!(reset["data"]["previousEpoch"], json!(first.epoch));

    let second = store
        .append("s", vec![json!({"type": "m"}); 2], false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.epoch, opening.epoch);
    assert_eq!(second.frames[0].0, 1);
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("FLUSHALL")
        .query_async::<()>(&mut connection)
        .await
        .unwrap();
    let third = store
        .append("s", vec![json!({"type": "m"})], false)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(third.epoch, second.epoch, "a flushed log: another epoch");
    assert_eq!(third.frames[0].0, 1);
}

#[tokio::test]
async fn the_byte_budget_trims_the_oldest_keeps_the_newest_and_shows_a_gap() {
    let redis = RedisServer::start();
    let store = store(
        &redis,
        RedisOptions {
            replay_bytes: 2_000,
            ..RedisOptions::default()
        },
    )
    .await;
    for n in 0..100 {
        store
            .append("s", vec![json!({"type": "m", "data": n})], false)
            .await
            .unwrap();
    }
    let request = ResumeRequest {
        v1_1: false,
        last_seq: Some(0),
        epoch: None,
        limits: None,
    };
    let opening = store.opening("s", &request).await.unwrap();
    assert_eq!(opening.last_seq, 100);
    assert!(opening.first_available > 1 && opening.first_available < 100);
    assert_eq!(opening.frames.first().unwrap().0, opening.first_available);
    assert_eq!(opening.frames.last().unwrap().0, 100, "the newest is kept");
    let kept: usize = opening.frames.iter().map(|(_, text)| text.len() + 48).sum();
    assert!(kept <= 2_000, "{kept}");
    let frames = opening.state().opening(&request, opening.frames.clone());
    let gap: Value = serde_json::from_str(&frames[0].1).unwrap();
    assert_eq!(gap["type"], "gap");
    assert_eq!(gap["data"]["firstAvailable"], opening.first_available);
    // One frame bigger than the budget: kept alone.
    let big = "x".repeat(5_000);
    store
        .append("s", vec![json!({"type": "m", "data": big})], false)
        .await
        .unwrap();
    let opening = store.opening("s", &request).await.unwrap();
    assert_eq!(
        opening
            .frames
            .iter()
            .map(|(seq, _)| *seq)
            .collect::<Vec<_>>(),
        [101]
    );
}

#[tokio::test]
async fn log_meta_ids_and_owner_expire_with_the_session_ttl() {
    let redis = RedisServer::start();
    let ttl = Duration::from_secs(42);
    let store = store(
        &redis,
        RedisOptions {
            session_ttl: ttl,
            ..RedisOptions::default()
        },
    )
    .await;
    store
        .append("s", vec![json!({"type": "m"})], false)
        .await
        .unwrap();
    store.begin("s", "m1").await.unwrap();
    store
        .finish("s", "m1", r#"{"type":"ack","id":"m1"}"#)
        .await
        .unwrap();
    store.claim_owner("s", Some("ann")).await.unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("resocket:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(keys.len(), 4, "log, meta, one id, owner: {keys:?}");
    for key in keys {
        let pttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(pttl > 40_000 && pttl <= 42_000, "{key}: {pttl}");
    }
}

#[tokio::test]
async fn ids_are_handled_once_a_waiting_copy_gets_the_ack_on_the_feed_and_a_failure_lets_the_resend_in(
) {
    let redis = RedisServer::start();
    let store = store(&redis, RedisOptions::default()).await;
    let mut feed = feed_of(&store, "s").await;

    assert_eq!(store.begin("s", "m1").await.unwrap(), Seen::New);
    assert_eq!(
        store.begin("s", "m1").await.unwrap(),
        Seen::InProgress,
        "a copy on another node"
    );
    let ack = r#"{"type":"ack","id":"m1"}"#;
    assert!(
        store.finish("s", "m1", ack).await.unwrap(),
        "the copy waited"
    );
    let message = tokio::time::timeout(Duration::from_secs(5), feed.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.get_payload::<String>().unwrap(), format!("0 {ack}"));
    assert_eq!(
        store.begin("s", "m1").await.unwrap(),
        Seen::Done,
        "a resend: acknowledged again"
    );

    assert_eq!(store.begin("s", "m2").await.unwrap(), Seen::New);
    store.abandon("s", "m2").await.unwrap();
    assert_eq!(
        store.begin("s", "m2").await.unwrap(),
        Seen::New,
        "handled again after a failure"
    );
    assert!(!store.finish("s", "m2", ack).await.unwrap());
    assert_eq!(
        store.begin("other", "m1").await.unwrap(),
        Seen::New,
        "ids are per session"
    );
}

#[tokio::test]
async fn numbered_frames_reach_the_feed_in_order() {
    let redis = RedisServer::start();
    let store = store(&redis, RedisOptions::default()).await;
    let mut feed = feed_of(&store, "s").await;
    let appended = store
        .append("s", vec![json!({"type": "m"}); 3], false)
        .await
        .unwrap()
        .unwrap();
    for (seq, text) in appended.frames {
        let message = tokio::time::timeout(Duration::from_secs(5), feed.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            message.get_payload::<String>().unwrap(),
            format!("{seq} {text}")
        );
    }
}

#[tokio::test]
async fn a_session_belongs_to_its_first_user() {
    let redis = RedisServer::start();
    let store = store(&redis, RedisOptions::default()).await;
    assert_eq!(
        store
            .claim_owner("s", Some("ann"))
            .await
            .unwrap()
            .as_deref(),
        Some("ann")
    );
    assert_eq!(
        store
            .claim_owner("s", Some("bob"))
            .await
            .unwrap()
            .as_deref(),
        Some("ann")
    );
    assert_eq!(store.claim_owner("t", None).await.unwrap(), None);
}

#[tokio::test]
async fn rooms_reach_every_member_s_log_within_the_limit_and_forget_sessions_that_are_gone() {
    let redis = RedisServer::start();
    let store = store(
        &redis,
        RedisOptions {
            max_rooms_per_session: 2,
            ..RedisOptions::default()
        },
    )
    .await;
    for session in ["a", "b", "c"] {
        store
            .append(session, vec![json!({"type": "hello"})], false)
            .await
            .unwrap();
        assert!(store.join(session, "lobby").await.unwrap());
    }
    assert!(store.join("a", "two").await.unwrap());
    assert!(
        !store.join("a", "three").await.unwrap(),
        "the third room is over the limit"
    );
    assert!(
        store.join("a", "lobby").await.unwrap(),
        "joining again is no new room"
    );
    store.leave("c", "lobby").await.unwrap();
    // b's log is lost: it leaves the room instead of getting a new log.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let meta = format!("resocket:{{{}}}:meta", "62");
    redis::cmd("DEL")
        .arg(&meta)
        .query_async::<()>(&mut connection)
        .await
        .unwrap();
    assert_eq!(
        store
            .publish_to_room("lobby", &json!({"type": "news"}))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.members("lobby").await.unwrap(), ["a"]);
    let opening = store
        .opening(
            "a",
            &ResumeRequest {
                v1_1: false,
                last_seq: Some(1),
                epoch: None,
                limits: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(opening.frames.len(), 1);
    assert!(opening.frames[0].1.contains("news"));
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_at_connect() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = RedisStore::connect(
        &format!("redis://127.0.0.1:{port}/"),
        RedisOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().starts_with("redis: "), "{error}");
}

#[tokio::test]
async fn replies_and_the_done_mark_are_one_step() {
    let redis = RedisServer::start();
    let store = store(&redis, RedisOptions::default()).await;
    let mut feed = feed_of(&store, "s").await;
    assert_eq!(store.begin("s", "m1").await.unwrap(), Seen::New);
    assert_eq!(
        store.begin("s", "m1").await.unwrap(),
        Seen::InProgress,
        "a copy waits"
    );
    let ack = r#"{"type":"ack","id":"m1"}"#;
    let appended = store
        .append_and_finish("s", vec![json!({"type": "reply"})], "m1", ack)
        .await
        .unwrap();
    assert_eq!(appended.frames[0].0, 1);
    assert_eq!(store.begin("s", "m1").await.unwrap(), Seen::Done);
    let mut payloads = Vec::new();
    for _ in 0..2 {
        let message = tokio::time::timeout(Duration::from_secs(5), feed.next())
            .await
            .unwrap()
            .unwrap();
        payloads.push(message.get_payload::<String>().unwrap());
    }
    assert_eq!(
        payloads,
        [format!("1 {}", appended.frames[0].1), format!("0 {ack}")]
    );
}
