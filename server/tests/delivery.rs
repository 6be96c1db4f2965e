//! Delivery guarantees on the WebSocket: numbered server frames with replay
//! after a reconnect, and acknowledgements with duplicate suppression.

mod common;

use common::{next_json, send_json, TestServer};
use futures_util::SinkExt;
use serde_json::{json, Value};

async fn echo(client: &mut common::Client, id: &str) -> Value {
    send_json(client, json!({"type": "message", "data": id, "id": id})).await;
    next_json(client).await
}

#[tokio::test]
async fn every_reply_but_pongs_carries_an_increasing_seq_per_session() {
    let server = TestServer::start().await;
    let mut client = server.connect("seq").await;
    assert_eq!(echo(&mut client, "a").await["seq"], 1);
    send_json(&mut client, json!({"type": "ping", "id": "p"})).await;
    let pong = next_json(&mut client).await;
    assert_eq!(pong["type"], "pong");
    assert!(
        pong.get("seq").is_none(),
        "pongs are not part of the stream"
    );
    assert_eq!(echo(&mut client, "b").await["seq"], 2);
    // The numbering belongs to the session, not the connection.
    let mut again = server.connect("seq").await;
    assert_eq!(echo(&mut again, "c").await["seq"], 3);
    let mut other = server.connect("seq-other").await;
    assert_eq!(echo(&mut other, "x").await["seq"], 1);
}

#[tokio::test]
async fn a_client_resuming_with_last_seq_gets_what_it_missed_in_order() {
    let server = TestServer::start().await;
    let mut first = server.connect("resume").await;
    for id in ["m1", "m2", "m3", "m4"] {
        echo(&mut first, id).await;
    }
    drop(first);
    // It had delivered up to seq 2; 3 and 4 come first on the new socket.
    let mut resumed = server.connect_query("session_id=resume&last_seq=2").await;
    let replayed: Vec<Value> = vec![next_json(&mut resumed).await, next_json(&mut resumed).await];
    assert_eq!(
        replayed
            .iter()
            .map(|f| f["seq"].clone())
            .collect::<Vec<_>>(),
        [json!(3), json!(4)]
    );
    assert_eq!(replayed[0]["replyTo"], "m3");
    // Then the stream goes on.
    assert_eq!(echo(&mut resumed, "m5").await["seq"], 5);
    // Fully caught up: nothing is replayed.
    let mut current = server.connect_query("session_id=resume&last_seq=5").await;
    assert_eq!(echo(&mut current, "m6").await["seq"], 6);
}

#[tokio::test]
async fn a_resume_from_beyond_the_buffer_says_what_was_lost() {
    // 4 KiB of replay: a few dozen of these replies, not 300.
    let server = TestServer::start_limited(resocket_server::Limits {
        replay_bytes_per_session: 4096,
        message_rate: 0,
        ..resocket_server::Limits::default()
    })
    .await;
    let mut client = server.connect("gap").await;
    let total = 300;
    for n in 0..total {
        client
            .feed(tokio_tungstenite::tungstenite::Message::Text(
                json!({"type": "message", "data": n, "id": format!("g{n}")})
                    .to_string()
                    .into(),
            ))
            .await
            .unwrap();
    }
    client.flush().await.unwrap();
    for _ in 0..total {
        next_json(&mut client).await;
    }
    let mut resumed = server.connect_query("session_id=gap&last_seq=0").await;
    let gap = next_json(&mut resumed).await;
    let first = gap["data"]["firstAvailable"].as_u64().expect("a gap");
    assert_eq!(
        gap,
        json!({"type": "gap", "data": {"after": 0, "firstAvailable": first}})
    );
    assert!(
        first > 250 && first < 300,
        "a byte budget keeps the newest few: {first}"
    );
    let mut replayed = 0;
    for seq in first..=300 {
        assert_eq!(next_json(&mut resumed).await["seq"], seq);
        replayed += 1;
    }
    assert!(
        replayed * 100 <= 4096,
        "within the budget: {replayed} frames"
    );
}

