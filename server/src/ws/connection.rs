//! One connection's task: the opening frames, the loop over reads, work,
//! pushes and timers, and the closing handshake.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::engine::redis::{EngineError, FeedItem, Subscription};
use crate::engine::sequencer::{Release, Sequencer};
use crate::engine::RedisEngine;
use crate::faults::ConnectionCommand;
use crate::handler::Context;
use crate::listener::ConnectionSlot;
use crate::queue;
use crate::sessions::LiveSocket;
use crate::state::SharedState;
use crate::stream::ResumeRequest;

use super::backlog::{start, Backlog};
use super::reader::{blackholed, Read, Reader};
use super::{close_message, ConnectionOptions, Out, CLOSE_HANDSHAKE_TIMEOUT, MAX_PENDING};

/// How a connection ended.
pub(super) enum Ending {
    ClientClose(Option<(u16, String)>),
    ClientGone,
    ServerDrop,
    /// The server closed it with this code and reason (a command, or a limit).
    ServerClose(u16, String),
    Shutdown,
}

/// Why a socket whose send queue overflowed is closed.
const OVERFLOW_REASON: &str = "send queue full: the client is not reading";

/// The writing half with the send timeout: a write that does not finish in
/// time (a client that stopped reading with full TCP buffers) ends the
/// connection, and so does the send queue's overflow, even while a write
/// waits on a full TCP buffer (so the queue bound holds whatever the
/// timeout).
struct Writer {
    sink: SplitSink<WebSocket, Message>,
    timeout: Duration,
    overflowed: CancellationToken,
}

impl Writer {
    /// Sends `message`; false when the connection is gone, too slow, or
    /// its queue overflowed.
    async fn send(&mut self, message: Message) -> bool {
        tokio::select! {
            sent = tokio::time::timeout(self.timeout, self.sink.send(message)) => matches!(sent, Ok(Ok(()))),
            () = self.overflowed.cancelled() => false,
        }
    }

    /// How a connection whose write failed ended: the overflow's close, or the client gone.
    fn gone(&self) -> Ending {
        if self.overflowed.is_cancelled() {
            Ending::ServerClose(1013, OVERFLOW_REASON.to_owned())
        } else {
            Ending::ClientGone
        }
    }

    /// Sends `out`: a numbered frame through the sequencer, so that frames
    /// go out in `seq` order whichever path brought them (this socket's
    /// replies, pushes, the log). `Err` ends the connection.
    async fn emit(&mut self, sequencer: &mut Sequencer, out: Out) -> Result<(), Ending> {
        match out {
            Out::Message(message) => {
                if self.send(message).await {
                    Ok(())
                } else {
                    Err(self.gone())
                }
            }
            Out::Numbered(seq, text) => {
                let release = sequencer.offer(seq, text, Instant::now());
                self.release(release).await
            }
            Out::Close(code, reason) => {
                let _ = self.send(close_message(code, &reason)).await;
                Err(Ending::ServerClose(code, reason))
            }
        }
    }

    async fn release(&mut self, release: Release) -> Result<(), Ending> {
        for text in release.ready {
            if !self.send(Message::Text(text.into())).await {
                return Err(self.gone());
            }
        }
        if release.overflowed {
            let reason = "too far behind the session's stream";
            let _ = self.send(close_message(1013, reason)).await;
            return Err(Ending::ServerClose(1013, reason.to_owned()));
        }
        Ok(())
    }
}

