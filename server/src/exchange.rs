//! One client envelope's way through the server, the same on every channel
//! (PROTOCOL.md §2–§5): checked, acknowledged and de-duplicated here, handed
//! to the application's [`Handler`](crate::handler::Handler) once, and its
//! replies numbered in the session's stream.

use std::sync::Arc;

use serde_json::Value;

use crate::config::Limits;
use crate::engine::redis::EngineError;
use crate::engine::RedisEngine;
use crate::faults::{ConnectionCommand, PongPolicy};
use crate::handler::{error_envelope, Context, HandlerError, Incoming, Replies};
use crate::protocol::{ack, frame_error, not_an_envelope, pong, Inbound, PING_TYPE};
use crate::session_log::FrameRecord;
use crate::sessions::{Session, Sessions};
use crate::state::{iso_now, AppState};
use crate::stream::Seen;

/// A frame for the client, as its channel must send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Not part of the numbered stream: an ack.
    Plain(String),
    /// Numbered `seq` in the session's stream: a channel sends these in
    /// `seq` order with its other numbered frames (see
    /// [`Sequencer`](crate::engine::sequencer::Sequencer)).
    Numbered(u64, String),
}

impl Outgoing {
    /// The frame's text.
    pub fn into_text(self) -> String {
        match self {
            Self::Plain(text) | Self::Numbered(_, text) => text,
        }
    }
}

/// What to do with one received frame, decided under the session's lock.
#[derive(Debug, PartialEq)]
pub enum Intake {
    /// A heartbeat ping: answer with this pong (unnumbered).
    Pong(String),
    /// Answer at once with these frames and do nothing else: an `error`
    /// envelope (numbered).
    Answer(Vec<Outgoing>),
    /// A copy of a message already handled: answer with this ack only.
    Duplicate(String),
    /// Hand it to the application.
    Handle(Job),
    /// A copy of a message being handled right now (on another channel, or
    /// on one that closed meanwhile): when it is done, its ack goes to every
    /// live socket of the session.
    Ignore,
}

/// An envelope for the application.
#[derive(Debug, PartialEq)]
pub struct Job {
    /// The envelope.
    pub message: Incoming,
    /// The id to acknowledge (and mark handled) once handled, when the
    /// channel asked for acknowledgements.
    pub ack_id: Option<String>,
}

impl Job {
    /// The job, with its id's "in progress" mark tied to the returned
    /// [`Claim`]. Call it outside the session lock.
    pub fn claimed(self, sessions: &Arc<Sessions>, session_id: &Arc<str>) -> (Job, Claim) {
        let claim = Claim {
            sessions: Arc::clone(sessions),
            session_id: Arc::clone(session_id),
            id: self.ack_id.clone(),
        };
        (self, claim)
    }
}

/// An id marked "in progress" in its session's seen ids. Dropped before it
/// is settled (the channel closed with the message still queued, or the
/// handler's future was cancelled with its POST), it takes the mark back, so
/// that the client's resend is handled instead of being ignored for ever.
/// Never dropped under the session lock: its `Drop` takes that lock.
#[derive(Debug)]
pub struct Claim {
    sessions: Arc<Sessions>,
    session_id: Arc<str>,
    id: Option<String>,
}

impl Claim {
    /// The message was handled: the id is settled by [`settle`] now.
    fn settle(mut self) -> Option<String> {
        self.id.take()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.sessions
                .existing(&self.session_id, |session| session.seen.abandon(&id));
        }
    }
}

/// [`intake`] under the session's lock, for a channel of the server:
/// `record` (kept when the session keeps a log) goes into the log, marked
/// duplicate when the frame is a copy; the session's pong policy comes
/// along. `None` when the session is gone.
pub fn take(
    state: &AppState,
    session_id: &str,
    inbound: Inbound,
    record: Option<FrameRecord>,
    acknowledge: bool,
) -> Option<(Intake, PongPolicy)> {
    let now = iso_now();
    state.sessions.existing(session_id, |session| {
        let intake = intake(session, inbound, acknowledge, &state.limits, &now);
        if let Some(mut record) = record {
            record.duplicate = matches!(intake, Intake::Duplicate(_) | Intake::Ignore);
            session.log.record_frame(record);
        }
        (intake, session.faults.pong_policy())
    })
}

