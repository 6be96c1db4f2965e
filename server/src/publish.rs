//! Sending from the application's own code: to one session or to a room.
//!
//! Whatever is published is numbered in each receiving session's stream and
//! kept for replay, so a client that is away gets it when it resumes.

use std::sync::Arc;

use serde_json::Value;

use crate::config::Limits;
use crate::sessions::{Sessions, SessionsFull, TooManyRooms};

/// A cheap, cloneable handle to publish and manage rooms. Get it from
/// [`Resocket::publisher`](crate::Resocket::publisher), or from a handler's
/// [`Context`](crate::handler::Context).
#[derive(Debug, Clone)]
pub struct Publisher {
    sessions: Arc<Sessions>,
    limits: Arc<Limits>,
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
}

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotAnEnvelope => "not an envelope: a JSON object with a short string \"type\"",
            Self::TooLarge => "the envelope is larger than the message size limit",
            Self::TooManyRooms => "the session is in as many rooms as it may be",
            Self::SessionsFull => "the server keeps as many sessions as it may",
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
    pub(crate) fn new(sessions: Arc<Sessions>, limits: Arc<Limits>) -> Self {
        Self { sessions, limits }
    }

    /// Sends `envelope` to session `session_id` (kept for replay even when
    /// the session has no channel open; a new session is created for it).
    /// Returns how many live channels it went down.
    pub fn to_session(&self, session_id: &str, envelope: Value) -> Result<usize, PublishError> {
        self.check(&envelope)?;
        Ok(self
            .sessions
            .with(session_id, |session| session.push(envelope))?)
    }

    /// Sends `envelope` to every session in `room`; returns how many sessions.
    pub fn to_room(&self, room: &str, envelope: Value) -> Result<usize, PublishError> {
        self.check(&envelope)?;
        Ok(self.sessions.push_to_room(room, &envelope))
    }

    /// Puts the session in `room` (it stays there until it leaves or the
    /// session is forgotten).
    pub fn join(&self, session_id: &str, room: &str) -> Result<(), PublishError> {
        Ok(self.sessions.join(session_id, room)??)
    }

    /// Takes the session out of `room`.
    pub fn leave(&self, session_id: &str, room: &str) {
        self.sessions.leave(session_id, room);
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
