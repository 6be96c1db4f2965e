//! `GET /ws`: the WebSocket endpoint, one task per connection.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::faults::{ConnectionCommand, PongPolicy};
use crate::protocol::Inbound;
use crate::random::random_token;
use crate::session_log::{ConnectionRecord, FrameRecord};
use crate::sessions::Reply;
use crate::state::{iso_now, SharedState};
use crate::stream::{ResumeRequest, PROTOCOL_V1_1};

/// Random bytes in the name of a session opened without an id.
const ANONYMOUS_ID_BYTES: usize = 16;

/// How long the server waits for the peer's half of a closing handshake.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// Query parameters of `/ws`. The fault parameters apply to the whole session
/// from this connection on, like the matching control endpoints.
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

fn flag(value: Option<&String>) -> bool {
    value.is_some_and(|v| matches!(v.as_str(), "" | "1" | "true"))
}

/// Upgrades to a WebSocket unless a fault says to refuse with 503.
pub async fn upgrade(
    State(state): State<SharedState>,
    Query(query): Query<WsQuery>,
    RawQuery(raw_query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let connection = state.sessions.next_connection_id();
    let session_id = query
        .session_id
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| format!("anonymous-{}", random_token(ANONYMOUS_ID_BYTES)));
    let now = Instant::now();
    let refused = state.shutdown.is_cancelled()
        || state.down.is_down(now)
        || state.sessions.with(&session_id, |session| {
            if let Some(ms) = query.delay_pongs {
                session.faults.set_pong_delay(Duration::from_millis(ms));
            }
            if let Some(flag) = &query.mute_pings {
                session
                    .faults
                    .set_mute_pings(matches!(flag.as_str(), "" | "1" | "true"));
            }
            session.faults.refuse_upgrades.is_open(now)
        });
    let record = ConnectionRecord {
        connection,
        attempted_at: iso_now(),
        attempted_at_ms: state.elapsed_ms(),
        outcome: if refused { "refused" } else { "accepted" },
        query: raw_query.unwrap_or_default(),
        closed_at_ms: None,
        closed_by: None,
        close_code: None,
        close_reason: None,
    };
    state
        .sessions
        .with(&session_id, |session| session.log.record_attempt(record));
    if refused {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "refusing connections (fault injection)",
        )
            .into_response();
    }
    let failed_state = state.clone();
    let failed_session = session_id.clone();
    let tracker = state.connections.clone();
    let options = ConnectionOptions {
        acknowledge: flag(query.ack.as_ref()),
        v1_1: query.protocol.as_deref() == Some(PROTOCOL_V1_1),
        last_seq: query.last_seq,
        epoch: query.epoch,
    };
    upgrade
        .on_failed_upgrade(move |_| {
            let at = failed_state.elapsed_ms();
            failed_state.sessions.with(&failed_session, |session| {
                session
                    .log
                    .record_close(connection, at, "upgrade-failed", None)
            });
        })
        .on_upgrade(move |socket| {
            tracker.track_future(serve_connection(
                socket, state, session_id, connection, options,
            ))
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
    fn resume_request(&self) -> ResumeRequest<'_> {
        ResumeRequest {
            v1_1: self.v1_1,
            last_seq: self.last_seq,
            epoch: self.epoch.as_deref(),
        }
    }
}

/// How a connection ended.
enum Ending {
    ClientClose(Option<(u16, String)>),
    ClientGone,
    ServerDrop,
    ServerClose(u16, String),
    Shutdown,
}

