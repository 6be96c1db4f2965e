//! Whose pages may talk to the server. Browsers send `Origin` on WebSocket
//! upgrades, on cross-origin `fetch`/`EventSource`, and on POSTs; a page on
//! another site must not be able to open a user's session (its cookies ride
//! along) or drive the control endpoints. CORS headers alone do not stop a
//! "simple" POST (`text/plain` needs no preflight) or a WebSocket, so a
//! request from an origin not allowed is refused with 403 before any handler runs.

use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::request::json_error;

/// The allowed origins. Without any, only requests without `Origin`
/// (non-browser clients) and same-origin pages (the `Origin`'s host is the
/// `Host` the request was sent to) are let in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginPolicy {
    allowed: Vec<OriginPattern>,
}

/// One allowed origin: exact (`https://chat.example.com`), with one `*`
/// standing for any characters but `/` (`http://127.0.0.1:*`,
/// `https://*.example.com`), or `*` alone for any origin.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OriginPattern {
    Any,
    Exact(String),
    Wildcard { prefix: String, suffix: String },
}

impl OriginPolicy {
    /// Any origin at all (`--allow-origin '*'`): for servers whose sessions
    /// need no protection from other sites' pages (public data, tests).
    pub fn any() -> Self {
        Self {
            allowed: vec![OriginPattern::Any],
        }
    }

    /// Adds an allowed origin pattern; the error says what is wrong with it.
    pub fn allow(&mut self, pattern: &str) -> Result<(), String> {
        if pattern == "*" {
            self.allowed.push(OriginPattern::Any);
            return Ok(());
        }
        if !(pattern.starts_with("http://") || pattern.starts_with("https://")) {
            return Err(format!(
                "an origin starts with http:// or https://, got {pattern:?}"
            ));
        }
        if pattern.ends_with('/') || pattern.matches('*').count() > 1 {
            return Err(format!(
                "an origin is scheme://host[:port] with at most one *, no trailing /, got {pattern:?}"
            ));
        }
        self.allowed.push(match pattern.split_once('*') {
            Some((prefix, suffix)) => OriginPattern::Wildcard {
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
            },
            None => OriginPattern::Exact(pattern.to_owned()),
        });
        Ok(())
    }

    /// Whether a request with this `Origin` header sent to this `Host` may
    /// proceed. A page is "same-origin" only when the `Host` is an IP address
    /// or `localhost`: a name in `Host` is the page's to choose (DNS
    /// rebinding points evil.example at 127.0.0.1 and sends `Host:
    /// evil.example`), so a server reached by name lists its own origin.
    pub fn permits(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let same_origin = host.filter(|host| is_address(host)).is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        });
        same_origin || self.allowed.iter().any(|pattern| pattern.matches(origin))
    }

    fn permits_headers(&self, headers: &HeaderMap) -> bool {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        match headers.get(ORIGIN) {
            Some(origin) => origin
                .to_str()
                .is_ok_and(|origin| self.permits(Some(origin), text(HOST))),
            None => true,
        }
    }

    /// The CORS layer for the protocol and control endpoints: it answers
    /// preflights and names the requesting origin when it is allowed.
    pub fn cors_layer(&self) -> CorsLayer {
        let policy = self.clone();
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, parts| {
                let host = parts.headers.get(HOST).and_then(|h| h.to_str().ok());
                origin
                    .to_str()
                    .is_ok_and(|origin| policy.permits(Some(origin), host))
            }))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                axum::http::header::CONTENT_TYPE,
                axum::http::header::AUTHORIZATION,
                axum::http::HeaderName::from_static("last-event-id"),
            ])
            // A cross-origin page reads a 429's or 503's wait only if it is
            // exposed: Retry-After is not a CORS-safelisted header.
            .expose_headers([axum::http::header::RETRY_AFTER])
    }
}

/// Whether `host` (a `Host` header: name or address, maybe a port) names
/// the machine by address or as `localhost`, which no web page can re-point.
fn is_address(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest
            .split_once(']')
            .is_some_and(|(v6, _)| v6.parse::<std::net::Ipv6Addr>().is_ok());
    }
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::Ipv4Addr>().is_ok()
}

impl OriginPattern {
    fn matches(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(exact) => origin.eq_ignore_ascii_case(exact),
            Self::Wildcard { prefix, suffix } => {
                origin.len() >= prefix.len() + suffix.len()
                    && origin
                        .get(..prefix.len())
                        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
                    && origin
                        .get(origin.len() - suffix.len()..)
                        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
                    && origin
                        .get(prefix.len()..origin.len() - suffix.len())
                        .is_some_and(|middle| !middle.contains('/'))
            }
        }
    }
}

