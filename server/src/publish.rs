//! Sending from the application's own code: to one session or to a room.
//!
//! Whatever is published is numbered in each receiving session's stream and
//! kept for replay, so a client that is away gets it when it resumes.
//!
//! With the Redis engine a publish numbers the frame in the session's log in
//! Redis, and the node holding the session's channel sends it, whichever
//! node published. The `async` methods say how it went; the plain ones (kept
//! for handlers written for one node) hand the work, in order, to a task and
//! report what they can check at once.

use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::config::Limits;
use crate::engine::{Engine, RedisEngine};
use crate::sessions::{Sessions, SessionsFull, TooManyRooms};

/// Publishes queued by the plain methods on the Redis engine, at most.
const QUEUED_PUBLISHES: usize = 4096;

/// A cheap, cloneable handle to publish and manage rooms. Get it from
/// [`Resocket::publisher`](crate::Resocket::publisher), or from a handler's
/// [`Context`](crate::handler::Context).
#[derive(Debug, Clone)]
pub struct Publisher {
    sessions: Arc<Sessions>,
    limits: Arc<Limits>,
    engine: Engine,
    /// The Redis engine's ordered worker for the plain methods, started on first use.
    queue: Arc<OnceLock<mpsc::Sender<Operation>>>,
}

/// A publish handed to the worker.
#[derive(Debug)]
enum Operation {
    ToSession(String, Value),
    ToRoom(String, Value),
    Join(String, String),
    Leave(String, String),
}

/// Why something could not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishError {
    /// Not a JSON object with a string `type` of at most `max_type_bytes`.
    NotAnEnvelope,
    /// Larger than `max_message_bytes` once written.
    TooLarge,
    /// The session is in as many rooms as it may be (`max_rooms_per_session`).
    TooManyRooms,
    /// The server keeps as many sessions as it may, all live (`max_sessions`).
    SessionsFull,
    /// The Redis engine's store did not answer (or, for the plain methods,
    /// too many publishes wait for it).
    Unavailable,
}

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotAnEnvelope => "not an envelope: a JSON object with a short string \"type\"",
            Self::TooLarge => "the envelope is larger than the message size limit",
            Self::TooManyRooms => "the session is in as many rooms as it may be",
            Self::SessionsFull => "the server keeps as many sessions as it may",
            Self::Unavailable => "the cluster's store is unavailable",
        })
    }
}

impl std::error::Error for PublishError {}

impl From<SessionsFull> for PublishError {
    fn from(_: SessionsFull) -> Self {
        Self::SessionsFull
    }
}

impl From<TooManyRooms> for PublishError {
    fn from(_: TooManyRooms) -> Self {
        Self::TooManyRooms
    }
}

impl Publisher {
    pub(crate) fn new(sessions: Arc<Sessions>, limits: Arc<Limits>, engine: Engine) -> Self {
        Self {
            sessions,
            limits,
            engine,
            queue: Arc::new(OnceLock::new()),
        }
    }

    /// Sends `envelope` to session `session_id` (kept for replay even when
    /// the session has no channel open; a new session is created for it).
    /// Returns how many live channels it went down; with the Redis engine
    /// the work is queued and 0 is returned (see
    /// [`publish_to_session`](Self::publish_to_session)).
    pub fn to_session(&self, session_id: &str, envelope: Value) -> Result<usize, PublishError> {
        self.check(&envelope)?;
        if self.engine.as_redis().is_some() {
            return self.enqueue(Operation::ToSession(session_id.to_owned(), envelope));
        }
        Ok(self
            .sessions
            .with(session_id, |session| session.push(envelope))?)
    }

    /// Sends `envelope` to every session in `room`; returns how many sessions
    /// (with the Redis engine: queued, 0; see [`publish_to_room`](Self::publish_to_room)).
    pub fn to_room(&self, room: &str, envelope: Value) -> Result<usize, PublishError> {
        self.check(&envelope)?;
        if self.engine.as_redis().is_some() {
            return self.enqueue(Operation::ToRoom(room.to_owned(), envelope));
        }
        Ok(self.sessions.push_to_room(room, &envelope))
    }

    /// Puts the session in `room` (it stays there until it leaves or the
    /// session is forgotten). With the Redis engine the join is queued
    /// before any publish that follows it (see [`join_room`](Self::join_room)).
    pub fn join(&self, session_id: &str, room: &str) -> Result<(), PublishError> {
        if self.engine.as_redis().is_some() {
            return self
                .enqueue(Operation::Join(session_id.to_owned(), room.to_owned()))
                .map(|_| ());
        }
        Ok(self.sessions.join(session_id, room)??)
    }

    /// Takes the session out of `room`.
    pub fn leave(&self, session_id: &str, room: &str) {
        if self.engine.as_redis().is_some() {
            let _ = self.enqueue(Operation::Leave(session_id.to_owned(), room.to_owned()));
            return;
        }
        self.sessions.leave(session_id, room);
    }

