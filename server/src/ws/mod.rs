//! `GET /ws`: the WebSocket endpoint, one task per connection.
//!
//! A connection's task reads frames, answers pings and control frames at
//! once, hands envelopes to the application one at a time (in order; the
//! socket keeps being read meanwhile, up to [`MAX_PENDING`] waiting), and
//! writes what the session pushes. Every way a client could make it hold
//! more is bounded: message size (1009), message rate (1013), the push
//! queue of a client that does not read (1013), silence (1001), slow writes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::extract::{Query, RawQuery, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Rejection;
use crate::config::Limits;
use crate::faults::MAX_FAULT_DURATION;
use crate::handler::{Channel, Context};
use crate::listener::ConnectionSlot;
use crate::request::{
    identify, is_on, session_id_or_random, too_many_sessions, unavailable, SessionCheck,
};
use crate::session_log::{redact_query, ConnectionRecord};
use crate::state::{iso_now, SharedState};
use crate::stream::{Announced, ResumeRequest, PROTOCOL_V1_1};

mod backlog;
mod connection;
mod reader;

/// What the connection's loop writes: a message as it is, or a frame
/// numbered in the session's stream, which goes out in `seq` order.
pub(crate) enum Out {
    Message(Message),
    Numbered(u64, String),
    /// Close with this code and reason.
    Close(u16, String),
}

impl From<crate::exchange::Outgoing> for Out {
    fn from(frame: crate::exchange::Outgoing) -> Self {
        match frame {
            crate::exchange::Outgoing::Plain(text) => Self::Message(Message::Text(text.into())),
            crate::exchange::Outgoing::Numbered(seq, text) => Self::Numbered(seq, text),
        }
    }
}

use connection::serve_connection;

/// Bytes read from a socket at a time.
const READ_BUFFER_BYTES: usize = 8 * 1024;
/// How long the server waits for the peer's half of a closing handshake.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
/// Envelopes read and waiting for the application; beyond it the socket is
/// not read until the application catches up (TCP pushes back on the client).
pub const MAX_PENDING: usize = 64;

/// Query parameters of `/ws`. The fault parameters (with `--enable-control`)
/// apply to the whole session from this connection on, like the matching
/// control endpoints.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    session_id: Option<String>,
    /// Delay every pong by this many milliseconds.
    delay_pongs: Option<u64>,
    /// `true`/`1`: never answer pings (a half-open link).
    mute_pings: Option<String>,
    /// The last `seq` the client delivered: the server first replays what followed.
    last_seq: Option<u64>,
    /// `1`: acknowledge every envelope with an `id`, and drop resent duplicates.
    ack: Option<String>,
    /// `1.1`: the client understands `welcome` and `reset` (PROTOCOL.md §4.1).
    protocol: Option<String>,
    /// The epoch `last_seq` counts in.
    epoch: Option<String>,
}

