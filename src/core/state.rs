//! The connection states the transport reports to the application.

/// Where the transport stands. The names are the ones chat stores switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// A socket has been asked for and has not opened yet.
    Connecting,
    /// A socket is open; messages go straight out.
    Connected,
    /// The connection was lost (or an attempt failed) and the transport is
    /// waiting out a backoff or trying again.
    Reconnecting,
    /// No socket and none being opened.
    Disconnected,
}

impl ConnectionState {
    /// The string the JavaScript API exposes for this state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Disconnected => "disconnected",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConnectionState;

    #[test]
    fn state_names_match_the_public_contract() {
        assert_eq!(ConnectionState::Connecting.as_str(), "connecting");
        assert_eq!(ConnectionState::Connected.as_str(), "connected");
        assert_eq!(ConnectionState::Reconnecting.as_str(), "reconnecting");
        assert_eq!(ConnectionState::Disconnected.as_str(), "disconnected");
    }
}
