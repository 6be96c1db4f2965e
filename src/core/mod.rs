//! The sans-IO core: every decision the transport makes, with no browser in sight.
//!
//! Nothing in here imports `web_sys` or `js_sys`. Time arrives as `now_ms: f64`
//! (the driver passes `performance.now()`), randomness arrives as bytes, and the
//! core answers with [`Action`]s that the browser driver executes. That makes the
//! whole state machine testable natively, on a simulated clock.

mod actions;
mod backoff;
mod channel;
mod close;
mod ids;
mod latency;
mod machine;
mod options;
mod outbox;
mod queue;
mod rng;
mod seqs;
mod session_id;
mod snapshot;
mod state;
mod timers;
mod url;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use backoff::Backoff;
pub use channel::{is_http_url, Delivery, FallbackConfig, Mode};
pub use close::{
    should_reconnect_by_default, validate_close_request, CloseInfo, TERMINAL_CLOSE_CODES,
};
pub use ids::{push_number, IdGenerator};
pub use latency::LatencyStats;
pub use machine::{
    Action, Event, SendError, SendOutcome, Transport, ACK_QUERY_PARAM, ACK_TIMEOUT_CLOSE,
    HEARTBEAT_TIMEOUT_CLOSE, LAST_SEQ_QUERY_PARAM, LATE_TIMER_MS, SESSION_QUERY_PARAM,
};
pub use options::{
    Config, ConfigError, ConfigErrorKind, HeartbeatConfig, OptionValues, MAX_TIMER_MS,
};
pub use outbox::{Held, Outbox};
pub use queue::{Enqueued, OfflineQueue, OverflowPolicy};
pub use rng::Rng;
pub use seqs::DeliveredSeqs;
pub use session_id::uuid_v4;
pub use snapshot::{DisconnectReason, Snapshot, Stats};
pub use state::ConnectionState;
pub use timers::{TimerKind, TimerTable, TIMER_KINDS};
pub use url::{set_query_param, validate_socket_url};
