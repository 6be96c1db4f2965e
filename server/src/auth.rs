//! The auth hook: it sees every request that would open a channel or send
//! messages (the WebSocket upgrade, a fallback POST, an event stream) before
//! the server accepts anything or touches the session.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderMap;

use crate::handler::{BoxFuture, Channel};

/// What the hook sees of a request.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// Which endpoint it is for.
    pub channel: Channel,
    /// The `session_id` query parameter (or the random one the server chose).
    pub session_id: String,
    /// Every request header (cookies and `Authorization` included).
    pub headers: HeaderMap,
    /// The query parameters, decoded, in order (tokens in a WebSocket URL
    /// ride here: browsers cannot set headers on an upgrade).
    pub query: Vec<(String, String)>,
    /// The `Origin` header, when there is one (already checked against the allowlist).
    pub origin: Option<String>,
    /// The TCP peer, when the server knows it.
    pub peer: Option<SocketAddr>,
}

impl RequestInfo {
    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Who the hook says the request comes from. A session is bound to the user
/// that opened it: a request for it as another user is refused (4403 / 403).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The user, or `None` for anonymous access (no binding).
    pub user: Option<Arc<str>>,
}

impl Identity {
    /// Nobody in particular.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// The user `user`.
    pub fn user(user: impl Into<Arc<str>>) -> Self {
        Self {
            user: Some(user.into()),
        }
    }
}

/// Why a request is refused. Over HTTP the answer is 401 or 403 with the
/// message; a WebSocket is accepted and closed at once with 4401 or 4403,
/// codes the resocket client takes as final (a browser cannot read an
/// upgrade's HTTP status, so a refused upgrade would look like a network
/// failure and be retried for ever).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No or bad credentials (401 / 4401).
    Unauthorized(String),
    /// Valid credentials, not allowed this session (403 / 4403).
    Forbidden(String),
    /// The hook could not decide now (its backend is down): 503 / 1013, and
    /// the client tries again later.
    Unavailable(String),
}

impl Rejection {
    /// The WebSocket close code.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 4401,
            Self::Forbidden(_) => 4403,
            Self::Unavailable(_) => 1013,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            Self::Unauthorized(_) => axum::http::StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => axum::http::StatusCode::FORBIDDEN,
            Self::Unavailable(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The message, for the close reason (cut to 123 bytes) or the HTTP body.
    pub fn message(&self) -> &str {
        match self {
            Self::Unauthorized(message) | Self::Forbidden(message) | Self::Unavailable(message) => {
                message
            }
        }
    }
}

/// The hook. Implement it with an `async fn`, or wrap a plain function with [`from_fn`].
pub trait Authorize: Send + Sync + 'static {
    /// Accepts the request as someone, or refuses it.
    fn authorize(
        &self,
        request: &RequestInfo,
    ) -> impl Future<Output = Result<Identity, Rejection>> + Send;
}

/// Lets every request in, anonymously: the default when no hook is set.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Authorize for AllowAll {
    async fn authorize(&self, _: &RequestInfo) -> Result<Identity, Rejection> {
        Ok(Identity::anonymous())
    }
}

/// A hook from a synchronous function, e.g. one that checks a signed token:
///
/// ```
/// use resocket_server::auth::{from_fn, Identity, Rejection};
///
/// let hook = from_fn(|request| match request.query_param("token") {
///     Some("letmein") => Ok(Identity::user("ann")),
///     _ => Err(Rejection::Unauthorized("a valid token is required".into())),
/// });
/// # let _ = hook;
/// ```
pub fn from_fn<F>(check: F) -> FromFn<F>
where
    F: Fn(&RequestInfo) -> Result<Identity, Rejection> + Send + Sync + 'static,
{
    FromFn(check)
}

/// See [`from_fn`].
#[derive(Debug, Clone, Copy)]
pub struct FromFn<F>(F);

impl<F> Authorize for FromFn<F>
where
    F: Fn(&RequestInfo) -> Result<Identity, Rejection> + Send + Sync + 'static,
{
    async fn authorize(&self, request: &RequestInfo) -> Result<Identity, Rejection> {
        (self.0)(request)
    }
}

/// [`Authorize`] made object-safe.
pub(crate) trait DynAuthorize: Send + Sync {
    fn authorize<'a>(
        &'a self,
        request: &'a RequestInfo,
    ) -> BoxFuture<'a, Result<Identity, Rejection>>;
}

impl<A: Authorize> DynAuthorize for A {
    fn authorize<'a>(
        &'a self,
        request: &'a RequestInfo,
    ) -> BoxFuture<'a, Result<Identity, Rejection>> {
        Box::pin(Authorize::authorize(self, request))
    }
}
