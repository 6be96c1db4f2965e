//! The shipped `WebSocketTransport` (src/browser/transport.js) as the browser
//! tests drive it: the JavaScript class, imported through wasm-bindgen, on
//! the core compiled into the test's own .wasm (its exports are the same
//! `rs_*` functions the package's .wasm has). The wrapper keeps the Rust
//! signatures the tests were written against and frees the transport when it
//! goes out of scope.

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/browser/transport.js")]
extern "C" {
    /// The class applications use.
    #[wasm_bindgen(js_name = WebSocketTransport)]
    type JsTransport;

    #[wasm_bindgen(constructor, catch, js_class = WebSocketTransport)]
    fn new(options: &JsValue) -> Result<JsTransport, JsValue>;
    #[wasm_bindgen(method, catch, js_class = WebSocketTransport)]
    fn connect(this: &JsTransport) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = WebSocketTransport)]
    fn reconnect(this: &JsTransport) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = WebSocketTransport)]
    fn disconnect(this: &JsTransport, code: &JsValue, reason: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = WebSocketTransport)]
    fn send(this: &JsTransport, message_type: &JsValue, data: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_class = WebSocketTransport, js_name = sendWithAck)]
    fn send_with_ack(
        this: &JsTransport,
        message_type: &JsValue,
        data: &JsValue,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_class = WebSocketTransport, js_name = sendRaw)]
    fn send_raw(this: &JsTransport, data: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_class = WebSocketTransport)]
    fn on(this: &JsTransport, event: &str, handler: &JsValue) -> Result<Function, JsValue>;
    #[wasm_bindgen(method, catch, js_class = WebSocketTransport, js_name = onMessage)]
    fn on_message(
        this: &JsTransport,
        message_type: &JsValue,
        handler: &JsValue,
    ) -> Result<Function, JsValue>;
    #[wasm_bindgen(method, js_class = WebSocketTransport)]
    fn queued(this: &JsTransport) -> Array;
    #[wasm_bindgen(method, js_class = WebSocketTransport, js_name = clearQueue)]
    fn clear_queue(this: &JsTransport);
    #[wasm_bindgen(method, getter, js_class = WebSocketTransport)]
    fn state(this: &JsTransport) -> String;
    #[wasm_bindgen(method, getter, js_class = WebSocketTransport, js_name = latencyMs)]
    fn latency_ms(this: &JsTransport) -> JsValue;
    #[wasm_bindgen(method, getter, js_class = WebSocketTransport, js_name = queueLength)]
    fn queue_length(this: &JsTransport) -> u32;
    #[wasm_bindgen(method, getter, js_class = WebSocketTransport, js_name = sessionId)]
    fn session_id(this: &JsTransport) -> JsValue;
    #[wasm_bindgen(method, getter, js_class = WebSocketTransport)]
    fn stats(this: &JsTransport) -> JsValue;
    #[wasm_bindgen(method, getter, js_class = WebSocketTransport)]
    fn subscribe(this: &JsTransport) -> Function;
    #[wasm_bindgen(method, getter, js_class = WebSocketTransport, js_name = getSnapshot)]
    fn get_snapshot(this: &JsTransport) -> Function;
    #[wasm_bindgen(method, js_class = WebSocketTransport)]
    fn snapshot(this: &JsTransport) -> JsValue;
    #[wasm_bindgen(method, js_class = WebSocketTransport)]
    fn free(this: &JsTransport);

    /// Gives the class this .wasm's exports.
    #[wasm_bindgen(js_name = bindCore)]
    fn bind_core(exports: &JsValue);
    #[wasm_bindgen(js_name = coreBound)]
    fn core_bound() -> bool;
}

// The crate is linked only when named: its .wasm code is all these tests need.
extern crate resocket;