/// Decides what `inbound` gets, for a channel that asked for acks or not.
pub fn intake(
    session: &mut Session,
    inbound: Inbound,
    acknowledge: bool,
    limits: &Limits,
    now: &str,
) -> Intake {
    if let Some(error) = not_an_envelope(&inbound, now) {
        return Intake::Answer(vec![numbered(session, error)]);
    }
    let Inbound::Envelope(envelope) = inbound else {
        return Intake::Ignore;
    };
    let message = Incoming { envelope };
    if let Some(error) = too_long(&message, limits, now) {
        return Intake::Answer(vec![numbered(session, error)]);
    }
    if message.message_type() == PING_TYPE {
        return Intake::Pong(pong(&message.envelope, now).to_string());
    }
    let ack_id = message.id().filter(|_| acknowledge).map(str::to_owned);
    if let Some(id) = &ack_id {
        match session.seen.begin(id) {
            Seen::New => {}
            Seen::Done => return Intake::Duplicate(ack(id).to_string()),
            Seen::InProgress => return Intake::Ignore,
        }
    }
    Intake::Handle(Job { message, ack_id })
}

/// The `error` envelope for a message whose type or id is longer than the
/// server accepts, if it is one.
fn too_long(message: &Incoming, limits: &Limits, now: &str) -> Option<Value> {
    let too_long = message.message_type().len() > limits.max_type_bytes
        || message
            .id()
            .is_some_and(|id| id.len() > limits.max_id_bytes);
    too_long.then(|| {
        frame_error(
            "too-long",
            "the envelope's type or id is longer than the server accepts",
            now,
        )
    })
}

fn numbered(session: &mut Session, envelope: Value) -> Outgoing {
    let (seq, text) = session.stream.numbered(envelope);
    Outgoing::Numbered(seq, text)
}

/// What a handled message sends back, as frames in order: the ack (when one
/// was asked for and the handler succeeded), then the replies, numbered; or
/// a numbered `error` envelope when the handler failed (no ack: the client
/// resends, and the id is handled again).
pub fn settle(
    session: &mut Session,
    job_ack: Option<&str>,
    reply_to: Option<&str>,
    result: Result<Replies, HandlerError>,
    now: &str,
) -> Vec<Outgoing> {
    let mut texts = Vec::new();
    match result {
        Ok(replies) => {
            if let Some(id) = job_ack {
                let ack = ack(id).to_string();
                // A copy came on another channel meanwhile and was not
                // answered: every live socket of the session hears the ack.
                if session.seen.finish(id) {
                    session.command_live(&ConnectionCommand::Send(ack.clone()));
                }
                texts.push(Outgoing::Plain(ack));
            }
            for reply in replies {
                if reply.get("type").is_some_and(Value::is_string) {
                    texts.push(numbered(session, reply));
                } else {
                    eprintln!(
                        "resocket-server: a handler reply without a string \"type\" was dropped"
                    );
                }
            }
        }
        Err(error) => {
            if let Some(id) = job_ack {
                session.seen.abandon(id);
            }
            texts.push(numbered(session, error_envelope(&error, reply_to, now)));
        }
    }
    texts
}

