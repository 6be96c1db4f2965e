//! Helpers for the browser tests: options, HTTP calls to the test server, and
//! recorders that collect a transport's events so tests can wait on them.

#![allow(dead_code)] // shared by several test crates, each using a subset

use std::future::Future;

use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

mod transport;
pub use transport::{SendResult, WebSocketTransport};

/// How long a test waits for something that should happen promptly.
const PROMPTLY_MS: f64 = 5_000.0;

/// The test server's base URL (`http://127.0.0.1:PORT`), fixed at compile time.
pub fn server_url() -> &'static str {
    match option_env!("RESOCKET_TEST_SERVER") {
        Some(url) => url,
        None => {
            panic!("RESOCKET_TEST_SERVER is not set: run the browser tests through scripts/test")
        }
    }
}

/// A session id unique to this test run, so tests never share server state.
pub fn unique_session(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// A plain object from key/value pairs.
pub fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    object.into()
}

/// The test server's WebSocket endpoint.
pub fn ws_url() -> String {
    format!("{}/ws", server_url().replacen("http", "ws", 1))
}

/// Transport options pointing at the test server.
pub fn options(session: &str, auto_connect: bool) -> JsValue {
    options_with(session, &[("autoConnect", auto_connect.into())])
}

/// Options for the test server and `session`, plus `extra` (which may override).
pub fn options_with(session: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let mut entries: Vec<(&str, JsValue)> =
        vec![("url", ws_url().into()), ("sessionId", session.into())];
    entries.extend(extra.iter().cloned());
    object(&entries)
}

/// Options for at-least-once delivery with the HTTP fallback on the test
/// server (not connecting until asked), plus `extra` (which may override).
pub fn fallback_options(session: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let mut all: Vec<(&str, JsValue)> = vec![
        ("autoConnect", false.into()),
        ("reconnectInterval", 50.into()),
        ("reconnectJitter", 0.into()),
        ("delivery", "at-least-once".into()),
        (
            "httpFallbackUrl",
            format!("{}/messages", server_url()).into(),
        ),
        ("httpEventsUrl", format!("{}/events", server_url()).into()),
        ("fallbackAfterAttempts", 2.into()),
    ];
    all.extend(extra.iter().cloned());
    options_with(session, &all)
}

/// Waits up to 5 s for the transport to be in `state` over `mode`
/// (`"websocket"` or `"http"`); the failure shows the snapshot.
pub async fn wait_for_state(transport: &WebSocketTransport, state: &str, mode: &str) {
    let deadline = js_sys::Date::now() + PROMPTLY_MS;
    while js_sys::Date::now() < deadline {
        let snapshot = transport.snapshot();
        if field(&snapshot, "state").as_string().as_deref() == Some(state)
            && field(&snapshot, "mode").as_string().as_deref() == Some(mode)
        {
            return;
        }
        sleep(20).await;
    }
    let snapshot = js_sys::JSON::stringify(&transport.snapshot()).unwrap();
    panic!("timed out waiting for {state} over {mode}; snapshot: {snapshot}");
}

/// What the server saw from `session` (`GET /control/{session}/log`).
pub async fn session_log(session: &str) -> JsValue {
    get_json(&format!("/control/{session}/log")).await
}

/// `log.connections` or `log.frames` as a Vec.
pub fn entries(log: &JsValue, name: &str) -> Vec<JsValue> {
    js_sys::Array::from(&field(log, name)).iter().collect()
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    TimeoutFuture::new(ms).await;
}

/// `object[name]`, or `undefined`.
pub fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

async fn fetch_json(method: &str, path: &str) -> JsValue {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let url = format!("{}{path}", server_url());
    let window = web_sys::window().expect("browser tests run in a window");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .unwrap_or_else(|e| panic!("{method} {url} failed: {e:?}"))
        .unchecked_into();
    assert!(response.ok(), "{method} {url}: HTTP {}", response.status());
    JsFuture::from(response.json().unwrap()).await.unwrap()
}

/// `GET` a JSON endpoint of the test server.
pub async fn get_json(path: &str) -> JsValue {
    fetch_json("GET", path).await
}

/// `POST` to a control endpoint of the test server.
pub async fn post(path: &str) -> JsValue {
    fetch_json("POST", path).await
}

/// Polls `check` every 20 ms until it holds, failing the test after 5 s.
pub async fn wait_until<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_until_within(what, PROMPTLY_MS, check).await;
}

/// Polls `check` every 20 ms until it holds, failing the test after `limit_ms`.
pub async fn wait_until_within<F, Fut>(what: &str, limit_ms: f64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = js_sys::Date::now() + limit_ms;
    while js_sys::Date::now() < deadline {
        if check().await {
            return;
        }
        TimeoutFuture::new(20).await;
    }
    panic!("timed out waiting for {what}");
}

/// `array.push` bound to `array`: a JS function that collects its argument.
pub fn pusher(array: &Array) -> Function {
    let push: Function = Reflect::get(array, &"push".into())
        .unwrap()
        .unchecked_into();
    push.bind0(array)
}

/// Collects every envelope of `message_type` the transport receives.
pub fn collect_envelopes(transport: &WebSocketTransport, message_type: &str) -> Array {
    let received = Array::new();
    transport
        .on_message(message_type.into(), pusher(&received).into())
        .expect("a string type");
    received
}

/// Collects every argument a transport passes to listeners of one event.
pub struct EventRecorder {
    events: Array,
    unsubscribe: Function,
}

impl EventRecorder {
    /// Starts recording `event` on `transport`.
    pub fn new(transport: &WebSocketTransport, event: &str) -> Self {
        let events = Array::new();
        let unsubscribe = transport
            .on(event, pusher(&events).into())
            .expect("valid event name");
        Self {
            events,
            unsubscribe,
        }
    }

    /// Stops recording.
    pub fn unsubscribe(&self) {
        self.unsubscribe.call0(&JsValue::UNDEFINED).unwrap();
    }

    /// How many events were recorded.
    pub fn len(&self) -> u32 {
        self.events.length()
    }

    /// The recorded arguments as strings (for `"state"`).
    pub fn strings(&self) -> Vec<String> {
        self.events.iter().filter_map(|v| v.as_string()).collect()
    }

    /// Every recorded argument.
    pub fn values(&self) -> Vec<JsValue> {
        self.events.iter().collect()
    }

    /// Waits for an event whose argument satisfies `matches` and returns it.
    pub async fn wait_for_value(&self, what: &str, matches: impl Fn(&JsValue) -> bool) -> JsValue {
        self.wait_for_value_within(what, PROMPTLY_MS, matches).await
    }

    /// Like `wait_for_value`, with a deadline of `limit_ms`.
    pub async fn wait_for_value_within(
        &self,
        what: &str,
        limit_ms: f64,
        matches: impl Fn(&JsValue) -> bool,
    ) -> JsValue {
        let mut found = None;
        wait_until_within(what, limit_ms, || {
            found = self.events.iter().find(|value| matches(value));
            std::future::ready(found.is_some())
        })
        .await;
        found.expect("wait_until returned, so it was found")
    }

    /// Waits for a string argument satisfying `matches`.
    pub async fn wait_for(&self, what: &str, matches: impl Fn(&str) -> bool) {
        self.wait_for_value(what, |v| v.as_string().is_some_and(|s| matches(&s)))
            .await;
    }
}

impl Drop for EventRecorder {
    fn drop(&mut self) {
        let _ = self.unsubscribe.call0(&JsValue::UNDEFINED);
    }
}
