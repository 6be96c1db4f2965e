//! What every channel-opening request goes through, whatever its endpoint:
//! the session id, the auth hook, the session's owner, and the refusals.

use std::sync::Arc;

use axum::http::header::{ORIGIN, RETRY_AFTER};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::auth::{Identity, Rejection, RequestInfo};
use crate::engine::RedisEngine;
use crate::handler::Channel;
use crate::listener::peer_of;
use crate::random::random_token;
use crate::sessions::Session;
use crate::state::AppState;

/// Random bytes in the name of a session opened without an id.
const ANONYMOUS_ID_BYTES: usize = 16;

/// What the session said to a channel opening.
#[derive(Debug)]
pub enum SessionCheck {
    /// Go ahead.
    Open,
    /// It belongs to someone else.
    Rejected(Rejection),
    /// A fault injected with `--enable-control` refuses it.
    FaultRefused,
}

/// The request's session id, or a random one when it has none: unguessable,
/// so nobody else can open it. An id the client would refuse (see
/// [`crate::session_id`]), or one whose bytes in `raw_query` are not UTF-8,
/// is a 400 that says why.
pub fn session_id_or_random(id: Option<String>, raw_query: &str) -> Result<String, Box<Response>> {
    match id.filter(|id| !id.is_empty()) {
        Some(_) if !crate::session_id::is_utf8_in(raw_query) => Err(Box::new(bad_request(
            "session_id must be UTF-8 (percent-encoded)",
        ))),
        Some(id) => match crate::session_id::check(&id) {
            Ok(()) => Ok(id),
            Err(why) => Err(Box::new(bad_request(why))),
        },
        None => Ok(format!("anonymous-{}", random_token(ANONYMOUS_ID_BYTES))),
    }
}

/// What the auth hook says of a request for `channel` of `session_id`:
/// it sees the headers, the decoded query, the origin and the peer.
pub async fn identify(
    state: &AppState,
    channel: Channel,
    session_id: &str,
    headers: HeaderMap,
    raw_query: &str,
    extensions: &Extensions,
) -> Result<Identity, Rejection> {
    let info = RequestInfo {
        channel,
        session_id: session_id.to_owned(),
        origin: origin(&headers),
        headers,
        query: parse_query(raw_query),
        peer: peer_of(extensions),
    };
    state.auth.authorize(&info).await
}

/// Binds a session to the first user that opens it, and refuses it to others.
pub fn claim(session: &mut Session, identity: &Identity) -> Result<(), Rejection> {
    match (&session.owner, &identity.user) {
        (None, user) => {
            session.owner = user.clone();
            Ok(())
        }
        (Some(owner), Some(user)) if Arc::ptr_eq(owner, user) || owner == user => Ok(()),
        (Some(_), _) => Err(Rejection::Forbidden(
            "this session belongs to another user".to_owned(),
        )),
    }
}

/// [`claim`] against the session's owner in the cluster's Redis (the same
/// rule, for every node). A Redis that does not answer is
/// [`Rejection::Unavailable`] (503, or 1013 for a socket: the client tries
/// again, maybe on a node whose Redis connection works).
pub async fn claim_clustered(
    redis: &RedisEngine,
    session_id: &str,
    identity: &Identity,
) -> Result<(), Rejection> {
    let owner = redis
        .store
        .claim_owner(session_id, identity.user.as_deref())
        .await
        .map_err(|error| {
            eprintln!("resocket-server: {error}: refusing a channel");
            Rejection::Unavailable("the cluster's store is unavailable".to_owned())
        })?;
    match (owner, &identity.user) {
        (None, _) => Ok(()),
        (Some(owner), Some(user)) if *owner == **user => Ok(()),
        (Some(_), _) => Err(Rejection::Forbidden(
            "this session belongs to another user".to_owned(),
        )),
    }
}

/// The `Origin` header, if any.
pub fn origin(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The query's parameters, decoded (pairs that do not decode are left out).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw).unwrap_or_default()
}

/// Every refusal the server writes: `status` with `{"error": message}`.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// `json_error` with a `Retry-After` of `seconds`.
pub fn json_error_retry_after(
    status: StatusCode,
    message: &str,
    seconds: &'static str,
) -> Response {
    let mut response = json_error(status, message);
    response
        .headers_mut()
        .insert(RETRY_AFTER, axum::http::HeaderValue::from_static(seconds));
    response
}

/// Whether a query flag is on: present empty, `1` or `true` (`?ack`,
/// `?ack=1`, `?mute_pings=true`).
pub fn is_on(flag: Option<&str>) -> bool {
    flag.is_some_and(|value| matches!(value, "" | "1" | "true"))
}

/// 503 with a JSON reason.
pub fn unavailable(message: &str) -> Response {
    json_error(StatusCode::SERVICE_UNAVAILABLE, message)
}

/// 503 because every kept session is live: try again in a while.
pub fn too_many_sessions() -> Response {
    json_error_retry_after(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server holds as many sessions as it may",
        "5",
    )
}

/// 401/403 with the rejection's message.
pub fn rejected(rejection: &Rejection) -> Response {
    json_error(rejection.status(), rejection.message())
}

/// 400 with a JSON reason.
pub fn bad_request(message: &str) -> Response {
    json_error(StatusCode::BAD_REQUEST, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::sessions::Sessions;

    #[test]
    fn a_session_belongs_to_the_first_user_that_opens_it() {
        let sessions = Sessions::new(Limits::default(), false);
        let claim_as = |identity: Identity| sessions.with("s", |s| claim(s, &identity)).unwrap();
        assert_eq!(claim_as(Identity::user("ann")), Ok(()));
        assert_eq!(claim_as(Identity::user("ann")), Ok(()));
        assert!(matches!(
            claim_as(Identity::user("bob")),
            Err(Rejection::Forbidden(_))
        ));
        assert!(matches!(
            claim_as(Identity::anonymous()),
            Err(Rejection::Forbidden(_))
        ));
        let open = Sessions::new(Limits::default(), false);
        assert_eq!(
            open.with("o", |s| claim(s, &Identity::anonymous()))
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            open.with("o", |s| claim(s, &Identity::anonymous()))
                .unwrap(),
            Ok(())
        );
        // The first user to present an identity owns it from then on.
        assert_eq!(
            open.with("o", |s| claim(s, &Identity::user("ann")))
                .unwrap(),
            Ok(())
        );
        assert!(open
            .with("o", |s| claim(s, &Identity::anonymous()))
            .unwrap()
            .is_err());
    }

    #[test]
    fn session_ids_are_checked_and_missing_ones_random() {
        assert!(session_id_or_random(Some("x".repeat(129)), "").is_err());
        assert!(session_id_or_random(Some("a\rb".into()), "").is_err());
        assert!(session_id_or_random(Some("\u{fffd}".into()), "session_id=%FF").is_err());
        let a = session_id_or_random(None, "").unwrap();
        let b = session_id_or_random(Some(String::new()), "").unwrap();
        assert!(a.starts_with("anonymous-") && a.len() == 10 + 32);
        assert_ne!(a, b);
    }
}
