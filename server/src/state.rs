//! State shared by every handler.

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::faults::ServerDown;
use crate::sessions::Sessions;

/// Cheaply cloned handle to the server's state.
pub type SharedState = Arc<AppState>;

/// The server's state.
#[derive(Debug)]
pub struct AppState {
    /// When the server started (for `uptimeSeconds` and log times).
    pub started: Instant,
    /// Per-session logs, faults and live connections.
    pub sessions: Sessions,
    /// The server-wide "down" switch.
    pub down: ServerDown,
    /// Open WebSocket connections right now.
    pub live_connections: AtomicUsize,
    /// WebSocket connections accepted since start (tests check that a page
    /// never opened a duplicate socket, even briefly).
    pub accepted_connections: AtomicU64,
    /// Cancelled on SIGINT/SIGTERM: every socket closes with 1001.
    pub shutdown: CancellationToken,
    /// The WebSocket tasks, awaited on shutdown.
    pub connections: TaskTracker,
}

impl AppState {
    /// Fresh state, started now.
    pub fn new() -> SharedState {
        Arc::new(Self {
            started: Instant::now(),
            sessions: Sessions::default(),
            down: ServerDown::default(),
            live_connections: AtomicUsize::new(0),
            accepted_connections: AtomicU64::new(0),
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
        })
    }

    /// Milliseconds since start, for log records.
    pub fn elapsed_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }
}

/// The wall-clock time as ISO-8601 with milliseconds, e.g. `2026-11-21T10:00:00.000Z`.
pub fn iso_now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}
