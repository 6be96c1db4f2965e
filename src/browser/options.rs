//! Reading the constructor's options object: JavaScript type checks here, value
//! rules in `core::Config`.

use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

use super::platform::fill_random;
use crate::core::{uuid_v4, Config, ConfigError};

/// Everything the constructor takes, validated.
pub(crate) struct TransportOptions {
    pub(crate) config: Config,
    pub(crate) protocols: Vec<String>,
    pub(crate) auto_connect: bool,
}

/// Validates `options` (a plain object) into [`TransportOptions`].
pub(crate) fn read_options(options: &JsValue) -> Result<TransportOptions, ConfigError> {
    if !options.is_object() {
        return Err(ConfigError::type_error(
            "options",
            "must be an object such as { url: \"ws://…\" }",
        ));
    }
    let url = field(options, "url")
        .as_string()
        .ok_or_else(|| ConfigError::type_error("url", "is required and must be a string"))?;
    let session_id = match optional_field(options, "sessionId") {
        None => generated_session_id(),
        Some(value) => value
            .as_string()
            .ok_or_else(|| ConfigError::type_error("sessionId", "must be a string"))?,
    };
    let protocols = match optional_field(options, "protocols") {
        None => Vec::new(),
        Some(value) => read_protocols(&value)?,
    };
    let auto_connect = match optional_field(options, "autoConnect") {
        None => true,
        Some(value) => value
            .as_bool()
            .ok_or_else(|| ConfigError::type_error("autoConnect", "must be a boolean"))?,
    };
    Ok(TransportOptions {
        config: Config::new(url, session_id)?,
        protocols,
        auto_connect,
    })
}

fn read_protocols(value: &JsValue) -> Result<Vec<String>, ConfigError> {
    if let Some(single) = value.as_string() {
        return Ok(vec![single]);
    }
    let not_strings =
        || ConfigError::type_error("protocols", "must be a string or an array of strings");
    if !Array::is_array(value) {
        return Err(not_strings());
    }
    Array::from(value)
        .iter()
        .map(|item| item.as_string().ok_or_else(not_strings))
        .collect()
}

fn field(object: &JsValue, name: &str) -> JsValue {
    // Reflect.get only fails on non-objects, which `read_options` ruled out.
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// `None` for a missing or `undefined` field, so `{ sessionId: undefined }` means default.
fn optional_field(object: &JsValue, name: &str) -> Option<JsValue> {
    Some(field(object, name)).filter(|value| !value.is_undefined())
}

fn generated_session_id() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    uuid_v4(bytes)
}
