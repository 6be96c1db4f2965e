//! Every limit and switch of the server, with the defaults a public endpoint
//! needs (README "Server limits" lists them in one table; the binary's flags
//! set them). Each bounds something a client can make the server hold.

use std::time::Duration;

use crate::origin::OriginPolicy;

/// How the server runs: its limits, whose pages may talk to it, and whether
/// the fault-injection endpoints exist.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The bounds on what clients can make the server hold.
    pub limits: Limits,
    /// Which browser origins may open sockets, POST and read event streams.
    pub origins: OriginPolicy,
    /// Mounts `/control/…` (fault injection, session logs, pushes) and the
    /// per-session logs behind it. Off by default: anyone who can reach them
    /// can break or read any session. Tests, the demo, chaos and bench turn it on.
    pub enable_control: bool,
}

/// The bounds. Zero never means "unlimited" except where a field says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest message a client may send (a WebSocket message, or a POST
    /// body): larger closes the socket with 1009, or answers 413.
    pub max_message_bytes: usize,
    /// Longest envelope `id` accepted (an `error` envelope answers a longer one).
    pub max_id_bytes: usize,
    /// Longest envelope `type` accepted.
    pub max_type_bytes: usize,
    /// Most envelopes in one POST body.
    pub max_batch: usize,
    /// Bytes of numbered frames one session keeps for replay; the oldest go
    /// first (a `gap` tells a client that resumes behind them).
    pub replay_bytes_per_session: usize,
    /// Bytes of received ids one session remembers for duplicate suppression.
    pub seen_id_bytes_per_session: usize,
    /// Bytes of replay logs and seen ids over all sessions: above it idle
    /// sessions are forgotten first, then the growing log is trimmed to its share.
    pub memory_budget_bytes: usize,
    /// Sessions kept at once, live or idle: a new one beyond it forgets the
    /// least recently used idle one, or is refused (503, close 1013).
    pub max_sessions: usize,
    /// Idle sessions (no socket, no event stream) kept at once.
    pub max_idle_sessions: usize,
    /// An idle session is forgotten after this long without use.
    pub session_ttl: Duration,
    /// Frames queued for one socket or event stream that is not reading: a
    /// client that lets it fill is closed (1013; it resumes by `last_seq`).
    pub send_queue_frames: usize,
    /// Bytes queued for one socket or event stream that is not reading (the
    /// same 1013 beyond it): frames may be up to `max_message_bytes` each.
    pub send_queue_bytes: usize,
    /// A write that takes longer than this ends the connection.
    pub send_timeout: Duration,
    /// Time to send a request's headers (also a kept-alive connection's next
    /// request): slowloris connections are closed after it.
    pub header_read_timeout: Duration,
    /// A WebSocket that sends nothing (not even a pong to the server's pings,
    /// sent every third of this) for this long is closed with 1001.
    pub idle_timeout: Duration,
    /// TCP connections open at once, over all clients; more are closed at accept.
    pub max_connections: usize,
    /// TCP connections open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// Messages per second one connection may send (bursts of twice that); a
    /// faster client is closed with 1013. 0 turns the limit off.
    pub message_rate: u32,
    /// Rooms one session may be in.
    pub max_rooms_per_session: usize,
    /// The longest a long-poll (`GET /events?poll=MS`) is held when nothing
    /// is waiting for it; shorter than the idle timeouts of common proxies
    /// (nginx's `proxy_read_timeout` is 60 s).
    pub poll_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 1024 * 1024,
            max_id_bytes: 128,
            max_type_bytes: 64,
            max_batch: 1000,
            replay_bytes_per_session: 256 * 1024,
            seen_id_bytes_per_session: 256 * 1024,
            memory_budget_bytes: 256 * 1024 * 1024,
            max_sessions: 50_000,
            max_idle_sessions: 10_000,
            session_ttl: Duration::from_secs(10 * 60),
            send_queue_frames: 1024,
            send_queue_bytes: 4 * 1024 * 1024,
            send_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            max_connections: 20_000,
            max_connections_per_ip: 256,
            message_rate: 100,
            max_rooms_per_session: 64,
            poll_wait: Duration::from_secs(25),
        }
    }
}
