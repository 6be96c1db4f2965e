//! resocket: a reconnecting WebSocket client for the browser, in Rust compiled to
//! WebAssembly.
//!
//! The crate has two halves:
//! - [`core`]: the sans-IO state machine (backoff, offline queue, heartbeat,
//!   latency, page lifecycle, option rules). Pure Rust with no browser imports;
//!   it takes inputs with the current time and returns actions. Tested natively
//!   on a simulated clock.
//! - `browser`: the driver that owns the `WebSocket`, its handlers, the timers,
//!   the page listeners and the application's listeners, and executes the
//!   core's actions.
//!
//! This file holds only the JavaScript surface, [`WebSocketTransport`].
#![deny(missing_docs)]
// The npm package's build is `no_std` on wasm32 (see `abort-on-panic` in
// Cargo.toml and `panic` below); everything else links std as usual.
#![cfg_attr(all(target_arch = "wasm32", feature = "abort-on-panic"), no_std)]

extern crate alloc;

mod browser;
pub mod core;
mod prelude;
mod string_enums;
mod typescript;

/// A panic aborts the wasm instance without formatting its message: nothing
/// would print it (the JavaScript side sees "unreachable executed" either way),
/// and the formatting machinery is ~4 KB of the download.
#[cfg(all(target_arch = "wasm32", feature = "abort-on-panic"))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

use wasm_bindgen::prelude::*;

use crate::prelude::*;

// SAFETY: wasm32-unknown-unknown without atomics runs on a single thread, which
// is the condition `AssumeSingleThreaded` requires.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

use crate::browser::{config_error_with_value, Driver};
use crate::core::ConfigError;
use crate::string_enums::{send_result, state_name};
pub use crate::string_enums::{ModeName, ReasonName, SendResult, StateName};

/// A WebSocket connection that reconnects, queues while offline, and measures
/// its own latency.
///
/// ```js
/// const t = new WebSocketTransport({ url: "ws://127.0.0.1:8080/ws" });
/// const off = t.on("message", (envelope) => console.log(envelope));
/// t.send("message", { text: "hi" }); // "sent", or "queued" while offline
/// off();
/// t.free(); // closes the socket, cancels timers, detaches every handler
/// ```
#[wasm_bindgen]
pub struct WebSocketTransport {
    driver: Driver,
}

