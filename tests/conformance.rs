//! The browser tests any PROTOCOL.md server must pass: they use only the
//! protocol's own endpoints (`/ws`, `/messages`, `/events`), never the test
//! server's `/control/…`, so scripts/test runs them against resocket-server
//! and against the Node server in examples/node-server, written from the
//! document alone. Connect, echo, ack, fallback POST and resume.

mod support;

use js_sys::{Array, Promise};
use support::{
    collect_envelopes, fallback_options, field, object, options_with, sleep, unique_session,
    wait_for_state, wait_until, ws_url, EventRecorder,
};
use support::{SendResult, WebSocketTransport};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn numbers(envelopes: &Array, name: &str) -> Vec<f64> {
    envelopes
        .iter()
        .map(|envelope| field(&envelope, name).as_f64().unwrap_or(f64::NAN))
        .collect()
}

#[wasm_bindgen_test]
async fn connects_and_gets_numbered_echoes_in_order() {
    let session = unique_session("conformance-echo");
    let transport = WebSocketTransport::new(options_with(&session, &[])).unwrap();
    let opens = EventRecorder::new(&transport, "open");
    wait_for_state(&transport, "connected", "websocket").await;
    assert_eq!(opens.len(), 1);

    let replies = collect_envelopes(&transport, "message");
    for n in 0..3 {
        let result = transport
            .send("message".into(), object(&[("n", n.into())]))
            .unwrap();
        assert_eq!(result, SendResult::Sent);
    }
    wait_until("3 echoes", || std::future::ready(replies.length() == 3)).await;
    let echoed: Vec<f64> = replies
        .iter()
        .map(|reply| field(&field(&reply, "data"), "n").as_f64().unwrap())
        .collect();
    assert_eq!(echoed, [0.0, 1.0, 2.0], "§2: data echoed, in order");
    assert!(replies
        .iter()
        .all(|reply| field(&reply, "replyTo").as_string().is_some()));
    let seqs = numbers(&replies, "seq");
    assert!(
        seqs.windows(2).all(|pair| pair[1] == pair[0] + 1.0),
        "§4: consecutive seq: {seqs:?}"
    );
}

#[wasm_bindgen_test]
async fn send_with_ack_resolves_with_the_message_id() {
    let session = unique_session("conformance-ack");
    let transport = WebSocketTransport::new(options_with(
        &session,
        &[("delivery", "at-least-once".into())],
    ))
    .unwrap();
    let replies = collect_envelopes(&transport, "message");
    let promise = transport
        .send_with_ack("message".into(), object(&[("text", "hi".into())]))
        .unwrap();
    let id = JsFuture::from(promise).await.expect("§5: acknowledged");
    wait_until("the echo", || std::future::ready(replies.length() == 1)).await;
    assert_eq!(
        field(&replies.get(0), "replyTo").as_string(),
        id.as_string(),
        "the ack and the reply name the same id"
    );
    assert_eq!(transport.queue_length(), 0, "acked messages are let go");
}

#[wasm_bindgen_test]
async fn falls_back_to_post_when_the_websocket_cannot_connect() {
    let session = unique_session("conformance-fallback");
    // No server answers upgrades on this path, so every attempt fails.
    let nowhere = ws_url().replace("/ws", "/no-websocket-here");
    let transport = WebSocketTransport::new(fallback_options(
        &session,
        &[
            ("url", nowhere.into()),
            ("autoConnect", true.into()),
            ("upgradeProbeInterval", 0.into()),
        ],
    ))
    .unwrap();
    let modes = EventRecorder::new(&transport, "mode");
    let replies = collect_envelopes(&transport, "message");
    wait_for_state(&transport, "connected", "http").await;
    assert_eq!(modes.strings(), ["http"]);

    let promises: Vec<Promise> = (0..4)
        .map(|n| {
            transport
                .send_with_ack("message".into(), object(&[("n", n.into())]))
                .unwrap()
        })
        .collect();
    for promise in promises {
        JsFuture::from(promise)
            .await
            .expect("§6: acknowledged over POST");
    }
    wait_until("4 replies", || std::future::ready(replies.length() == 4)).await;
    let echoed: Vec<f64> = replies
        .iter()
        .map(|reply| field(&field(&reply, "data"), "n").as_f64().unwrap())
        .collect();
    assert_eq!(
        echoed,
        [0.0, 1.0, 2.0, 3.0],
        "replies arrive as messages, in order"
    );
    assert_eq!(
        transport.send("message".into(), JsValue::NULL).unwrap(),
        SendResult::Http
    );
}

/// Opens a plain browser WebSocket on `session`, sends `count` messages and
/// waits for their echoes: frames numbered in the session that a transport
/// that is away at the time must get by replay.
async fn echoes_on_another_socket(session: &str, count: u32) {
    let socket = web_sys::WebSocket::new(&format!("{}?session_id={session}", ws_url())).unwrap();
    let echoes = Array::new();
    let push = support::pusher(&echoes);
    socket.set_onmessage(Some(&push));
    wait_until("the other socket opens", || {
        std::future::ready(socket.ready_state() == web_sys::WebSocket::OPEN)
    })
    .await;
    for n in 0..count {
        socket
            .send_with_str(&format!(r#"{{"type":"message","data":{{"missed":{n}}}}}"#))
            .unwrap();
    }
    wait_until("its echoes", || {
        std::future::ready(echoes.length() == count)
    })
    .await;
    socket.close().unwrap();
}

#[wasm_bindgen_test]
async fn a_reconnect_replays_what_was_missed_exactly_once() {
    let session = unique_session("conformance-resume");
    let transport = WebSocketTransport::new(options_with(&session, &[])).unwrap();
    let received = collect_envelopes(&transport, "message");
    transport.send("message".into(), JsValue::NULL).unwrap();
    wait_until("the first echo", || {
        std::future::ready(received.length() == 1)
    })
    .await;
    transport
        .disconnect(JsValue::UNDEFINED, JsValue::UNDEFINED)
        .unwrap();

    echoes_on_another_socket(&session, 3).await;
    transport.connect();
    wait_until("the replay", || std::future::ready(received.length() == 4)).await;
    let missed: Vec<f64> = received
        .iter()
        .skip(1)
        .map(|envelope| field(&field(&envelope, "data"), "missed").as_f64().unwrap())
        .collect();
    assert_eq!(
        missed,
        [0.0, 1.0, 2.0],
        "§4: replayed after last_seq, in order"
    );

    // Reconnecting again replays nothing: the transport reported what it has.
    transport.reconnect();
    wait_for_state(&transport, "connected", "websocket").await;
    transport.send("message".into(), JsValue::NULL).unwrap();
    wait_until("the last echo", || {
        std::future::ready(received.length() == 5)
    })
    .await;
    sleep(100).await;
    let seqs = numbers(&received, "seq");
    assert_eq!(seqs, [1.0, 2.0, 3.0, 4.0, 5.0], "each frame exactly once");
}