#[tokio::test]
async fn acknowledged_connections_get_an_ack_per_id_and_duplicates_are_not_processed_twice() {
    let server = TestServer::start().await;
    let mut client = server.connect_query("session_id=acks&ack=1").await;
    send_json(
        &mut client,
        json!({"type": "message", "data": "hi", "id": "once"}),
    )
    .await;
    assert_eq!(
        next_json(&mut client).await,
        json!({"type": "ack", "id": "once"})
    );
    assert_eq!(next_json(&mut client).await["replyTo"], "once");
    // A resend after a reconnect (the ack was lost): acked again, not echoed again.
    drop(client);
    let mut again = server.connect_query("session_id=acks&ack=1").await;
    send_json(
        &mut again,
        json!({"type": "message", "data": "hi", "id": "once"}),
    )
    .await;
    assert_eq!(
        next_json(&mut again).await,
        json!({"type": "ack", "id": "once"})
    );
    send_json(
        &mut again,
        json!({"type": "message", "data": "next", "id": "twice"}),
    )
    .await;
    assert_eq!(
        next_json(&mut again).await,
        json!({"type": "ack", "id": "twice"})
    );
    let reply = next_json(&mut again).await;
    assert_eq!(reply["replyTo"], "twice", "the duplicate produced no echo");
    assert_eq!(reply["seq"], 2);
    // Pings are control frames: answered, never acked.
    send_json(&mut again, json!({"type": "ping", "id": "p1"})).await;
    assert_eq!(next_json(&mut again).await["type"], "pong");

    let log = server.log("acks").await;
    let duplicates: Vec<bool> = log["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["duplicate"].as_bool().unwrap())
        .collect();
    assert_eq!(duplicates, [false, true, false, false]);
    let indices = |log: &Value| -> Vec<u64> {
        log["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["index"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(indices(&log), [1, 2, 3, 4]);
    let newer = server.get_json("/control/acks/log?after=2").await;
    assert_eq!(indices(&newer), [3, 4], "?after= pages by index");
    assert_eq!(newer["lastSeq"], 2, "two echoes were numbered");
}

#[tokio::test]
async fn without_ack_1_there_are_no_acks_and_no_suppression() {
    let server = TestServer::start().await;
    let mut client = server.connect("no-acks").await;
    assert_eq!(echo(&mut client, "same").await["replyTo"], "same");
    assert_eq!(echo(&mut client, "same").await["replyTo"], "same");
}

/// Pushes (numbered by another task) and replies (numbered by the socket's
/// own work) interleave on one socket: the client must see every `seq`
/// once, in order, or it drops the ones that arrive after a higher one.
#[tokio::test]
async fn pushes_and_replies_racing_on_one_socket_arrive_in_seq_order() {
    let server = TestServer::start_limited(resocket_server::Limits {
        message_rate: 0,
        ..resocket_server::Limits::default()
    })
    .await;
    let mut client = server.connect("race").await;
    const EACH: u64 = 1500;
    let push_path = format!("/control/race/push?count={EACH}&interval_ms=0");
    let push = server.post(&push_path);
    let sends = async {
        for n in 0..EACH {
            send_json(&mut client, json!({"type": "message", "data": n})).await;
        }
        client
    };
    let (_, mut client) = tokio::join!(push, sends);
    let mut seqs = Vec::new();
    while (seqs.len() as u64) < 2 * EACH {
        let frame = next_json(&mut client).await;
        if let Some(seq) = frame["seq"].as_u64() {
            seqs.push(seq);
        }
    }
    let out_of_order: Vec<(u64, u64)> = seqs
        .windows(2)
        .filter(|pair| pair[1] != pair[0] + 1)
        .map(|pair| (pair[0], pair[1]))
        .collect();
    assert_eq!(
        out_of_order,
        [],
        "every seq once, in order (pairs of neighbours that are not)"
    );
}

/// The next token frame of a stream (skipping its request's ack, which the
/// multi-threaded runtime may send after the first token), checked to be
/// numbered right after `last_seq` and to be piece `index`.
async fn next_token(client: &mut common::Client, last_seq: &mut u64, index: usize) -> Value {
    loop {
        let frame = next_json(client).await;
        if frame["type"] == "ack" {
            continue;
        }
        assert_eq!(frame["type"], "token", "{frame}");
        assert_eq!(
            (frame["replyTo"].as_str(), frame["data"]["stream"].as_str()),
            (Some("s1"), Some("s1"))
        );
        assert_eq!(
            frame["seq"],
            *last_seq + 1,
            "numbered in the session's stream, none skipped"
        );
        assert_eq!(frame["data"]["index"], index, "piece by piece");
        *last_seq += 1;
        return frame;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_reply_is_numbered_token_by_token_and_resumes_without_loss_or_repeat() {
    let server = TestServer::start().await;
    let text = "one two three four five six seven eight nine ten eleven twelve";
    let mut first = server.connect_query("session_id=tokens&ack=1").await;
    let request = json!({"type": "stream", "id": "s1", "data": {"text": text, "intervalMs": 10}});
    send_json(&mut first, request).await;
    let mut tokens = Vec::new();
    let mut last_seq = 0;
    while tokens.len() < 4 {
        let frame = next_token(&mut first, &mut last_seq, tokens.len()).await;
        tokens.push(
            frame["data"]["token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    // The connection drops in the middle; the stream goes on into the log.
    drop(first);
    let mut resumed = server
        .connect_query(&format!("session_id=tokens&last_seq={last_seq}"))
        .await;
    loop {
        let frame = next_token(&mut resumed, &mut last_seq, tokens.len()).await;
        if frame["data"]["done"] == true {
            assert_eq!(frame["data"]["token"], "");
            break;
        }
        tokens.push(
            frame["data"]["token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert_eq!(tokens.concat(), text);
    assert_eq!(tokens.len(), 12);
}

#[tokio::test]
async fn stream_requests_over_a_bound_get_an_error_envelope_and_their_ack() {
    let server = TestServer::start().await;
    let mut client = server
        .connect_query("session_id=tokens-refused&ack=1")
        .await;
    // Four long streams run for this session; a fifth is refused.
    for n in 1..=4 {
        let request = json!({"type": "stream", "id": format!("long{n}"), "data": {"text": "a b c", "intervalMs": 1000}});
        send_json(&mut client, request).await;
    }
    let refusals = [
        (json!({"text": "a"}), "busy"),
        (json!({"intervalMs": 5000}), "invalid"),
        (json!({"text": "w".repeat(16 * 1024 + 1)}), "too-long"),
    ];
    for (n, (data, code)) in refusals.into_iter().enumerate() {
        let id = format!("refused{n}");
        send_json(
            &mut client,
            json!({"type": "stream", "id": id, "data": data}),
        )
        .await;
        let mut acked = false;
        let error = loop {
            let frame = next_json(&mut client).await;
            if frame["type"] == "error" {
                break frame;
            }
            // Acks (this request's comes before its reply), and the long
            // streams' first tokens.
            assert!(
                frame["type"] == "ack" || frame["type"] == "token",
                "{frame}"
            );
            acked |= frame["type"] == "ack" && frame["id"] == id.as_str();
        };
        assert_eq!(
            (error["replyTo"].as_str(), error["data"]["code"].as_str()),
            (Some(id.as_str()), Some(code))
        );
        assert!(acked, "{id} was acknowledged: it is not to be sent again");
    }
}