// The boundary's exports, defined in the resocket rlib (on wasm32). Naming
// them here makes the linker include them (an archive member nothing refers
// to is left out), so the test's .wasm exports them as the package's does.
#[cfg(target_arch = "wasm32")]
extern "C" {
    fn rs_input(len: u32) -> *mut u8;
    fn rs_output() -> *const u8;
    fn rs_call(session: u32, call: u32, a: f64, b: f64, len: u32) -> u32;
}

/// The core's one import in the package (`env.rs_now`, which `transport.js`
/// provides): here the test's own module defines it, so the linker resolves
/// it inside and wasm-bindgen sees no foreign import.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn rs_now() -> f64 {
    performance_now()
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Refers to the exports (see above); never called.
#[cfg(target_arch = "wasm32")]
#[used]
static BOUNDARY: (
    unsafe extern "C" fn(u32) -> *mut u8,
    unsafe extern "C" fn() -> *const u8,
    unsafe extern "C" fn(u32, u32, f64, f64, u32) -> u32,
) = (rs_input, rs_output, rs_call);

/// What `send`/`sendRaw` did (the `SendResult` strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    Sent,
    Queued,
    Dropped,
    Http,
}

fn send_result(name: &str) -> SendResult {
    match name {
        "sent" => SendResult::Sent,
        "queued" => SendResult::Queued,
        "dropped" => SendResult::Dropped,
        "http" => SendResult::Http,
        other => panic!("send returned {other:?}"),
    }
}

/// A transport for one test; freed when dropped.
pub struct WebSocketTransport {
    js: JsTransport,
}

impl WebSocketTransport {
    pub fn new(options: JsValue) -> Result<Self, JsValue> {
        if !core_bound() {
            bind_core(&wasm_bindgen::exports());
        }
        JsTransport::new(&options).map(|js| Self { js })
    }

    /// The JavaScript object, for tests that call it directly.
    pub fn js(&self) -> &JsValue {
        &self.js
    }

    pub fn connect(&self) {
        self.js.connect().expect("connect");
    }

    pub fn reconnect(&self) {
        self.js.reconnect().expect("reconnect");
    }

    pub fn disconnect(&self, code: JsValue, reason: JsValue) -> Result<(), JsValue> {
        self.js.disconnect(&code, &reason)
    }

    pub fn send(&self, message_type: JsValue, data: JsValue) -> Result<SendResult, JsValue> {
        self.js
            .send(&message_type, &data)
            .map(|name| send_result(&name))
    }

    pub fn send_with_ack(&self, message_type: JsValue, data: JsValue) -> Result<Promise, JsValue> {
        self.js.send_with_ack(&message_type, &data)
    }

    pub fn send_raw(&self, data: JsValue) -> Result<SendResult, JsValue> {
        self.js.send_raw(&data).map(|name| send_result(&name))
    }

    pub fn on(&self, event: &str, handler: JsValue) -> Result<Function, JsValue> {
        self.js.on(event, &handler)
    }

    pub fn on_message(&self, message_type: JsValue, handler: JsValue) -> Result<Function, JsValue> {
        self.js.on_message(&message_type, &handler)
    }

    pub fn queued(&self) -> Array {
        self.js.queued()
    }

    pub fn clear_queue(&self) {
        self.js.clear_queue();
    }

    pub fn state(&self) -> String {
        self.js.state()
    }

    pub fn latency_ms(&self) -> JsValue {
        self.js.latency_ms()
    }

    pub fn queue_length(&self) -> u32 {
        self.js.queue_length()
    }

    pub fn session_id(&self) -> JsValue {
        self.js.session_id()
    }

    pub fn stats(&self) -> JsValue {
        self.js.stats()
    }

    pub fn subscribe(&self) -> Function {
        self.js.subscribe()
    }

    pub fn get_snapshot(&self) -> Function {
        self.js.get_snapshot()
    }

    pub fn snapshot(&self) -> JsValue {
        self.js.snapshot()
    }

    pub fn free(self) {
        drop(self);
    }
}

impl Drop for WebSocketTransport {
    fn drop(&mut self) {
        self.js.free();
    }
}
