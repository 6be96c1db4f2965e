//! Frames on the wire: the envelope `{"type", "data", "id", "timestamp"}` as
//! JSON text, built and parsed by the browser's own `JSON` (in `bridge.js`), so
//! payloads stay JavaScript values and never pass through Rust strings.

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

/// An incoming frame, classified.
pub(crate) enum Incoming {
    /// A JSON object with a string `type`: the parsed object and its type.
    Envelope {
        value: JsValue,
        message_type: JsValue,
    },
    /// Anything else: the raw string or `ArrayBuffer`.
    Raw(JsValue),
}

/// Classifies an incoming frame; text that is not a JSON envelope stays raw.
pub(crate) fn decode(frame: JsValue) -> Incoming {
    let parsed = bridge::parse_envelope(&frame);
    if parsed.is_undefined() {
        Incoming::Raw(frame)
    } else {
        let message_type = bridge::envelope_type(&parsed);
        Incoming::Envelope {
            value: parsed,
            message_type,
        }
    }
}
