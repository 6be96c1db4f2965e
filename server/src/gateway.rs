//! Gateway mode, for backends in any language: the binary does the protocol
//! and forwards each accepted client envelope to the application's URL (a
//! webhook); the application sends to clients through a publish API.
//!
//! - **Webhook.** `POST <webhook>` with `{"sessionId","user","channel","message"}`
//!   (the envelope as the client sent it) and the header
//!   `X-Resocket-Secret: <secret>`. A 2xx answer is the replies: a JSON array
//!   of envelopes, or `{"replies":[…],"join":["room"…],"leave":["room"…]}`
//!   (empty body: no reply). The replies go back to the client numbered;
//!   anything else (an error status, a timeout, a body that is none of
//!   these) answers the client with an `error` envelope and no ack, so a
//!   client with at-least-once delivery sends it again later.
//! - **Publish API.** `POST /api/publish` with `Authorization: Bearer <secret>`
//!   and `{"session":"<id>","message":{…}}` or `{"room":"<name>","message":{…}}`;
//!   `POST /api/rooms/join` and `/api/rooms/leave` with `{"session","room"}`.
//! - **Auth webhook** (`--auth-webhook`). Before a socket, POST or event
//!   stream is accepted, `POST <auth webhook>` with
//!   `{"channel","sessionId","query":{…},"headers":{"authorization","cookie"},"origin"}`:
//!   2xx `{"user":"<id>"|null}` lets it in as that user (a session keeps its
//!   first user), 401 and 403 refuse it (4401/4403 on a socket), anything
//!   else answers 503/1013 so the client tries again later. Without it,
//!   anyone who knows a session id can use the session.
//!
//! The secret comes from the environment (`RESOCKET_GATEWAY_SECRET`), never
//! from a flag (flags show in `ps`).

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Authorize, Identity, Rejection, RequestInfo};
use crate::handler::{Channel, Context, Handler, HandlerError, Incoming, Replies};
use crate::publish::Publisher;

/// The environment variable that holds the shared secret.
pub const SECRET_VARIABLE: &str = "RESOCKET_GATEWAY_SECRET";
/// The header the webhook calls carry the secret in.
pub const SECRET_HEADER: &str = "x-resocket-secret";
/// Shortest secret accepted: a guessable one would open every session.
const MIN_SECRET_BYTES: usize = 16;
/// Largest webhook answer read.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// How the gateway reaches the application.
#[derive(Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// Where each client envelope is POSTed (`http://…`).
    pub webhook: String,
    /// Where each channel-opening request is authorised (`http://…`), if anywhere.
    pub auth_webhook: Option<String>,
    /// The shared secret (from [`SECRET_VARIABLE`]).
    pub secret: String,
    /// How long a webhook call may take.
    pub timeout: Duration,
    /// Largest publish body (the message size limit).
    pub max_body_bytes: usize,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("webhook", &self.webhook)
            .field("auth_webhook", &self.auth_webhook)
            .field("secret", &"[redacted]")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl GatewayConfig {
    /// Checks the webhook URL and the secret; the error says what to fix.
    pub fn new(
        webhook: String,
        auth_webhook: Option<String>,
        secret: Option<String>,
        timeout: Duration,
        max_body_bytes: usize,
    ) -> Result<Self, String> {
        for (flag, url) in [
            ("--webhook", Some(&webhook)),
            ("--auth-webhook", auth_webhook.as_ref()),
        ] {
            if let Some(url) = url.filter(|url| !url.starts_with("http://")) {
                return Err(format!(
                    "{flag} must be an http:// URL (a backend beside the gateway; put TLS in front of a remote one), got {url:?}"
                ));
            }
        }
        let secret = secret.unwrap_or_default();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "gateway mode needs {SECRET_VARIABLE} in the environment, at least {MIN_SECRET_BYTES} bytes"
            ));
        }
        Ok(Self {
            webhook,
            auth_webhook,
            secret,
            timeout,
            max_body_bytes,
        })
    }
}

/// The handler that forwards to the webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    client: reqwest::Client,
    url: String,
    secret: String,
}

/// The HTTP client for the application's URLs: no redirects (one would
/// carry the secret, and a 307 the message, wherever it points), no proxy
/// from the environment, the configured timeout.
fn client(config: &GatewayConfig) -> std::io::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(std::io::Error::other)
}

/// Reads a response body, refusing one larger than [`MAX_ANSWER_BYTES`]
/// without holding more than that.
async fn capped_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "the answer broke off".to_owned())?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err("the application's answer is too large".to_owned());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl Webhook {
    /// A handler for `config`.
    pub fn new(config: &GatewayConfig) -> std::io::Result<Self> {
        Ok(Self {
            client: client(config)?,
            url: config.webhook.clone(),
            secret: config.secret.clone(),
        })
    }
}

/// What a webhook may answer.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Answer {
    Replies(Vec<Value>),
    Full {
        #[serde(default)]
        replies: Vec<Value>,
        #[serde(default)]
        join: Vec<String>,
        #[serde(default)]
        leave: Vec<String>,
    },
}

