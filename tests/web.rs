//! Browser tests of the basic API: the transport in real Firefox and Chromium
//! against the resocket-server started by `scripts/test` (its address is
//! compiled in from `RESOCKET_TEST_SERVER`). Reconnection, queueing and the
//! heartbeat are in `resilience.rs`.
#![cfg(target_arch = "wasm32")]

mod support;

use js_sys::{Object, Reflect};
use support::{field, options, post, session_log, unique_session, wait_until, EventRecorder};
use support::{SendResult, WebSocketTransport};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

async fn connected_transport(session: &str) -> (WebSocketTransport, EventRecorder) {
    let transport = WebSocketTransport::new(options(session, true)).expect("valid options");
    let states = EventRecorder::new(&transport, "state");
    states
        .wait_for("state connected", |s| s == "connected")
        .await;
    (transport, states)
}

#[wasm_bindgen_test]
async fn connect_moves_through_connecting_to_connected() {
    let session = unique_session("connect");
    let transport = WebSocketTransport::new(options(&session, false)).unwrap();
    assert_eq!(transport.state(), "disconnected");
    let states = EventRecorder::new(&transport, "state");
    let opens = EventRecorder::new(&transport, "open");
    transport.connect();
    assert_eq!(transport.state(), "connecting");
    states
        .wait_for("state connected", |s| s == "connected")
        .await;
    assert_eq!(states.strings(), vec!["connecting", "connected"]);
    assert_eq!(opens.len(), 1);
    assert_eq!(transport.session_id(), session);
    // The server saw exactly one connection, for this session.
    let log = session_log(&session).await;
    assert_eq!(field(&log, "connectionCount").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn send_gets_the_echo_and_the_server_logs_it_under_the_session() {
    let session = unique_session("echo");
    let (transport, _states) = connected_transport(&session).await;
    let messages = EventRecorder::new(&transport, "message");
    let data = js_sys::JSON::parse(r#"{"text":"hello from the browser","n":42}"#).unwrap();
    let outcome = transport.send("message".into(), data).unwrap();
    assert_eq!(outcome, SendResult::Sent);

    let echo = messages
        .wait_for_value("the echo", |m| {
            field(m, "type").as_string().as_deref() == Some("message")
        })
        .await;
    let echoed_data = field(&echo, "data");
    assert_eq!(
        field(&echoed_data, "text").as_string().as_deref(),
        Some("hello from the browser")
    );
    assert_eq!(field(&echoed_data, "n").as_f64(), Some(42.0));
    let reply_to = field(&echo, "replyTo")
        .as_string()
        .expect("replyTo is the envelope id");

    let log = session_log(&session).await;
    assert_eq!(field(&log, "sessionId").as_string(), Some(session.clone()));
    let frames: js_sys::Array = field(&log, "frames").unchecked_into();
    // The heartbeat's first ping goes out on open; the message is the only other frame.
    let messages: Vec<JsValue> = frames
        .iter()
        .filter(|frame| field(frame, "type").as_string().as_deref() != Some("ping"))
        .collect();
    assert_eq!(messages.len(), 1);
    let frame = messages[0].clone();
    assert_eq!(
        field(&frame, "type").as_string().as_deref(),
        Some("message")
    );
    assert_eq!(field(&frame, "id").as_string(), Some(reply_to));
    assert_eq!(
        field(&field(&frame, "data"), "text").as_string().as_deref(),
        Some("hello from the browser")
    );
}

#[wasm_bindgen_test]
async fn an_abrupt_server_drop_is_reported_with_1006_and_the_transport_comes_back() {
    let session = unique_session("drop");
    let transport = WebSocketTransport::new(support::options_with(
        &session,
        &[
            ("reconnectInterval", 50.into()),
            ("reconnectJitter", 0.into()),
        ],
    ))
    .unwrap();
    let states = EventRecorder::new(&transport, "state");
    states.wait_for("connected", |s| s == "connected").await;
    let closes = EventRecorder::new(&transport, "close");
    post(&format!("/control/{session}/drop")).await;
    states
        .wait_for("reconnecting", |s| s == "reconnecting")
        .await;
    let close = closes.wait_for_value("a close event", |_| true).await;
    assert_eq!(field(&close, "code").as_f64(), Some(1006.0));
    assert_eq!(field(&close, "wasClean").as_bool(), Some(false));
    wait_until("connected again", || {
        std::future::ready(transport.state() == "connected")
    })
    .await;
    // A listener attached right after `new` also hears what the constructor
    // started ("connecting"): construction events are delivered in a microtask.
    assert_eq!(
        states.strings(),
        vec!["connecting", "connected", "reconnecting", "connected"]
    );
}

#[wasm_bindgen_test]
async fn a_server_close_code_and_reason_reach_the_close_event() {
    let session = unique_session("close");
    let (transport, states) = connected_transport(&session).await;
    let closes = EventRecorder::new(&transport, "close");
    post(&format!(
        "/control/{session}/close?code=4001&reason=maintenance"
    ))
    .await;
    let close = closes.wait_for_value("a close event", |_| true).await;
    assert_eq!(field(&close, "code").as_f64(), Some(4001.0));
    assert_eq!(
        field(&close, "reason").as_string().as_deref(),
        Some("maintenance")
    );
    assert_eq!(field(&close, "wasClean").as_bool(), Some(true));
    // 4001 is not terminal: the transport goes on trying.
    states
        .wait_for("reconnecting", |s| s == "reconnecting")
        .await;
    let last_close = field(&transport.snapshot(), "lastClose");
    assert_eq!(field(&last_close, "code").as_f64(), Some(4001.0));
}

#[wasm_bindgen_test]
async fn free_closes_the_socket_and_the_server_sees_it() {
    let session = unique_session("free");
    let (transport, states) = connected_transport(&session).await;
    let unsubscribe_after_free = transport
        .on("message", js_sys::Function::new_no_args("").into())
        .unwrap();
    let states_before_free = states.strings();
    drop(transport); // what `free()` does from JavaScript
    wait_until("the server logs the close", || async {
        let log = session_log(&session).await;
        field(&log, "openConnections").as_f64() == Some(0.0)
    })
    .await;
    let log = session_log(&session).await;
    let connection = js_sys::Array::from(&field(&log, "connections")).get(0);
    assert_eq!(
        field(&connection, "closedBy").as_string().as_deref(),
        Some("client-close")
    );
    assert_eq!(field(&connection, "closeCode").as_f64(), Some(1000.0));
    assert_eq!(
        field(&connection, "closeReason").as_string().as_deref(),
        Some("transport freed")
    );
    // Handlers were detached: no state change is reported after free().
    assert_eq!(states.strings(), states_before_free);
    // Unsubscribing after free() is harmless (React may clean up in either order).
    unsubscribe_after_free.call0(&JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn disconnect_sends_the_code_and_stays_down() {
    let session = unique_session("disconnect");
    let (transport, states) = connected_transport(&session).await;
    transport.disconnect(4000.into(), "bye".into()).unwrap();
    assert_eq!(transport.state(), "disconnected");
    assert_eq!(
        states.strings().last().map(String::as_str),
        Some("disconnected")
    );
    wait_until("the server logs the close", || async {
        let log = session_log(&session).await;
        let connection = js_sys::Array::from(&field(&log, "connections")).get(0);
        field(&connection, "closeCode").as_f64() == Some(4000.0)
    })
    .await;
    // Sending while down queues; it does not throw.
    let outcome = transport.send("message".into(), JsValue::NULL).unwrap();
    assert_eq!(outcome, SendResult::Queued);
    assert_eq!(transport.queue_length(), 1);
    assert_eq!(
        field(&transport.snapshot(), "disconnectReason")
            .as_string()
            .as_deref(),
        Some("client")
    );
    // Out-of-range arguments are rejected before touching the socket.
    assert!(transport
        .disconnect(1001.into(), JsValue::UNDEFINED)
        .unwrap_err()
        .is_instance_of::<js_sys::RangeError>());
}

#[wasm_bindgen_test]
async fn an_unsubscribed_listener_hears_nothing_more() {
    let session = unique_session("unsubscribe");
    let (transport, _states) = connected_transport(&session).await;
    let kept = EventRecorder::new(&transport, "message");
    let removed = EventRecorder::new(&transport, "message");
    removed.unsubscribe();
    transport.send("message".into(), JsValue::from(1)).unwrap();
    kept.wait_for_value("the echo", |_| true).await;
    assert_eq!(removed.len(), 0);
}

#[wasm_bindgen_test]
fn bad_options_throw_errors_that_name_the_field_and_the_value() {
    let cases: [(JsValue, &str, bool); 9] = [
        (JsValue::UNDEFINED, "options", true),
        (Object::new().into(), "url", true),
        (
            support::object(&[("url", "http://127.0.0.1/ws".into())]),
            "url",
            false,
        ),
        (
            support::object(&[("url", "ws://h/".into()), ("sessionId", 5.into())]),
            "sessionId",
            true,
        ),
        (
            support::object(&[("url", "ws://h/".into()), ("autoConnect", "yes".into())]),
            "autoConnect",
            true,
        ),
        (
            support::object(&[
                ("url", "ws://h/".into()),
                ("reconnectInterval", (-5).into()),
            ]),
            "reconnectInterval",
            false,
        ),
        (
            support::object(&[
                ("url", "ws://h/".into()),
                ("reconnectJitter", "lots".into()),
            ]),
            "reconnectJitter",
            true,
        ),
        (
            support::object(&[("url", "ws://h/".into()), ("queueOverflow", "drop".into())]),
            "queueOverflow",
            false,
        ),
        (
            support::object(&[("url", "ws://h/".into()), ("shouldReconnect", true.into())]),
            "shouldReconnect",
            true,
        ),
    ];
    for (options, field_name, is_type_error) in cases {
        let error = match WebSocketTransport::new(options) {
            Ok(_) => panic!("options naming {field_name} should be rejected"),
            Err(error) => error,
        };
        if is_type_error {
            assert!(
                error.is_instance_of::<js_sys::TypeError>(),
                "{field_name}: TypeError expected"
            );
        } else {
            assert!(
                error.is_instance_of::<js_sys::RangeError>(),
                "{field_name}: RangeError expected"
            );
        }
        let message = String::from(error.unchecked_ref::<js_sys::Error>().message());
        assert!(
            message.contains(field_name),
            "{message:?} should name {field_name}"
        );
    }
    let transport = WebSocketTransport::new(options("x", false)).unwrap();
    let error = transport
        .on("bogus", js_sys::Function::new_no_args("").into())
        .unwrap_err();
    assert!(error.is_instance_of::<js_sys::RangeError>());
    let error = transport.on("message", JsValue::from(3)).unwrap_err();
    assert!(error.is_instance_of::<js_sys::TypeError>());
    assert!(Reflect::has(&error, &"message".into()).unwrap());

    // Envelope arguments: the type must be a string, the data JSON.
    let type_error_naming = |error: JsValue, expected: &str| {
        assert!(error.is_instance_of::<js_sys::TypeError>(), "{expected}");
        let message = String::from(error.unchecked_ref::<js_sys::Error>().message());
        assert!(message.starts_with(expected), "{message:?}");
    };
    type_error_naming(
        transport
            .send(JsValue::from(42), JsValue::NULL)
            .unwrap_err(),
        "resocket: type must be a string, got 42",
    );
    let cyclic = Object::new();
    Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    type_error_naming(
        transport.send("message".into(), cyclic.into()).unwrap_err(),
        "resocket: data must be serialisable as JSON, got TypeError",
    );
    type_error_naming(
        transport
            .on_message(JsValue::from(42), js_sys::Function::new_no_args("").into())
            .unwrap_err(),
        "resocket: type must be a string, got 42",
    );
    assert_eq!(transport.queue_length(), 0, "nothing was queued");
}

/// The engine under test is the one the test command asked for
/// (`RESOCKET_TEST_ENGINE` at compile time): WebKit is driven through
/// wasm-bindgen-test-runner's geckodriver path (`--geckodriver
/// WebKitWebDriver`), whose log line says "Firefox" all the same.
#[wasm_bindgen_test]
fn the_engine_is_the_one_the_test_command_asked_for() {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap();
    let agent = field(&navigator, "userAgent").as_string().unwrap();
    let is = |engine: &str| match engine {
        "webkit" => agent.contains("AppleWebKit") && !agent.contains("Chrome"),
        "firefox" => agent.contains("Firefox"),
        "chrome" => agent.contains("Chrome"),
        _ => true,
    };
    let asked = option_env!("RESOCKET_TEST_ENGINE").unwrap_or("any");
    assert!(is(asked), "asked for {asked}, running in {agent}");
}
