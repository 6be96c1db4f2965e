//! Browser tests of what the transport does when the network misbehaves:
//! reconnection on the configured schedule, the offline queue, heartbeat
//! latency and dead links, terminal closes, the URL function, memory, and the
//! React snapshot contract. Each test uses its own session, and the server's
//! per-session fault injection and log, so tests never disturb each other.
#![cfg(target_arch = "wasm32")]

mod support;

use js_sys::{Array, Function, Object};
use support::{
    collect_envelopes, entries, field, options_with, post, pusher, session_log, sleep,
    unique_session, wait_until, wait_until_within, ws_url, EventRecorder,
};
use support::{SendResult, WebSocketTransport};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn number(value: &JsValue, name: &str) -> f64 {
    field(value, name)
        .as_f64()
        .unwrap_or_else(|| panic!("{name} is not a number in {value:?}"))
}

/// A transport that retries every `interval_ms` without jitter, so tests are
/// quick and their timing exact.
fn quick_retry_transport(session: &str, interval_ms: u32) -> WebSocketTransport {
    WebSocketTransport::new(options_with(
        session,
        &[
            ("reconnectInterval", interval_ms.into()),
            ("reconnectJitter", 0.into()),
        ],
    ))
    .unwrap()
}

async fn wait_for_state(transport: &WebSocketTransport, state: &str) {
    wait_until(&format!("state {state}"), || {
        std::future::ready(transport.state() == state)
    })
    .await;
}

#[wasm_bindgen_test]
async fn after_a_drop_the_attempts_follow_the_configured_schedule() {
    let session = unique_session("schedule");
    let transport = WebSocketTransport::new(options_with(
        &session,
        &[
            ("reconnectInterval", 200.into()),
            ("reconnectBackoffFactor", 2.into()),
            ("reconnectJitter", 0.into()),
            ("maxReconnectInterval", 5000.into()),
        ],
    ))
    .unwrap();
    let reconnecting = EventRecorder::new(&transport, "reconnecting");
    wait_for_state(&transport, "connected").await;
    // Refuse upgrades for 1 s, then drop: attempts at +200 (503), +600 (503), +1400 (accepted).
    post(&format!("/control/{session}/refuse?ms=1000")).await;
    post(&format!("/control/{session}/drop")).await;
    // The drop reaches the client a moment after the request returns.
    wait_for_state(&transport, "reconnecting").await;
    wait_until_within("reconnected", 8000.0, || {
        std::future::ready(transport.state() == "connected")
    })
    .await;

    let log = session_log(&session).await;
    let connections = entries(&log, "connections");
    assert_eq!(connections.len(), 4, "first connection + three attempts");
    let outcomes: Vec<String> = connections[1..]
        .iter()
        .map(|c| field(c, "outcome").as_string().unwrap())
        .collect();
    assert_eq!(outcomes, ["refused", "refused", "accepted"]);
    // Order and outcome only: how long each wait lasts is the core's
    // schedule, proven on the simulated clock (src/core/tests/backoff_schedule.rs);
    // a browser on a busy host fires timers late by any amount.
    let announced: Vec<(f64, f64)> = reconnecting
        .values()
        .iter()
        .map(|r| (number(r, "attempt"), number(r, "delayMs")))
        .collect();
    assert_eq!(announced, [(1.0, 200.0), (2.0, 400.0), (3.0, 800.0)]);
    assert_eq!(
        number(&field(&transport.snapshot(), "stats"), "reconnects"),
        1.0
    );
}

