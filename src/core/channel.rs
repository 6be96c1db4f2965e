//! Which channel carries the session (WebSocket or the HTTP fallback), the
//! settings of the fallback, and the delivery guarantee.

use crate::prelude::*;

use super::time::{Duration, Instant};
use super::url::strip_prefix_ignore_case;

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

/// The channel that carries the session. The background WebSocket attempt
/// (the upgrade probe) exists only on the HTTP fallback, so a probe while on
/// the WebSocket cannot be written down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Channel {
    /// One WebSocket, both directions.
    WebSocket,
    /// POSTs upstream and an event stream downstream, with a WebSocket tried
    /// now and then in the background.
    Http {
        /// The background WebSocket attempt.
        probe: Probe,
        /// When to try the WebSocket next (none: `upgradeProbeInterval` 0, or
        /// the session is down).
        probe_at: Option<Instant>,
    },
}

/// A background WebSocket attempt while the HTTP fallback carries the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// None under way.
    Idle,
    /// Waiting for the URL function's answer for attempt `attempt`.
    Resolving {
        /// The attempt the answer must carry.
        attempt: u64,
    },
    /// The probe socket was created; its `open` moves the session back.
    Opening,
}

impl Channel {
    /// A fresh channel of `mode`, with no probe under way.
    pub fn new(mode: Mode) -> Self {
        match mode {
            Mode::WebSocket => Self::WebSocket,
            Mode::Http => Self::Http {
                probe: Probe::Idle,
                probe_at: None,
            },
        }
    }

    /// Which mode this is.
    pub fn mode(&self) -> Mode {
        match self {
            Self::WebSocket => Mode::WebSocket,
            Self::Http { .. } => Mode::Http,
        }
    }

    /// The probe under way (always `Idle` on the WebSocket).
    pub fn probe(&self) -> Probe {
        match self {
            Self::WebSocket => Probe::Idle,
            Self::Http { probe, .. } => *probe,
        }
    }

    /// When the next probe is due.
    pub fn probe_at(&self) -> Option<Instant> {
        match self {
            Self::WebSocket => None,
            Self::Http { probe_at, .. } => *probe_at,
        }
    }

    /// Records the probe's progress; ignored on the WebSocket.
    pub fn set_probe(&mut self, next: Probe) {
        if let Self::Http { probe, .. } = self {
            *probe = next;
        }
    }

    /// Schedules (or with `None` cancels) the next probe; ignored on the WebSocket.
    pub fn set_probe_at(&mut self, at: Option<Instant>) {
        if let Self::Http { probe_at, .. } = self {
            *probe_at = at;
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
    /// How often to try the WebSocket again while on HTTP (0: never).
    pub probe_interval: Duration,
}

/// Whether `url` can be fetched: absolute `http(s)` or relative to the page.
pub fn is_http_url(url: &str) -> bool {
    // Something must follow the scheme or the slash.
    let starts =
        |prefix| strip_prefix_ignore_case(url, prefix).is_some_and(|rest| !rest.is_empty());
    (starts("http://") || starts("https://") || starts("/"))
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
    fn only_the_http_channel_holds_a_probe() {
        let mut websocket = Channel::new(Mode::WebSocket);
        websocket.set_probe(Probe::Opening);
        websocket.set_probe_at(Some(Instant::from_ms(1.0)));
        assert_eq!(websocket.probe(), Probe::Idle);
        assert_eq!(websocket.probe_at(), None);
        let mut http = Channel::new(Mode::Http);
        http.set_probe(Probe::Opening);
        assert_eq!(http.probe(), Probe::Opening);
        assert_eq!(http.mode(), Mode::Http);
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
