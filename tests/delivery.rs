//! At-least-once delivery and the HTTP fallback, in a real browser against the
//! test server (started by scripts/test on a loopback port): `sendWithAck`,
//! falling back after refused upgrades, HTTP only, the probe back to the
//! WebSocket with nothing lost or doubled, and event-stream resume.

mod support;

use js_sys::Promise;
use support::{
    collect_envelopes, entries, fallback_options, field, object, options_with, post, server_url,
    session_log, sleep, unique_session, wait_for_state, wait_until, wait_until_within,
    EventRecorder,
};
use support::{SendResult, WebSocketTransport};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The ids of the messages the server processed (duplicates and heartbeat
/// pings excluded), in order.
async fn processed_ids(session: &str) -> Vec<String> {
    entries(&session_log(session).await, "frames")
        .iter()
        .filter(|frame| field(frame, "duplicate").as_bool() == Some(false))
        .filter(|frame| field(frame, "type").as_string().as_deref() != Some("ping"))
        .filter_map(|frame| field(frame, "id").as_string())
        .collect()
}

async fn settle(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

#[wasm_bindgen_test]
async fn send_with_ack_resolves_once_the_server_acknowledges() {
    let session = unique_session("ack");
    let transport =
        WebSocketTransport::new(fallback_options(&session, &[("autoConnect", true.into())]))
            .unwrap();
    let promise = transport
        .send_with_ack("message".into(), object(&[("text", "hi".into())]))
        .unwrap();
    let id = settle(promise).await.expect("acknowledged");
    assert_eq!(processed_ids(&session).await, [id.as_string().unwrap()]);
    assert_eq!(transport.queue_length(), 0, "acked messages are let go");
    let connections = entries(&session_log(&session).await, "connections");
    let query = field(&connections[0], "query").as_string().unwrap();
    assert!(query.contains("ack=1"), "{query}");
}

/// One rule for a rejected `sendWithAck`: rejected means never sent. It
/// used to be rejected by `disconnect()` and delivered after `connect()`
/// anyway. Now `disconnect()` keeps it queued and its promise pending until
/// it is acknowledged; `clearQueue()` takes it out and rejects it.
#[wasm_bindgen_test]
async fn send_with_ack_settles_when_its_message_does() {
    let session = unique_session("ack-reject");
    let transport = WebSocketTransport::new(fallback_options(&session, &[])).unwrap();
    let kept = transport
        .send_with_ack("message".into(), object(&[("n", 1.into())]))
        .unwrap();
    transport
        .disconnect(JsValue::UNDEFINED, JsValue::UNDEFINED)
        .unwrap();
    assert_eq!(transport.queue_length(), 1, "disconnect() keeps it");
    transport.connect();
    let id = settle(kept).await.expect("acknowledged after connect()");
    assert_eq!(processed_ids(&session).await, [id.as_string().unwrap()]);

    transport
        .disconnect(JsValue::UNDEFINED, JsValue::UNDEFINED)
        .unwrap();
    let removed = transport
        .send_with_ack("message".into(), object(&[("n", 2.into())]))
        .unwrap();
    transport.clear_queue();
    let error = settle(removed).await.expect_err("rejected");
    let message = field(&error, "message").as_string().unwrap();
    assert!(message.contains("clearQueue()"), "{message}");
    transport.connect();
    wait_for_state(&transport, "connected", "websocket").await;
    assert_eq!(
        processed_ids(&session).await.len(),
        1,
        "the rejected one never went out"
    );

    let plain =
        WebSocketTransport::new(options_with(&session, &[("autoConnect", false.into())])).unwrap();
    let error = settle(
        plain
            .send_with_ack("message".into(), JsValue::NULL)
            .unwrap(),
    )
    .await
    .expect_err("rejected");
    let message = field(&error, "message").as_string().unwrap();
    assert!(message.contains("at-least-once"), "{message}");
}

#[wasm_bindgen_test]
async fn refused_upgrades_switch_to_http_and_replies_arrive_as_messages() {
    let session = unique_session("fallback");
    post(&format!("/control/{session}/refuse?ms=60000")).await;
    let transport = WebSocketTransport::new(fallback_options(&session, &[])).unwrap();
    let modes = EventRecorder::new(&transport, "mode");
    let replies = collect_envelopes(&transport, "message");
    transport.connect();
    wait_for_state(&transport, "connected", "http").await;
    assert_eq!(modes.strings(), ["http"]);
    let attempts = entries(&session_log(&session).await, "connections");
    assert_eq!(attempts.len(), 2, "fallbackAfterAttempts: 2");

    let mut acks = Vec::new();
    for n in 0..5 {
        let promise = transport
            .send_with_ack("message".into(), object(&[("n", n.into())]))
            .unwrap();
        acks.push(promise);
    }
    for promise in acks {
        settle(promise).await.expect("acknowledged over HTTP");
    }
    wait_until("5 replies", || std::future::ready(replies.length() == 5)).await;
    let numbers: Vec<f64> = replies
        .iter()
        .map(|reply| field(&field(&reply, "data"), "n").as_f64().unwrap())
        .collect();
    assert_eq!(numbers, [0.0, 1.0, 2.0, 3.0, 4.0], "in order, once each");
    let frames = entries(&session_log(&session).await, "frames");
    assert_eq!(frames.len(), 5);
    assert!(frames
        .iter()
        .all(|frame| field(frame, "via").as_string().as_deref() == Some("http")));
    assert_eq!(
        transport.send("message".into(), JsValue::NULL).unwrap(),
        SendResult::Http
    );
}

#[wasm_bindgen_test]
async fn enable_websocket_false_is_http_only() {
    let session = unique_session("http-only");
    let transport = WebSocketTransport::new(object(&[
        ("sessionId", session.clone().into()),
        ("enableWebSocket", false.into()),
        (
            "httpFallbackUrl",
            format!("{}/messages", server_url()).into(),
        ),
        ("httpEventsUrl", format!("{}/events", server_url()).into()),
    ]))
    .unwrap();
    let replies = collect_envelopes(&transport, "message");
    wait_for_state(&transport, "connected", "http").await;
    transport
        .send("message".into(), object(&[("text", "over http".into())]))
        .unwrap();
    wait_until("the reply", || std::future::ready(replies.length() == 1)).await;
    sleep(300).await;
    let log = session_log(&session).await;
    assert!(
        entries(&log, "connections").is_empty(),
        "no WebSocket at all"
    );
    assert_eq!(entries(&log, "frames").len(), 1);
}

#[wasm_bindgen_test]
async fn the_probe_moves_back_to_the_websocket_with_nothing_lost_or_doubled() {
    let session = unique_session("probe");
    post(&format!("/control/{session}/refuse?ms=800")).await;
    let transport = WebSocketTransport::new(fallback_options(
        &session,
        &[
            ("fallbackAfterAttempts", 1.into()),
            ("upgradeProbeInterval", 250.into()),
        ],
    ))
    .unwrap();
    let modes = EventRecorder::new(&transport, "mode");
    transport.connect();
    wait_for_state(&transport, "connected", "http").await;
    // A steady stream across the switch back to the WebSocket.
    let mut sent = Vec::new();
    for n in 0..60 {
        let promise = transport
            .send_with_ack("message".into(), object(&[("n", n.into())]))
            .unwrap();
        sent.push(promise);
        sleep(25).await;
    }
    let mut ids = Vec::new();
    for promise in sent {
        ids.push(
            settle(promise)
                .await
                .expect("acknowledged")
                .as_string()
                .unwrap(),
        );
    }
    wait_for_state(&transport, "connected", "websocket").await;
    assert_eq!(modes.strings(), ["http", "websocket"]);
    assert_eq!(processed_ids(&session).await, ids, "each once, in order");
    let frames = entries(&session_log(&session).await, "frames");
    let via = |way: &str| {
        frames
            .iter()
            .any(|frame| field(frame, "via").as_string().as_deref() == Some(way))
    };
    assert!(
        via("http") && via("ws"),
        "the stream really crossed the switch"
    );
}

#[wasm_bindgen_test]
async fn the_event_stream_resumes_after_a_drop_with_nothing_lost_or_doubled() {
    let session = unique_session("sse-resume");
    let transport = WebSocketTransport::new(object(&[
        ("sessionId", session.clone().into()),
        ("enableWebSocket", false.into()),
        ("reconnectInterval", 50.into()),
        ("reconnectJitter", 0.into()),
        (
            "httpFallbackUrl",
            format!("{}/messages", server_url()).into(),
        ),
        ("httpEventsUrl", format!("{}/events", server_url()).into()),
    ]))
    .unwrap();
    let pushes = collect_envelopes(&transport, "push");
    wait_for_state(&transport, "connected", "http").await;
    post(&format!("/control/{session}/push?count=30&interval_ms=20")).await;
    sleep(200).await;
    post(&format!("/control/{session}/drop-events")).await;
    wait_until_within("30 pushes", 8000.0, || {
        std::future::ready(pushes.length() >= 30)
    })
    .await;
    sleep(200).await; // anything doubled would show up now
    let numbers: Vec<f64> = pushes
        .iter()
        .map(|push| field(&field(&push, "data"), "n").as_f64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=30).map(f64::from).collect::<Vec<_>>());
    assert!(field(&field(&transport.snapshot(), "stats"), "reconnects")
        .as_f64()
        .is_some_and(|n| n >= 1.0));
}
