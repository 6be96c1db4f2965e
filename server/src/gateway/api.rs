//! The publish API: the application sends to sessions and rooms, and
//! manages rooms, with the shared secret.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::publish::{PublishError, Publisher};
use crate::request::json_error;

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
    let body: PublishBody = match api.read(&headers, &body, PUBLISH_SHAPE) {
        Ok(body) => body,
        Err(refused) => return *refused,
    };
    let result = match (&body.session, &body.room) {
        // The async methods: done (on either engine) when they return.
        (Some(session), None) => api
            .publisher
            .publish_to_session(session, body.message)
            .await
            .map(|channels| json!({ "channels": channels })),
        (None, Some(room)) => api
            .publisher
            .publish_to_room(room, body.message)
            .await
            .map(|sessions| json!({ "sessions": sessions })),
        _ => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "name exactly one of \"session\" and \"room\"",
            )
        }
    };
    respond(result)
}

/// 200 with `body`, 503 when the cluster's store did not answer, else 422.
fn respond(result: Result<serde_json::Value, PublishError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(PublishError::Unavailable) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &PublishError::Unavailable.to_string(),
        ),
        Err(problem) => json_error(StatusCode::UNPROCESSABLE_ENTITY, &problem.to_string()),
    }
}

async fn join(State(api): State<Api>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let body: RoomBody = match api.read(&headers, &body, ROOM_SHAPE) {
        Ok(body) => body,
        Err(refused) => return *refused,
    };
    respond(
        api.publisher
            .join_room(&body.session, &body.room)
            .await
            .map(|()| json!({ "joined": true })),
    )
}

async fn leave(State(api): State<Api>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let body: RoomBody = match api.read(&headers, &body, ROOM_SHAPE) {
        Ok(body) => body,
        Err(refused) => return *refused,
    };
    respond(
        api.publisher
            .leave_room(&body.session, &body.room)
            .await
            .map(|()| json!({ "left": true })),
    )
}

/// What a publish body looks like, for the 400 that answers another.
const PUBLISH_SHAPE: &str = "expected {\"session\"|\"room\": …, \"message\": {…}}";
/// What a join or leave body looks like.
const ROOM_SHAPE: &str = "expected {\"session\": …, \"room\": …}";

impl Api {
    /// The body of a request that carries the secret, as `T`; otherwise
    /// the refusal to answer with (401, or 400 saying what was `expected`).
    fn read<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        expected: &str,
    ) -> Result<T, Box<Response>> {
        if !self.authorized(headers) {
            return Err(Box::new(unauthorized()));
        }
        serde_json::from_slice(body)
            .map_err(|_| Box::new(json_error(StatusCode::BAD_REQUEST, expected)))
    }

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
    json_error(
        StatusCode::UNAUTHORIZED,
        "the publish API needs Authorization: Bearer <secret>",
    )
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
