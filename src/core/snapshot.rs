//! What the application can read at any moment (`getSnapshot()`), as plain data.

use super::channel::Mode;
use super::close::CloseInfo;
use super::latency::LatencyStats;
use super::state::ConnectionState;

/// Why the transport is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The application called `disconnect()`.
    Client,
    /// `maxReconnectAttempts` attempts failed in a row.
    MaxAttempts,
    /// The server closed with a code that must not be retried (or `shouldReconnect` said no).
    TerminalClose,
}

impl DisconnectReason {
    /// The string the JavaScript API exposes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::MaxAttempts => "max-attempts",
            Self::TerminalClose => "terminal-close",
        }
    }
}

/// Counters over the transport's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Application frames put on the wire (pings excluded).
    pub sent: u64,
    /// Application frames received (pongs excluded).
    pub received: u64,
    /// Connections re-established after a loss or a failed attempt.
    pub reconnects: u64,
    /// Messages the queue dropped on overflow.
    pub dropped: u64,
    /// `"error"` events emitted.
    pub errors: u64,
    /// Times the server's stream was found reset (its numbering went back).
    pub resets: u64,
}

/// Everything `getSnapshot()` reports (the session id is added by the driver).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The connection state.
    pub state: ConnectionState,
    /// The channel in use.
    pub mode: Mode,
    /// The reconnect attempt in progress or next (0 when none).
    pub attempt: u32,
    /// The backoff delay chosen for the pending retry, while one is scheduled.
    pub next_retry_in_ms: Option<f64>,
    /// Heartbeat round-trip statistics.
    pub latency: LatencyStats,
    /// Messages waiting in the offline queue.
    pub queued: usize,
    /// The last `seq` of the server's stream delivered (the resume point).
    pub last_seq: Option<u64>,
    /// Why the transport is down, when it is.
    pub disconnect_reason: Option<DisconnectReason>,
    /// The last close, if any.
    pub last_close: Option<CloseInfo>,
    /// Lifetime counters.
    pub stats: Stats,
}
