//! Transport options: defaults, value rules, and errors that name the field.
//!
//! The driver checks JavaScript *types* (is it a number?) and fills in
//! [`OptionValues`]; every rule about *values* and every default lives here so
//! it is tested natively. Error messages carry the rule; the driver appends the
//! offending value as JavaScript prints it (`…, got -5`).

use crate::prelude::*;

use core::fmt;

use super::backoff::Backoff;
use super::channel::{is_http_url, Delivery, FallbackConfig};
use super::limits::MIN_MESSAGE_BYTES;
use super::queue::OverflowPolicy;
use super::text::{has_control, push_ascii};
use super::time::Duration;
use super::url::validate_socket_url;

/// The longest session id we accept; it travels in every URL and log line.
const MAX_SESSION_ID_LEN: usize = 128;
/// `maxMessageBytes` by default: the reference server's limit, 1 MiB.
const DEFAULT_MAX_MESSAGE_BYTES: f64 = 1_048_576.0;
/// Browsers fire `setTimeout` at once for delays above 2^31 − 1 ms.
pub const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// Option values as read from JavaScript; `None` means "use the default".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionValues {
    /// The fixed URL, or `None` when a URL function is used (validated per attempt).
    pub url: Option<String>,
    /// The session id (the driver generates one when the option is absent).
    pub session_id: String,
    /// `reconnectInterval`
    pub reconnect_interval: Option<f64>,
    /// `maxReconnectInterval`
    pub max_reconnect_interval: Option<f64>,
    /// `reconnectBackoffFactor`
    pub reconnect_backoff_factor: Option<f64>,
    /// `reconnectJitter`
    pub reconnect_jitter: Option<f64>,
    /// `maxReconnectAttempts` (`Infinity` allowed)
    pub max_reconnect_attempts: Option<f64>,
    /// `connectTimeout`
    pub connect_timeout: Option<f64>,
    /// `minUptime`
    pub min_uptime: Option<f64>,
    /// `heartbeatInterval` (0 disables the heartbeat)
    pub heartbeat_interval: Option<f64>,
    /// `heartbeatTimeout`
    pub heartbeat_timeout: Option<f64>,
    /// `messageQueueSize`
    pub message_queue_size: Option<f64>,
    /// `queueOverflow`
    pub queue_overflow: Option<String>,
    /// `pingType`
    pub ping_type: Option<String>,
    /// `pongType`
    pub pong_type: Option<String>,
    /// `httpFallbackUrl`
    pub http_fallback_url: Option<String>,
    /// `httpEventsUrl`
    pub http_events_url: Option<String>,
    /// `fallbackAfterAttempts`
    pub fallback_after_attempts: Option<f64>,
    /// `upgradeProbeInterval` (0: stay on HTTP)
    pub upgrade_probe_interval: Option<f64>,
    /// `enableWebSocket`
    pub enable_websocket: Option<bool>,
    /// `delivery`
    pub delivery: Option<String>,
    /// `ackTimeout` (0: no timeout)
    pub ack_timeout: Option<f64>,
    /// `maxMessageBytes`
    pub max_message_bytes: Option<f64>,
}

/// Heartbeat timing; absent when `heartbeatInterval` is 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeartbeatConfig {
    /// Time between pings.
    pub interval: Duration,
    /// How long a ping waits for an answer (or any frame) before the link is
    /// taken for silent.
    pub timeout: Duration,
}

/// Validated settings the core runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The fixed base URL, or `None` when the driver resolves one per attempt.
    pub url: Option<String>,
    /// Identifies this transport to the server across reconnects.
    pub session_id: String,
    /// The reconnect delay policy.
    pub backoff: Backoff,
    /// Reconnect attempts before giving up; `None` for no limit.
    pub max_reconnect_attempts: Option<u32>,
    /// An attempt not open after this long is abandoned (0: never).
    pub connect_timeout: Duration,
    /// Uptime after which the attempt counter resets.
    pub min_uptime: Duration,
    /// Heartbeat timing, if enabled.
    pub heartbeat: Option<HeartbeatConfig>,
    /// How many messages the offline queue holds.
    pub queue_capacity: usize,
    /// What happens when the queue is full.
    pub overflow: OverflowPolicy,
    /// Envelope type of heartbeat pings.
    pub ping_type: String,
    /// Envelope type of heartbeat replies.
    pub pong_type: String,
    /// The HTTP fallback, if configured.
    pub fallback: Option<FallbackConfig>,
    /// Whether the WebSocket is used at all (false: HTTP only).
    pub websocket_enabled: bool,
    /// The delivery guarantee.
    pub delivery: Delivery,
    /// A tracked message unacknowledged this long means the channel is dead
    /// (0: wait forever).
    pub ack_timeout: Duration,
    /// The largest message `send` accepts, in UTF-8 bytes (a server's
    /// `welcome` or refusal may lower it: [`Limits`](super::limits::Limits)).
    pub max_message_bytes: u32,
}