#[wasm_bindgen_test]
async fn messages_sent_while_down_are_kept_up_to_the_cap_and_delivered_in_order() {
    let session = unique_session("queue");
    let transport = WebSocketTransport::new(options_with(
        &session,
        &[
            ("reconnectInterval", 100.into()),
            ("reconnectJitter", 0.into()),
            ("maxReconnectAttempts", f64::INFINITY.into()),
        ],
    ))
    .unwrap();
    wait_for_state(&transport, "connected").await;
    post(&format!("/control/{session}/refuse?ms=800")).await;
    post(&format!("/control/{session}/drop")).await;
    wait_for_state(&transport, "reconnecting").await;
    let queue_events = EventRecorder::new(&transport, "queue");
    for n in 1..=150 {
        let data = support::object(&[("n", n.into())]);
        assert_eq!(
            transport.send("message".into(), data).unwrap(),
            SendResult::Queued
        );
    }
    assert_eq!(transport.queue_length(), 100);
    let queued = transport.queued();
    assert_eq!(number(&field(&queued.get(0), "data"), "n"), 51.0);
    assert_eq!(number(&field(&queued.get(99), "data"), "n"), 150.0);
    // Each overflow names what it dropped.
    let last_event = queue_events.values().pop().unwrap();
    let dropped = Array::from(&field(&last_event, "dropped"));
    assert_eq!(number(&field(&dropped.get(0), "data"), "n"), 50.0);
    assert_eq!(
        number(&field(&transport.snapshot(), "stats"), "dropped"),
        50.0
    );

    wait_until_within("reconnected", 8000.0, || {
        std::future::ready(transport.state() == "connected")
    })
    .await;
    wait_until("the server has all 100", || async {
        entries(&session_log(&session).await, "frames").len() >= 100
    })
    .await;
    let frames = entries(&session_log(&session).await, "frames");
    let delivered: Vec<f64> = frames
        .iter()
        .filter(|f| field(f, "type").as_string().as_deref() == Some("message"))
        .map(|f| number(&field(f, "data"), "n"))
        .collect();
    assert_eq!(delivered, (51..=150).map(f64::from).collect::<Vec<_>>());
    assert_eq!(transport.queue_length(), 0);
}

#[wasm_bindgen_test]
fn the_error_overflow_policy_throws_and_drop_newest_reports_dropped() {
    let session = unique_session("overflow");
    let strict = WebSocketTransport::new(options_with(
        &session,
        &[
            ("autoConnect", false.into()),
            ("messageQueueSize", 2.into()),
            ("queueOverflow", "error".into()),
        ],
    ))
    .unwrap();
    for _ in 0..2 {
        assert_eq!(
            strict.send("message".into(), 1.into()).unwrap(),
            SendResult::Queued
        );
    }
    let error = strict.send("message".into(), 3.into()).unwrap_err();
    let message = String::from(error.unchecked_ref::<js_sys::Error>().message());
    assert!(message.contains("queue is full (2 messages)"), "{message}");
    assert_eq!(strict.queue_length(), 2);

    let lenient = WebSocketTransport::new(options_with(
        &session,
        &[
            ("autoConnect", false.into()),
            ("messageQueueSize", 1.into()),
            ("queueOverflow", "drop-newest".into()),
        ],
    ))
    .unwrap();
    lenient.send("message".into(), 1.into()).unwrap();
    assert_eq!(
        lenient.send("message".into(), 2.into()).unwrap(),
        SendResult::Dropped
    );
    strict.clear_queue();
    assert_eq!(strict.queue_length(), 0);
}

#[wasm_bindgen_test]
async fn a_delayed_pong_shows_up_in_the_measured_latency() {
    let session = unique_session("latency");
    post(&format!("/control/{session}/delay-pongs?ms=150")).await;
    let transport = WebSocketTransport::new(options_with(
        &session,
        &[
            ("heartbeatInterval", 100.into()),
            ("heartbeatTimeout", 2000.into()),
        ],
    ))
    .unwrap();
    let latency = EventRecorder::new(&transport, "latency");
    let first = latency.wait_for_value("a latency sample", |_| true).await;
    let rtt = number(&first, "last");
    // A lower bound only: the server holds each pong 150 ms; a busy host
    // may add any amount.
    assert!(rtt >= 150.0, "rtt {rtt} ms with a 150 ms server delay");
    assert_eq!(number(&first, "samples"), 1.0);
    let measured = transport
        .latency_ms()
        .as_f64()
        .expect("latencyMs after a sample");
    assert!(measured >= 150.0);
    assert_eq!(
        field(&transport.snapshot(), "latencyMs").as_f64(),
        Some(measured)
    );
}