#[wasm_bindgen]
impl WebSocketTransport {
    /// Creates a transport and, unless `autoConnect` is `false`, starts
    /// connecting. Throws a `TypeError` or `RangeError` naming the option and
    /// the value that is wrong.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "TransportOptions")] options: JsValue,
    ) -> Result<WebSocketTransport, JsValue> {
        Ok(Self {
            driver: Driver::new(&options)?,
        })
    }

    /// Opens the connection if it is down, or retries at once if waiting out a
    /// backoff. Does nothing while connecting or connected.
    pub fn connect(&self) {
        self.driver.connect();
    }

    /// Closes any connection and starts a fresh attempt now, backoff reset.
    pub fn reconnect(&self) {
        self.driver.reconnect();
    }

    /// Closes the connection with `code` (default 1000) and `reason` (default
    /// "") and stays down until `connect()` or `reconnect()`.
    #[wasm_bindgen(skip_typescript)]
    pub fn disconnect(&self, code: JsValue, reason: JsValue) -> Result<(), JsValue> {
        let code = close_code_argument(&code)?;
        let reason = match reason.as_string() {
            Some(reason) => reason,
            None if reason.is_undefined() => String::new(),
            None => {
                return Err(config_error_with_value(
                    &ConfigError::type_error("reason", "must be a string"),
                    &reason,
                ))
            }
        };
        self.driver.disconnect(code, reason)
    }

    /// Sends `{type, data, id, timestamp}` as one JSON text frame if connected,
    /// otherwise queues it. Returns `"sent"`, `"http"` (going out over the HTTP
    /// fallback), `"queued"`, or `"dropped"` (queue full under
    /// `"drop-newest"`); throws when the queue is full under
    /// `"error"`, or when `data` is not JSON-serialisable.
    #[wasm_bindgen(unchecked_return_type = "SendResult")]
    pub fn send(
        &self,
        #[wasm_bindgen(js_name = type, unchecked_param_type = "string")] message_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] data: JsValue,
    ) -> Result<SendResult, JsValue> {
        self.driver.send(&message_type, &data).map(send_result)
    }

    /// Sends like `send` and returns a promise that resolves (with the
    /// envelope's id) when the server has acknowledged the message. It rejects
    /// with an `Error` saying why when the message cannot be delivered: the
    /// queue was full (`"error"`, or it was dropped by an overflow), the
    /// transport was disconnected, freed or gave up, or `clearQueue()` removed
    /// it. Needs `delivery: "at-least-once"`; throws a `TypeError` for a bad
    /// `type` or unserialisable `data`.
    #[wasm_bindgen(js_name = sendWithAck, unchecked_return_type = "Promise<string>")]
    pub fn send_with_ack(
        &self,
        #[wasm_bindgen(js_name = type, unchecked_param_type = "string")] message_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] data: JsValue,
    ) -> Result<js_sys::Promise, JsValue> {
        match self.driver.send_with_ack(&message_type, &data) {
            Ok(promise) => Ok(promise),
            // Misuse of the options is an asynchronous failure too: one way to handle it.
            Err(error) if !error.is_instance_of::<js_sys::TypeError>() => {
                Ok(js_sys::Promise::reject(&error))
            }
            Err(error) => Err(error),
        }
    }

    /// Sends a frame as is (a string as text; an `ArrayBuffer` or typed array as
    /// binary), queued like `send` while not connected.
    #[wasm_bindgen(js_name = sendRaw, unchecked_return_type = "SendResult")]
    pub fn send_raw(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | ArrayBuffer | ArrayBufferView")]
        data: JsValue,
    ) -> Result<SendResult, JsValue> {
        self.driver.send_raw(&data).map(send_result)
    }

    /// Calls `handler` on every `event`. Returns a function that unsubscribes it
    /// (safe to call more than once, and after `free()`).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: &str, handler: JsValue) -> Result<js_sys::Function, JsValue> {
        self.driver.on(event, &handler)
    }

    /// Calls `handler` with every envelope whose `type` is `type`. Returns a
    /// function that unsubscribes it.
    #[wasm_bindgen(js_name = onMessage, skip_typescript)]
    pub fn on_message(
        &self,
        #[wasm_bindgen(js_name = type)] message_type: JsValue,
        handler: JsValue,
    ) -> Result<js_sys::Function, JsValue> {
        self.driver.on_message(&message_type, &handler)
    }

    /// A copy of the queued messages (envelopes as objects, raw frames as given),
    /// oldest first.
    #[wasm_bindgen(
        unchecked_return_type = "Array<Envelope | string | ArrayBuffer | ArrayBufferView>"
    )]
    pub fn queued(&self) -> js_sys::Array {
        self.driver.queued()
    }

    /// Empties the offline queue without sending anything.
    #[wasm_bindgen(js_name = clearQueue)]
    pub fn clear_queue(&self) {
        self.driver.clear_queue();
    }

    /// The connection state.
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionState")]
    pub fn state(&self) -> StateName {
        state_name(self.driver.state())
    }

    /// The last heartbeat round trip in ms, or `null` before the first.
    #[wasm_bindgen(getter, js_name = latencyMs, unchecked_return_type = "number | null")]
    pub fn latency_ms(&self) -> JsValue {
        self.driver
            .latency_ms()
            .map_or(JsValue::NULL, JsValue::from_f64)
    }

    /// How many messages wait in the offline queue.
    #[wasm_bindgen(getter, js_name = queueLength)]
    pub fn queue_length(&self) -> u32 {
        u32::try_from(self.driver.queue_length()).unwrap_or(u32::MAX)
    }

    /// The session id sent as `?session_id=` on every connection attempt.
    #[wasm_bindgen(getter, js_name = sessionId, unchecked_return_type = "string")]
    pub fn session_id(&self) -> JsValue {
        self.driver.session_id()
    }

    /// `subscribe(listener)` for React's `useSyncExternalStore`: calls `listener`
    /// whenever the snapshot changes and returns the unsubscribe function. Works
    /// unbound (`t.subscribe` can be passed around) and is the same function on
    /// every access.
    #[wasm_bindgen(getter, unchecked_return_type = "(listener: () => void) => () => void")]
    pub fn subscribe(&self) -> js_sys::Function {
        self.driver.subscribe_function()
    }

    /// `getSnapshot()` for React's `useSyncExternalStore`: returns a frozen
    /// [`TransportSnapshot`]-shaped object that keeps its identity until
    /// something changes. Works unbound and is the same function on every access.
    #[wasm_bindgen(getter, js_name = getSnapshot, unchecked_return_type = "() => TransportSnapshot")]
    pub fn get_snapshot(&self) -> js_sys::Function {
        self.driver.get_snapshot_function()
    }

    /// The current snapshot (what `getSnapshot()` returns).
    #[wasm_bindgen(unchecked_return_type = "TransportSnapshot")]
    pub fn snapshot(&self) -> JsValue {
        self.driver.snapshot()
    }
}

fn close_code_argument(code: &JsValue) -> Result<u16, JsValue> {
    if code.is_undefined() {
        return Ok(1000);
    }
    match code.as_f64() {
        // In range first, so the cast is exact exactly when the number is whole.
        Some(number)
            if (0.0..=f64::from(u16::MAX)).contains(&number)
                && number == f64::from(number as u16) =>
        {
            Ok(number as u16)
        }
        Some(_) => Err(config_error_with_value(
            &ConfigError::range("code", "must be 1000 or from 3000 to 4999"),
            code,
        )),
        None => Err(config_error_with_value(
            &ConfigError::type_error("code", "must be a number"),
            code,
        )),
    }
}