/// Runs the application's handler on `job` and settles the outcome in the
/// session: the texts to send back. Cancelled before the end, the claim
/// takes the id's mark back.
pub async fn handle(state: &AppState, context: &Context, job: Job, claim: Claim) -> Vec<Outgoing> {
    let reply_to = job.message.id().map(str::to_owned);
    let result = state.handler.on_message(context, job.message).await;
    let ack_id = claim.settle();
    let now = iso_now();
    // `existing`, not `with`: a session forgotten while its message was
    // handled is not made again (without its owner, under a new epoch);
    // the client resends (no ack went out) and opens it anew.
    state
        .sessions
        .existing(&context.session_id, |session| {
            settle(
                session,
                ack_id.as_deref(),
                reply_to.as_deref(),
                result,
                &now,
            )
        })
        .unwrap_or_default()
}

/// The pong for `inbound` if it is a heartbeat ping the server answers at
/// once (the Redis engine's channels answer pings before anything queued).
pub fn ping_answer(inbound: &Inbound, limits: &Limits, now: &str) -> Option<String> {
    let Inbound::Envelope(envelope) = inbound else {
        return None;
    };
    let is_ping = envelope.get("type").and_then(Value::as_str) == Some(PING_TYPE);
    let id_fits = envelope
        .get("id")
        .and_then(Value::as_str)
        .is_none_or(|id| id.len() <= limits.max_id_bytes);
    (is_ping && id_fits).then(|| pong(envelope, now).to_string())
}