    /// [`to_session`](Self::to_session), done when it returns, on either
    /// engine: with Redis, the frame is numbered in the session's log
    /// (created if there is none) and on its way to the node holding the
    /// session's channel; the count is then 1 if it was numbered.
    pub async fn publish_to_session(
        &self,
        session_id: &str,
        envelope: Value,
    ) -> Result<usize, PublishError> {
        self.check(&envelope)?;
        match self.engine.as_redis() {
            None => self.to_session(session_id, envelope),
            Some(redis) => redis
                .store
                .append(session_id, vec![envelope], false)
                .await
                .map(|appended| usize::from(appended.is_some()))
                .map_err(|_| PublishError::Unavailable),
        }
    }

    /// [`to_room`](Self::to_room), done when it returns: the number of
    /// sessions whose log got it.
    pub async fn publish_to_room(
        &self,
        room: &str,
        envelope: Value,
    ) -> Result<usize, PublishError> {
        self.check(&envelope)?;
        match self.engine.as_redis() {
            None => self.to_room(room, envelope),
            Some(redis) => redis
                .store
                .publish_to_room(room, &envelope)
                .await
                .map_err(|_| PublishError::Unavailable),
        }
    }

    /// [`join`](Self::join), done when it returns.
    pub async fn join_room(&self, session_id: &str, room: &str) -> Result<(), PublishError> {
        match self.engine.as_redis() {
            None => self.join(session_id, room),
            Some(redis) => match redis.store.join(session_id, room).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(PublishError::TooManyRooms),
                Err(_) => Err(PublishError::Unavailable),
            },
        }
    }

    /// [`leave`](Self::leave), done when it returns.
    pub async fn leave_room(&self, session_id: &str, room: &str) -> Result<(), PublishError> {
        match self.engine.as_redis() {
            None => {
                self.leave(session_id, room);
                Ok(())
            }
            Some(redis) => redis
                .store
                .leave(session_id, room)
                .await
                .map_err(|_| PublishError::Unavailable),
        }
    }

    /// Hands `operation` to the Redis engine's ordered worker (started on
    /// first use, inside the runtime); 0 sessions known yet.
    fn enqueue(&self, operation: Operation) -> Result<usize, PublishError> {
        let Some(redis) = self.engine.as_redis() else {
            return Ok(0);
        };
        let sender = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUED_PUBLISHES);
            tokio::spawn(work(Arc::clone(redis), receiver));
            sender
        });
        sender
            .try_send(operation)
            .map(|()| 0)
            .map_err(|_| PublishError::Unavailable)
    }

    fn check(&self, envelope: &Value) -> Result<(), PublishError> {
        let message_type = envelope.get("type").and_then(Value::as_str);
        if !envelope.is_object()
            || message_type.is_none_or(|t| t.len() > self.limits.max_type_bytes)
        {
            return Err(PublishError::NotAnEnvelope);
        }
        // Counting instead of writing: no allocation to find the size.
        let mut counter = ByteCounter(0);
        let _ = serde_json::to_writer(&mut counter, envelope);
        if counter.0 > self.limits.max_message_bytes {
            return Err(PublishError::TooLarge);
        }
        Ok(())
    }
}

/// The Redis engine's worker for the plain methods: one operation at a
/// time, in the order they were made; a failure is logged (the caller has
/// returned).
async fn work(redis: Arc<RedisEngine>, mut operations: mpsc::Receiver<Operation>) {
    while let Some(operation) = operations.recv().await {
        let store = &redis.store;
        let done = match &operation {
            Operation::ToSession(session, envelope) => store
                .append(session, vec![envelope.clone()], false)
                .await
                .map(|_| ()),
            Operation::ToRoom(room, envelope) => {
                store.publish_to_room(room, envelope).await.map(|_| ())
            }
            Operation::Join(session, room) => store.join(session, room).await.map(|_| ()),
            Operation::Leave(session, room) => store.leave(session, room).await,
        };
        if let Err(error) = done {
            eprintln!("resocket-server: a queued publish failed ({operation:?}): {error}");
        }
    }
}

/// A writer that only counts.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn publisher(limits: Limits) -> Publisher {
        Publisher::new(
            Arc::new(Sessions::new(limits.clone(), false)),
            Arc::new(limits),
            Engine::Memory,
        )
    }

    #[test]
    fn only_envelopes_within_the_limits_are_published() {
        let publisher = publisher(Limits {
            max_message_bytes: 100,
            ..Limits::default()
        });
        assert_eq!(publisher.to_session("s", json!({"type": "t"})), Ok(0));
        assert_eq!(
            publisher.to_session("s", json!([1])),
            Err(PublishError::NotAnEnvelope)
        );
        assert_eq!(
            publisher.to_session("s", json!({"type": 1})),
            Err(PublishError::NotAnEnvelope)
        );
        assert_eq!(
            publisher.to_session("s", json!({"type": "x".repeat(65)})),
            Err(PublishError::NotAnEnvelope)
        );
        assert_eq!(
            publisher.to_room("r", json!({"type": "t", "data": "y".repeat(100)})),
            Err(PublishError::TooLarge)
        );
    }

    #[test]
    fn a_session_published_to_while_away_gets_it_by_replay() {
        let publisher = publisher(Limits::default());
        publisher.join("s", "room").unwrap();
        publisher.to_room("room", json!({"type": "news"})).unwrap();
        publisher
            .to_session("s", json!({"type": "direct"}))
            .unwrap();
        let kept = publisher
            .sessions
            .get("s", |s| s.stream.replay_after(0).frames.len())
            .unwrap();
        assert_eq!(kept, 2);
    }
}
