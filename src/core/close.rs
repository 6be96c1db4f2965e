//! Close codes and reasons: what we report, and what the application may ask for.

use super::options::ConfigError;

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

/// Checks a close request against the rules the browser enforces, so that a bad
/// `disconnect(code, reason)` fails with a message naming the argument instead of
/// a `DOMException` from deep inside the driver.
pub fn validate_close_request(code: u16, reason: &str) -> Result<(), ConfigError> {
    if code != 1000 && !(3000..=4999).contains(&code) {
        return Err(ConfigError::range(
            "code",
            format!("must be 1000 or in 3000..=4999, got {code}"),
        ));
    }
    if reason.len() > MAX_REASON_BYTES {
        return Err(ConfigError::range(
            "reason",
            format!(
                "must be at most {MAX_REASON_BYTES} UTF-8 bytes, got {}",
                reason.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_close_request;

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