#[wasm_bindgen_test]
async fn a_server_that_stops_answering_pings_is_detected_and_left() {
    let session = unique_session("deadlink");
    let (interval, timeout) = (300.0, 300.0);
    let transport = WebSocketTransport::new(options_with(
        &session,
        &[
            ("heartbeatInterval", interval.into()),
            ("heartbeatTimeout", timeout.into()),
            ("reconnectInterval", 50.into()),
            ("reconnectJitter", 0.into()),
        ],
    ))
    .unwrap();
    let closes = EventRecorder::new(&transport, "close");
    wait_for_state(&transport, "connected").await;
    post(&format!("/control/{session}/mute-pings")).await;
    let muted_at = js_sys::Date::now();
    let close = closes
        .wait_for_value("the heartbeat gives up", |_| true)
        .await;
    let detected_after = js_sys::Date::now() - muted_at;
    assert_eq!(number(&close, "code"), 4000.0);
    assert_eq!(
        field(&close, "reason").as_string().as_deref(),
        Some("heartbeat timeout")
    );
    // The mute may land just after a ping went out, so allow one full cycle plus slack.
    assert!(
        detected_after < interval + timeout + interval + 400.0,
        "took {detected_after} ms"
    );
    // And it reconnects.
    post(&format!("/control/{session}/mute-pings?enabled=false")).await;
    wait_until("a second connection", || async {
        field(&session_log(&session).await, "connectionCount").as_f64() == Some(2.0)
    })
    .await;
    wait_for_state(&transport, "connected").await;
}

#[wasm_bindgen_test]
async fn a_4401_close_is_terminal() {
    let session = unique_session("terminal");
    let transport = quick_retry_transport(&session, 20);
    wait_for_state(&transport, "connected").await;
    post(&format!(
        "/control/{session}/close?code=4401&reason=token%20expired"
    ))
    .await;
    wait_for_state(&transport, "disconnected").await;
    let snapshot = transport.snapshot();
    assert_eq!(
        field(&snapshot, "disconnectReason").as_string().as_deref(),
        Some("terminal-close")
    );
    sleep(300).await;
    let log = session_log(&session).await;
    assert_eq!(
        entries(&log, "connections").len(),
        1,
        "no attempt after a terminal close"
    );
}

#[wasm_bindgen_test]
async fn the_url_function_is_called_once_per_attempt_with_a_fresh_token() {
    let session = unique_session("token");
    let calls = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let counter = calls.clone();
    let base = ws_url();
    let provider = Closure::<dyn FnMut() -> JsValue>::new(move || {
        counter.set(counter.get() + 1);
        let url = format!("{base}?token=t{}", counter.get());
        js_sys::Promise::resolve(&JsValue::from(url)).into()
    });
    let options = options_with(
        &session,
        &[
            ("url", provider.as_ref().clone()),
            ("reconnectInterval", 30.into()),
            ("reconnectJitter", 0.into()),
        ],
    );
    let transport = WebSocketTransport::new(options).unwrap();
    wait_for_state(&transport, "connected").await;
    post(&format!("/control/{session}/drop")).await;
    wait_until("a second connection", || async {
        field(&session_log(&session).await, "connectionCount").as_f64() == Some(2.0)
    })
    .await;
    wait_for_state(&transport, "connected").await;
    assert_eq!(calls.get(), 2, "one call per attempt");
    let queries: Vec<String> = entries(&session_log(&session).await, "connections")
        .iter()
        .map(|c| field(c, "query").as_string().unwrap())
        .collect();
    // Each attempt used the function's URL (its token parameter is there);
    // the server keeps no token in its log (README "Server limits").
    assert!(
        queries.iter().all(|q| q.contains("token=[redacted]")),
        "{queries:?}"
    );
    assert!(
        !queries.iter().any(|q| q.contains("token=t")),
        "{queries:?}"
    );
    assert!(
        queries
            .iter()
            .all(|q| q.contains(&format!("session_id={session}"))),
        "{queries:?}"
    );
    drop(transport);
}

