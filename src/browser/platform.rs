//! Clock and randomness from whatever global the code runs in (window or worker).
//!
//! Looked up on `globalThis` at call time rather than through `web_sys::window()`,
//! so the transport also works in a Web Worker.

use js_sys::{Math, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Crypto, Performance};

fn global_property(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// Monotonic milliseconds (`performance.now()`), the core's clock.
pub(crate) fn now_ms() -> f64 {
    match global_property("performance") {
        Some(performance) => performance.unchecked_into::<Performance>().now(),
        None => js_sys::Date::now(),
    }
}

/// Fills `bytes` from `crypto.getRandomValues`, or `Math.random` where no Web
/// Crypto exists: the values only need to be unique, not secret.
pub(crate) fn fill_random(bytes: &mut [u8]) {
    let filled = global_property("crypto")
        .and_then(|crypto| crypto.dyn_into::<Crypto>().ok())
        .is_some_and(|crypto| crypto.get_random_values_with_u8_array(bytes).is_ok());
    if !filled {
        for byte in bytes.iter_mut() {
            *byte = (Math::random() * 256.0) as u8;
        }
    }
}

/// A random 64-bit seed for the core.
pub(crate) fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    fill_random(&mut bytes);
    u64::from_le_bytes(bytes)
}