async fn serve_connection(
    socket: WebSocket,
    state: SharedState,
    session_id: String,
    connection: u64,
    options: ConnectionOptions,
) {
    let (commands_tx, mut commands) = mpsc::unbounded_channel();
    state.sessions.attach(&session_id, connection, commands_tx);
    state.live_connections.fetch_add(1, Ordering::Relaxed);
    state.accepted_connections.fetch_add(1, Ordering::Relaxed);
    eprintln!("ws: session {session_id} connection {connection} opened");

    let (mut sink, mut stream) = socket.split();
    // A v1.1 client first hears the stream's epoch; a resuming client then
    // gets what it missed, in order (or the whole stream after a reset).
    // A connection caught by the blackhole fault stays dead for good, as a TCP
    // connection over a dead path does: what it lost is never delivered late.
    let mut dead = blackholed(&state, &session_id);
    if !dead {
        let opening = state
            .sessions
            .with(&session_id, |s| s.stream.opening(&options.resume_request()));
        for (_, text) in opening {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    }
    // Pongs that a fault delays come back through this channel.
    let (delayed_tx, mut delayed) = mpsc::unbounded_channel::<Message>();
    let ending = loop {
        tokio::select! {
            incoming = stream.next() => {
                dead = dead || blackholed(&state, &session_id);
                if dead && matches!(incoming, Some(Ok(_))) {
                    continue;
                }
                let reply = match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let answer = answer_text(&state, &session_id, connection, text.as_str(), options.acknowledge);
                        if let Some(ack) = answer.ack {
                            if sink.send(ack).await.is_err() {
                                break Ending::ClientGone;
                            }
                        }
                        match answer.reply {
                            Some((PongPolicy::Immediate, reply)) => Some(reply),
                            Some((PongPolicy::Delay(delay), reply)) => {
                                let delayed_tx = delayed_tx.clone();
                                tokio::spawn(async move {
                                    tokio::time::sleep(delay).await;
                                    let _ = delayed_tx.send(reply);
                                });
                                None
                            }
                            Some((PongPolicy::Mute, _)) | None => None,
                        }
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        let record = FrameRecord::binary(connection, state.elapsed_ms(), bytes.len());
                        state.sessions.with(&session_id, |s| s.log.record_frame(record));
                        Some(Message::Binary(bytes))
                    }
                    Some(Ok(Message::Close(frame))) => {
                        break Ending::ClientClose(frame.map(|f| (f.code, f.reason.to_string())));
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                    Some(Err(_)) | None => break Ending::ClientGone,
                };
                if let Some(reply) = reply {
                    if sink.send(reply).await.is_err() {
                        break Ending::ClientGone;
                    }
                }
            }
            Some(reply) = delayed.recv() => {
                if sink.send(reply).await.is_err() {
                    break Ending::ClientGone;
                }
            }
            Some(command) = commands.recv() => match command {
                ConnectionCommand::Send(_) if dead || blackholed(&state, &session_id) => {
                    dead = true;
                }
                ConnectionCommand::Send(text) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break Ending::ClientGone;
                    }
                }
                ConnectionCommand::Drop => break Ending::ServerDrop,
                ConnectionCommand::Close { code, reason } => {
                    let _ = sink.send(close_message(code, &reason)).await;
                    break Ending::ServerClose(code, reason);
                }
            },
            () = state.shutdown.cancelled() => {
                let _ = sink.send(close_message(1001, "server shutting down")).await;
                break Ending::Shutdown;
            }
        }
    };

    if !matches!(ending, Ending::ServerDrop | Ending::ClientGone) {
        // Let the closing handshake complete (flushes our reply to the client's
        // close, or reads the client's reply to ours), but not forever.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE_TIMEOUT, async {
            let _ = sink.flush().await;
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
    }
    // Dropping both halves closes the TCP connection; for `ServerDrop` that
    // happens without any close frame, which the client sees as code 1006.
    drop((sink, stream));

    let (closed_by, close) = match ending {
        Ending::ClientClose(close) => ("client-close", close),
        Ending::ClientGone => ("client-gone", None),
        Ending::ServerDrop => ("server-drop", None),
        Ending::ServerClose(code, reason) => ("server-close", Some((code, reason))),
        Ending::Shutdown => ("shutdown", Some((1001, "server shutting down".to_owned()))),
    };
    let at = state.elapsed_ms();
    state.sessions.detach(&session_id, connection);
    state.sessions.with(&session_id, |s| {
        s.log.record_close(connection, at, closed_by, close)
    });
    state.live_connections.fetch_sub(1, Ordering::Relaxed);
    eprintln!("ws: session {session_id} connection {connection} ended ({closed_by})");
}

/// Whether the session's frames are being lost (the blackhole fault).
fn blackholed(state: &SharedState, session_id: &str) -> bool {
    let now = Instant::now();
    state
        .sessions
        .with(session_id, |s| s.faults.blackhole.is_open(now))
}

/// What to send back for one text frame.
struct Answer {
    /// The acknowledgement, for connections that asked for them.
    ack: Option<Message>,
    /// The reply and how to send it; `None` for a suppressed duplicate.
    reply: Option<(PongPolicy, Message)>,
}

/// Logs a text frame and works out what to send back (see `Session::accept`);
/// pongs take the session's pong faults into account.
fn answer_text(
    state: &SharedState,
    session_id: &str,
    connection: u64,
    text: &str,
    acknowledge: bool,
) -> Answer {
    let inbound = Inbound::parse(text);
    let record = FrameRecord::text(connection, state.elapsed_ms(), text, &inbound);
    let now = iso_now();
    state.sessions.with(session_id, |session| {
        let accepted = session.accept(&inbound, record, acknowledge, &now);
        let reply = accepted.reply.map(|reply| match reply {
            Reply::Pong(text) => (session.faults.pong_policy(), Message::Text(text.into())),
            Reply::Numbered(text) => (PongPolicy::Immediate, Message::Text(text.into())),
        });
        Answer {
            ack: accepted.ack.map(|text| Message::Text(text.into())),
            reply,
        }
    })
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
