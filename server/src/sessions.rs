//! The registry of sessions: each one's log, faults and live connections.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::mpsc::UnboundedSender;

use crate::faults::{lock, ConnectionCommand, SessionFaults};
use crate::protocol::{ack, reply_to, FrameKind, Inbound};
use crate::session_log::FrameRecord;
use crate::session_log::SessionLog;
use crate::stream::{SeenIds, SessionStream};

/// Idle sessions kept before the least recently used are forgotten.
const MAX_IDLE_SESSIONS: usize = 512;

/// Everything the server keeps about one session id.
#[derive(Debug, Default)]
pub struct Session {
    /// What the session sent and when it connected.
    pub log: SessionLog,
    /// The faults configured for it.
    pub faults: SessionFaults,
    /// What the server sent it, numbered, for replay.
    pub stream: SessionStream,
    /// Envelope ids it sent, for duplicate suppression.
    pub seen: SeenIds,
    live: HashMap<u64, UnboundedSender<ConnectionCommand>>,
    /// Open `GET /events` streams: `(seq, text)` frames to send.
    event_streams: Vec<UnboundedSender<(Option<u64>, String)>>,
    last_used: u64,
}

impl Session {
    /// Logs a received frame and works out the answer, the same for every
    /// transport (PROTOCOL.md §2–§5): an ack when asked for, nothing more for a
    /// resent duplicate, an unnumbered pong, or a reply numbered in the stream.
    pub fn accept(
        &mut self,
        inbound: &Inbound,
        mut record: FrameRecord,
        acknowledge: bool,
        now: &str,
    ) -> Accepted {
        let (kind, reply) = reply_to(inbound, now);
        let ack_id = inbound
            .id()
            .filter(|_| acknowledge && kind != FrameKind::Ping);
        record.duplicate = ack_id.is_some_and(|id| !self.seen.first_time(id));
        let duplicate = record.duplicate;
        self.log.record_frame(record);
        let reply = match kind {
            _ if duplicate => None,
            FrameKind::Ping => Some(Reply::Pong(reply.to_string())),
            FrameKind::Other => Some(Reply::Numbered(self.stream.number(reply))),
        };
        Accepted {
            ack: ack_id.map(|id| ack(id).to_string()),
            reply,
        }
    }

    /// Registers an open event stream.
    pub fn add_event_stream(&mut self, sender: UnboundedSender<(Option<u64>, String)>) {
        self.event_streams.push(sender);
    }

    /// Ends every open event stream (fault injection); returns how many.
    pub fn drop_event_streams(&mut self) -> usize {
        std::mem::take(&mut self.event_streams).len()
    }

    /// Numbers `envelope` in the session's stream and sends it down every live
    /// channel (sockets and event streams); returns how many got it.
    pub fn push(&mut self, envelope: serde_json::Value) -> usize {
        let text = self.stream.number(envelope);
        let seq = self.stream.last_seq();
        self.event_streams
            .retain(|stream| stream.send((Some(seq), text.clone())).is_ok());
        self.event_streams.len() + self.command_live(&ConnectionCommand::Send(text))
    }

    /// No socket and no event stream is open.
    fn is_idle(&self) -> bool {
        self.live.is_empty() && self.event_streams.iter().all(|stream| stream.is_closed())
    }

    /// Sends `command` to every live connection; returns how many received it.
    pub fn command_live(&self, command: &ConnectionCommand) -> usize {
        self.live
            .values()
            .filter(|sender| sender.send(command.clone()).is_ok())
            .count()
    }
}

/// What the session sends back for one received envelope, as JSON texts.
#[derive(Debug, PartialEq)]
pub struct Accepted {
    /// `{"type":"ack","id":…}`, for connections that asked for acknowledgements.
    pub ack: Option<String>,
    /// The answer; `None` for a resent duplicate.
    pub reply: Option<Reply>,
}

/// An answer to one envelope.
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// A heartbeat reply: unnumbered, subject to the session's pong faults.
    Pong(String),
    /// Any other reply, numbered in the session's stream.
    Numbered(String),
}

/// All sessions, behind one mutex (critical sections are short and never await).
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
    clock: AtomicU64,
    next_connection: AtomicU64,
}

impl Sessions {
    /// Runs `f` on the session, creating it if needed.
    pub fn with<R>(&self, session_id: &str, f: impl FnOnce(&mut Session) -> R) -> R {
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut sessions = lock(&self.by_id);
        if !sessions.contains_key(session_id) {
            evict_idle(&mut sessions);
        }
        let session = sessions.entry(session_id.to_owned()).or_default();
        session.last_used = tick;
        f(session)
    }

    /// Runs `f` on the session if it exists.
    pub fn get<R>(&self, session_id: &str, f: impl FnOnce(&Session) -> R) -> Option<R> {
        lock(&self.by_id).get(session_id).map(f)
    }

    /// A fresh, server-wide connection number.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers a live connection's command channel.
    pub fn attach(
        &self,
        session_id: &str,
        connection: u64,
        commands: UnboundedSender<ConnectionCommand>,
    ) {
        self.with(session_id, |session| {
            session.live.insert(connection, commands)
        });
    }

    /// Removes a live connection's command channel.
    pub fn detach(&self, session_id: &str, connection: u64) {
        if let Some(session) = lock(&self.by_id).get_mut(session_id) {
            session.live.remove(&connection);
        }
    }

    /// Ends every open event stream of every session; returns how many.
    pub fn drop_every_event_stream(&self) -> usize {
        lock(&self.by_id)
            .values_mut()
            .map(Session::drop_event_streams)
            .sum()
    }

    /// Sends `command` to every live connection of every session.
    pub fn command_everyone(&self, command: &ConnectionCommand) -> usize {
        lock(&self.by_id)
            .values()
            .map(|s| s.command_live(command))
            .sum()
    }
}

fn evict_idle(sessions: &mut HashMap<String, Session>) {
    let idle = sessions.values().filter(|s| s.is_idle()).count();
    if idle < MAX_IDLE_SESSIONS {
        return;
    }
    let oldest = sessions
        .iter()
        .filter(|(_, s)| s.is_idle())
        .min_by_key(|(_, s)| s.last_used)
        .map(|(id, _)| id.clone());
    if let Some(id) = oldest {
        sessions.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_sessions_are_bounded_and_live_ones_kept() {
        let sessions = Sessions::default();
        let (sender, _receiver) = tokio::sync::mpsc::unbounded_channel();
        sessions.attach("live", 1, sender);
        for n in 0..(MAX_IDLE_SESSIONS + 10) {
            sessions.with(&format!("idle-{n}"), |_| ());
        }
        assert!(sessions.get("live", |_| ()).is_some());
        assert!(sessions.get("idle-0", |_| ()).is_none());
        assert_eq!(lock(&sessions.by_id).len(), MAX_IDLE_SESSIONS + 1);
    }

    #[test]
    fn commands_reach_live_connections_only() {
        let sessions = Sessions::default();
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        sessions.attach("s", 7, sender);
        assert_eq!(
            sessions.with("s", |s| s.command_live(&ConnectionCommand::Drop)),
            1
        );
        assert_eq!(receiver.try_recv().ok(), Some(ConnectionCommand::Drop));
        sessions.detach("s", 7);
        assert_eq!(sessions.command_everyone(&ConnectionCommand::Drop), 0);
    }
}
