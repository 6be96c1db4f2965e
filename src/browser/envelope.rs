//! Outgoing frames as the core holds them. Envelopes `{"type", "data", "id",
//! "timestamp"}` are written and read by the browser's own `JSON` in the host
//! (`bridge.js`), so payloads stay JavaScript values and never pass through
//! Rust strings.

use wasm_bindgen::JsValue;

use super::bridge;

/// A frame the application sent, as the queue keeps it.
#[derive(Clone)]
pub(crate) struct OutgoingFrame {
    /// The JSON text of an envelope, or the raw value given to `sendRaw`.
    pub(crate) value: JsValue,
    pub(crate) is_envelope: bool,
}

impl OutgoingFrame {
    /// What the application sees of it in `queued()` and `"queue"` events: the
    /// envelope object (parsed back) or the raw value.
    pub(crate) fn for_app(&self) -> JsValue {
        bridge::queued_frame(&self.value, self.is_envelope)
    }
}
