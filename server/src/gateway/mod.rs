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

use serde_json::Value;

mod api;
mod auth;
mod webhook;

pub use api::publish_api;
pub use auth::AuthWebhook;
pub use webhook::Webhook;

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

/// One of the application's URLs (the webhook, the auth webhook), called
/// with the secret by a client that follows no redirect (one would carry
/// the secret, and a 307 the message, wherever it points), uses no proxy
/// from the environment, and gives up after the configured timeout.
#[derive(Debug, Clone)]
struct Endpoint {
    client: reqwest::Client,
    url: String,
    secret: String,
}

/// What an endpoint answered: its status, and its body read up to
/// [`MAX_ANSWER_BYTES`] (or why it could not be).
type Answered = (reqwest::StatusCode, Result<Vec<u8>, String>);

impl Endpoint {
    fn new(config: &GatewayConfig, url: String) -> std::io::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self {
            client,
            url,
            secret: config.secret.clone(),
        })
    }

    /// POSTs `body` as JSON with the secret header; `Err` when no answer came.
    async fn call(&self, body: &Value) -> Result<Answered, reqwest::Error> {
        let mut response = self
            .client
            .post(&self.url)
            .header(SECRET_HEADER, &self.secret)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let mut read = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if read.len() + chunk.len() > MAX_ANSWER_BYTES => {
                    return Ok((
                        status,
                        Err("the application's answer is too large".to_owned()),
                    ));
                }
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                Ok(None) => return Ok((status, Ok(read))),
                Err(_) => return Ok((status, Err("the answer broke off".to_owned()))),
            }
        }
    }
}

/// An answer with nothing in it (an empty body, or only whitespace).
fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
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
}
