//! One browser `WebSocket` and the four handlers it owns.
//!
//! The handlers are `Closure`s owned by [`Socket`]; dropping the socket detaches
//! them from the `WebSocket` before they are freed, so a replaced or released
//! socket can never call back into the transport, and nothing is leaked
//! (no `Closure::forget`). Dropping a closure while it is running (a listener that
//! calls `disconnect()` from a message handler) is safe: wasm-bindgen defers the
//! free until the call returns.

use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use crate::core::CloseInfo;

/// What a socket reports, already reduced to what the driver needs.
pub(crate) enum SocketEvent {
    Open,
    Message(JsValue),
    Error,
    Close(CloseInfo),
}

#[wasm_bindgen]
extern "C" {
    /// The same browser object as `web_sys::WebSocket`, with a `send` that takes
    /// any JS value: a JS string goes across by reference instead of being
    /// transcoded to UTF-8 and back as `send_with_str(&str)` would.
    #[wasm_bindgen(js_name = WebSocket)]
    type AnySendSocket;

    #[wasm_bindgen(method, js_name = send, catch)]
    fn send(this: &AnySendSocket, data: &JsValue) -> Result<(), JsValue>;
}

/// An open (or opening) WebSocket with its event handlers attached.
pub(crate) struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Creates the `WebSocket` and wires its events to `on_event`.
    /// Fails when the constructor throws (bad URL, blocked port, CSP).
    pub(crate) fn open(
        url: &str,
        protocols: &[String],
        on_event: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Self, JsValue> {
        let ws = if protocols.is_empty() {
            WebSocket::new(url)?
        } else {
            let list: Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
            WebSocket::new_with_str_sequence(url, &list)?
        };
        ws.set_binary_type(BinaryType::Arraybuffer);

        let handler = on_event.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| handler(SocketEvent::Open));
        let handler = on_event.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            handler(SocketEvent::Message(event.data()))
        });
        let handler = on_event.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_| handler(SocketEvent::Error));
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            on_event(SocketEvent::Close(CloseInfo {
                code: event.code(),
                reason: event.reason(),
                was_clean: event.was_clean(),
            }))
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_error: on_error,
            _on_close: on_close,
        })
    }

    /// Sends a frame: a JS string as text, an `ArrayBuffer` or view as binary.
    pub(crate) fn send(&self, frame: &JsValue) -> Result<(), JsValue> {
        self.ws.unchecked_ref::<AnySendSocket>().send(frame)
    }

    /// Starts the closing handshake; the socket's events are no longer reported.
    pub(crate) fn close(self, code: u16, reason: &str) {
        // Only throws for codes/reasons the core has already rejected.
        let _ = self.ws.close_with_code_and_reason(code, reason);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onerror(None);
        self.ws.set_onclose(None);
        let ready_state = self.ws.ready_state();
        if ready_state == WebSocket::CONNECTING || ready_state == WebSocket::OPEN {
            let _ = self
                .ws
                .close_with_code_and_reason(1000, "transport released");
        }
    }
}
