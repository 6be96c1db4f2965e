//! resocket: a reconnecting WebSocket client for the browser, in Rust compiled to
//! WebAssembly.
//!
//! The crate has two halves:
//! - [`core`]: the sans-IO state machine. Pure Rust with no browser imports; it
//!   takes inputs with the current time and returns actions. Tested natively.
//! - `browser`: the driver that owns the `WebSocket`, its handlers and the
//!   application's listeners, and executes the core's actions.
//!
//! This file holds only the JavaScript surface, [`WebSocketTransport`].
#![deny(missing_docs)]

mod browser;
pub mod core;

use wasm_bindgen::prelude::*;

use crate::browser::Driver;
use crate::core::ConfigError;

#[wasm_bindgen(typescript_custom_section)]
const TYPESCRIPT_TYPES: &str = r#"
/** Options for `new WebSocketTransport(options)`. */
export interface TransportOptions {
  /** The server's WebSocket URL (`ws://` or `wss://`). `?session_id=…` is added to it. */
  url: string;
  /** Subprotocols offered to the server. */
  protocols?: string | string[];
  /** Identifies this client across reconnects. Default: a random UUID. */
  sessionId?: string;
  /** Connect as soon as the transport is created. Default: `true`. */
  autoConnect?: boolean;
}

/** The transport's connection state. */
export type ConnectionState = "connecting" | "connected" | "disconnected";

/** How a socket closed. */
export interface CloseDetails {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** An envelope as sent and received on the wire. */
export interface Envelope<T = unknown> {
  type: string;
  data: T;
  id?: string;
  timestamp?: string;
  [field: string]: unknown;
}

/** Each event's handler argument. */
export interface TransportEvents {
  state: ConnectionState;
  open: undefined;
  close: CloseDetails;
  /** A parsed envelope, or the raw frame when it is not a JSON envelope. */
  message: Envelope | string | ArrayBuffer;
  error: Error;
}
"#;

/// A WebSocket connection to a resocket-speaking server.
///
/// ```js
/// const t = new WebSocketTransport({ url: "ws://127.0.0.1:8080/ws" });
/// const off = t.on("message", (envelope) => console.log(envelope));
/// t.send("message", { text: "hi" });
/// off();
/// t.free(); // closes the socket and detaches every handler
/// ```
#[wasm_bindgen]
pub struct WebSocketTransport {
    driver: Driver,
}

#[wasm_bindgen]
impl WebSocketTransport {
    /// Creates a transport and, unless `autoConnect` is `false`, starts connecting.
    /// Throws a `TypeError` or `RangeError` naming the option that is wrong.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "TransportOptions")] options: JsValue,
    ) -> Result<WebSocketTransport, JsValue> {
        Ok(Self {
            driver: Driver::new(&options)?,
        })
    }

    /// Opens the connection if it is not open or opening.
    pub fn connect(&self) {
        self.driver.connect();
    }

    /// Closes the connection with `code` (default 1000) and `reason` (default "")
    /// and stays disconnected until `connect()`.
    pub fn disconnect(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] code: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] reason: JsValue,
    ) -> Result<(), JsValue> {
        let code = close_code_argument(&code).map_err(|e| js_error(&e))?;
        let reason = match reason.as_string() {
            Some(reason) => reason,
            None if reason.is_undefined() => String::new(),
            None => {
                return Err(js_error(&ConfigError::type_error(
                    "reason",
                    "must be a string",
                )))
            }
        };
        self.driver.disconnect(code, &reason)
    }

    /// Sends `{type, data, id, timestamp}` as one JSON text frame.
    /// Returns `"sent"`; throws when not connected or when `data` is not JSON-serialisable.
    #[wasm_bindgen(unchecked_return_type = "\"sent\"")]
    pub fn send(
        &self,
        #[wasm_bindgen(js_name = type, unchecked_param_type = "string")] message_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] data: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.driver.send(&message_type, &data)?;
        Ok(JsValue::from_str("sent"))
    }

    /// Calls `handler` on every `event` ("state", "open", "close", "message",
    /// "error"). Returns a function that unsubscribes it.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "keyof TransportEvents")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(argument: any) => void")] handler: JsValue,
    ) -> Result<js_sys::Function, JsValue> {
        self.driver.on(event, handler)
    }

    /// The connection state: "connecting", "connected" or "disconnected".
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionState")]
    pub fn state(&self) -> String {
        self.driver.state().to_owned()
    }

    /// The session id sent as `?session_id=` on every connection attempt.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.driver.session_id()
    }
}

fn close_code_argument(code: &JsValue) -> Result<u16, ConfigError> {
    if code.is_undefined() {
        return Ok(1000);
    }
    let number = code
        .as_f64()
        .ok_or_else(|| ConfigError::type_error("code", "must be a number"))?;
    if number.fract() != 0.0 || !(0.0..=f64::from(u16::MAX)).contains(&number) {
        return Err(ConfigError::range(
            "code",
            format!("must be an integer close code, got {number}"),
        ));
    }
    Ok(number as u16)
}

fn js_error(error: &ConfigError) -> JsValue {
    browser::config_error_to_js(error)
}
