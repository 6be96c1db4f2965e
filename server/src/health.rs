//! `GET /health`: whether the server takes connections, and what it holds.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::{iso_now, SharedState};

/// `{"status":"ok"|"degraded","websocket":{"connections":N,"accepted":M},
/// "eventStreams":E,"sessions":{…},"uptimeSeconds":S,"timestamp":"…"}`.
/// While the server refuses connections (shutting down, or "down" by fault
/// injection) the status is `degraded` and the HTTP status 503, so a load
/// balancer's check takes the node out.
pub async fn health(State(state): State<SharedState>) -> Response {
    let degraded = state.shutdown.is_cancelled() || state.down.is_down(Instant::now());
    let counts = state.sessions.counts();
    let body = json!({
        "status": if degraded { "degraded" } else { "ok" },
        "websocket": {
            "connections": state.live_connections.load(Ordering::Relaxed),
            "accepted": state.accepted_connections.load(Ordering::Relaxed),
        },
        "eventStreams": state.live_event_streams.load(Ordering::Relaxed),
        "sessions": {
            "count": counts.sessions,
            "idle": counts.idle,
            "bytes": counts.bytes,
            "rooms": counts.rooms,
        },
        "uptimeSeconds": state.started.elapsed().as_secs(),
        "timestamp": iso_now(),
    });
    let status = if degraded {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}
