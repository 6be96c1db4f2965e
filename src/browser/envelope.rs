//! The envelope on the wire: `{"type", "data", "id", "timestamp"}` as JSON text.
//!
//! Built and parsed with the browser's own `JSON`, so message payloads stay
//! JavaScript values and never pass through Rust strings (no transcoding, no serde
//! on the per-message path).

use js_sys::{Date, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` on a JS string value: `js_sys::JSON::parse` takes `&str`, which
    /// would copy every incoming frame into wasm memory and back.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// Serialises an envelope to a JS string. Fails (with the `TypeError` that
/// `JSON.stringify` threw) when `data` cannot be represented in JSON.
pub(crate) fn encode(message_type: &JsValue, data: &JsValue, id: &str) -> Result<JsValue, JsValue> {
    let envelope = Object::new();
    let data = if data.is_undefined() {
        &JsValue::NULL
    } else {
        data
    };
    // Reflect.set on a fresh plain object cannot fail.
    let _ = Reflect::set(&envelope, &"type".into(), message_type);
    let _ = Reflect::set(&envelope, &"data".into(), data);
    let _ = Reflect::set(&envelope, &"id".into(), &JsValue::from_str(id));
    let _ = Reflect::set(
        &envelope,
        &"timestamp".into(),
        &Date::new_0().to_iso_string(),
    );
    JSON::stringify(&envelope).map(JsValue::from)
}

/// Turns an incoming frame into what `"message"` listeners receive: the parsed
/// object for a JSON envelope (an object with a string `type`), otherwise the raw
/// frame (a string that is not an envelope, or an `ArrayBuffer`).
pub(crate) fn decode(frame: JsValue) -> JsValue {
    if !frame.is_string() {
        return frame;
    }
    let Ok(parsed) = parse_json(&frame) else {
        return frame;
    };
    if is_envelope(&parsed) {
        parsed
    } else {
        frame
    }
}

fn is_envelope(value: &JsValue) -> bool {
    value.is_object()
        && !js_sys::Array::is_array(value)
        && Reflect::get(value, &"type".into()).is_ok_and(|t| t.is_string())
}
