//! Two nodes on one Redis (the library with `Engine::redis`, each on its
//! own loopback port), real WebSocket clients: a session resumes on the
//! other node by `seq` and epoch, a message resent to the other node is
//! acknowledged and not handled again, frames numbered on one node reach a
//! socket held by the other in order, and a lost Redis closes sockets with
//! a code the client reconnects from.
mod common;

use std::net::SocketAddr;

use resocket_server::auth::{from_fn, Identity};
use resocket_server::engine::redis::{RedisOptions, RedisStore};
use resocket_server::engine::Engine;
use resocket_server::publish::Publisher;
use resocket_server::Resocket;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_tungstenite::connect_async;

use common::redis::RedisServer;
use common::{next_json, send_json, test_config, wait_for_end, Client};

/// A node of the cluster, stopped when dropped.
struct Node {
    addr: SocketAddr,
    publisher: Publisher,
    _stop: oneshot::Sender<()>,
}

impl Node {
    async fn start(redis: &RedisServer) -> Self {
        let engine = Engine::redis(&redis.url(), RedisOptions::default())
            .await
            .expect("redis answers");
        // The user is whoever `?user=` names (anonymous without it).
        let resocket = Resocket::builder()
            .config(test_config())
            .engine(engine)
            .auth(from_fn(|request| {
                Ok(match request.query_param("user") {
                    Some(user) => Identity::user(user),
                    None => Identity::anonymous(),
                })
            }))
            .build();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let publisher = resocket.publisher();
        tokio::spawn(async move {
            let app = resocket.router();
            resocket
                .serve(listener, app, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            publisher,
            _stop: stop,
        }
    }

    async fn connect(&self, query: &str) -> Client {
        let (client, _) = connect_async(format!("ws://{}/ws?{query}", self.addr))
            .await
            .expect("the node accepts the socket");
        client
    }
}

async fn message(client: &mut Client, id: &str) {
    send_json(
        client,
        json!({"type": "message", "id": id, "data": {"text": id}}),
    )
    .await;
}

#[tokio::test]
async fn a_session_resumes_on_the_other_node_by_seq_and_epoch() {
    let redis = RedisServer::start();
    let (a, b) = (Node::start(&redis).await, Node::start(&redis).await);
    let mut on_a = a.connect("session_id=moving&protocol=1.1").await;
    let welcome = next_json(&mut on_a).await;
    assert_eq!(welcome["type"], "welcome");
    let epoch = welcome["data"]["epoch"].as_str().unwrap().to_owned();
    message(&mut on_a, "m1").await;
    assert_eq!(next_json(&mut on_a).await["seq"], 1);
    message(&mut on_a, "m2").await;
    assert_eq!(next_json(&mut on_a).await["seq"], 2);
    drop(on_a);

    // The client delivered seq 1 only; it reconnects through the balancer to b.
    let mut on_b = b
        .connect(&format!(
            "session_id=moving&protocol=1.1&epoch={epoch}&last_seq=1"
        ))
        .await;
    let welcome = next_json(&mut on_b).await;
    assert_eq!(
        welcome["data"],
        json!({"epoch": epoch, "lastSeq": 2, "limits": {"maxMessageBytes": 1_048_576, "messageRate": 100}}),
        "the same stream"
    );
    let replayed = next_json(&mut on_b).await;
    assert_eq!(
        (replayed["seq"].clone(), replayed["replyTo"].clone()),
        (json!(2), json!("m2"))
    );
    message(&mut on_b, "m3").await;
    assert_eq!(
        next_json(&mut on_b).await["seq"],
        3,
        "numbering goes on on b"
    );
}

#[tokio::test]
async fn a_message_resent_to_the_other_node_is_acknowledged_not_handled_again() {
    let redis = RedisServer::start();
    let (a, b) = (Node::start(&redis).await, Node::start(&redis).await);
    let mut on_a = a.connect("session_id=resend&ack=1").await;
    message(&mut on_a, "x").await;
    // The reply may come first: it is published to the session's feed as
    // it is numbered, and the ack waits until the id is marked done.
    let (ack, reply) = ack_and_reply(&mut on_a).await;
    assert_eq!(ack, json!({"type": "ack", "id": "x"}));
    assert_eq!(
        (reply["seq"].clone(), reply["replyTo"].clone()),
        (json!(1), json!("x"))
    );
    drop(on_a);

    let mut on_b = b.connect("session_id=resend&ack=1").await;
    message(&mut on_b, "x").await;
    assert_eq!(
        next_json(&mut on_b).await,
        json!({"type": "ack", "id": "x"})
    );
    // A new message's reply is numbered 2: x was not handled (or numbered) again.
    message(&mut on_b, "y").await;
    let (ack, reply) = ack_and_reply(&mut on_b).await;
    assert_eq!(ack, json!({"type": "ack", "id": "y"}));
    assert_eq!(
        (reply["seq"].clone(), reply["replyTo"].clone()),
        (json!(2), json!("y"))
    );
}

/// The next two frames, an ack and a numbered reply, in either order.
async fn ack_and_reply(client: &mut Client) -> (Value, Value) {
    let (first, second) = (next_json(client).await, next_json(client).await);
    if first["type"] == "ack" {
        (first, second)
    } else {
        (second, first)
    }
}

#[tokio::test]
async fn frames_numbered_on_another_node_reach_the_socket_in_seq_order() {
    let redis = RedisServer::start();
    let a = Node::start(&redis).await;
    // What another node's publisher does: number frames in the session's log.
    let elsewhere = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let mut on_a = a.connect("session_id=fed").await;
    // Sync: the socket's opening is done once its first reply comes.
    message(&mut on_a, "first").await;
    assert_eq!(next_json(&mut on_a).await["seq"], 1);
    let pushes = async {
        for n in 0..200 {
            elsewhere
                .append("fed", vec![json!({"type": "push", "data": n})], false)
                .await
                .unwrap();
        }
    };
    let sends = async {
        for n in 0..200 {
            message(&mut on_a, &format!("m{n}")).await;
        }
        on_a
    };
    let ((), mut on_a) = tokio::join!(pushes, sends);
    let mut seqs = Vec::new();
    while seqs.len() < 400 {
        let frame: Value = next_json(&mut on_a).await;
        seqs.push(frame["seq"].as_u64().expect("numbered"));
    }
    assert_eq!(
        seqs,
        (2..=401).collect::<Vec<u64>>(),
        "every seq once, in order"
    );
}

#[tokio::test]
async fn a_lost_redis_closes_sockets_with_a_code_the_client_reconnects_from() {
    let mut redis = RedisServer::start();
    let a = Node::start(&redis).await;
    let mut on_a = a.connect("session_id=lost").await;
    message(&mut on_a, "m").await;
    assert_eq!(next_json(&mut on_a).await["seq"], 1);
    redis.kill();
    let (code, reason) = wait_for_end(&mut on_a).await.expect("a close frame");
    assert_eq!(code, 1013, "{reason}");
}

/// Reads an event stream's body until `count` numbered events arrived;
/// returns their `id:` values and data.
async fn events(response: &mut reqwest::Response, count: usize) -> Vec<(u64, Value)> {
    let mut text = String::new();
    let mut frames = Vec::new();
    while frames.len() < count {
        let chunk = tokio::time::timeout(common::PROMPTLY, response.chunk())
            .await
            .expect("an event arrives in time")
            .expect("the stream is readable")
            .expect("the stream is open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            let id = event.lines().find_map(|line| line.strip_prefix("id: "));
            let data = event.lines().find_map(|line| line.strip_prefix("data: "));
            if let (Some(id), Some(data)) = (id, data) {
                frames.push((id.parse().unwrap(), serde_json::from_str(data).unwrap()));
            }
        }
    }
    frames
}

/// POSTs the message `p1` to session `split` on `node` (with acks); its answer.
async fn post_p1(http: &reqwest::Client, node: &Node) -> Value {
    http.post(format!(
        "http://{}/messages?session_id=split&ack=1",
        node.addr
    ))
    .body(json!([{"type": "message", "id": "p1", "data": {"text": "hi"}}]).to_string())
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_post_on_one_node_and_the_event_stream_on_another_share_the_session() {
    let redis = RedisServer::start();
    let (a, b) = (Node::start(&redis).await, Node::start(&redis).await);
    let http = reqwest::Client::new();
    let mut stream = http
        .get(format!("http://{}/events?session_id=split", b.addr))
        .send()
        .await
        .unwrap();
    assert!(stream.status().is_success());
    let answer: Value = post_p1(&http, &a).await;
    let types: Vec<&str> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["ack", "message"],
        "the POST's answer: the ack and the numbered reply"
    );
    assert_eq!(answer[1]["seq"], 1);
    a.publisher
        .publish_to_session("split", json!({"type": "push", "data": 1}))
        .await
        .unwrap();
    // The event stream on b gets both, numbered, in order.
    let frames = events(&mut stream, 2).await;
    assert_eq!(frames.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(frames[0].1["replyTo"], "p1");
    assert_eq!(frames[1].1["type"], "push");
    // The same id POSTed to b: acknowledged only.
    let again: Value = post_p1(&http, &b).await;
    assert_eq!(again, json!([{"type": "ack", "id": "p1"}]));
}

#[tokio::test]
async fn a_room_spans_nodes() {
    let redis = RedisServer::start();
    let (a, b) = (Node::start(&redis).await, Node::start(&redis).await);
    let mut on_a = a.connect("session_id=r1").await;
    let mut on_b = b.connect("session_id=r2").await;
    for (client, id) in [(&mut on_a, "a"), (&mut on_b, "b")] {
        message(client, id).await;
        assert_eq!(next_json(client).await["seq"], 1);
    }
    b.publisher.join_room("r1", "lobby").await.unwrap();
    b.publisher.join_room("r2", "lobby").await.unwrap();
    // The plain method, as a handler written for one node calls it.
    a.publisher
        .to_room("lobby", json!({"type": "news", "data": "x"}))
        .unwrap();
    for client in [&mut on_a, &mut on_b] {
        let news = next_json(client).await;
        assert_eq!(
            (news["type"].clone(), news["seq"].clone()),
            (json!("news"), json!(2))
        );
    }
    assert_eq!(
        b.publisher
            .publish_to_room("lobby", json!({"type": "news"}))
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn a_session_belongs_to_its_first_user_on_every_node() {
    let redis = RedisServer::start();
    let (a, b) = (Node::start(&redis).await, Node::start(&redis).await);
    let mut ann = a.connect("session_id=owned&user=ann").await;
    message(&mut ann, "m").await;
    assert_eq!(next_json(&mut ann).await["seq"], 1);
    let mut bob = b.connect("session_id=owned&user=bob").await;
    let (code, _) = wait_for_end(&mut bob).await.expect("a close frame");
    assert_eq!(code, 4403, "another user, on another node");
    let mut ann_on_b = b.connect("session_id=owned&user=ann").await;
    message(&mut ann_on_b, "n").await;
    assert_eq!(next_json(&mut ann_on_b).await["seq"], 2);
}