impl Config {
    /// A config with every default and this URL and session id.
    pub fn with_defaults(url: &str, session_id: &str) -> Result<Self, ConfigError> {
        OptionValues {
            url: Some(url.to_owned()),
            session_id: session_id.to_owned(),
            ..OptionValues::default()
        }
        .validate()
    }
}

impl OptionValues {
    /// Applies defaults and checks every value.
    pub fn validate(self) -> Result<Config, ConfigError> {
        if let Some(url) = &self.url {
            validate_socket_url(url).map_err(|why| ConfigError::range(Field::Url, why))?;
        }
        validate_session_id(&self.session_id)?;
        let initial = delay(Field::ReconnectInterval, self.reconnect_interval, 1000.0)?;
        let max = delay(
            Field::MaxReconnectInterval,
            self.max_reconnect_interval,
            30_000.0,
        )?;
        if max < initial {
            return Err(ConfigError::range(
                Field::MaxReconnectInterval,
                "must be >= reconnectInterval",
            ));
        }
        let factor = self.reconnect_backoff_factor.unwrap_or(2.0);
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(ConfigError::range(
                Field::ReconnectBackoffFactor,
                "must be a finite number >= 1",
            ));
        }
        let jitter = self.reconnect_jitter.unwrap_or(0.5);
        if !(0.0..=1.0).contains(&jitter) {
            return Err(ConfigError::range(
                Field::ReconnectJitter,
                "must be a number from 0 to 1",
            ));
        }
        let max_reconnect_attempts = match self.max_reconnect_attempts.unwrap_or(10.0) {
            f64::INFINITY => None,
            attempts => Some(whole_number(
                Field::MaxReconnectAttempts,
                attempts,
                Whole::OrInfinity,
            )?),
        };
        let heartbeat_interval =
            delay(Field::HeartbeatInterval, self.heartbeat_interval, 30_000.0)?;
        let heartbeat_timeout = delay(Field::HeartbeatTimeout, self.heartbeat_timeout, 10_000.0)?;
        if heartbeat_timeout == 0.0 {
            return Err(ConfigError::range(Field::HeartbeatTimeout, "must be > 0"));
        }
        let queue_capacity = whole_number(
            Field::MessageQueueSize,
            self.message_queue_size.unwrap_or(100.0),
            Whole::FromZero,
        )?;
        let overflow = match self.queue_overflow.as_deref() {
            None => OverflowPolicy::DropOldest,
            Some(name) => OverflowPolicy::parse(name).ok_or_else(|| {
                ConfigError::range(
                    Field::QueueOverflow,
                    "must be \"drop-oldest\", \"drop-newest\" or \"error\"",
                )
            })?,
        };
        let fallback = match self.http_fallback_url {
            None => None,
            Some(post_url) => Some(FallbackConfig {
                post_url: http_url(Field::HttpFallbackUrl, Some(post_url))?.unwrap_or_default(),
                events_url: http_url(Field::HttpEventsUrl, self.http_events_url)?,
                after_attempts: whole_number(
                    Field::FallbackAfterAttempts,
                    self.fallback_after_attempts.unwrap_or(3.0),
                    Whole::FromOne,
                )?,
                probe_interval: Duration::from_ms(delay(
                    Field::UpgradeProbeInterval,
                    self.upgrade_probe_interval,
                    30_000.0,
                )?),
            }),
        };
        let websocket_enabled = self.enable_websocket.unwrap_or(true);
        if !websocket_enabled && fallback.is_none() {
            return Err(ConfigError::type_error(
                Field::HttpFallbackUrl,
                "is required when enableWebSocket is false",
            ));
        }
        let delivery = match self.delivery.as_deref() {
            None => Delivery::AtMostOnce,
            Some(name) => Delivery::parse(name).ok_or_else(|| {
                ConfigError::range(
                    Field::Delivery,
                    "must be \"at-most-once\" or \"at-least-once\"",
                )
            })?,
        };
        Ok(Config {
            fallback,
            websocket_enabled,
            delivery,
            ack_timeout: Duration::from_ms(delay(Field::AckTimeout, self.ack_timeout, 10_000.0)?),
            max_message_bytes: whole_number(
                Field::MaxMessageBytes,
                self.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES),
                Whole::Bytes,
            )?,
            url: self.url,
            session_id: self.session_id,
            backoff: Backoff {
                initial_ms: initial,
                max_ms: max,
                factor,
                jitter,
            },
            max_reconnect_attempts,
            connect_timeout: Duration::from_ms(delay(
                Field::ConnectTimeout,
                self.connect_timeout,
                5000.0,
            )?),
            min_uptime: Duration::from_ms(delay(Field::MinUptime, self.min_uptime, 5000.0)?),
            heartbeat: (heartbeat_interval > 0.0).then_some(HeartbeatConfig {
                interval: Duration::from_ms(heartbeat_interval),
                timeout: Duration::from_ms(heartbeat_timeout),
            }),
            queue_capacity: queue_capacity as usize,
            overflow,
            ping_type: envelope_type(Field::PingType, self.ping_type, "ping")?,
            pong_type: envelope_type(Field::PongType, self.pong_type, "pong")?,
        })
    }
}

