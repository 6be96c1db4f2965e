//! `/control/…`: fault injection and the session log, for tests and the demo.
//!
//! Mounted only with `--enable-control` ([`Config::enable_control`](crate::Config)):
//! whoever reaches them can break or read any session. Every endpoint answers
//! JSON. Durations are query parameters in milliseconds (at most an hour), so
//! a browser can call them with a plain `fetch(url, { method: "POST" })`.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::faults::{ConnectionCommand, FaultWindow, SessionFaults, MAX_FAULT_DURATION};
use crate::request::json_error;
use crate::session_log::{ConnectionRecord, FrameRecord};
use crate::state::{iso_now, SharedState};

/// `?ms=N`
#[derive(Debug, Deserialize)]
pub struct Millis {
    ms: u64,
}

/// `?code=N&reason=…` (defaults: 4000, "closed by server")
#[derive(Debug, Deserialize)]
pub struct CloseQuery {
    code: Option<u16>,
    reason: Option<String>,
}

/// `?enabled=true|false` (default true)
#[derive(Debug, Deserialize)]
pub struct Toggle {
    enabled: Option<bool>,
}

/// `POST /control/{session_id}/drop`: drop every live connection of the session
/// abruptly (TCP close, no close frame).
pub async fn drop_connections(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
) -> Response {
    let affected = state
        .sessions
        .existing(&session_id, |s| s.command_live(&ConnectionCommand::Drop))
        .unwrap_or(0);
    Json(json!({ "affected": affected })).into_response()
}

/// `POST /control/{session_id}/close?code=&reason=`: close with a close frame.
pub async fn close_connections(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
    Query(query): Query<CloseQuery>,
) -> Response {
    let code = query.code.unwrap_or(4000);
    let reason = query
        .reason
        .unwrap_or_else(|| "closed by server".to_owned());
    if !(code == 1000 || (3000..=4999).contains(&code)) {
        return bad_request(format!("code must be 1000 or 3000..=4999, got {code}"));
    }
    if reason.len() > 123 {
        return bad_request("reason must be at most 123 bytes".to_owned());
    }
    let affected = state
        .sessions
        .existing(&session_id, |s| {
            s.command_live(&ConnectionCommand::Close { code, reason })
        })
        .unwrap_or(0);
    Json(json!({ "affected": affected })).into_response()
}

/// Opens the session fault `select` picks for `ms` milliseconds.
fn open_fault_window(
    state: &SharedState,
    session_id: &str,
    ms: u64,
    select: fn(&mut SessionFaults) -> &mut FaultWindow,
) {
    // A full server cannot take a fault for a new session: nothing to break.
    let _ = state.sessions.with(session_id, |s| {
        select(&mut s.faults).open_for(Duration::from_millis(ms), Instant::now())
    });
}

/// `POST /control/{session_id}/refuse?ms=N`: answer this session's upgrades with 503 for N ms.
pub async fn refuse_upgrades(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
    Query(Millis { ms }): Query<Millis>,
) -> Response {
    open_fault_window(&state, &session_id, ms, |faults| {
        &mut faults.refuse_upgrades
    });
    Json(json!({ "refusingForMs": ms })).into_response()
}

/// `POST /control/{session_id}/blackhole?ms=N`: the session's sockets that are
/// open, or opened, in the next N ms stay open but lose every frame in either
/// direction from then on, like a TCP connection over a dead path: nothing is
/// logged, answered or delivered (pushes stay numbered for replay) until the
/// client gives up on the socket. Sockets opened after the N ms work.
pub async fn blackhole(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
    Query(Millis { ms }): Query<Millis>,
) -> Response {
    open_fault_window(&state, &session_id, ms, |faults| &mut faults.blackhole);
    Json(json!({ "blackholeForMs": ms })).into_response()
}

/// `POST /control/{session_id}/delay-pongs?ms=N`: delay every pong by N ms (0 = off).
pub async fn delay_pongs(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
    Query(Millis { ms }): Query<Millis>,
) -> Response {
    let _ = state.sessions.with(&session_id, |s| {
        s.faults.set_pong_delay(Duration::from_millis(ms))
    });
    Json(json!({ "pongDelayMs": ms })).into_response()
}

/// `POST /control/{session_id}/mute-pings?enabled=true|false`: stop answering pings
/// while keeping the socket open (a half-open link).
pub async fn mute_pings(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
    Query(Toggle { enabled }): Query<Toggle>,
) -> Response {
    let muted = enabled.unwrap_or(true);
    let _ = state
        .sessions
        .with(&session_id, |s| s.faults.set_mute_pings(muted));
    Json(json!({ "mutePings": muted })).into_response()
}

/// `POST /control/{session_id}/fail-posts?ms=N`: answer this session's
/// `POST /messages` with 503 for N ms.
pub async fn fail_posts(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
    Query(Millis { ms }): Query<Millis>,
) -> Response {
    open_fault_window(&state, &session_id, ms, |faults| &mut faults.fail_posts);
    Json(json!({ "failingPostsForMs": ms })).into_response()
}

/// `POST /control/{session_id}/drop-events`: end the session's event streams.
pub async fn drop_events(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
) -> Response {
    let affected = state
        .sessions
        .existing(&session_id, |s| s.drop_event_streams())
        .unwrap_or(0);
    Json(json!({ "affected": affected })).into_response()
}

