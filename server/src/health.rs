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
    // With the Redis engine a node without its store serves nobody well:
    // degraded, so that the balancer sends clients to the other nodes.
    let redis = match state.engine.as_redis() {
        None => None,
        Some(redis) => Some(!redis.feed.is_lost() && redis.store.ping().await.is_ok()),
    };
    let degraded =
        state.shutdown.is_cancelled() || state.down.is_down(Instant::now()) || redis == Some(false);
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
        "engine": match redis {
            None => json!("memory"),
            Some(reachable) => json!({ "redis": if reachable { "ok" } else { "unreachable" } }),
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
