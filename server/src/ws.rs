//! `GET /ws`: the WebSocket endpoint, one task per connection.
//!
//! A connection's task reads frames, answers pings and control frames at
//! once, hands envelopes to the application one at a time (in order; the
//! socket keeps being read meanwhile, up to [`MAX_PENDING`] waiting), and
//! writes what the session pushes. Every way a client could make it hold
//! more is bounded: message size (1009), message rate (1013), the push
//! queue of a client that does not read (1013), silence (1001), slow writes.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, RawQuery, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::auth::{Rejection, RequestInfo};
use crate::exchange::{self, Claim, Intake, Job};
use crate::faults::{ConnectionCommand, PongPolicy, MAX_FAULT_DURATION};
use crate::handler::{BoxFuture, Channel, Context};
use crate::listener::{peer_of, ConnectionSlot};
use crate::protocol::Inbound;
use crate::queue;
use crate::request::{
    authorize, session_id_or_random, too_many_sessions, unavailable, SessionCheck,
};
use crate::session_log::{redact_query, ConnectionRecord, FrameRecord};
use crate::sessions::LiveSocket;
use crate::state::{iso_now, SharedState};
use crate::stream::{ResumeRequest, PROTOCOL_V1_1};

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

fn flag(value: Option<&String>) -> bool {
    value.is_some_and(|v| matches!(v.as_str(), "" | "1" | "true"))
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
    let session_id = match session_id_or_random(query.session_id.clone(), &state.limits) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let raw_query = raw_query.unwrap_or_default();
    let info = RequestInfo {
        channel: Channel::WebSocket,
        session_id: session_id.clone(),
        origin: crate::request::origin(&headers),
        headers,
        query: crate::request::parse_query(&raw_query),
        peer: peer_of(&extensions),
    };
    let identity = match authorize(&state, &info).await {
        Ok(identity) => identity,
        Err(rejection) => return refuse_socket(upgrade, rejection, slot_of(&extensions)),
    };
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
            if let Some(flag) = &query.mute_pings {
                session
                    .faults
                    .set_mute_pings(matches!(flag.as_str(), "" | "1" | "true"));
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
        acknowledge: flag(query.ack.as_ref()),
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
    /// The server closed it with this code and reason (a command, or a limit).
    ServerClose(u16, String),
    Shutdown,
}

/// Work for the application, in arrival order. A text job's claim takes
/// its id's mark back if the connection ends before it is handled.
enum Work {
    Text(Job, Claim),
    Binary(axum::body::Bytes),
}

/// The writing half with the send timeout: a write that does not finish in
/// time (a client that stopped reading with full TCP buffers) ends the connection.
struct Writer {
    sink: SplitSink<WebSocket, Message>,
    timeout: Duration,
}

impl Writer {
    /// Sends `message`; false when the connection is gone or too slow.
    async fn send(&mut self, message: Message) -> bool {
        matches!(
            tokio::time::timeout(self.timeout, self.sink.send(message)).await,
            Ok(Ok(()))
        )
    }
}

async fn serve_connection(
    socket: WebSocket,
    state: SharedState,
    context: Context,
    connection: u64,
    options: ConnectionOptions,
    // Held for the connection's life (and its backlog's): it counts against
    // the connection caps.
    slot: Option<Arc<ConnectionSlot>>,
) {
    let session_id = Arc::clone(&context.session_id);
    let limits = Arc::clone(&state.limits);
    let (commands_tx, mut commands) =
        queue::channel(limits.send_queue_frames, limits.send_queue_bytes);
    let overflowed = CancellationToken::new();
    let live = LiveSocket {
        commands: commands_tx,
        overflowed: overflowed.clone(),
    };
    let (sink, mut stream) = socket.split();
    let mut writer = Writer {
        sink,
        timeout: limits.send_timeout,
    };
    if state
        .sessions
        .attach(&session_id, connection, live)
        .is_err()
    {
        let _ = writer.send(close_message(1013, "the server is full")).await;
        return;
    }
    state.live_connections.fetch_add(1, Ordering::Relaxed);
    state.accepted_connections.fetch_add(1, Ordering::Relaxed);

    // A v1.1 client first hears the stream's epoch; a resuming client then
    // gets what it missed, in order (or the whole stream after a reset).
    // A connection caught by the blackhole fault stays dead for good, as a TCP
    // connection over a dead path does: what it lost is never delivered late.
    let mut dead = blackholed(&state, &session_id);
    let mut ending = None;
    if !dead {
        let opening = state
            .sessions
            .existing(&session_id, |s| s.stream.opening(&options.resume_request()))
            .unwrap_or_default();
        for (_, text) in opening {
            if !writer.send(Message::Text(text.into())).await {
                ending = Some(Ending::ClientGone);
                break;
            }
        }
    }
    // What the client sent and the application has not finished yet.
    let mut backlog = Backlog::default();
    let ending = match ending {
        Some(ending) => ending,
        None => {
            let mut reader = Reader {
                state: &state,
                context: &context,
                connection,
                acknowledge: options.acknowledge,
                limiter: crate::rate::RateLimiter::new(limits.message_rate, Instant::now()),
                dead: &mut dead,
            };
            run(
                &mut reader,
                &mut writer,
                &mut stream,
                &mut commands,
                &overflowed,
                &mut backlog,
            )
            .await
        }
    };
    backlog.finish_without_socket(&state, &context, slot);

    if !matches!(ending, Ending::ServerDrop | Ending::ClientGone) {
        // Let the closing handshake complete (flushes our reply to the client's
        // close, or reads the client's reply to ours), but not forever.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE_TIMEOUT, async {
            let _ = writer.sink.flush().await;
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
    }
    // Dropping both halves closes the TCP connection; for `ServerDrop` that
    // happens without any close frame, which the client sees as code 1006.
    drop((writer, stream));

    let (closed_by, close) = match ending {
        Ending::ClientClose(close) => ("client-close", close),
        Ending::ClientGone => ("client-gone", None),
        Ending::ServerDrop => ("server-drop", None),
        Ending::ServerClose(code, reason) => ("server-close", Some((code, reason))),
        Ending::Shutdown => ("shutdown", Some((1001, "server shutting down".to_owned()))),
    };
    let at = state.elapsed_ms();
    state.sessions.existing(&session_id, |s| {
        s.log.record_close(connection, at, closed_by, close);
    });
    state.sessions.detach(&session_id, connection);
    state.live_connections.fetch_sub(1, Ordering::Relaxed);
}

/// What reading a frame needs.
struct Reader<'a> {
    state: &'a SharedState,
    context: &'a Context,
    connection: u64,
    acknowledge: bool,
    limiter: crate::rate::RateLimiter,
    dead: &'a mut bool,
}

