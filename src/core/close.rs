//! Close codes and reasons: what we report, and what the application may ask for.

use crate::prelude::*;

use super::options::{ConfigError, Field};

/// The longest close reason a browser accepts, in UTF-8 bytes (RFC 6455 §5.5).
const MAX_REASON_BYTES: usize = 123;

/// How a socket ended, as reported by the browser's `close` event (or by us, for
/// closes the transport itself asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close code; 1006 means the connection dropped without a close frame.
    pub code: u16,
    /// The close reason sent by the peer, possibly empty.
    pub reason: String,
    /// Whether the closing handshake completed.
    pub was_clean: bool,
}

/// Close codes after which reconnecting would be wrong: 1008 (policy
/// violation) and the conventional 4401/4403 (unauthorised/forbidden). Retrying
/// those forever is the classic auth retry storm.
pub const TERMINAL_CLOSE_CODES: [u16; 3] = [1008, 4401, 4403];

/// The default `shouldReconnect`: every close but the terminal codes.
pub fn should_reconnect_by_default(code: u16) -> bool {
    !TERMINAL_CLOSE_CODES.contains(&code)
}

/// Checks a close request against the rules the browser enforces, so that a bad
/// `disconnect(code, reason)` fails with a message naming the argument instead of
/// a `DOMException` from deep inside the driver.
pub fn validate_close_request(code: u16, reason: &str) -> Result<(), ConfigError> {
    if code != 1000 && !(3000..=4999).contains(&code) {
        return Err(ConfigError::range(
            Field::Code,
            "must be 1000 or from 3000 to 4999",
        ));
    }
    if reason.len() > MAX_REASON_BYTES {
        return Err(ConfigError::range(
            Field::Reason,
            "must be at most 123 UTF-8 bytes",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{should_reconnect_by_default, validate_close_request};

    #[test]
    fn terminal_codes_are_not_retried_by_default() {
        assert!(!should_reconnect_by_default(4401));
        assert!(!should_reconnect_by_default(4403));
        assert!(!should_reconnect_by_default(1008));
        assert!(should_reconnect_by_default(1006));
        assert!(should_reconnect_by_default(1001));
    }

    #[test]
    fn allows_normal_and_application_codes() {
        assert!(validate_close_request(1000, "bye").is_ok());
        assert!(validate_close_request(3000, "").is_ok());
        assert!(validate_close_request(4999, "").is_ok());
    }

    #[test]
    fn rejects_reserved_codes_and_long_reasons() {
        assert_eq!(validate_close_request(1001, "").unwrap_err().field, "code");
        assert_eq!(validate_close_request(5000, "").unwrap_err().field, "code");
        let long = "é".repeat(62); // 124 bytes
        assert_eq!(
            validate_close_request(1000, &long).unwrap_err().field,
            "reason"
        );
    }
}
