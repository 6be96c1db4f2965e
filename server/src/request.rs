//! What every channel-opening request goes through, whatever its endpoint:
//! the session id, the auth hook, the session's owner, and the refusals.

use std::sync::Arc;

use axum::http::header::{ORIGIN, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::auth::{Identity, Rejection, RequestInfo};
use crate::config::Limits;
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
/// so nobody else can open it. An id longer than `max_id_bytes` is a 400.
pub fn session_id_or_random(id: Option<String>, limits: &Limits) -> Result<String, Box<Response>> {
    match id.filter(|id| !id.is_empty()) {
        Some(id) if id.len() > limits.max_id_bytes => {
            Err(Box::new(bad_request("session_id is too long")))
        }
        Some(id) => Ok(id),
        None => Ok(format!("anonymous-{}", random_token(ANONYMOUS_ID_BYTES))),
    }
}

/// Asks the auth hook.
pub async fn authorize(state: &AppState, info: &RequestInfo) -> Result<Identity, Rejection> {
    state.auth.authorize(info).await
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

/// 503 with a JSON reason.
pub fn unavailable(message: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "error": message })),
    )
        .into_response()
}

/// 503 because every kept session is live: try again in a while.
pub fn too_many_sessions() -> Response {
    let mut response = unavailable("the server holds as many sessions as it may");
    response
        .headers_mut()
        .insert(RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
    response
}

/// 401/403 with the rejection's message.
pub fn rejected(rejection: &Rejection) -> Response {
    (
        rejection.status(),
        Json(json!({ "error": rejection.message() })),
    )
        .into_response()
}

/// 400 with a JSON reason.
pub fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn session_ids_are_capped_and_missing_ones_random() {
        let limits = Limits::default();
        assert!(session_id_or_random(Some("x".repeat(129)), &limits).is_err());
        let a = session_id_or_random(None, &limits).unwrap();
        let b = session_id_or_random(Some(String::new()), &limits).unwrap();
        assert!(a.starts_with("anonymous-") && a.len() == 10 + 32);
        assert_ne!(a, b);
    }
}