/// [`intake`], [`handle`] and [`settle`] for a server on the Redis engine:
/// the same decisions, with the session's ids and stream in Redis, so that
/// a message resent to another node is acknowledged, not handled again.
/// The ack goes out only once the replies are in the log, so an
/// acknowledged message's replies outlive this node. A Redis error is
/// returned: the channel closes, and the client, with nothing acknowledged,
/// resends.
pub async fn handle_clustered(
    state: &AppState,
    context: &Context,
    redis: &RedisEngine,
    inbound: Inbound,
    acknowledge: bool,
) -> Result<Vec<Outgoing>, EngineError> {
    let now = iso_now();
    let session = &*context.session_id;
    let store = &redis.store;
    let append = |envelopes: Vec<Value>| async move {
        let appended = store.append(session, envelopes, false).await?;
        Ok::<Vec<Outgoing>, EngineError>(
            appended
                .map(|appended| {
                    appended
                        .frames
                        .into_iter()
                        .map(|(seq, text)| Outgoing::Numbered(seq, text))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    if let Some(error) = not_an_envelope(&inbound, &now) {
        return append(vec![error]).await;
    }
    let Inbound::Envelope(envelope) = inbound else {
        return Ok(Vec::new());
    };
    let message = Incoming { envelope };
    if let Some(error) = too_long(&message, &state.limits, &now) {
        return append(vec![error]).await;
    }
    if message.message_type() == PING_TYPE {
        return Ok(vec![Outgoing::Plain(
            pong(&message.envelope, &now).to_string(),
        )]);
    }
    let ack_id = message.id().filter(|_| acknowledge).map(str::to_owned);
    if let Some(id) = &ack_id {
        match store.begin(session, id).await? {
            Seen::New => {}
            Seen::Done => return Ok(vec![Outgoing::Plain(ack(id).to_string())]),
            Seen::InProgress => return Ok(Vec::new()),
        }
    }
    let reply_to = message.id().map(str::to_owned);
    match state.handler.on_message(context, message).await {
        Ok(replies) => {
            let replies = replies
                .into_iter()
                .filter(|reply| reply.get("type").is_some_and(Value::is_string))
                .collect();
            let Some(id) = &ack_id else {
                return append(replies).await;
            };
            // Replies numbered and the id marked done in one step.
            let ack = ack(id).to_string();
            let appended = store.append_and_finish(session, replies, id, &ack).await?;
            let mut out = vec![Outgoing::Plain(ack)];
            out.extend(
                appended
                    .frames
                    .into_iter()
                    .map(|(seq, text)| Outgoing::Numbered(seq, text)),
            );
            Ok(out)
        }
        Err(error) => {
            if let Some(id) = &ack_id {
                store.abandon(session, id).await?;
            }
            append(vec![error_envelope(&error, reply_to.as_deref(), &now)]).await
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sessions::Sessions;

    const NOW: &str = "2026-01-01T00:00:00.000Z";

    fn with_session<R>(f: impl FnOnce(&mut Session) -> R) -> R {
        Sessions::new(Limits::default(), false)
            .with("s", f)
            .unwrap()
    }

    fn types(frames: &[Outgoing]) -> Vec<String> {
        frames
            .iter()
            .map(|frame| {
                let (Outgoing::Plain(t) | Outgoing::Numbered(_, t)) = frame;
                serde_json::from_str::<Value>(t).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn a_claim_dropped_unsettled_lets_the_resend_through() {
        let sessions = Arc::new(Sessions::new(Limits::default(), false));
        let session_id: Arc<str> = Arc::from("s");
        let message = || Inbound::from_value(json!({"type": "message", "id": "m1"}));
        let limits = Limits::default();
        let intake_now = || {
            sessions
                .with("s", |s| intake(s, message(), true, &limits, NOW))
                .unwrap()
        };
        let Intake::Handle(job) = intake_now() else {
            panic!("handled")
        };
        let (_job, claim) = job.claimed(&sessions, &session_id);
        assert_eq!(intake_now(), Intake::Ignore, "in progress");
        drop(claim);
        assert!(
            matches!(intake_now(), Intake::Handle(_)),
            "the channel closed: the resend is handled"
        );
    }

    #[test]
    fn pings_are_answered_and_bad_frames_get_numbered_errors() {
        with_session(|session| {
            let limits = Limits::default();
            let ping = Inbound::parse(r#"{"type":"ping","id":"p","timestamp":"T"}"#);
            assert!(matches!(
                intake(session, ping, true, &limits, NOW),
                Intake::Pong(_)
            ));
            let Intake::Answer(texts) = intake(session, Inbound::parse("nope"), true, &limits, NOW)
            else {
                panic!("an answer")
            };
            assert!(
                matches!(&texts[0], Outgoing::Numbered(1, text) if text.contains(r#""seq":1"#))
            );
            let long_id = json!({"type": "t", "id": "i".repeat(129)});
            let Intake::Answer(texts) =
                intake(session, Inbound::from_value(long_id), true, &limits, NOW)
            else {
                panic!("an answer")
            };
            assert!(texts[0].clone().into_text().contains("too-long"));
        });
    }

    #[test]
    fn an_id_is_handled_once_acked_again_and_handled_again_after_a_failure() {
        with_session(|session| {
            let limits = Limits::default();
            let message = || Inbound::from_value(json!({"type": "message", "id": "m1"}));
            let Intake::Handle(job) = intake(session, message(), true, &limits, NOW) else {
                panic!("handled")
            };
            assert_eq!(
                intake(session, message(), true, &limits, NOW),
                Intake::Ignore,
                "in progress"
            );
            let failed = settle(
                session,
                job.ack_id.as_deref(),
                Some("m1"),
                Err(HandlerError::new("down", "backend down")),
                NOW,
            );
            assert_eq!(types(&failed), ["error"], "no ack after a failure");
            let Intake::Handle(job) = intake(session, message(), true, &limits, NOW) else {
                panic!("handled again")
            };
            let done = settle(
                session,
                job.ack_id.as_deref(),
                Some("m1"),
                Ok(vec![json!({"type": "reply"}), json!([1])]),
                NOW,
            );
            assert_eq!(
                types(&done),
                ["ack", "reply"],
                "the reply that is no envelope is dropped"
            );
            assert_eq!(
                intake(session, message(), true, &limits, NOW),
                Intake::Duplicate(ack("m1").to_string())
            );
            assert!(matches!(
                intake(session, message(), false, &limits, NOW),
                Intake::Handle(Job { ack_id: None, .. })
            ));
        });
    }
}