/// An optional fetchable URL option.
fn http_url(field: Field, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        Some(url) if !is_http_url(&url) => Err(ConfigError::range(
            field,
            "must be an http(s) URL or a path starting with /",
        )),
        url => Ok(url),
    }
}

/// A duration option: finite, ≥ 0 and short enough for `setTimeout`.
fn delay(field: Field, value: Option<f64>, default: f64) -> Result<f64, ConfigError> {
    let value = value.unwrap_or(default);
    if (0.0..=MAX_TIMER_MS).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::range(
            field,
            "must be a finite number of milliseconds from 0 to 2147483647",
        ))
    }
}

/// Which whole numbers an option takes (all of them up to `u32::MAX`).
#[derive(Clone, Copy, PartialEq)]
enum Whole {
    FromZero,
    FromOne,
    /// From [`MIN_MESSAGE_BYTES`] (a size limit).
    Bytes,
    /// From 0, or `Infinity` (checked by the caller).
    OrInfinity,
}

/// A count option: a whole number in the range `kind` says. The message
/// names both bounds, whatever was wrong (a fraction, a number too small
/// or too large).
fn whole_number(field: Field, value: f64, kind: Whole) -> Result<u32, ConfigError> {
    let least = match kind {
        Whole::FromOne => 1.0,
        Whole::Bytes => f64::from(MIN_MESSAGE_BYTES),
        _ => 0.0,
    };
    if value >= least && value <= f64::from(u32::MAX) && value == f64::from(value as u32) {
        return Ok(value as u32);
    }
    Err(ConfigError::range(
        field,
        match kind {
            Whole::FromZero => "must be a whole number from 0 to 4294967295",
            Whole::FromOne => "must be a whole number from 1 to 4294967295",
            Whole::Bytes => "must be a whole number from 1024 to 4294967295",
            Whole::OrInfinity => "must be a whole number from 0 to 4294967295, or Infinity",
        },
    ))
}

/// Envelope types a heartbeat type must not take: those the core consumes
/// itself (PROTOCOL.md §4, §4.1, §5), and the reference server's replies and
/// errors, which are the application's. A `pongType: "ack"` would swallow
/// every acknowledgement, a `pongType: "message"` every reply.
const TAKEN_TYPES: [&str; 6] = [
    super::transport::ACK_TYPE,
    super::transport::GAP_TYPE,
    super::transport::WELCOME_TYPE,
    super::transport::RESET_TYPE,
    "message",
    "error",
];

/// `pingType` or `pongType`: a non-empty string that no other frame uses.
fn envelope_type(
    field: Field,
    value: Option<String>,
    default: &str,
) -> Result<String, ConfigError> {
    match value {
        None => Ok(default.to_owned()),
        Some(name) if !name.is_empty() && !TAKEN_TYPES.contains(&name.as_str()) => Ok(name),
        Some(_) => Err(ConfigError::range(
            field,
            "must be a non-empty string other than ack, gap, welcome, reset, message and error",
        )),
    }
}