#[wasm_bindgen_test]
async fn a_rejecting_url_function_counts_as_a_failed_attempt_and_reports_an_error() {
    let session = unique_session("noauth");
    let provider = Closure::<dyn FnMut() -> JsValue>::new(|| {
        js_sys::Promise::reject(&js_sys::Error::new("token service down").into()).into()
    });
    let transport = WebSocketTransport::new(options_with(
        &session,
        &[
            ("url", provider.as_ref().clone()),
            ("reconnectInterval", 30.into()),
            ("maxReconnectAttempts", 2.into()),
        ],
    ))
    .unwrap();
    let errors = EventRecorder::new(&transport, "error");
    wait_for_state(&transport, "disconnected").await;
    assert_eq!(
        field(&transport.snapshot(), "disconnectReason")
            .as_string()
            .as_deref(),
        Some("max-attempts")
    );
    let first = errors.values().remove(0);
    let message = String::from(first.unchecked_ref::<js_sys::Error>().message());
    assert!(message.contains("token service down"), "{message}");
    assert_eq!(errors.len(), 3, "the first attempt and two retries");
    drop(provider);
}

#[wasm_bindgen_test]
async fn a_refused_upgrade_errors_with_the_url_and_without_its_query() {
    let session = unique_session("refused");
    post(&format!("/control/{session}/refuse?ms=60000")).await;
    let transport = WebSocketTransport::new(options_with(
        &session,
        &[
            ("url", format!("{}?token=secret-token", ws_url()).into()),
            ("maxReconnectAttempts", 0.into()),
        ],
    ))
    .unwrap();
    let errors = EventRecorder::new(&transport, "error");
    wait_for_state(&transport, "disconnected").await;
    let first = errors.values().remove(0);
    let message = String::from(first.unchecked_ref::<js_sys::Error>().message());
    let expected = format!("resocket: could not connect to {}", ws_url());
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains("browsers give no reason"), "{message}");
    assert!(
        !message.contains("secret-token"),
        "the query stays out: {message}"
    );
}

#[wasm_bindgen_test]
async fn free_closes_the_socket_and_nothing_reconnects() {
    let session = unique_session("freed");
    let transport = WebSocketTransport::new(options_with(
        &session,
        &[
            ("reconnectInterval", 10.into()),
            ("heartbeatInterval", 50.into()),
        ],
    ))
    .unwrap();
    wait_for_state(&transport, "connected").await;
    drop(transport);
    wait_until("the server sees the close", || async {
        field(&session_log(&session).await, "openConnections").as_f64() == Some(0.0)
    })
    .await;
    sleep(300).await;
    let log = session_log(&session).await;
    let connections = entries(&log, "connections");
    assert_eq!(connections.len(), 1, "no attempt after free()");
    assert_eq!(
        field(&connections[0], "closedBy").as_string().as_deref(),
        Some("client-close")
    );
    // No pings were sent after the close either.
    let last_frame_at = entries(&log, "frames")
        .last()
        .map_or(0.0, |f| number(f, "atMs"));
    assert!(last_frame_at <= number(&connections[0], "closedAtMs"));
}

fn memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as f64
}

