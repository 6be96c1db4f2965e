//! The event names `on(event, handler)` accepts. The listeners themselves live
//! in the JavaScript host (`bridge.js`), so unsubscribe functions are plain JS.

/// An event the transport emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventName {
    State,
    Open,
    Close,
    Message,
    Latency,
    Reconnecting,
    Queue,
    Error,
}

impl EventName {
    /// Every event name, for error messages.
    pub(crate) const ALL: &'static str = "must be \"state\", \"open\", \"close\", \"message\", \"latency\", \"reconnecting\", \"queue\" or \"error\"";

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "state" => Self::State,
            "open" => Self::Open,
            "close" => Self::Close,
            "message" => Self::Message,
            "latency" => Self::Latency,
            "reconnecting" => Self::Reconnecting,
            "queue" => Self::Queue,
            "error" => Self::Error,
            _ => return None,
        })
    }

    /// The name listeners are registered under.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Open => "open",
            Self::Close => "close",
            Self::Message => "message",
            Self::Latency => "latency",
            Self::Reconnecting => "reconnecting",
            Self::Queue => "queue",
            Self::Error => "error",
        }
    }
}
