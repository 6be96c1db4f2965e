//! `GET /health`, in the shape the seed servers used.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::state::{iso_now, SharedState};

/// `{"status":"ok","websocket":{"connections":N,"accepted":M},"uptimeSeconds":S,"timestamp":"…"}`
/// (`connections` open now, `accepted` since start).
pub async fn health(State(state): State<SharedState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "websocket": {
            "connections": state.live_connections.load(Ordering::Relaxed),
            "accepted": state.accepted_connections.load(Ordering::Relaxed),
        },
        "uptimeSeconds": state.started.elapsed().as_secs(),
        "timestamp": iso_now(),
    }))
}
