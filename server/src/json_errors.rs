//! Every error the server answers has a JSON body, `{"error": "…"}`. The
//! server's own refusals are written so; axum's rejections are not (a body
//! past the limit: "Failed to buffer the request body…", a query without
//! `session_id`: "Failed to deserialize query string…", a missing upgrade
//! header), and a client would have to special-case plain text. This
//! middleware rewrites them, keeping the status and the text.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The most of a plain-text error body kept (axum's are one line).
const MAX_ERROR_TEXT: usize = 4096;

/// Middleware: a 4xx or 5xx answer without a JSON body gets one.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let text = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let body = serde_json::json!({ "error": text }).to_string();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}
