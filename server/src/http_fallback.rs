//! The HTTP fallback (PROTOCOL.md §6): `POST /messages` upstream and
//! Server-Sent Events downstream at `GET /events`, with the same session
//! numbering, replay, acknowledgements and duplicate suppression as `/ws`.

use std::convert::Infallible;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::protocol::Inbound;
use crate::session_log::FrameRecord;
use crate::sessions::Reply;
use crate::state::{iso_now, SharedState};
use crate::stream::{ResumeRequest, PROTOCOL_V1_1};

/// `?session_id=…&ack=1&last_seq=N&protocol=1.1&epoch=E`
#[derive(Debug, Deserialize)]
pub struct HttpQuery {
    session_id: String,
    ack: Option<String>,
    last_seq: Option<u64>,
    protocol: Option<String>,
    epoch: Option<String>,
}

impl HttpQuery {
    fn resume_request(&self, last_seq: Option<u64>) -> ResumeRequest<'_> {
        ResumeRequest {
            v1_1: self.protocol.as_deref() == Some(PROTOCOL_V1_1),
            last_seq,
            epoch: self.epoch.as_deref(),
        }
    }
}

fn unavailable(message: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "error": message })),
    )
        .into_response()
}

/// `POST /messages?session_id=…[&ack=1]` with a JSON array of envelopes.
/// Answers 200 with the acks (when asked for) and the numbered replies, in order.
pub async fn post_messages(
    State(state): State<SharedState>,
    Query(query): Query<HttpQuery>,
    body: axum::body::Bytes,
) -> Response {
    let now = Instant::now();
    if state.down.is_down(now) {
        return unavailable("server down (fault injection)");
    }
    if state
        .sessions
        .with(&query.session_id, |s| s.faults.fail_posts.is_open(now))
    {
        return unavailable("failing posts (fault injection)");
    }
    let Ok(Value::Array(envelopes)) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "the body must be a JSON array of envelopes" })),
        )
            .into_response();
    };
    let acknowledge = query
        .ack
        .as_deref()
        .is_some_and(|v| matches!(v, "" | "1" | "true"));
    let timestamp = iso_now();
    let at_ms = state.elapsed_ms();
    // The answers are already JSON texts (numbered replies come out of the
    // stream serialised), so the body is assembled rather than re-parsed.
    let answers: Vec<String> = state.sessions.with(&query.session_id, |session| {
        let mut answers = session.stream.post_preamble(&query.resume_request(None));
        for envelope in envelopes {
            let text = envelope.to_string();
            let inbound = Inbound::from_value(envelope);
            let mut record = FrameRecord::text(0, at_ms, &text, &inbound);
            record.via = "http";
            let accepted = session.accept(&inbound, record, acknowledge, &timestamp);
            answers.extend(accepted.ack);
            answers.extend(accepted.reply.map(|reply| match reply {
                Reply::Pong(text) | Reply::Numbered(text) => text,
            }));
        }
        answers
    });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        format!("[{}]", answers.join(",")),
    )
        .into_response()
}

/// `GET /events?session_id=…[&last_seq=N]` (or `Last-Event-ID: N`): the
/// session's numbered frames as Server-Sent Events, `id:` = `seq`, after a
/// replay of what followed N.
pub async fn events(
    State(state): State<SharedState>,
    Query(query): Query<HttpQuery>,
    headers: HeaderMap,
) -> Response {
    if state.down.is_down(Instant::now()) {
        return unavailable("server down (fault injection)");
    }
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let after = last_event_id.or(query.last_seq);
    let (sender, receiver) = mpsc::unbounded_channel::<(Option<u64>, String)>();
    let first = state.sessions.with(&query.session_id, |session| {
        session.add_event_stream(sender);
        session.stream.opening(&query.resume_request(after))
    });
    let live = stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|frame| (frame, receiver))
    });
    // A comment first: Firefox reports an event stream open only once body
    // bytes arrive, not on the headers (Chromium does), so an idle stream
    // would never open there (PROTOCOL.md §6).
    let opened = stream::once(async { Ok(Event::default().comment("open")) });
    Sse::new(opened.chain(to_events(stream::iter(first).chain(live))))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn to_events(
    frames: impl Stream<Item = (Option<u64>, String)>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    frames.map(|(seq, text)| {
        let event = Event::default().data(text);
        Ok(match seq {
            Some(seq) => event.id(seq.to_string()),
            None => event,
        })
    })
}
