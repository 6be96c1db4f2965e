//! The sans-IO core: every decision the transport makes, with no browser in sight.
//!
//! Nothing in here imports `web_sys` or `js_sys`. Time arrives with every input
//! as an [`Instant`] (the driver passes `performance.now()`), randomness arrives
//! as a seed, and the core answers with [`Output`]s that the browser driver
//! executes and one deadline ([`Transport::poll_timeout`]). That makes the whole
//! state machine testable natively, on a simulated clock.

mod backoff;
mod channel;
mod close;
mod connection;
mod downstream;
mod feed;
mod heartbeat;
mod ids;
mod input;
mod latency;
mod lifecycle;
mod limits;
mod options;
mod outbox;
mod output;
mod pace;
mod queue;
mod rng;
mod seqs;
mod session_id;
mod snapshot;
mod state;
pub mod tabs;
mod text;
mod time;
mod transport;
mod upstream;
mod url;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use backoff::Backoff;
pub use channel::{is_http_url, Channel, Delivery, FallbackConfig, Mode, Probe};
pub use close::{
    should_reconnect_by_default, validate_close_request, CloseInfo, TERMINAL_CLOSE_CODES,
};
pub use connection::{Connection, Phase};
pub use downstream::{Downstream, Numbered, HOLE_WAIT};
pub use feed::{Feed, POLL_QUERY_PARAM, POLL_WAIT, POLL_WAIT_MS, STREAM_PROOF};
pub use heartbeat::{Answering, Beat, Heartbeat, Silence, LATE_TIMER};
pub use ids::{push_number, IdGenerator, ID_SEPARATOR, PING_SEPARATOR};
pub use input::{stream_position, FrameKind, FrameSource, InboundFrame, Input, PageEvent};
pub use latency::LatencyStats;
pub use lifecycle::{page_signal, PageSignal};
pub use limits::{Limits, MIN_MESSAGE_BYTES};
pub use options::{
    Config, ConfigError, ConfigErrorKind, Field, HeartbeatConfig, OptionValues, FIELD_NAMES,
    MAX_TIMER_MS,
};
pub use outbox::{Held, Outbox};
pub use output::{Event, Handled, InputError, Output, SendOutcome};
pub use pace::Pacer;
pub use queue::{Enqueued, OfflineQueue, OverflowPolicy};
pub use rng::Rng;
pub use seqs::{Arrival, DeliveredSeqs, Step};
pub use session_id::uuid_v4;
pub use snapshot::{DisconnectReason, Snapshot, Stats};
pub use state::ConnectionState;
pub use text::{has_control, has_whitespace, push_ascii};
pub use time::{earliest, is_due, Duration, Instant};
pub use transport::{
    Deadline, Transport, ACK_QUERY_PARAM, ACK_TIMEOUT_CLOSE, ACK_TYPE, DEFAULT_POST_TIMEOUT,
    ENVELOPE_PARTS, GAP_TYPE, HEARTBEAT_TIMEOUT_CLOSE, LAST_SEQ_QUERY_PARAM, MESSAGE_TOO_BIG,
    SESSION_QUERY_PARAM, TRY_AGAIN_LATER,
};
pub use upstream::Upstream;
pub use url::{set_query_param, validate_socket_url};
