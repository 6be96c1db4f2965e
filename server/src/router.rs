//! The URL map of the protocol (and, with `--enable-control`, the control endpoints).

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;
use tower_http::map_request_body::MapRequestBodyLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::state::SharedState;
use crate::{control, health, http_fallback, json_errors, origin, ws};

/// `/ws`, `/messages`, `/events` and `/health` (plus `/control/…` when
/// enabled). Requests from an origin the policy does not allow are refused
/// before any handler; allowed ones get CORS headers naming their origin.
/// Every error answer has a JSON body ([`json_errors`]).
pub fn router(state: SharedState) -> Router {
    let mut routes = Router::new()
        .route("/ws", get(ws::upgrade))
        .route(
            "/messages",
            post(http_fallback::post_messages)
                .layer::<_, Infallible>(DefaultBodyLimit::max(state.limits.max_message_bytes))
                // A body sent a byte at a time holds a connection like a
                // slowloris header: it gets the header's time (408 after it).
                .layer::<_, Infallible>(MapRequestBodyLayer::new(Body::new))
                .layer::<_, Infallible>(RequestBodyTimeoutLayer::new(
                    state.limits.header_read_timeout,
                )),
        )
        .route("/events", get(http_fallback::events));
    if state.config.enable_control {
        routes = control_routes(routes);
    }
    let origins = state.config.origins.clone();
    routes
        .route_layer(from_fn_with_state(origins.clone(), origin::guard))
        .route("/health", get(health::health))
        .layer(origins.cors_layer())
        .layer(from_fn(json_errors::json_errors))
        .with_state(state)
}

fn control_routes(routes: Router<SharedState>) -> Router<SharedState> {
    routes
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
}