#[wasm_bindgen_test]
async fn a_thousand_create_connect_free_cycles_do_not_grow_memory() {
    let session = unique_session("cycles");
    let cycle = |n: u32| {
        for _ in 0..n {
            let transport = WebSocketTransport::new(options_with(&session, &[])).unwrap();
            let _off = transport
                .on("message", Function::new_no_args("").into())
                .unwrap();
            transport.send("message".into(), 1.into()).unwrap();
            drop(transport);
        }
    };
    cycle(100); // warm up: let the allocator reach its working size
    let before = memory_bytes();
    cycle(1000);
    let after = memory_bytes();
    assert!(
        after - before <= 65_536.0,
        "wasm memory grew by {} bytes over 1,000 cycles",
        after - before
    );
    // Let the browser settle the closed sockets before the next test.
    sleep(200).await;
}

#[wasm_bindgen_test]
async fn get_snapshot_keeps_its_identity_until_something_changes_and_works_unbound() {
    let session = unique_session("snapshot");
    let transport =
        WebSocketTransport::new(options_with(&session, &[("autoConnect", false.into())])).unwrap();
    let get_snapshot: Function = transport.get_snapshot();
    let subscribe: Function = transport.subscribe();
    // The same functions on every access (React re-subscribes when they change).
    assert!(Object::is(&get_snapshot, &transport.get_snapshot()));
    assert!(Object::is(&subscribe, &transport.subscribe()));
    // Unbound calls: `this` is undefined.
    let first = get_snapshot.call0(&JsValue::UNDEFINED).unwrap();
    let again = get_snapshot.call0(&JsValue::UNDEFINED).unwrap();
    assert!(
        Object::is(&first, &again),
        "same object while nothing changed"
    );
    assert!(Object::is_frozen(first.unchecked_ref::<Object>()));
    assert_eq!(
        field(&first, "state").as_string().as_deref(),
        Some("disconnected")
    );
    assert_eq!(
        field(&first, "sessionId").as_string(),
        Some(session.clone())
    );

    let notified = Array::new();
    let unsubscribe: Function = subscribe
        .call1(&JsValue::UNDEFINED, &pusher(&notified))
        .unwrap()
        .unchecked_into();
    transport.send("message".into(), 1.into()).unwrap(); // queue length changes
    assert_eq!(notified.length(), 1);
    let changed = get_snapshot.call0(&JsValue::UNDEFINED).unwrap();
    assert!(!Object::is(&first, &changed));
    assert_eq!(number(&changed, "queued"), 1.0);
    assert!(Object::is(
        &changed,
        &get_snapshot.call0(&JsValue::UNDEFINED).unwrap()
    ));

    transport.connect();
    wait_for_state(&transport, "connected").await;
    let connected = get_snapshot.call0(&JsValue::UNDEFINED).unwrap();
    assert_eq!(
        field(&connected, "state").as_string().as_deref(),
        Some("connected")
    );
    assert_eq!(number(&connected, "queued"), 0.0);
    assert!(notified.length() >= 3);
    unsubscribe.call0(&JsValue::UNDEFINED).unwrap();
    let count = notified.length();
    transport
        .disconnect(JsValue::UNDEFINED, JsValue::UNDEFINED)
        .unwrap();
    assert_eq!(notified.length(), count, "no calls after unsubscribe");
    // After free() both functions still answer (React may call them during cleanup).
    drop(transport);
    let last = get_snapshot.call0(&JsValue::UNDEFINED).unwrap();
    assert_eq!(
        field(&last, "state").as_string().as_deref(),
        Some("disconnected")
    );
    let late_unsubscribe: Function = subscribe
        .call1(&JsValue::UNDEFINED, &pusher(&notified))
        .unwrap()
        .unchecked_into();
    late_unsubscribe.call0(&JsValue::UNDEFINED).unwrap();
}