impl Handler for Webhook {
    async fn on_message(
        &self,
        context: &Context,
        message: Incoming,
    ) -> Result<Replies, HandlerError> {
        let body = json!({
            "sessionId": &*context.session_id,
            "user": context.identity.user.as_deref(),
            "channel": channel_name(context.channel),
            "message": message.envelope,
        });
        let unavailable = |error: reqwest::Error| {
            HandlerError::new(
                "backend-unavailable",
                format!("the application did not answer: {}", without_url(&error)),
            )
        };
        let response = self
            .client
            .post(&self.url)
            .header(SECRET_HEADER, &self.secret)
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(HandlerError::new(
                "backend-error",
                format!("the application answered HTTP {}", status.as_u16()),
            ));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
        {
            return Err(HandlerError::new(
                "backend-error",
                "the application's answer is too large",
            ));
        }
        let bytes = response.bytes().await.map_err(unavailable)?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(HandlerError::new(
                "backend-error",
                "the application's answer is too large",
            ));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
            HandlerError::new(
                "backend-error",
                "the application's answer is neither an array of envelopes nor {replies, join, leave}",
            )
        })?;
        Ok(match answer {
            Answer::Replies(replies) => replies,
            Answer::Full {
                replies,
                join,
                leave,
            } => {
                for room in &join {
                    context
                        .publisher
                        .join(&context.session_id, room)
                        .map_err(|error| HandlerError::new("backend-error", error.to_string()))?;
                }
                for room in &leave {
                    context.publisher.leave(&context.session_id, room);
                }
                replies
            }
        })
    }
}

/// The auth hook that asks the application's auth webhook.
#[derive(Debug, Clone)]
pub struct AuthWebhook {
    client: reqwest::Client,
    url: String,
    secret: String,
}

impl AuthWebhook {
    /// The hook for `config`, if it names an auth webhook.
    pub fn new(config: &GatewayConfig) -> std::io::Result<Option<Self>> {
        let Some(url) = config.auth_webhook.clone() else {
            return Ok(None);
        };
        Ok(Some(Self {
            client: client(config)?,
            url,
            secret: config.secret.clone(),
        }))
    }
}

/// What the auth webhook answers on success.
#[derive(Debug, Default, Deserialize)]
struct AuthAnswer {
    #[serde(default)]
    user: Option<String>,
}

impl Authorize for AuthWebhook {
    async fn authorize(&self, request: &RequestInfo) -> Result<Identity, Rejection> {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let query: serde_json::Map<String, Value> = request
            .query
            .iter()
            .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
            .collect();
        let body = json!({
            "channel": channel_name(request.channel),
            "sessionId": request.session_id,
            "query": query,
            "headers": { "authorization": header("authorization"), "cookie": header("cookie") },
            "origin": request.origin,
        });
        let unavailable =
            || Rejection::Unavailable("the application's auth did not answer".to_owned());
        let response = self
            .client
            .post(&self.url)
            .header(SECRET_HEADER, &self.secret)
            .json(&body)
            .send()
            .await
            .map_err(|_| unavailable())?;
        let status = response.status();
        let body = capped_body(response).await.map_err(|_| unavailable())?;
        let message = || {
            serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|value| {
                    value
                        .get("error")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "refused by the application".to_owned())
        };
        match status.as_u16() {
            200..=299 => {
                let answer: AuthAnswer = if body.iter().all(u8::is_ascii_whitespace) {
                    AuthAnswer::default()
                } else {
                    serde_json::from_slice(&body).map_err(|_| unavailable())?
                };
                Ok(match answer.user {
                    Some(user) => Identity::user(user),
                    None => Identity::anonymous(),
                })
            }
            401 => Err(Rejection::Unauthorized(message())),
            403 => Err(Rejection::Forbidden(message())),
            _ => Err(unavailable()),
        }
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::WebSocket => "websocket",
        Channel::Post => "post",
        Channel::Events => "events",
    }
}

/// reqwest's errors name the URL; the client need not learn where the backend is.
fn without_url(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection refused or unreachable".to_owned()
    } else {
        "request failed".to_owned()
    }
}

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
    fn the_gateway_needs_an_http_webhook_and_a_real_secret() {
        let timeout = Duration::from_secs(1);
        let secret = || Some("s".repeat(16));
        let new = |webhook: &str, auth: Option<&str>, secret: Option<String>| {
            GatewayConfig::new(webhook.into(), auth.map(Into::into), secret, timeout, 1)
        };
        assert!(new("https://x", None, secret()).is_err());
        assert!(new("http://x", Some("ftp://y"), secret()).is_err());
        assert!(new("http://x", None, None)
            .unwrap_err()
            .contains(SECRET_VARIABLE));
        assert!(new("http://x", None, Some("short".into())).is_err());
        let config = new("http://x", Some("http://y"), secret()).unwrap();
        assert!(
            !format!("{config:?}").contains("ssss"),
            "the secret is never printed"
        );
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