/// Upgrades to a WebSocket once the origin (middleware), the auth hook and
/// the session's owner agree; refuses with 503 while the server is down,
/// full, or a fault says so.
pub async fn upgrade(
    State(state): State<SharedState>,
    Query(query): Query<WsQuery>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    extensions: Extensions,
    upgrade: WebSocketUpgrade,
) -> Response {
    let now = Instant::now();
    if state.shutdown.is_cancelled() || state.down.is_down(now) {
        return unavailable("the server is going away or down");
    }
    let session_id =
        match session_id_or_random(query.session_id.clone(), raw_query.as_deref().unwrap_or("")) {
            Ok(id) => id,
            Err(response) => return *response,
        };
    let raw_query = raw_query.unwrap_or_default();
    let identity = match identify(
        &state,
        Channel::WebSocket,
        &session_id,
        headers,
        &raw_query,
        &extensions,
    )
    .await
    {
        Ok(identity) => identity,
        Err(rejection) => return refuse_socket(upgrade, rejection, slot_of(&extensions)),
    };
    if let Some(redis) = state.engine.as_redis() {
        if let Err(rejection) = crate::request::claim_clustered(redis, &session_id, &identity).await
        {
            return refuse_socket(upgrade, rejection, slot_of(&extensions));
        }
    }
    let connection = state.sessions.next_connection_id();
    let control = state.config.enable_control;
    let record = ConnectionRecord::attempt(
        connection,
        iso_now(),
        state.elapsed_ms(),
        redact_query(&raw_query),
    );
    let check = state.sessions.with(&session_id, |session| {
        if let Err(rejection) = crate::request::claim(session, &identity) {
            return SessionCheck::Rejected(rejection);
        }
        if control {
            if let Some(ms) = query.delay_pongs {
                session
                    .faults
                    .set_pong_delay(Duration::from_millis(ms).min(MAX_FAULT_DURATION));
            }
            if query.mute_pings.is_some() {
                session
                    .faults
                    .set_mute_pings(is_on(query.mute_pings.as_deref()));
            }
        }
        let refused = session.faults.refuse_upgrades.is_open(now);
        if control {
            session.log.record_attempt(record.with_outcome(refused));
        }
        if refused {
            SessionCheck::FaultRefused
        } else {
            SessionCheck::Open
        }
    });
    match check {
        Err(_) => return too_many_sessions(),
        Ok(SessionCheck::Rejected(rejection)) => {
            return refuse_socket(upgrade, rejection, slot_of(&extensions))
        }
        Ok(SessionCheck::FaultRefused) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "refusing connections (fault injection)",
            )
                .into_response()
        }
        Ok(SessionCheck::Open) => {}
    }
    let context = Context {
        session_id: Arc::from(session_id.as_str()),
        identity,
        channel: Channel::WebSocket,
        publisher: state.publisher.clone(),
    };
    let options = ConnectionOptions {
        acknowledge: is_on(query.ack.as_deref()),
        v1_1: query.protocol.as_deref() == Some(PROTOCOL_V1_1),
        last_seq: query.last_seq,
        epoch: query.epoch,
    };
    let slot = slot_of(&extensions);
    let failed_state = state.clone();
    let tracker = state.connections.clone();
    let max = state.limits.max_message_bytes;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        // tungstenite's default read buffer is 128 KiB per socket, zeroed on
        // first use: most of an idle connection's memory. Messages larger
        // than this are still read, in several reads.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_failed_upgrade(move |_| {
            let at = failed_state.elapsed_ms();
            failed_state.sessions.existing(&session_id, |session| {
                session
                    .log
                    .record_close(connection, at, "upgrade-failed", None)
            });
        })
        .on_upgrade(move |socket| {
            tracker.track_future(serve_connection(
                socket, state, context, connection, options, slot,
            ))
        })
}

/// The accept loop's place for this connection, if it came through it.
fn slot_of(extensions: &Extensions) -> Option<Arc<ConnectionSlot>> {
    extensions.get::<Arc<ConnectionSlot>>().cloned()
}

/// Accepts the upgrade only to close it at once with the rejection's code:
/// a browser cannot read an upgrade's HTTP status, but it does get 4401/4403.
fn refuse_socket(
    upgrade: WebSocketUpgrade,
    rejection: Rejection,
    slot: Option<Arc<ConnectionSlot>>,
) -> Response {
    upgrade.on_upgrade(move |mut socket| async move {
        // Counted against the caps until it is closed.
        let _slot = slot;
        let _ = socket
            .send(close_message(rejection.close_code(), rejection.message()))
            .await;
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE_TIMEOUT, async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    })
}

/// Per-connection protocol options from the query string.
#[derive(Debug, Clone)]
struct ConnectionOptions {
    acknowledge: bool,
    v1_1: bool,
    last_seq: Option<u64>,
    epoch: Option<String>,
}

impl ConnectionOptions {
    fn resume_request(&self, limits: &Limits) -> ResumeRequest<'_> {
        ResumeRequest {
            v1_1: self.v1_1,
            last_seq: self.last_seq,
            epoch: self.epoch.as_deref(),
            limits: Some(Announced::of(limits)),
        }
    }
}

/// A close frame; the reason is cut to the 123 bytes a close frame can carry.
pub(crate) fn close_message(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.get(..end).unwrap_or("").into(),
    }))
}
