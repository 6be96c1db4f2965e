//! One browser `WebSocket`.
//!
//! Its handlers (set in `bridge.openSocket`) report to the transport's host, so
//! a socket owns no closure of its own. Closing or dropping it detaches the
//! handlers first: a replaced or released socket never reports again.

use wasm_bindgen::JsValue;

use super::bridge::{self, Host};

pub(crate) struct Socket {
    socket: JsValue,
}

impl Socket {
    /// Creates the `WebSocket`. Fails when the constructor throws (bad URL,
    /// blocked port, CSP).
    pub(crate) fn open(host: &Host, url: &str, protocols: &JsValue) -> Result<Self, JsValue> {
        Ok(Self {
            socket: bridge::open_socket(host, url, protocols)?,
        })
    }

    /// Sends a frame: a JS string as text, an `ArrayBuffer` or view as binary.
    /// False if the browser refused it.
    pub(crate) fn send(&self, frame: &JsValue) -> bool {
        bridge::send_frame(&self.socket, frame)
    }

    /// Starts the closing handshake; the socket's events are no longer reported.
    pub(crate) fn close(self, code: u16, reason: &str) {
        bridge::close_socket(&self.socket, code, reason);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // A no-op after `close()`: the handlers are gone and the socket is closing.
        bridge::close_socket(&self.socket, 1000, "transport released");
    }
}