/// `?count=N&interval_ms=M`
#[derive(Debug, Deserialize)]
pub struct PushQuery {
    count: u32,
    interval_ms: Option<u64>,
    /// The first push's `n` (default 1): a cluster test numbers pushes
    /// published on different nodes in one sequence.
    first: Option<u64>,
}

/// The most pushes one request may schedule.
const MAX_PUSHES: u32 = 100_000;
/// The most push tasks at once.
const MAX_PUSH_TASKS: usize = 64;

/// `POST /control/{session_id}/push?count=N&interval_ms=M[&first=F]`: the
/// server sends the session `{"type":"push","data":{"n":F…F+N-1}}` (F is 1
/// by default), numbered, one every M ms
/// (default 0; at most an hour), down every live channel; a client that is
/// away gets them by replay. At most 100,000 per request; the pushing task
/// yields after each, so a burst never holds a worker thread.
pub async fn push(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
    Query(PushQuery {
        count,
        interval_ms,
        first,
    }): Query<PushQuery>,
) -> Response {
    if count > MAX_PUSHES {
        return bad_request(format!("count must be at most {MAX_PUSHES}, got {count}"));
    }
    let interval = Duration::from_millis(interval_ms.unwrap_or(0)).min(MAX_FAULT_DURATION);
    if state.push_tasks.fetch_add(1, Ordering::Relaxed) >= MAX_PUSH_TASKS {
        state.push_tasks.fetch_sub(1, Ordering::Relaxed);
        return json_error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("at most {MAX_PUSH_TASKS} pushes run at once"),
        );
    }
    let pusher = state.clone();
    let target = session_id.clone();
    let stop = state.shutdown.clone();
    state.connections.spawn(async move {
        /// Gives the place back however the task ends.
        struct Running(SharedState);
        impl Drop for Running {
            fn drop(&mut self) {
                self.0.push_tasks.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let _running = Running(pusher.clone());
        let first = first.unwrap_or(1);
        for n in first..first.saturating_add(u64::from(count)) {
            if stop.is_cancelled() {
                break;
            }
            let envelope = json!({ "type": "push", "data": { "n": n }, "timestamp": iso_now() });
            // Through the publisher: on the Redis engine the frame is
            // numbered in the shared log and reaches whichever node holds
            // the session's channel.
            if pusher
                .publisher
                .publish_to_session(&target, envelope)
                .await
                .is_err()
            {
                break;
            }
            if interval.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    () = stop.cancelled() => break,
                }
            }
        }
    });
    Json(json!({ "scheduled": count })).into_response()
}

/// `POST /control/{session_id}/reset`: clear every fault of the session.
pub async fn reset_faults(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
) -> Response {
    state
        .sessions
        .existing(&session_id, |s| s.faults = Default::default());
    Json(json!({ "reset": true })).into_response()
}

/// `?after=N`: only frames numbered above N.
#[derive(Debug, Deserialize)]
pub struct LogQuery {
    after: Option<u64>,
}

/// `GET /control/{session_id}/log[?after=N]`: what the server saw from the
/// session; `after` pages through the frames by their `index` (a long run
/// outgrows the kept window, so a reader polls for what is new).
pub async fn session_log(
    State(state): State<SharedState>,
    Path(session_id): Path<String>,
    Query(LogQuery { after }): Query<LogQuery>,
) -> Response {
    let body = state.sessions.get(&session_id, |session| {
        serde_json::to_value(LogResponse {
            session_id: &session_id,
            connection_count: session.log.accepted_connections(),
            open_connections: session.log.open_connections(),
            last_seq: session.stream.last_seq(),
            connections: session.log.connections(),
            frames: session.log.frames_after(after.unwrap_or(0)).collect(),
            forgotten_frames: session.log.forgotten_frames(),
        })
    });
    match body {
        Some(Ok(body)) => Json(body).into_response(),
        Some(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        None => json_error(
            StatusCode::NOT_FOUND,
            &format!("no session {session_id:?} has been seen"),
        ),
    }
}

/// The body of `GET /control/{session_id}/log`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogResponse<'a> {
    session_id: &'a str,
    /// Accepted connections (refused attempts are in `connections` too).
    connection_count: usize,
    open_connections: usize,
    /// The `seq` of the last frame the server numbered for the session.
    last_seq: u64,
    connections: &'a VecDeque<ConnectionRecord>,
    frames: Vec<&'a FrameRecord>,
    /// Frames no longer kept (the log is bounded).
    forgotten_frames: u64,
}

/// `POST /control/down?ms=N`: the whole server goes down for N ms: every live
/// connection and event stream is dropped, and every upgrade, POST and event
/// stream request is answered 503 until then.
pub async fn server_down(
    State(state): State<SharedState>,
    Query(Millis { ms }): Query<Millis>,
) -> Response {
    state
        .down
        .down_for(Duration::from_millis(ms), Instant::now());
    let dropped = state.sessions.command_everyone(&ConnectionCommand::Drop)
        + state.sessions.drop_every_event_stream();
    Json(json!({ "downForMs": ms, "dropped": dropped })).into_response()
}

fn bad_request(message: String) -> Response {
    json_error(StatusCode::BAD_REQUEST, &message)
}