/// Nobody subscribes here, so the driver tells the host about changes only
/// when its snapshot object would go out of date (it skips the call
/// otherwise): `getSnapshot()` must still follow every change, keep its
/// identity while nothing changes, and a listener must see its own frame
/// counted. A counter moving alone is no change (no render per message):
/// `stats` reads the counters now.
#[wasm_bindgen_test]
async fn without_subscribers_get_snapshot_still_follows_every_change() {
    let session = unique_session("snapshot-unwatched");
    let transport = WebSocketTransport::new(options_with(&session, &[])).unwrap();
    wait_for_state(&transport, "connected").await;
    let get_snapshot: Function = transport.get_snapshot();
    let snapshot = || get_snapshot.call0(&JsValue::UNDEFINED).unwrap();
    let received = |snapshot: &JsValue| number(&field(snapshot, "stats"), "received");
    let before = snapshot();

    let counted_in_listener = Array::new();
    let record = counted_in_listener.clone();
    let reader = get_snapshot.clone();
    let listener = Closure::<dyn Fn(JsValue)>::new(move |_: JsValue| {
        let seen = reader.call0(&JsValue::UNDEFINED).unwrap();
        record.push(&field(&field(&seen, "stats"), "received"));
    });
    let _off = transport.on("message", listener.as_ref().clone()).unwrap();
    for n in 1..=3 {
        transport.send("message".into(), n.into()).unwrap();
    }
    wait_until("3 echoes", || {
        std::future::ready(counted_in_listener.length() == 3)
    })
    .await;
    let counted: Vec<f64> = counted_in_listener
        .iter()
        .map(|n| n.as_f64().unwrap())
        .collect();
    assert_eq!(
        counted,
        [
            received(&before) + 1.0,
            received(&before) + 2.0,
            received(&before) + 3.0
        ],
        "a listener reading the snapshot sees its own frame counted"
    );

    let after = snapshot();
    assert!(!Object::is(&before, &after));
    assert_eq!(number(&field(&after, "stats"), "sent"), 3.0);
    assert_eq!(received(&after), received(&before) + 3.0);
    assert!(
        Object::is(&after, &snapshot()),
        "same object while nothing changed"
    );
    transport.send("message".into(), 4.into()).unwrap();
    assert!(
        Object::is(&after, &snapshot()),
        "a counter alone is no change: the same snapshot"
    );
    assert_eq!(
        number(&transport.stats(), "sent"),
        4.0,
        "stats: the counters now"
    );
    wait_until("the fourth echo", || {
        std::future::ready(counted_in_listener.length() == 4)
    })
    .await;
    assert_eq!(
        number(&field(&snapshot(), "stats"), "sent"),
        4.0,
        "the echo's seq changed the snapshot, which carries the counters as they are"
    );
}

#[wasm_bindgen_test]
async fn on_message_routes_by_envelope_type_and_raw_frames_still_arrive() {
    let session = unique_session("routing");
    let transport = WebSocketTransport::new(options_with(&session, &[])).unwrap();
    let typing = collect_envelopes(&transport, "typing");
    let all = EventRecorder::new(&transport, "message");
    wait_for_state(&transport, "connected").await;
    transport.send("typing".into(), "ann".into()).unwrap();
    transport.send("message".into(), "hi".into()).unwrap();
    transport.send_raw("not json".into()).unwrap();
    transport
        .send_raw(js_sys::Uint8Array::from(&[1u8, 2, 3][..]).into())
        .unwrap();
    all.wait_for_value("the binary echo", |v| {
        v.is_instance_of::<js_sys::ArrayBuffer>()
    })
    .await;
    assert_eq!(typing.length(), 1, "only the typing envelope");
    assert_eq!(
        field(&typing.get(0), "data").as_string().as_deref(),
        Some("ann")
    );
    // "not json" comes back as an error envelope from the server.
    let values = all.values();
    assert!(values
        .iter()
        .any(|v| field(v, "type").as_string().as_deref() == Some("error")));
    let binary = values
        .iter()
        .find(|v| v.is_instance_of::<js_sys::ArrayBuffer>())
        .unwrap();
    assert_eq!(js_sys::Uint8Array::new(binary).to_vec(), vec![1, 2, 3]);
    assert!(
        transport.send_raw(JsValue::from(5)).is_err(),
        "numbers are not frames"
    );
}

