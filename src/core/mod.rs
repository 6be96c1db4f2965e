//! The sans-IO core: every decision the transport makes, with no browser in sight.
//!
//! Nothing in here imports `web_sys` or `js_sys`. Time arrives as `now_ms: f64`
//! (the driver passes `performance.now()`), randomness arrives as bytes, and the
//! core answers with [`Action`]s that the browser driver executes. That makes the
//! whole state machine testable natively, on a simulated clock.

mod close;
mod machine;
mod options;
mod session_id;
mod state;
mod url;

pub use close::{validate_close_request, CloseInfo};
pub use machine::{Action, Event, SendError, Transport, SESSION_QUERY_PARAM};
pub use options::{Config, ConfigError, ConfigErrorKind};
pub use session_id::uuid_v4;
pub use state::ConnectionState;
pub use url::{set_query_param, validate_socket_url};
