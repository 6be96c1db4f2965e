//! The publish API: the application sends to sessions and rooms, and
//! manages rooms, with the shared secret.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::publish::Publisher;

use super::GatewayConfig;

#[derive(Clone)]
struct Api {
    publisher: Publisher,
    secret: String,
}

/// `POST /api/publish`, `/api/rooms/join`, `/api/rooms/leave`, behind the secret.
pub fn publish_api(publisher: Publisher, config: &GatewayConfig) -> Router {
    Router::new()
        .route("/api/publish", post(publish))
        .route("/api/rooms/join", post(join))
        .route("/api/rooms/leave", post(leave))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(Api {
            publisher,
            secret: config.secret.clone(),
        })
}

/// `{"session":…,"message":…}` or `{"room":…,"message":…}`.
#[derive(Debug, Deserialize)]
struct PublishBody {
    session: Option<String>,
    room: Option<String>,
    message: Value,
}

/// `{"session":…,"room":…}`.
#[derive(Debug, Deserialize)]
struct RoomBody {
    session: String,
    room: String,
}

async fn publish(State(api): State<Api>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !api.authorized(&headers) {
        return unauthorized();
    }
    let Ok(body) = serde_json::from_slice::<PublishBody>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"session\"|\"room\": …, \"message\": {…}}",
        );
    };
    let result = match (&body.session, &body.room) {
        (Some(session), None) => api
            .publisher
            .to_session(session, body.message)
            .map(|channels| json!({ "channels": channels })),
        (None, Some(room)) => api
            .publisher
            .to_room(room, body.message)
            .map(|sessions| json!({ "sessions": sessions })),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "name exactly one of \"session\" and \"room\"",
            )
        }
    };
    match result {
        Ok(body) => Json(body).into_response(),
        Err(problem) => error(StatusCode::UNPROCESSABLE_ENTITY, &problem.to_string()),
    }
}

async fn join(State(api): State<Api>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !api.authorized(&headers) {
        return unauthorized();
    }
    let Ok(body) = serde_json::from_slice::<RoomBody>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"session\": …, \"room\": …}",
        );
    };
    match api.publisher.join(&body.session, &body.room) {
        Ok(()) => Json(json!({ "joined": true })).into_response(),
        Err(problem) => error(StatusCode::UNPROCESSABLE_ENTITY, &problem.to_string()),
    }
}

async fn leave(State(api): State<Api>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !api.authorized(&headers) {
        return unauthorized();
    }
    let Ok(body) = serde_json::from_slice::<RoomBody>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"session\": …, \"room\": …}",
        );
    };
    api.publisher.leave(&body.session, &body.room);
    Json(json!({ "left": true })).into_response()
}

impl Api {
    /// `Authorization: Bearer <secret>`, compared in constant time.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        constant_time_eq(given.as_bytes(), self.secret.as_bytes())
    }
}

/// Equality whose time does not depend on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "the publish API needs Authorization: Bearer <secret>",
    )
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