/// Waits out a drop with a 10 s backoff, then fires `event` on `target`:
/// the transport must reconnect at once instead of finishing the wait.
async fn page_event_ends_the_backoff(name: &str, target: &web_sys::EventTarget, event: &str) {
    let session = unique_session(name);
    let transport = quick_retry_transport(&session, 10_000);
    wait_for_state(&transport, "connected").await;
    post(&format!("/control/{session}/drop")).await;
    wait_for_state(&transport, "reconnecting").await;
    assert_eq!(
        field(&transport.snapshot(), "nextRetryInMs").as_f64(),
        Some(10_000.0)
    );
    let started = js_sys::Date::now();
    target
        .dispatch_event(&web_sys::Event::new(event).unwrap())
        .unwrap();
    wait_for_state(&transport, "connected").await;
    let took = js_sys::Date::now() - started;
    assert!(
        took < 2000.0,
        "{event} should end the 10 s wait, took {took} ms"
    );
}

#[wasm_bindgen_test]
async fn the_online_event_retries_at_once() {
    let window = web_sys::window().unwrap();
    page_event_ends_the_backoff("online", &window, "online").await;
}

#[wasm_bindgen_test]
async fn becoming_visible_retries_at_once() {
    // Headless pages are visible, so a visibilitychange reads "visible".
    let document = web_sys::window().unwrap().document().unwrap();
    page_event_ends_the_backoff("visible", &document, "visibilitychange").await;
}

#[wasm_bindgen_test]
async fn the_offline_event_stops_the_retry_timer() {
    let session = unique_session("offline");
    let transport = quick_retry_transport(&session, 300);
    wait_for_state(&transport, "connected").await;
    post(&format!("/control/{session}/drop")).await;
    wait_for_state(&transport, "reconnecting").await;
    let window = web_sys::window().unwrap();
    window
        .dispatch_event(&web_sys::Event::new("offline").unwrap())
        .unwrap();
    assert!(field(&transport.snapshot(), "nextRetryInMs").is_null());
    sleep(700).await;
    assert_eq!(
        transport.state(),
        "reconnecting",
        "no attempt while offline"
    );
    assert_eq!(
        entries(&session_log(&session).await, "connections").len(),
        1
    );
    window
        .dispatch_event(&web_sys::Event::new("online").unwrap())
        .unwrap();
    wait_for_state(&transport, "connected").await;
}

#[wasm_bindgen_test]
async fn a_stream_interrupted_by_a_drop_resumes_with_nothing_lost_or_doubled() {
    let session = unique_session("resume");
    let transport = quick_retry_transport(&session, 50);
    let received = collect_envelopes(&transport, "push");
    wait_for_state(&transport, "connected").await;
    // 30 numbered pushes over ~600 ms; the socket drops in the middle, and
    // what the server pushes meanwhile comes back by replay after reconnecting.
    post(&format!("/control/{session}/push?count=30&interval_ms=20")).await;
    sleep(200).await;
    post(&format!("/control/{session}/drop")).await;
    let deadline = js_sys::Date::now() + 8000.0;
    while received.length() < 30 && js_sys::Date::now() < deadline {
        sleep(20).await;
    }
    sleep(200).await; // anything doubled would show up now
    let numbers: Vec<f64> = received
        .iter()
        .filter_map(|envelope| field(&field(&envelope, "data"), "n").as_f64())
        .collect();
    assert_eq!(numbers, (1..=30).map(f64::from).collect::<Vec<_>>());
    let connections = entries(&session_log(&session).await, "connections");
    assert_eq!(connections.len(), 2, "it really was interrupted");
    let query = field(&connections[1], "query").as_string().unwrap();
    assert!(query.contains("last_seq="), "{query}");
}
