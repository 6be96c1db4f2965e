//! Conversions from core errors to the JavaScript error classes callers expect.

use crate::prelude::*;

use wasm_bindgen::JsValue;

use super::bridge;
use crate::core::{ConfigError, ConfigErrorKind};

/// A `TypeError` or `RangeError` naming the field, ending with `, got <value>`
/// as JavaScript prints it (e.g. `reconnectInterval must be …, got -5`).
pub(crate) fn config_error_with_value(error: &ConfigError, value: &JsValue) -> JsValue {
    bridge::option_error(error.kind == ConfigErrorKind::Type, &error.message(), value)
}

/// A `TypeError` or `RangeError` naming the field (for arguments with no value to show).
pub(crate) fn config_error_to_js(error: &ConfigError) -> JsValue {
    let kind = match error.kind {
        ConfigErrorKind::Type => 1,
        ConfigErrorKind::Range => 2,
    };
    bridge::make_error(kind, &error.message())
}

/// A plain `Error` with a `resocket:` prefix, for runtime failures.
pub(crate) fn runtime_error(message: &str) -> JsValue {
    let mut text = String::with_capacity(10 + message.len());
    text.push_str("resocket: ");
    text.push_str(message);
    bridge::make_error(0, &text)
}

/// A short description of a thrown JavaScript value, for error events.
pub(crate) fn describe_js_error(value: &JsValue) -> String {
    bridge::describe(value)
}