/// Whether `session_id` may be one: 1 to 128 characters, no control character.
pub(crate) fn validate_session_id(session_id: &str) -> Result<(), ConfigError> {
    // Counting the bytes that start a character: `chars().count()` would link a
    // vectorised counter several times the size of this loop.
    let length = session_id
        .bytes()
        .filter(|byte| byte & 0xC0 != 0x80)
        .count();
    if length == 0 || length > MAX_SESSION_ID_LEN {
        return Err(ConfigError::range(
            Field::SessionId,
            "must be 1 to 128 characters long",
        ));
    }
    if has_control(session_id) {
        return Err(ConfigError::range(
            Field::SessionId,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Every option and argument an error can name: the number options, then
/// the string options, in the order the boundary writes them, then the
/// other options and `disconnect`'s arguments. Errors carry the field, not
/// its name: the JavaScript half has the names (generated from
/// [`FIELD_NAMES`]), so the wasm build does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // each is the option or argument `FIELD_NAMES` spells
pub enum Field {
    ReconnectInterval,
    MaxReconnectInterval,
    ReconnectBackoffFactor,
    ReconnectJitter,
    MaxReconnectAttempts,
    ConnectTimeout,
    MinUptime,
    HeartbeatInterval,
    HeartbeatTimeout,
    MessageQueueSize,
    FallbackAfterAttempts,
    UpgradeProbeInterval,
    AckTimeout,
    MaxMessageBytes,
    SessionId,
    QueueOverflow,
    PingType,
    PongType,
    HttpFallbackUrl,
    HttpEventsUrl,
    Delivery,
    Url,
    Protocols,
    AutoConnect,
    ShouldReconnect,
    EnableWebSocket,
    Code,
    Reason,
}

/// Each [`Field`] as the JavaScript API spells it, in order.
pub const FIELD_NAMES: [&str; 28] = [
    "reconnectInterval",
    "maxReconnectInterval",
    "reconnectBackoffFactor",
    "reconnectJitter",
    "maxReconnectAttempts",
    "connectTimeout",
    "minUptime",
    "heartbeatInterval",
    "heartbeatTimeout",
    "messageQueueSize",
    "fallbackAfterAttempts",
    "upgradeProbeInterval",
    "ackTimeout",
    "maxMessageBytes",
    "sessionId",
    "queueOverflow",
    "pingType",
    "pongType",
    "httpFallbackUrl",
    "httpEventsUrl",
    "delivery",
    "url",
    "protocols",
    "autoConnect",
    "shouldReconnect",
    "enableWebSocket",
    "code",
    "reason",
];

impl Field {
    /// Every field, in order.
    pub const ALL: [Field; 28] = [
        Field::ReconnectInterval,
        Field::MaxReconnectInterval,
        Field::ReconnectBackoffFactor,
        Field::ReconnectJitter,
        Field::MaxReconnectAttempts,
        Field::ConnectTimeout,
        Field::MinUptime,
        Field::HeartbeatInterval,
        Field::HeartbeatTimeout,
        Field::MessageQueueSize,
        Field::FallbackAfterAttempts,
        Field::UpgradeProbeInterval,
        Field::AckTimeout,
        Field::MaxMessageBytes,
        Field::SessionId,
        Field::QueueOverflow,
        Field::PingType,
        Field::PongType,
        Field::HttpFallbackUrl,
        Field::HttpEventsUrl,
        Field::Delivery,
        Field::Url,
        Field::Protocols,
        Field::AutoConnect,
        Field::ShouldReconnect,
        Field::EnableWebSocket,
        Field::Code,
        Field::Reason,
    ];
    /// How many fields are number options (they come first, up to the
    /// first string option).
    pub const NUMBERS: usize = Field::SessionId as usize;
    /// How many string options follow them (up to the first other option).
    pub const STRINGS: usize = Field::Url as usize - Field::NUMBERS;
    /// How many fields are options (the `disconnect` arguments follow).
    pub const OPTIONS: usize = Field::Code as usize;

    /// The name the JavaScript API gives it.
    pub fn name(self) -> &'static str {
        FIELD_NAMES.get(self as usize).copied().unwrap_or_default()
    }
}

/// So tests and callers can compare a field with the name they know.
impl PartialEq<&str> for Field {
    fn eq(&self, name: &&str) -> bool {
        self.name() == *name
    }
}

/// Whether a bad value had the wrong type or a value out of its allowed range;
/// the driver throws a `TypeError` or a `RangeError` accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// The value has the wrong type (maps to a JavaScript `TypeError`).
    Type,
    /// The value has the right type but is not allowed (maps to a `RangeError`).
    Range,
}

/// A rejected option or argument, naming the field so the message is actionable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The option or argument ([`Field::name`] spells it as the JavaScript
    /// API does; the boundary passes its number).
    pub field: Field,
    /// Which JavaScript error class to throw.
    pub kind: ConfigErrorKind,
    /// What is wrong with it, completing the sentence "`field` …".
    pub reason: &'static str,
}

impl ConfigError {
    /// A wrong-type error for `field`.
    pub fn type_error(field: Field, reason: &'static str) -> Self {
        Self {
            field,
            kind: ConfigErrorKind::Type,
            reason,
        }
    }

    /// A value-not-allowed error for `field`.
    pub fn range(field: Field, reason: &'static str) -> Self {
        Self {
            field,
            kind: ConfigErrorKind::Range,
            reason,
        }
    }

    /// `"resocket: <field> <reason>"`, built without `core::fmt` (keeps float
    /// and padding machinery out of the wasm build).
    pub fn message(&self) -> String {
        let field = self.field.name();
        let mut message = String::with_capacity(11 + field.len() + self.reason.len());
        message.push_str("resocket: ");
        message.push_str(field);
        push_ascii(&mut message, b' ');
        message.push_str(self.reason);
        message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> OptionValues {
        OptionValues {
            url: Some("ws://127.0.0.1:1/ws".into()),
            session_id: "abc".into(),
            ..OptionValues::default()
        }
    }

    fn error(values: OptionValues) -> ConfigError {
        values.validate().expect_err("should be rejected")
    }

    #[test]
    fn defaults_match_the_documented_contract() {
        let config = values().validate().unwrap();
        assert_eq!(
            config.backoff,
            Backoff {
                initial_ms: 1000.0,
                max_ms: 30_000.0,
                factor: 2.0,
                jitter: 0.5
            }
        );
        assert_eq!(config.max_reconnect_attempts, Some(10));
        assert_eq!(config.connect_timeout, Duration::from_ms(5000.0));
        assert_eq!(config.min_uptime, Duration::from_ms(5000.0));
        assert_eq!(
            config.heartbeat,
            Some(HeartbeatConfig {
                interval: Duration::from_ms(30_000.0),
                timeout: Duration::from_ms(10_000.0)
            })
        );
        assert_eq!(config.queue_capacity, 100);
        assert_eq!(config.overflow, OverflowPolicy::DropOldest);
        assert_eq!(
            (config.ping_type.as_str(), config.pong_type.as_str()),
            ("ping", "pong")
        );
    }

    #[test]
    fn infinity_attempts_and_zero_heartbeat_are_allowed() {
        let config = OptionValues {
            max_reconnect_attempts: Some(f64::INFINITY),
            heartbeat_interval: Some(0.0),
            ..values()
        }
        .validate()
        .unwrap();
        assert_eq!(config.max_reconnect_attempts, None);
        assert_eq!(config.heartbeat, None);
    }

    #[test]
    fn every_bad_number_names_its_field() {
        let cases: [(&str, OptionValues); 11] = [
            (
                "reconnectInterval",
                OptionValues {
                    reconnect_interval: Some(-5.0),
                    ..values()
                },
            ),
            (
                "reconnectInterval",
                OptionValues {
                    reconnect_interval: Some(f64::NAN),
                    ..values()
                },
            ),
            (
                "maxReconnectInterval",
                OptionValues {
                    max_reconnect_interval: Some(10.0),
                    ..values()
                },
            ),
            (
                "reconnectBackoffFactor",
                OptionValues {
                    reconnect_backoff_factor: Some(0.5),
                    ..values()
                },
            ),
            (
                "reconnectJitter",
                OptionValues {
                    reconnect_jitter: Some(1.5),
                    ..values()
                },
            ),
            (
                "maxReconnectAttempts",
                OptionValues {
                    max_reconnect_attempts: Some(2.5),
                    ..values()
                },
            ),
            (
                "connectTimeout",
                OptionValues {
                    connect_timeout: Some(f64::INFINITY),
                    ..values()
                },
            ),
            (
                "minUptime",
                OptionValues {
                    min_uptime: Some(3e9),
                    ..values()
                },
            ),
            (
                "heartbeatTimeout",
                OptionValues {
                    heartbeat_timeout: Some(0.0),
                    ..values()
                },
            ),
            (
                "messageQueueSize",
                OptionValues {
                    message_queue_size: Some(-1.0),
                    ..values()
                },
            ),
            (
                "queueOverflow",
                OptionValues {
                    queue_overflow: Some("drop".into()),
                    ..values()
                },
            ),
        ];
        for (field, values) in cases {
            let error = error(values);
            assert_eq!(error.field, field);
            assert_eq!(error.kind, ConfigErrorKind::Range);
            assert!(error
                .message()
                .starts_with(&format!("resocket: {field} must")));
        }
        assert_eq!(
            error(OptionValues { reconnect_interval: Some(-5.0), ..values() }).message(),
            "resocket: reconnectInterval must be a finite number of milliseconds from 0 to 2147483647"
        );
    }

    /// `fallbackAfterAttempts` said ">= 1" for 0 and ">= 0" for 1.5, and
    /// 1e12 attempts were refused without the upper bound: every count
    /// names both bounds now.
    #[test]
    fn counts_name_both_bounds_whatever_was_wrong() {
        let reason = |values: OptionValues| values.validate().unwrap_err().reason;
        for attempts in [0.0, 1.5, 1e12] {
            assert_eq!(
                reason(OptionValues {
                    http_fallback_url: Some("/messages".into()),
                    fallback_after_attempts: Some(attempts),
                    ..values()
                }),
                "must be a whole number from 1 to 4294967295",
                "{attempts}"
            );
        }
        for attempts in [-1.0, 0.5, 1e12] {
            assert_eq!(
                reason(OptionValues {
                    max_reconnect_attempts: Some(attempts),
                    ..values()
                }),
                "must be a whole number from 0 to 4294967295, or Infinity",
                "{attempts}"
            );
        }
        assert_eq!(
            reason(OptionValues {
                message_queue_size: Some(2.5),
                ..values()
            }),
            "must be a whole number from 0 to 4294967295"
        );
    }

    #[test]
    fn fields_are_numbered_in_order_and_named_by_the_table() {
        for (number, field) in Field::ALL.into_iter().enumerate() {
            assert_eq!(field as usize, number, "{field:?}");
            assert_eq!(field.name(), FIELD_NAMES[number]);
        }
        assert_eq!(FIELD_NAMES[Field::NUMBERS - 1], "maxMessageBytes");
        assert_eq!(FIELD_NAMES[Field::NUMBERS + Field::STRINGS - 1], "delivery");
        assert_eq!(FIELD_NAMES[Field::OPTIONS - 1], "enableWebSocket");
        assert_eq!(Field::Code, "code");
    }

    #[test]
    fn urls_session_ids_and_types_are_checked() {
        assert_eq!(
            error(OptionValues {
                url: Some("http://x/".into()),
                ..values()
            })
            .field,
            "url"
        );
        assert!(OptionValues {
            url: None,
            ..values()
        }
        .validate()
        .is_ok());
        assert_eq!(
            error(OptionValues {
                session_id: String::new(),
                ..values()
            })
            .field,
            "sessionId"
        );
        assert!(OptionValues {
            session_id: "é".repeat(128),
            ..values()
        }
        .validate()
        .is_ok());
        assert!(OptionValues {
            session_id: "x".repeat(129),
            ..values()
        }
        .validate()
        .is_err());
        assert!(OptionValues {
            session_id: "a\nb".into(),
            ..values()
        }
        .validate()
        .is_err());
        assert_eq!(
            error(OptionValues {
                ping_type: Some(String::new()),
                ..values()
            })
            .field,
            "pingType"
        );
    }

    #[test]
    fn heartbeat_types_that_other_frames_use_are_refused() {
        for taken in ["ack", "gap", "welcome", "reset", "message", "error"] {
            let refused = error(OptionValues {
                pong_type: Some(taken.to_owned()),
                ..values()
            });
            assert_eq!(refused.field, "pongType", "{taken}");
            assert!(refused.reason.contains("other than ack"), "{taken}");
            assert_eq!(
                error(OptionValues {
                    ping_type: Some(taken.to_owned()),
                    ..values()
                })
                .field,
                "pingType"
            );
        }
        let custom = OptionValues {
            ping_type: Some("hb".to_owned()),
            pong_type: Some("hb".to_owned()),
            ..values()
        }
        .validate()
        .unwrap();
        assert_eq!(
            (custom.ping_type.as_str(), custom.pong_type.as_str()),
            ("hb", "hb")
        );
    }
}
