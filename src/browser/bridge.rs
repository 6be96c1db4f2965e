//! Declarations of `bridge.js`, the JavaScript half of the driver.

use crate::prelude::*;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::string_enums::{ModeName, ReasonName, StateName};

#[wasm_bindgen(module = "/src/browser/bridge.js")]
extern "C" {
    /// How JavaScript would print `value` (strings quoted).
    pub(crate) fn describe(value: &JsValue) -> String;

    /// A `TypeError` (or `RangeError`) reading "`message`, got `value`".
    #[wasm_bindgen(js_name = optionError)]
    pub(crate) fn option_error(is_type_error: bool, message: &str, value: &JsValue) -> JsValue;

    /// Type-checks the options object; see `bridge.js` for the array's layout.
    #[wasm_bindgen(js_name = readOptions, catch)]
    pub(crate) fn read_options(options: &JsValue) -> Result<Array, JsValue>;

    /// `options[name]` (or `options` itself when it is not an object).
    #[wasm_bindgen(js_name = optionValue)]
    pub(crate) fn option_value(options: &JsValue, name: &str) -> JsValue;

    /// Fills `bytes` from `crypto.getRandomValues` (or `Math.random`).
    #[wasm_bindgen(js_name = randomFill)]
    pub(crate) fn random_fill(bytes: &mut [u8]);

    /// `performance.now()`.
    pub(crate) fn now() -> f64;

    /// Whether `sendRaw` can send `data` (string, ArrayBuffer or typed array).
    #[wasm_bindgen(js_name = isSendable)]
    pub(crate) fn is_sendable(data: &JsValue) -> bool;

    /// A queued frame as the application sees it (envelopes parsed back).
    #[wasm_bindgen(js_name = queuedFrame)]
    pub(crate) fn queued_frame(value: &JsValue, is_envelope: bool) -> JsValue;

    /// `{code, reason, wasClean}`, frozen.
    #[wasm_bindgen(js_name = closeDetails)]
    pub(crate) fn close_details(code: u16, reason: &str, was_clean: bool) -> JsValue;

    /// `{last, avg, min, max, jitter, samples}`, frozen, `null` for missing values.
    #[wasm_bindgen(js_name = latencyStats)]
    pub(crate) fn latency_stats(
        last: Option<f64>,
        avg: Option<f64>,
        min: Option<f64>,
        max: Option<f64>,
        jitter: Option<f64>,
        samples: u32,
    ) -> JsValue;

    /// `{attempt, delayMs}`, frozen.
    pub(crate) fn reconnecting(attempt: u32, delay_ms: f64) -> JsValue;

    /// `{previousSeq, firstSeq}`, frozen: the `"reset"` event.
    #[wasm_bindgen(js_name = streamReset)]
    pub(crate) fn stream_reset(previous_seq: f64, first_seq: f64) -> JsValue;

    /// `{length, dropped}`, frozen.
    #[wasm_bindgen(js_name = queueChange)]
    pub(crate) fn queue_change(length: u32, dropped: Array) -> JsValue;

    /// The frozen snapshot object.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn snapshot(
        state: StateName,
        mode: ModeName,
        attempt: u32,
        next_retry_in_ms: Option<f64>,
        latency: JsValue,
        queued: u32,
        session_id: &JsValue,
        disconnect_reason: Option<ReasonName>,
        close_code: Option<u16>,
        close_reason: &str,
        last_seq: Option<f64>,
        sent: f64,
        received: f64,
        reconnects: f64,
        dropped: f64,
        errors: f64,
        resets: f64,
    ) -> JsValue;

    /// The JavaScript side of one transport (see `bridge.js`): listeners, the
    /// cached snapshot, and the route back into Rust.
    pub(crate) type Host;

    /// A host whose events call `route(call, data, number, detail)` (see
    /// `boundary.rs`); it classifies envelopes by the core's frame-type table
    /// (with these ping and pong types) and writes them with ids that start
    /// with `id_prefix`.
    #[wasm_bindgen(js_name = createHost)]
    pub(crate) fn create_host(
        route: &JsValue,
        ping_type: &JsValue,
        pong_type: &JsValue,
        id_prefix: &str,
    ) -> Host;

    /// The envelope of message `number` as JSON text; throws a `TypeError`
    /// for a non-string `message_type` or `data` JSON cannot write.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn encode(
        this: &Host,
        message_type: &JsValue,
        data: &JsValue,
        number: f64,
    ) -> Result<JsValue, JsValue>;

    /// Heartbeat ping `number` of `ping_type` as JSON text.
    #[wasm_bindgen(method, js_name = encodePing)]
    pub(crate) fn encode_ping(this: &Host, ping_type: &JsValue, number: f64) -> JsValue;

    /// Delivers what the constructor emitted in a microtask, to the
    /// listeners attached by then.
    #[wasm_bindgen(method)]
    pub(crate) fn constructed(this: &Host);

    /// Arms the one browser timer (replacing it): `Timeout` after `delay_ms`.
    #[wasm_bindgen(method, js_name = setTimer)]
    pub(crate) fn set_timer(this: &Host, delay_ms: f64);

    /// Cancels the browser timer.
    #[wasm_bindgen(method, js_name = clearTimer)]
    pub(crate) fn clear_timer(this: &Host);

    /// POSTs the envelopes as one JSON array; replies and the outcome go to the core.
    #[wasm_bindgen(method, js_name = postFrames)]
    pub(crate) fn post_frames(this: &Host, url: &str, frames: Array);

    /// Abandons the POST in flight: nothing more of it is reported.
    #[wasm_bindgen(method, js_name = abortPost)]
    pub(crate) fn abort_post(this: &Host);

    /// Gives the host the snapshot object `getSnapshot()` returns until the
    /// next change.
    #[wasm_bindgen(method, js_name = holdSnapshot)]
    pub(crate) fn hold_snapshot(this: &Host, snapshot: &JsValue);

    /// Registers a listener for `topic`; returns its unsubscribe function.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn on(this: &Host, topic: &str, handler: &JsValue) -> Result<Function, JsValue>;

    /// Registers a listener for envelopes of `message_type`; throws a
    /// `TypeError` when it is not a string.
    #[wasm_bindgen(method, js_name = onType, catch)]
    pub(crate) fn on_type(
        this: &Host,
        message_type: &JsValue,
        handler: &JsValue,
    ) -> Result<Function, JsValue>;

    /// Whether anyone listens to `topic` (so unheard payloads are not built).
    #[wasm_bindgen(method)]
    pub(crate) fn listening(this: &Host, topic: &str) -> bool;

    /// Calls the `topic` listeners with `argument`.
    #[wasm_bindgen(method)]
    pub(crate) fn emit(this: &Host, topic: &str, argument: &JsValue);

    /// Marks the snapshot stale and calls the `subscribe` listeners.
    #[wasm_bindgen(method)]
    pub(crate) fn changed(this: &Host);

    /// `shouldReconnect(close)` as a boolean, or `undefined` if it threw.
    #[wasm_bindgen(method)]
    pub(crate) fn decide(this: &Host, should_reconnect: &Function, close: &JsValue) -> JsValue;

    /// A promise that resolves when envelope `id` is acknowledged.
    #[wasm_bindgen(method)]
    pub(crate) fn track(this: &Host, id: &str) -> js_sys::Promise;

    /// Resolves the promise of `id`, if there is one.
    #[wasm_bindgen(method)]
    pub(crate) fn acked(this: &Host, id: &str);

    /// Rejects the promise of `id`, if any, with `error` (an `Error` or a message).
    #[wasm_bindgen(method)]
    pub(crate) fn lost(this: &Host, id: &str, error: &JsValue);

    /// Cuts the route into Rust and removes the page listeners (on free).
    #[wasm_bindgen(method)]
    pub(crate) fn release(this: &Host);

    /// `subscribe(listener)`, usable unbound.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn subscribe(this: &Host) -> Function;

    /// `getSnapshot()`, usable unbound.
    #[wasm_bindgen(method, getter, js_name = getSnapshot)]
    pub(crate) fn get_snapshot(this: &Host) -> Function;

    /// Opens a WebSocket reporting to `host`; throws what the constructor throws.
    #[wasm_bindgen(js_name = openSocket, catch)]
    pub(crate) fn open_socket(
        host: &Host,
        url: &str,
        protocols: &JsValue,
    ) -> Result<JsValue, JsValue>;

    /// `socket.send(data)`; false if it threw.
    #[wasm_bindgen(js_name = sendFrame)]
    pub(crate) fn send_frame(socket: &JsValue, data: &JsValue) -> bool;

    /// Detaches the socket's handlers and closes it if still open.
    #[wasm_bindgen(js_name = closeSocket)]
    pub(crate) fn close_socket(socket: &JsValue, code: u16, reason: &str);

    /// Opens an `EventSource` reporting to `host`; throws what the constructor throws.
    #[wasm_bindgen(js_name = openEvents, catch)]
    pub(crate) fn open_events(host: &Host, url: &str) -> Result<JsValue, JsValue>;

    /// Detaches the event stream's handlers and closes it.
    #[wasm_bindgen(js_name = closeEvents)]
    pub(crate) fn close_events(events: &JsValue);

    /// Calls the URL function and reports its answer for `attempt` to `host`.
    #[wasm_bindgen(js_name = resolveUrl)]
    pub(crate) fn resolve_url(host: &Host, provider: &Function, attempt: f64);

    /// Adds the page-lifecycle listeners (removed by `release`).
    #[wasm_bindgen(js_name = watchPage)]
    pub(crate) fn watch_page(host: &Host);

    /// `new Error(message)` (0), `TypeError` (1) or `RangeError` (2).
    #[wasm_bindgen(js_name = makeError)]
    pub(crate) fn make_error(kind: u8, message: &str) -> JsValue;

}

/// The URL function, when `url` is one.
pub(crate) fn as_function(value: JsValue) -> Option<Function> {
    value.dyn_into::<Function>().ok()
}
