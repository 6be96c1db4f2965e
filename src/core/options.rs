//! Validated transport settings, and the errors that name the offending field.
//!
//! The driver checks JavaScript *types* (is `url` a string?) because only it can
//! see them; every rule about *values* lives here so it is tested natively.

use core::fmt;

use super::url::validate_socket_url;

/// The longest session id we accept; it travels in every URL and log line.
const MAX_SESSION_ID_LEN: usize = 128;

/// Settings the core needs, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base WebSocket URL; the session id is added to it on every attempt.
    pub url: String,
    /// Identifies this transport to the server across reconnects.
    pub session_id: String,
}

impl Config {
    /// Validates the values and builds a config.
    pub fn new(url: String, session_id: String) -> Result<Self, ConfigError> {
        validate_socket_url(&url).map_err(|why| ConfigError::range("url", why))?;
        validate_session_id(&session_id)?;
        Ok(Self { url, session_id })
    }
}

fn validate_session_id(session_id: &str) -> Result<(), ConfigError> {
    let length = session_id.chars().count();
    if length == 0 || length > MAX_SESSION_ID_LEN {
        return Err(ConfigError::range(
            "sessionId",
            format!("must be 1 to {MAX_SESSION_ID_LEN} characters long, got {length}"),
        ));
    }
    if session_id.chars().any(char::is_control) {
        return Err(ConfigError::range(
            "sessionId",
            "must not contain control characters".to_owned(),
        ));
    }
    Ok(())
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
    /// The option or argument name as the JavaScript API spells it.
    pub field: &'static str,
    /// Which JavaScript error class to throw.
    pub kind: ConfigErrorKind,
    /// What is wrong with it, completing the sentence "`field` …".
    pub reason: String,
}

impl ConfigError {
    /// A wrong-type error for `field`.
    pub fn type_error(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            kind: ConfigErrorKind::Type,
            reason: reason.into(),
        }
    }

    /// A value-not-allowed error for `field`.
    pub fn range(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            kind: ConfigErrorKind::Range,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "resocket: {} {}", self.field, self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, ConfigErrorKind};

    #[test]
    fn accepts_a_plain_config() {
        let config = Config::new("ws://127.0.0.1:1/ws".into(), "abc".into()).unwrap();
        assert_eq!(config.session_id, "abc");
    }

    #[test]
    fn a_bad_url_names_the_field() {
        let error = Config::new("http://x/".into(), "abc".into()).unwrap_err();
        assert_eq!(error.field, "url");
        assert_eq!(error.kind, ConfigErrorKind::Range);
        assert!(error
            .to_string()
            .starts_with("resocket: url must be a ws://"));
    }

    #[test]
    fn session_ids_are_bounded_and_printable() {
        assert_eq!(
            Config::new("ws://h/".into(), String::new())
                .unwrap_err()
                .field,
            "sessionId"
        );
        assert!(Config::new("ws://h/".into(), "x".repeat(129)).is_err());
        assert!(Config::new("ws://h/".into(), "é".repeat(128)).is_ok());
        assert!(Config::new("ws://h/".into(), "a\nb".into()).is_err());
    }
}
