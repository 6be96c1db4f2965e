//! Reading a frame: what it asks of the connection's loop.

use std::time::Instant;

use axum::extract::ws::Message;

use crate::exchange::{self, Intake};
use crate::faults::PongPolicy;
use crate::handler::Context;
use crate::protocol::Inbound;
use crate::session_log::FrameRecord;
use crate::state::{iso_now, SharedState};

use super::backlog::Work;
use super::connection::Ending;
use super::Out;

/// The close reason past the message rate: its wait is the 429's
/// Retry-After, in the form clients read from a 1013 (PROTOCOL.md §7).
pub(crate) const RATE_LIMIT_REASON: &str = "message rate limit; retry after 1 s";

/// What reading a frame needs.
pub(super) struct Reader<'a> {
    pub(super) state: &'a SharedState,
    pub(super) context: &'a Context,
    pub(super) connection: u64,
    pub(super) acknowledge: bool,
    pub(super) limiter: crate::rate::RateLimiter,
    pub(super) dead: &'a mut bool,
}

/// What a received frame asks of the loop.
pub(super) enum Read {
    /// Send these now.
    Send(Vec<Out>),
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
    pub(super) fn read(&mut self, incoming: Option<Result<Message, axum::Error>>) -> Read {
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
            return Read::End(Ending::ServerClose(1013, RATE_LIMIT_REASON.to_owned()));
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
        if state.engine.as_redis().is_some() {
            return self.read_clustered(inbound, record);
        }
        let answer = exchange::take(
            state,
            &self.context.session_id,
            inbound,
            record,
            self.acknowledge,
        );
        match answer {
            None => Read::End(Ending::ServerClose(1013, "session forgotten".to_owned())),
            Some((Intake::Pong(pong), policy)) => match policy {
                PongPolicy::Immediate => Read::Send(vec![Out::Message(Message::Text(pong.into()))]),
                PongPolicy::Delay(delay) => {
                    Read::DelayedPong(Instant::now() + delay, Message::Text(pong.into()))
                }
                PongPolicy::Mute => Read::Nothing,
            },
            Some((Intake::Answer(frames), _)) => {
                Read::Send(frames.into_iter().map(Out::from).collect())
            }
            Some((Intake::Duplicate(ack), _)) => {
                Read::Send(vec![Out::Message(Message::Text(ack.into()))])
            }
            Some((Intake::Handle(job), _)) => {
                let (job, claim) = job.claimed(&state.sessions, &self.context.session_id);
                Read::Work(Work::Text(job, claim))
            }
            Some((Intake::Ignore, _)) => Read::Nothing,
        }
    }
}

/// Whether a read error is tungstenite's "message too long".
impl Reader<'_> {
    /// With the Redis engine: pings are answered at once; everything else
    /// is work, in order, against the shared store.
    fn read_clustered(&mut self, inbound: Inbound, record: Option<FrameRecord>) -> Read {
        let state = self.state;
        let session_id = &self.context.session_id;
        // The log and the faults exist only with `--enable-control`: without
        // it the frame path takes no lock for them.
        let policy = match state.config.enable_control {
            false => PongPolicy::Immediate,
            true => state
                .sessions
                .existing(session_id, |session| {
                    if let Some(record) = record {
                        session.log.record_frame(record);
                    }
                    session.faults.pong_policy()
                })
                .unwrap_or(PongPolicy::Immediate),
        };
        match exchange::ping_answer(&inbound, &state.limits, &iso_now()) {
            Some(pong) => match policy {
                PongPolicy::Immediate => Read::Send(vec![Out::Message(Message::Text(pong.into()))]),
                PongPolicy::Delay(delay) => {
                    Read::DelayedPong(Instant::now() + delay, Message::Text(pong.into()))
                }
                PongPolicy::Mute => Read::Nothing,
            },
            None => Read::Work(Work::Clustered(inbound, self.acknowledge)),
        }
    }
}

fn is_too_big(error: axum::Error) -> bool {
    error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|error| matches!(*error, tungstenite::Error::Capacity(_)))
}

/// Whether the session's frames are being lost (the blackhole fault).
/// Without `--enable-control` there are no faults, and the frame path takes
/// no lock to find that out.
pub(super) fn blackholed(state: &SharedState, session_id: &str) -> bool {
    if !state.config.enable_control {
        return false;
    }
    let now = Instant::now();
    state
        .sessions
        .get(session_id, |s| s.faults.blackhole.is_open(now))
        .unwrap_or(false)
}
