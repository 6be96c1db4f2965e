//! The wire protocol on `/ws`, with a real WebSocket client on loopback.

mod common;

use common::{next_json, send_json, TestServer, PROMPTLY};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn ping_is_answered_with_a_pong_carrying_the_same_id_and_timestamp() {
    let server = TestServer::start().await;
    let mut client = server.connect("proto-ping").await;
    send_json(
        &mut client,
        json!({"type":"ping","id":"p-1","timestamp":"2026-01-01T00:00:00.000Z"}),
    )
    .await;
    let pong = next_json(&mut client).await;
    assert_eq!(pong["type"], "pong");
    assert_eq!(pong["id"], "p-1");
    assert_eq!(pong["timestamp"], "2026-01-01T00:00:00.000Z");
    assert!(pong["serverTime"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
}

#[tokio::test]
async fn message_is_echoed_with_reply_to_its_id() {
    let server = TestServer::start().await;
    let mut client = server.connect("proto-echo").await;
    send_json(
        &mut client,
        json!({"type":"message","data":{"text":"héllo"},"id":"m-7","timestamp":"T"}),
    )
    .await;
    let echo = next_json(&mut client).await;
    assert_eq!(echo["type"], "message");
    assert_eq!(echo["data"], json!({"text":"héllo"}));
    assert_eq!(echo["replyTo"], "m-7");
}

#[tokio::test]
async fn other_types_are_echoed_with_their_type() {
    let server = TestServer::start().await;
    let mut client = server.connect("proto-other").await;
    let typing = json!({"type":"typing","data":{"user":"ann"},"id":"t-1","timestamp":"T"});
    send_json(&mut client, typing.clone()).await;
    let mut echo = next_json(&mut client).await;
    // The echo is numbered in the session's stream; otherwise unchanged.
    assert_eq!(echo.as_object_mut().unwrap().remove("seq"), Some(json!(1)));
    assert_eq!(echo, typing);
}

#[tokio::test]
async fn non_json_gets_an_error_envelope_and_the_connection_stays_open() {
    let server = TestServer::start().await;
    let mut client = server.connect("proto-bad").await;
    client
        .send(Message::Text("this is not json".into()))
        .await
        .unwrap();
    let error = next_json(&mut client).await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["data"]["code"], "invalid-json");
    client.send(Message::Text("[1,2,3]".into())).await.unwrap();
    assert_eq!(next_json(&mut client).await["data"]["code"], "missing-type");
    // Still usable afterwards.
    send_json(&mut client, json!({"type":"ping","id":"after"})).await;
    assert_eq!(next_json(&mut client).await["id"], "after");
}

#[tokio::test]
async fn binary_frames_are_echoed_as_binary() {
    let server = TestServer::start().await;
    let mut client = server.connect("proto-bin").await;
    let payload: Vec<u8> = (0..=255).collect();
    client
        .send(Message::Binary(payload.clone().into()))
        .await
        .unwrap();
    let echoed = tokio::time::timeout(PROMPTLY, client.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echoed, Message::Binary(payload.into()));
}

#[tokio::test]
async fn the_session_log_records_frames_in_order_with_connections() {
    let server = TestServer::start().await;
    let mut client = server.connect("proto-log").await;
    for n in 0..3 {
        send_json(
            &mut client,
            json!({"type":"message","data":{"n":n},"id":format!("id-{n}")}),
        )
        .await;
        next_json(&mut client).await;
    }
    client.send(Message::Text("oops".into())).await.unwrap();
    next_json(&mut client).await;
    client
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    client.next().await.unwrap().unwrap();

    let log = server.log("proto-log").await;
    assert_eq!(log["sessionId"], "proto-log");
    assert_eq!(log["connectionCount"], 1);
    assert_eq!(log["openConnections"], 1);
    let frames = log["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 5);
    for (n, frame) in frames.iter().take(3).enumerate() {
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["id"], format!("id-{n}"));
        assert_eq!(frame["data"], json!({ "n": n }));
    }
    assert_eq!(frames[3]["text"], "oops");
    assert_eq!(frames[4]["kind"], "binary");
    assert_eq!(frames[4]["bytes"], 3);
    let connection = &log["connections"][0];
    assert_eq!(connection["outcome"], "accepted");
    assert_eq!(connection["query"], "session_id=proto-log");
    assert!(connection["attemptedAt"].as_str().unwrap().ends_with('Z'));
    assert!(connection["closedAtMs"].is_null());

    client.close(None).await.unwrap();
    common::eventually("the log shows the close", || async {
        server.log("proto-log").await["openConnections"] == 0
    })
    .await;
    let log = server.log("proto-log").await;
    assert_eq!(log["connections"][0]["closedBy"], "client-close");
}

#[tokio::test]
async fn a_client_close_completes_the_handshake() {
    let server = TestServer::start().await;
    let mut client = server.connect("proto-close").await;
    client
        .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: 4321u16.into(),
            reason: "done".into(),
        }))
        .await
        .unwrap();
    // The server echoes the close frame: a clean handshake.
    assert_eq!(
        common::wait_for_end(&mut client).await,
        Some((4321, "done".to_owned()))
    );
    common::eventually("close code is logged", || async {
        server.log("proto-close").await["connections"][0]["closeCode"] == 4321
    })
    .await;
}

#[tokio::test]
async fn a_connection_without_session_id_still_works() {
    let server = TestServer::start().await;
    let mut client = server.connect_query("").await;
    send_json(&mut client, json!({"type":"ping","id":"anon"})).await;
    assert_eq!(next_json(&mut client).await["id"], "anon");
}
