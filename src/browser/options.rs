//! Reading the constructor's options: `bridge.readOptions` checks JavaScript
//! types; value rules and defaults are `core::OptionValues`.

use crate::prelude::*;

use js_sys::Function;
use wasm_bindgen::JsValue;

use super::bridge;
use super::errors::config_error_with_value;
use super::platform::fill_random;
use crate::core::{uuid_v4, Config, OptionValues};

/// Everything the constructor takes, validated.
pub(crate) struct TransportOptions {
    pub(crate) config: Config,
    pub(crate) url_provider: Option<Function>,
    /// An array of strings (checked by `bridge.readOptions`).
    pub(crate) protocols: JsValue,
    pub(crate) auto_connect: bool,
    pub(crate) should_reconnect: Option<Function>,
}

/// Validates `options`; the error is the `TypeError`/`RangeError` to throw.
pub(crate) fn read_options(options: &JsValue) -> Result<TransportOptions, JsValue> {
    let fields = bridge::read_options(options)?;
    let mut next = fields.iter();
    let mut take = || next.next().unwrap_or(JsValue::UNDEFINED);
    let url = take().as_string();
    let url_provider = bridge::as_function(take());
    let protocols = take();
    let auto_connect = take().as_bool().unwrap_or(true);
    let should_reconnect = bridge::as_function(take());
    let enable_websocket = take().as_bool();
    let mut number = || take().as_f64();
    let (reconnect_interval, max_reconnect_interval, reconnect_backoff_factor, reconnect_jitter) =
        (number(), number(), number(), number());
    let (max_reconnect_attempts, connect_timeout, min_uptime) = (number(), number(), number());
    let (heartbeat_interval, heartbeat_timeout, message_queue_size) =
        (number(), number(), number());
    let (fallback_after_attempts, upgrade_probe_interval, ack_timeout) =
        (number(), number(), number());
    let mut string = || take().as_string();
    let (session_id, queue_overflow, ping_type, pong_type) =
        (string(), string(), string(), string());
    let (http_fallback_url, http_events_url, delivery) = (string(), string(), string());
    let values = OptionValues {
        url,
        session_id: session_id.unwrap_or_else(generated_session_id),
        reconnect_interval,
        max_reconnect_interval,
        reconnect_backoff_factor,
        reconnect_jitter,
        max_reconnect_attempts,
        connect_timeout,
        min_uptime,
        heartbeat_interval,
        heartbeat_timeout,
        message_queue_size,
        queue_overflow,
        ping_type,
        pong_type,
        http_fallback_url,
        http_events_url,
        fallback_after_attempts,
        upgrade_probe_interval,
        enable_websocket,
        delivery,
        ack_timeout,
    };
    let config = values.validate().map_err(|error| {
        config_error_with_value(&error, &bridge::option_value(options, error.field))
    })?;
    Ok(TransportOptions {
        config,
        url_provider,
        protocols,
        auto_connect,
        should_reconnect,
    })
}

fn generated_session_id() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    uuid_v4(bytes)
}