/// What a received frame asks of the loop.
enum Read {
    /// Send these now.
    Send(Vec<Message>),
    /// Send this pong after the delay (the delay-pongs fault).
    DelayedPong(Instant, Message),
    /// Queue this for the application.
    Work(Work),
    /// End the connection.
    End(Ending),
    /// Nothing to do.
    Nothing,
}

impl Reader<'_> {
    fn read(&mut self, incoming: Option<Result<Message, axum::Error>>) -> Read {
        let state = self.state;
        let session_id = &*self.context.session_id;
        *self.dead = *self.dead || blackholed(state, session_id);
        if *self.dead && matches!(incoming, Some(Ok(_))) {
            return Read::Nothing;
        }
        let message = match incoming {
            Some(Ok(message)) => message,
            Some(Err(error)) => {
                return Read::End(if is_too_big(error) {
                    Ending::ServerClose(1009, "message too big".to_owned())
                } else {
                    Ending::ClientGone
                });
            }
            None => return Read::End(Ending::ClientGone),
        };
        let counts = matches!(message, Message::Text(_) | Message::Binary(_));
        if counts && !self.limiter.allow(Instant::now()) {
            return Read::End(Ending::ServerClose(1013, "message rate limit".to_owned()));
        }
        match message {
            Message::Text(text) => self.read_text(text.as_str()),
            Message::Binary(bytes) => {
                if state.sessions.logging() {
                    let record =
                        FrameRecord::binary(self.connection, state.elapsed_ms(), bytes.len());
                    state
                        .sessions
                        .existing(session_id, |s| s.log.record_frame(record));
                }
                Read::Work(Work::Binary(bytes))
            }
            Message::Close(frame) => Read::End(Ending::ClientClose(
                frame.map(|f| (f.code, f.reason.to_string())),
            )),
            Message::Ping(_) | Message::Pong(_) => Read::Nothing,
        }
    }

    fn read_text(&mut self, text: &str) -> Read {
        let state = self.state;
        let inbound = Inbound::parse(text);
        let record = state
            .sessions
            .logging()
            .then(|| FrameRecord::text(self.connection, state.elapsed_ms(), text, &inbound));
        let now = iso_now();
        let limits = &state.limits;
        let acknowledge = self.acknowledge;
        let answer = state
            .sessions
            .existing(&self.context.session_id, |session| {
                let intake = exchange::intake(session, inbound, acknowledge, limits, &now);
                if let Some(mut record) = record {
                    record.duplicate = matches!(intake, Intake::Duplicate(_) | Intake::Ignore);
                    session.log.record_frame(record);
                }
                (intake, session.faults.pong_policy())
            });
        match answer {
            None => Read::End(Ending::ServerClose(1013, "session forgotten".to_owned())),
            Some((Intake::Pong(pong), policy)) => match policy {
                PongPolicy::Immediate => Read::Send(vec![Message::Text(pong.into())]),
                PongPolicy::Delay(delay) => {
                    Read::DelayedPong(Instant::now() + delay, Message::Text(pong.into()))
                }
                PongPolicy::Mute => Read::Nothing,
            },
            Some((Intake::Answer(texts), _)) => {
                Read::Send(texts.into_iter().map(|t| Message::Text(t.into())).collect())
            }
            Some((Intake::Duplicate(ack), _)) => Read::Send(vec![Message::Text(ack.into())]),
            Some((Intake::Handle(job), _)) => {
                let (job, claim) = job.claimed(&state.sessions, &self.context.session_id);
                Read::Work(Work::Text(job, claim))
            }
            Some((Intake::Ignore, _)) => Read::Nothing,
        }
    }
}

