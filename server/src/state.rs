//! State shared by every handler.

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::DynAuthorize;
use crate::config::{Config, Limits};
use crate::faults::ServerDown;
use crate::handler::DynHandler;
use crate::publish::Publisher;
use crate::sessions::Sessions;

/// Cheaply cloned handle to the server's state.
pub type SharedState = Arc<AppState>;

/// The server's state.
pub struct AppState {
    /// Limits, origins, switches.
    pub config: Config,
    /// The limits again, shared with publishers.
    pub limits: Arc<Limits>,
    /// When the server started (for `uptimeSeconds` and log times).
    pub started: Instant,
    /// Per-session streams, seen ids, rooms, faults and live channels.
    pub sessions: Arc<Sessions>,
    /// The server-wide "down" switch (fault injection).
    pub down: ServerDown,
    /// Open WebSocket connections right now.
    pub live_connections: AtomicUsize,
    /// WebSocket connections accepted since start (tests check that a page
    /// never opened a duplicate socket, even briefly).
    pub accepted_connections: AtomicU64,
    /// Open event streams right now.
    pub live_event_streams: AtomicUsize,
    /// `/control/…/push` tasks running (bounded: they may run for hours).
    pub push_tasks: AtomicUsize,
    /// Cancelled on shutdown: every socket closes with 1001, every event stream ends.
    pub shutdown: CancellationToken,
    /// The WebSocket tasks, awaited on shutdown.
    pub connections: TaskTracker,
    /// The application.
    pub(crate) handler: Arc<dyn DynHandler>,
    /// The auth hook.
    pub(crate) auth: Arc<dyn DynAuthorize>,
    /// Publishing, for handlers' contexts.
    pub publisher: Publisher,
    /// Where the sessions' streams live.
    pub engine: crate::engine::Engine,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Fresh state, started now.
    pub(crate) fn new(
        config: Config,
        handler: Arc<dyn DynHandler>,
        auth: Arc<dyn DynAuthorize>,
        engine: crate::engine::Engine,
    ) -> SharedState {
        let limits = Arc::new(config.limits.clone());
        let sessions = Arc::new(Sessions::new(config.limits.clone(), config.enable_control));
        Arc::new(Self {
            publisher: Publisher::new(Arc::clone(&sessions), Arc::clone(&limits), engine.clone()),
            config,
            limits,
            started: Instant::now(),
            sessions,
            down: ServerDown::default(),
            live_connections: AtomicUsize::new(0),
            accepted_connections: AtomicU64::new(0),
            live_event_streams: AtomicUsize::new(0),
            push_tasks: AtomicUsize::new(0),
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
            handler,
            auth,
            engine,
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
