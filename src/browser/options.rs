//! Reading the constructor's options: `bridge.readOptions` checks JavaScript
//! types; value rules and defaults are `core::OptionValues`.

use crate::prelude::*;

use js_sys::Function;
use wasm_bindgen::JsValue;

use super::boundary::{HeadField, NumberOption, StringOption};
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
    let field = |index: usize| fields.get(index as u32);
    // Every field at the position the boundary declares.
    let head = |head: HeadField| field(head as usize);
    let url = head(HeadField::Url).as_string();
    let url_provider = bridge::as_function(head(HeadField::UrlFunction));
    let protocols = head(HeadField::Protocols);
    let auto_connect = head(HeadField::AutoConnect).as_bool().unwrap_or(true);
    let should_reconnect = bridge::as_function(head(HeadField::ShouldReconnect));
    let enable_websocket = head(HeadField::EnableWebSocket).as_bool();
    let number = |option: NumberOption| field(option.position()).as_f64();
    let string = |option: StringOption| field(option.position()).as_string();
    let values = OptionValues {
        url,
        session_id: string(StringOption::SessionId).unwrap_or_else(generated_session_id),
        reconnect_interval: number(NumberOption::ReconnectInterval),
        max_reconnect_interval: number(NumberOption::MaxReconnectInterval),
        reconnect_backoff_factor: number(NumberOption::ReconnectBackoffFactor),
        reconnect_jitter: number(NumberOption::ReconnectJitter),
        max_reconnect_attempts: number(NumberOption::MaxReconnectAttempts),
        connect_timeout: number(NumberOption::ConnectTimeout),
        min_uptime: number(NumberOption::MinUptime),
        heartbeat_interval: number(NumberOption::HeartbeatInterval),
        heartbeat_timeout: number(NumberOption::HeartbeatTimeout),
        message_queue_size: number(NumberOption::MessageQueueSize),
        queue_overflow: string(StringOption::QueueOverflow),
        ping_type: string(StringOption::PingType),
        pong_type: string(StringOption::PongType),
        http_fallback_url: string(StringOption::HttpFallbackUrl),
        http_events_url: string(StringOption::HttpEventsUrl),
        fallback_after_attempts: number(NumberOption::FallbackAfterAttempts),
        upgrade_probe_interval: number(NumberOption::UpgradeProbeInterval),
        enable_websocket,
        delivery: string(StringOption::Delivery),
        ack_timeout: number(NumberOption::AckTimeout),
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
