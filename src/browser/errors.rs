//! Conversions from core errors to the JavaScript error classes callers expect.

use js_sys::{Error, RangeError, TypeError};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::{ConfigError, ConfigErrorKind};

/// A `TypeError` or `RangeError` whose message names the offending field.
pub(crate) fn config_error_to_js(error: &ConfigError) -> JsValue {
    let message = error.to_string();
    match error.kind {
        ConfigErrorKind::Type => TypeError::new(&message).into(),
        ConfigErrorKind::Range => RangeError::new(&message).into(),
    }
}

/// A plain `Error` with a `resocket:` prefix, for runtime failures.
pub(crate) fn runtime_error(message: &str) -> JsValue {
    Error::new(&format!("resocket: {message}")).into()
}

/// A short description of a thrown JavaScript value, for error events.
pub(crate) fn describe_js_error(value: &JsValue) -> String {
    match value.dyn_ref::<Error>() {
        Some(error) => String::from(error.to_string()),
        None => value
            .as_string()
            .unwrap_or_else(|| "unknown error".to_owned()),
    }
}