/// Middleware: refuses a request from an origin the policy does not allow
/// (403), before anything else sees it.
/// The refusal is logged with the origin and the `Host` it was compared
/// with: behind a reverse proxy the usual cause is a proxy that rewrote
/// `Host` (nginx's `proxy_set_header Host $host` drops the port), and the
/// page itself is told nothing by the browser.
pub async fn guard(State(policy): State<OriginPolicy>, request: Request, next: Next) -> Response {
    if policy.permits_headers(request.headers()) {
        return next.run(request).await;
    }
    let header = |name| {
        request
            .headers()
            .get(name)
            .map(|value: &HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned())
    };
    let refusal = Refusal {
        origin: header(ORIGIN).unwrap_or_default(),
        host: header(HOST),
    };
    if REFUSALS_LOGGED.allow() {
        eprintln!(
            "resocket-server: refused {} {}: {}",
            request.method(),
            request.uri().path(),
            refusal.explain()
        );
    }
    json_error(StatusCode::FORBIDDEN, &refusal.explain())
}

/// A request the origin policy refused, and what it was compared with.
struct Refusal {
    origin: String,
    host: Option<String>,
}

impl Refusal {
    /// One sentence for the log and the answer's body.
    fn explain(&self) -> String {
        let host = match &self.host {
            Some(host) => format!("Host was {host:?}"),
            None => "no Host".to_owned(),
        };
        format!(
            "this origin is not allowed (see --allow-origin): origin {:?} is not in the list and is not the server's own ({host}; behind a reverse proxy, list the page's origin with --allow-origin, or have the proxy pass Host with its port)",
            self.origin
        )
    }
}

/// Refusals are logged at most this many times a second: a page retrying
/// (or anyone at all) must not be able to fill the server's log.
const REFUSALS_PER_SECOND: u32 = 10;

static REFUSALS_LOGGED: crate::log_budget::LogBudget =
    crate::log_budget::LogBudget::new(REFUSALS_PER_SECOND);

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(patterns: &[&str]) -> OriginPolicy {
        let mut policy = OriginPolicy::default();
        for pattern in patterns {
            policy.allow(pattern).unwrap();
        }
        policy
    }

    #[test]
    fn without_a_list_only_same_origin_and_non_browsers_pass() {
        let policy = OriginPolicy::default();
        assert!(policy.permits(None, Some("chat.example.com")));
        // A name in Host proves nothing (DNS rebinding): it must be listed.
        assert!(!policy.permits(Some("https://chat.example.com"), Some("chat.example.com")));
        assert!(policy.permits(Some("http://localhost:8080"), Some("localhost:8080")));
        assert!(policy.permits(Some("http://[::1]:8080"), Some("[::1]:8080")));
        assert!(policy.permits(Some("http://127.0.0.1:8080"), Some("127.0.0.1:8080")));
        assert!(!policy.permits(Some("https://evil.example"), Some("chat.example.com")));
        assert!(!policy.permits(Some("http://127.0.0.1:9999"), Some("127.0.0.1:8080")));
        assert!(!policy.permits(Some("null"), Some("chat.example.com")));
    }

    #[test]
    fn exact_and_wildcard_patterns() {
        let policy = policy(&[
            "https://app.example.com",
            "http://127.0.0.1:*",
            "https://*.example.org",
        ]);
        let host = Some("api.example.com");
        assert!(policy.permits(Some("https://app.example.com"), host));
        assert!(policy.permits(Some("HTTPS://APP.example.com"), host));
        assert!(!policy.permits(Some("https://app.example.com.evil"), host));
        assert!(policy.permits(Some("http://127.0.0.1:5173"), host));
        assert!(!policy.permits(Some("http://127.0.0.1.evil.com"), host));
        assert!(policy.permits(Some("https://a.b.example.org"), host));
        assert!(!policy.permits(Some("https://example.org"), host));
        assert!(!policy.permits(Some("https://x/y.example.org"), host));
        assert!(OriginPolicy::any().permits(Some("https://anything"), host));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        let mut policy = OriginPolicy::default();
        assert!(policy.allow("example.com").unwrap_err().contains("http://"));
        assert!(policy.allow("https://a/").is_err());
        assert!(policy.allow("https://*.*.com").is_err());
        assert!(policy.allow("*").is_ok());
    }
}
