//! Which channel carries the session (WebSocket or the HTTP fallback), the
//! settings of the fallback, and the delivery guarantee.

use crate::prelude::*;

/// The channel in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One WebSocket, both directions.
    WebSocket,
    /// POSTs upstream and an event stream (if configured) downstream.
    Http,
}

impl Mode {
    /// The string the JavaScript API exposes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebSocket => "websocket",
            Self::Http => "http",
        }
    }
}

/// What `send()` promises about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent once; lost if the channel dies under it. Needs nothing of the server.
    AtMostOnce,
    /// Kept until the server acknowledges it, re-sent after every reconnect or
    /// mode switch; the server drops the copies (PROTOCOL.md §5).
    AtLeastOnce,
}

impl Delivery {
    /// Parses the option value.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "at-most-once" => Some(Self::AtMostOnce),
            "at-least-once" => Some(Self::AtLeastOnce),
            _ => None,
        }
    }
}

/// The HTTP fallback's settings; present when `httpFallbackUrl` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct FallbackConfig {
    /// Where envelopes are POSTed.
    pub post_url: String,
    /// The Server-Sent Events endpoint, if the server pushes.
    pub events_url: Option<String>,
    /// Consecutive WebSocket attempts that never opened before switching.
    pub after_attempts: u32,
    /// How often to try the WebSocket again while on HTTP (0: never), in ms.
    pub probe_interval_ms: f64,
}

/// Whether `url` can be fetched: absolute `http(s)` or relative to the page.
pub fn is_http_url(url: &str) -> bool {
    let bytes = url.as_bytes();
    // `get`, not slicing: a slice's bounds panic links formatting into wasm.
    let starts = |prefix: &[u8]| {
        bytes.len() > prefix.len()
            && bytes
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    (starts(b"http://") || starts(b"https://") || starts(b"/"))
        && !url.bytes().any(|byte| byte <= b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print() {
        assert_eq!(
            Delivery::parse("at-least-once"),
            Some(Delivery::AtLeastOnce)
        );
        assert_eq!(Delivery::parse("exactly-once"), None);
        assert_eq!(Mode::Http.as_str(), "http");
    }

    #[test]
    fn fallback_urls_must_be_fetchable() {
        assert!(is_http_url("http://127.0.0.1:1/messages"));
        assert!(is_http_url("HTTPS://x/y"));
        assert!(is_http_url("/messages"));
        assert!(!is_http_url("ws://x/y"));
        assert!(!is_http_url("http://"));
        assert!(!is_http_url("http://x/a b"));
        assert!(!is_http_url(""));
    }
}