/// Messages received and not yet answered: the one being handled, and those
/// waiting their turn.
#[derive(Default)]
struct Backlog {
    pending: VecDeque<Work>,
    working: Option<BoxFuture<'static, Vec<Message>>>,
}

impl Backlog {
    /// The connection ended with messages still unhandled: they were
    /// received, so they are handled all the same (their replies are kept
    /// for replay; a resend of them is answered with the ack), in a task of
    /// their own that shutdown waits for. The task keeps the connection's
    /// place in the caps until it is done, so a client that sends and
    /// disconnects over and over holds no more than its connections would.
    /// Binary frames need the socket: dropped.
    fn finish_without_socket(
        self,
        state: &SharedState,
        context: &Context,
        slot: Option<Arc<ConnectionSlot>>,
    ) {
        let Backlog { pending, working } = self;
        if working.is_none() && pending.is_empty() {
            return;
        }
        let state = Arc::clone(state);
        let context = context.clone();
        state.connections.clone().spawn(async move {
            let _slot = slot;
            if let Some(working) = working {
                working.await;
            }
            for work in pending {
                if let Work::Text(..) = work {
                    start(Arc::clone(&state), context.clone(), work).await;
                }
            }
        });
    }
}

/// The connection's loop; returns how it ended.
async fn run(
    reader: &mut Reader<'_>,
    writer: &mut Writer,
    stream: &mut SplitStream<WebSocket>,
    commands: &mut queue::Receiver<ConnectionCommand>,
    overflowed: &CancellationToken,
    backlog: &mut Backlog,
) -> Ending {
    let state = reader.state;
    let idle_timeout = state.limits.idle_timeout;
    let Backlog { pending, working } = backlog;
    // Delayed pongs all wait the same delay, so arrival order is deadline order.
    let mut delayed: VecDeque<(Instant, Message)> = VecDeque::new();
    // At least a millisecond: `interval(0)` panics (a library user's Limits
    // are not checked the way the flags are).
    let mut heartbeat = tokio::time::interval((idle_timeout / 3).max(Duration::from_millis(1)));
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    loop {
        let next_pong = delayed
            .front()
            .map(|(at, _)| tokio::time::Instant::from_std(*at));
        tokio::select! {
            incoming = stream.next(), if pending.len() < MAX_PENDING => {
                last_heard = Instant::now();
                match reader.read(incoming) {
                    Read::Send(messages) => {
                        for message in messages {
                            if !writer.send(message).await {
                                return Ending::ClientGone;
                            }
                        }
                    }
                    Read::DelayedPong(at, pong) => delayed.push_back((at, pong)),
                    Read::Work(work) => pending.push_back(work),
                    Read::End(Ending::ServerClose(code, reason)) => {
                        let _ = writer.send(close_message(code, &reason)).await;
                        return Ending::ServerClose(code, reason);
                    }
                    Read::End(ending) => return ending,
                    Read::Nothing => {}
                }
            }
            messages = async {
                match working.as_mut() {
                    Some(work) => work.await,
                    None => std::future::pending().await,
                }
            }, if working.is_some() => {
                *working = None;
                for message in messages {
                    if !*reader.dead && !writer.send(message).await {
                        return Ending::ClientGone;
                    }
                }
            }
            () = sleep_until_or_never(next_pong), if next_pong.is_some() => {
                if let Some((_, pong)) = delayed.pop_front() {
                    if !writer.send(pong).await {
                        return Ending::ClientGone;
                    }
                }
            }
            Some(command) = commands.recv() => match command {
                ConnectionCommand::Send(_) if *reader.dead || blackholed(state, &reader.context.session_id) => {
                    *reader.dead = true;
                }
                ConnectionCommand::Send(text) => {
                    if !writer.send(Message::Text(text.into())).await {
                        return Ending::ClientGone;
                    }
                }
                ConnectionCommand::Drop => return Ending::ServerDrop,
                ConnectionCommand::Close { code, reason } => {
                    let _ = writer.send(close_message(code, &reason)).await;
                    return Ending::ServerClose(code, reason);
                }
            },
            () = overflowed.cancelled() => {
                let reason = "send queue full: the client is not reading";
                let _ = writer.send(close_message(1013, reason)).await;
                return Ending::ServerClose(1013, reason.to_owned());
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= idle_timeout {
                    let _ = writer.send(close_message(1001, "idle timeout")).await;
                    return Ending::ServerClose(1001, "idle timeout".to_owned());
                }
                // A protocol-level ping: browsers answer it by themselves,
                // so a live client is never silent for the whole timeout.
                if !*reader.dead && !writer.send(Message::Ping(Default::default())).await {
                    return Ending::ClientGone;
                }
            }
            () = state.shutdown.cancelled() => {
                let _ = writer.send(close_message(1001, "server shutting down")).await;
                return Ending::Shutdown;
            }
        }
        if working.is_none() {
            *working = pending
                .pop_front()
                .map(|work| start(Arc::clone(state), reader.context.clone(), work));
        }
    }
}

/// The application's handling of one piece of work, as an owned future.
fn start(state: SharedState, context: Context, work: Work) -> BoxFuture<'static, Vec<Message>> {
    Box::pin(async move {
        match work {
            Work::Text(job, claim) => exchange::handle(&state, &context, job, claim)
                .await
                .into_iter()
                .map(|text| Message::Text(text.into()))
                .collect(),
            Work::Binary(bytes) => state
                .handler
                .on_binary(&context, bytes)
                .await
                .into_iter()
                .map(Message::Binary)
                .collect(),
        }
    })
}

async fn sleep_until_or_never(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Whether a read error is tungstenite's "message too long".
fn is_too_big(error: axum::Error) -> bool {
    error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|error| matches!(*error, tungstenite::Error::Capacity(_)))
}

/// Whether the session's frames are being lost (the blackhole fault).
fn blackholed(state: &SharedState, session_id: &str) -> bool {
    let now = Instant::now();
    state
        .sessions
        .get(session_id, |s| s.faults.blackhole.is_open(now))
        .unwrap_or(false)
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
