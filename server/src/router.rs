//! The URL map.

use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::CorsLayer;

use crate::state::SharedState;
use crate::static_files::{mount, StaticMount};
use crate::{control, health, http_fallback, ws};

/// Every route, with CORS open to any origin (the browser tests' page is served
/// from another port than the server).
pub fn router(state: SharedState, static_mounts: &[StaticMount]) -> Router {
    let routes = Router::new()
        .route("/health", get(health::health))
        .route("/ws", get(ws::upgrade))
        .route("/messages", post(http_fallback::post_messages))
        .route("/events", get(http_fallback::events))
        .route("/control/down", post(control::server_down))
        .route(
            "/control/{session_id}/drop",
            post(control::drop_connections),
        )
        .route(
            "/control/{session_id}/close",
            post(control::close_connections),
        )
        .route(
            "/control/{session_id}/refuse",
            post(control::refuse_upgrades),
        )
        .route(
            "/control/{session_id}/delay-pongs",
            post(control::delay_pongs),
        )
        .route(
            "/control/{session_id}/mute-pings",
            post(control::mute_pings),
        )
        .route("/control/{session_id}/reset", post(control::reset_faults))
        .route(
            "/control/{session_id}/fail-posts",
            post(control::fail_posts),
        )
        .route(
            "/control/{session_id}/drop-events",
            post(control::drop_events),
        )
        .route("/control/{session_id}/blackhole", post(control::blackhole))
        .route("/control/{session_id}/push", post(control::push))
        .route("/control/{session_id}/log", get(control::session_log))
        .layer(CorsLayer::permissive());
    mount(routes, static_mounts).with_state(state)
}