pub(super) async fn serve_connection(
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
        overflowed: overflowed.clone(),
    };
    if state
        .sessions
        .attach(&session_id, connection, live)
        .is_err()
    {
        let _ = writer
            .send(close_message(1013, "the server is full; retry after 5 s"))
            .await;
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
    let mut sequencer = Sequencer::new(0);
    let mut cluster = None;
    if !dead {
        let request = options.resume_request(&state.limits);
        let opened = match state.engine.as_redis() {
            None => Ok(state
                .sessions
                .existing(&session_id, |s| {
                    (s.stream.opening(&request), s.stream.last_seq())
                })
                .unwrap_or_default()),
            Some(redis) => open_clustered(redis, &session_id, &request).await.map(
                |(joined, opening, last_seq)| {
                    cluster = Some(joined);
                    (opening, last_seq)
                },
            ),
        };
        match opened {
            Ok((opening, last_seq)) => {
                // Everything numbered up to here is in the opening (or was not
                // asked for); what was numbered after it and queued meanwhile
                // (pushes, the feed) goes next.
                sequencer = Sequencer::new(last_seq);
                for (_, text) in opening {
                    if !writer.send(Message::Text(text.into())).await {
                        ending = Some(writer.gone());
                        break;
                    }
                }
            }
            Err(error) => {
                eprintln!("resocket-server: {error}: closing the socket");
                let reason = "the cluster's store is unavailable";
                let _ = writer.send(close_message(1013, reason)).await;
                ending = Some(Ending::ServerClose(1013, reason.to_owned()));
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
            let feed = cluster.as_mut().map(|joined: &mut Cluster| ClusterFeed {
                items: &mut joined.subscription.items,
                lost: joined.subscription.lost.clone(),
                overflowed: joined.subscription.overflowed.clone(),
                redis: Arc::clone(&joined.redis),
                epoch: joined.epoch.clone(),
            });
            run(
                &mut reader,
                &mut writer,
                &mut stream,
                &mut commands,
                &overflowed,
                &mut backlog,
                Numbering {
                    sequencer: &mut sequencer,
                    feed,
                },
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

/// The connection's loop; returns how it ended.
async fn run(
    reader: &mut Reader<'_>,
    writer: &mut Writer,
    stream: &mut SplitStream<WebSocket>,
    commands: &mut queue::Receiver<ConnectionCommand>,
    overflowed: &CancellationToken,
    backlog: &mut Backlog,
    numbering: Numbering<'_>,
) -> Ending {
    let Numbering {
        sequencer,
        mut feed,
    } = numbering;
    let feed_broken = feed
        .as_ref()
        .map(|feed| (feed.lost.clone(), feed.overflowed.clone()));
    let fill_from = feed
        .as_ref()
        .map(|feed| (Arc::clone(&feed.redis), feed.epoch.clone()));
    let state = reader.state;
    let idle_timeout = state.limits.idle_timeout;
    let Backlog { pending, working } = backlog;
    // Delayed pongs all wait the same delay, so arrival order is deadline order.
    let mut delayed: VecDeque<(Instant, Message)> = VecDeque::new();
    // At least a millisecond: `interval(0)` panics (a library user's Limits
    // are not checked the way the flags are).
    let mut heartbeat = tokio::time::interval((idle_timeout / 3).max(Duration::from_millis(1)));
    heartbeat.tick().await;
    // When the client last did something: sent a frame (a pong to the
    // server's pings too), or had one of its messages answered. While the
    // server does not read (its backlog of the client's work is full) the
    // silence is the server's, and the idle clock does not run: an active
    // client is never closed as idle. Pushes do not count: they say nothing
    // of a client that is gone.
    let mut last_active = Instant::now();
    loop {
        let next_pong = delayed
            .front()
            .map(|(at, _)| tokio::time::Instant::from_std(*at));
        tokio::select! {
            incoming = stream.next(), if pending.len() < MAX_PENDING => {
                last_active = Instant::now();
                match reader.read(incoming) {
                    Read::Send(frames) => {
                        for out in frames {
                            if let Err(ending) = writer.emit(sequencer, out).await {
                                return ending;
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
                last_active = Instant::now();
                for out in messages {
                    if *reader.dead {
                        break;
                    }
                    if let Err(ending) = writer.emit(sequencer, out).await {
                        return ending;
                    }
                }
            }
            () = sleep_until_or_never(sequencer.fill_at().map(tokio::time::Instant::from_std)), if sequencer.fill_at().is_some() => {
                // A numbered frame this socket never got (another channel's
                // reply, a feed message lost): read it from the log, or move
                // past it if trimmed.
                let filled = match &fill_from {
                    None => fill_from_memory(state, &reader.context.session_id, sequencer.sent()),
                    Some((redis, epoch)) => redis
                        .store
                        .continuation(&reader.context.session_id, epoch, sequencer.sent())
                        .await
                        .ok_or(()),
                };
                let Ok((frames, first_available)) = filled else {
                    let reason = "the session's stream is gone";
                    let _ = writer.send(close_message(1013, reason)).await;
                    return Ending::ServerClose(1013, reason.to_owned());
                };
                let release = sequencer.fill(frames, first_available, Instant::now());
                if let Err(ending) = writer.release(release).await {
                    return ending;
                }
            }
            item = async {
                match feed.as_mut() {
                    Some(feed) => feed.items.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                let out = match item {
                    Some(FeedItem::Numbered(seq, text)) => Out::Numbered(seq, text),
                    Some(FeedItem::Unnumbered(text)) => Out::Message(Message::Text(text.into())),
                    None => Out::Close(1013, "the cluster's feed ended".to_owned()),
                };
                if !*reader.dead {
                    if let Err(ending) = writer.emit(sequencer, out).await {
                        return ending;
                    }
                }
            }
            () = async {
                match &feed_broken {
                    Some((lost, overflowed)) => tokio::select! {
                        () = lost.cancelled() => {}
                        () = overflowed.cancelled() => {}
                    },
                    None => std::future::pending().await,
                }
            } => {
                // Frames published meanwhile may be lost to this socket: the
                // client resumes by seq on a connection whose feed is whole.
                let reason = "the cluster's feed was lost";
                let _ = writer.send(close_message(1013, reason)).await;
                return Ending::ServerClose(1013, reason.to_owned());
            }
            () = sleep_until_or_never(next_pong), if next_pong.is_some() => {
                if let Some((_, pong)) = delayed.pop_front() {
                    if !writer.send(pong).await {
                        return writer.gone();
                    }
                }
            }
            Some(command) = commands.recv() => match command {
                ConnectionCommand::Send(_) | ConnectionCommand::Numbered(..) if *reader.dead || blackholed(state, &reader.context.session_id) => {
                    *reader.dead = true;
                }
                ConnectionCommand::Send(text) => {
                    if !writer.send(Message::Text(text.into())).await {
                        return writer.gone();
                    }
                }
                ConnectionCommand::Numbered(seq, text) => {
                    if let Err(ending) = writer.emit(sequencer, Out::Numbered(seq, text)).await {
                        return ending;
                    }
                }
                ConnectionCommand::Drop => return Ending::ServerDrop,
                ConnectionCommand::Close { code, reason } => {
                    let _ = writer.send(close_message(code, &reason)).await;
                    return Ending::ServerClose(code, reason);
                }
            },
            () = overflowed.cancelled() => {
                // No close frame: the client reads nothing. The connection
                // is dropped after the bounded closing wait.
                return writer.gone();
            }
            _ = heartbeat.tick() => {
                if pending.len() < MAX_PENDING && last_active.elapsed() >= idle_timeout {
                    let _ = writer.send(close_message(1001, "idle timeout")).await;
                    return Ending::ServerClose(1001, "idle timeout".to_owned());
                }
                // A protocol-level ping: browsers answer it by themselves,
                // so a live client is never silent for the whole timeout.
                if !*reader.dead && !writer.send(Message::Ping(Default::default())).await {
                    return writer.gone();
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

/// A socket's place in the cluster: its share of the session's feed, and
/// the epoch its opening saw.
struct Cluster {
    redis: Arc<RedisEngine>,
    subscription: Subscription,
    epoch: String,
}

/// Where the loop's numbered frames are put in order, and (with the Redis
/// engine) the session's feed they also come from.
struct Numbering<'a> {
    sequencer: &'a mut Sequencer,
    feed: Option<ClusterFeed<'a>>,
}

/// What the connection's loop uses of its [`Cluster`].
struct ClusterFeed<'a> {
    items: &'a mut tokio::sync::mpsc::Receiver<FeedItem>,
    lost: CancellationToken,
    overflowed: CancellationToken,
    redis: Arc<RedisEngine>,
    epoch: String,
}

/// Subscribes to the session's feed, then reads the log: nothing numbered
/// between the two is missed (the sequencer drops what both bring).
async fn open_clustered(
    redis: &Arc<RedisEngine>,
    session_id: &str,
    request: &ResumeRequest<'_>,
) -> Result<(Cluster, Vec<(Option<u64>, String)>, u64), EngineError> {
    let subscription = redis.feed.subscribe(&redis.store, session_id).await?;
    let stored = redis.store.opening(session_id, request).await?;
    let opening = stored.state().opening(request, stored.frames.clone());
    let cluster = Cluster {
        redis: Arc::clone(redis),
        subscription,
        epoch: stored.epoch.clone(),
    };
    Ok((cluster, opening, stored.last_seq))
}

/// The frames after `after` and the first kept seq, from this process's log.
fn fill_from_memory(
    state: &SharedState,
    session_id: &str,
    after: u64,
) -> Result<(Vec<(u64, String)>, u64), ()> {
    state
        .sessions
        .existing(session_id, |s| {
            (
                s.stream.replay_after(after).frames,
                s.stream.state().first_available,
            )
        })
        .ok_or(())
}

async fn sleep_until_or_never(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
