//! The registry of sessions: each one's stream, seen ids, rooms, faults, log
//! and live channels, within the limits of [`Limits`].
//!
//! Everything a client can make the server hold is counted here: sessions
//! (live and idle, by count and by age), the bytes of replay logs and seen
//! ids (per session, and over all of them), rooms per session, and the
//! frames queued for each live channel.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;
use crate::faults::{lock, ConnectionCommand, SessionFaults};
use crate::queue::{self, Refused};
use crate::rate::RateLimiter;
use crate::session_log::SessionLog;
use crate::stream::{SeenIds, SessionStream};

/// Event streams one session may hold open.
pub const MAX_EVENT_STREAMS: usize = 4;
/// How often expired idle sessions are looked for (on the next use after it).
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// A live WebSocket's way in: a bounded queue of commands, and the token
/// that tells it the queue overflowed (it then closes with 1013).
#[derive(Debug, Clone)]
pub struct LiveSocket {
    /// Commands for the connection's task.
    pub commands: queue::Sender<ConnectionCommand>,
    /// Cancelled when a command did not fit: the client is not reading.
    pub overflowed: CancellationToken,
}

/// An open event stream: `(seq, text)` frames to write.
pub type EventSender = queue::Sender<(Option<u64>, String)>;

/// Everything the server keeps about one session id.
#[derive(Debug)]
pub struct Session {
    /// What the session sent and when it connected (kept only with `--enable-control`).
    pub log: SessionLog,
    /// The faults configured for it.
    pub faults: SessionFaults,
    /// What the server sent it, numbered, for replay.
    pub stream: SessionStream,
    /// Envelope ids it sent, for duplicate suppression.
    pub seen: SeenIds,
    /// The user the auth hook named when the session was opened, if any.
    pub owner: Option<Arc<str>>,
    /// The message rate of the session's POSTs (a WebSocket has its own, per
    /// connection; POSTs have no connection to count on).
    pub post_rate: RateLimiter,
    rooms: Vec<Arc<str>>,
    live: HashMap<u64, LiveSocket>,
    event_streams: Vec<EventSender>,
    last_used: Instant,
}

impl Session {
    fn new(limits: &Limits, now: Instant) -> Self {
        Self {
            log: SessionLog::default(),
            faults: SessionFaults::default(),
            stream: SessionStream::new(limits.replay_bytes_per_session),
            seen: SeenIds::new(limits.seen_id_bytes_per_session),
            owner: None,
            post_rate: RateLimiter::new(limits.message_rate, now),
            rooms: Vec::new(),
            live: HashMap::new(),
            event_streams: Vec::new(),
            last_used: now,
        }
    }

    /// The bytes counted against the memory budget.
    pub fn bytes(&self) -> usize {
        self.stream.bytes() + self.seen.bytes()
    }

    /// Registers an open event stream, forgetting those that closed (and
    /// the oldest beyond [`MAX_EVENT_STREAMS`]: a session has one client, so
    /// more open streams are leftovers, which end).
    pub fn add_event_stream(&mut self, sender: EventSender) {
        self.event_streams.retain(|stream| !stream.is_closed());
        if self.event_streams.len() >= MAX_EVENT_STREAMS {
            self.event_streams.remove(0);
        }
        self.event_streams.push(sender);
    }

    /// Ends every open event stream (fault injection); returns how many.
    pub fn drop_event_streams(&mut self) -> usize {
        std::mem::take(&mut self.event_streams).len()
    }

    /// Numbers `envelope` in the session's stream and sends it down every live
    /// channel (sockets and event streams); returns how many got it. A channel
    /// whose queue is full is closed (it resumes from `last_seq` and gets the
    /// frame by replay).
    pub fn push(&mut self, envelope: Value) -> usize {
        let text = self.stream.number(envelope);
        let seq = self.stream.last_seq();
        // A full or closed event stream is dropped: the client reopens it and resumes.
        self.event_streams
            .retain(|stream| stream.try_send((Some(seq), text.clone())).is_ok());
        self.event_streams.len() + self.command_live(&ConnectionCommand::Numbered(seq, text))
    }

    /// No socket and no event stream is open.
    pub fn is_idle(&self) -> bool {
        self.live.is_empty() && self.event_streams.iter().all(queue::Sender::is_closed)
    }

    /// The rooms the session is in.
    pub fn rooms(&self) -> &[Arc<str>] {
        &self.rooms
    }

    /// Sends `command` to every live socket; returns how many took it. A socket
    /// whose queue is full is told so (it closes) and forgotten.
    pub fn command_live(&mut self, command: &ConnectionCommand) -> usize {
        let mut delivered = 0;
        self.live.retain(
            |_, socket| match socket.commands.try_send(command.clone()) {
                Ok(()) => {
                    delivered += 1;
                    true
                }
                Err(Refused::Full) => {
                    socket.overflowed.cancel();
                    false
                }
                Err(Refused::Closed) => false,
            },
        );
        delivered
    }
}

/// No room for another session: every one kept is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionsFull;

impl std::fmt::Display for SessionsFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the server holds as many sessions as it may (--max-sessions)")
    }
}

impl std::error::Error for SessionsFull {}

/// A session may be in no more rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyRooms;

/// All sessions, behind one mutex (critical sections are short and never await).
#[derive(Debug)]
pub struct Sessions {
    registry: Mutex<Registry>,
    next_connection: AtomicU64,
    limits: Limits,
    /// Whether sessions keep a log of what they sent (`--enable-control`).
    logging: bool,
}

#[derive(Debug)]
struct Registry {
    by_id: HashMap<Arc<str>, Session>,
    rooms: HashMap<Arc<str>, HashSet<Arc<str>>>,
    /// Sum of every session's [`Session::bytes`].
    bytes: usize,
    last_sweep: Instant,
}

/// Counts for `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCounts {
    /// Sessions kept.
    pub sessions: usize,
    /// Of which idle.
    pub idle: usize,
    /// Bytes of replay logs and seen ids.
    pub bytes: usize,
    /// Rooms with at least one member.
    pub rooms: usize,
}

impl Sessions {
    /// No sessions yet; `logging` keeps per-session logs (for `/control/…/log`).
    pub fn new(limits: Limits, logging: bool) -> Self {
        Self {
            registry: Mutex::new(Registry {
                by_id: HashMap::new(),
                rooms: HashMap::new(),
                bytes: 0,
                last_sweep: Instant::now(),
            }),
            next_connection: AtomicU64::new(0),
            limits,
            logging,
        }
    }

    /// Whether sessions keep logs.
    pub fn logging(&self) -> bool {
        self.logging
    }

    /// Runs `f` on the session, creating it if needed (which may forget the
    /// least recently used idle session, or fail when all are live).
    pub fn with<R>(
        &self,
        session_id: &str,
        f: impl FnOnce(&mut Session) -> R,
    ) -> Result<R, SessionsFull> {
        let now = Instant::now();
        let mut registry = lock(&self.registry);
        registry.ensure(session_id, &self.limits, now)?;
        registry
            .update(session_id, &self.limits, now, f)
            .ok_or(SessionsFull)
    }

    /// Runs `f` on the session if it exists (never creates one).
    pub fn existing<R>(&self, session_id: &str, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let now = Instant::now();
        let mut registry = lock(&self.registry);
        registry.update(session_id, &self.limits, now, f)
    }

    /// Runs `f` on the session if it exists, without counting it as a use.
    pub fn get<R>(&self, session_id: &str, f: impl FnOnce(&Session) -> R) -> Option<R> {
        lock(&self.registry).by_id.get(session_id).map(f)
    }

    /// A fresh, server-wide connection number.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers a live socket of the session.
    pub fn attach(
        &self,
        session_id: &str,
        connection: u64,
        socket: LiveSocket,
    ) -> Result<(), SessionsFull> {
        self.with(session_id, |session| {
            session.live.insert(connection, socket);
        })
    }

    /// Removes a live socket.
    pub fn detach(&self, session_id: &str, connection: u64) {
        self.existing(session_id, |session| session.live.remove(&connection));
    }

    /// Ends every open event stream of every session; returns how many.
    pub fn drop_every_event_stream(&self) -> usize {
        lock(&self.registry)
            .by_id
            .values_mut()
            .map(Session::drop_event_streams)
            .sum()
    }

    /// Sends `command` to every live socket of every session.
    pub fn command_everyone(&self, command: &ConnectionCommand) -> usize {
        lock(&self.registry)
            .by_id
            .values_mut()
            .map(|session| session.command_live(command))
            .sum()
    }

    /// Puts the session in `room` (creating the session if needed). The
    /// session's list and the room's members change under one lock, so a
    /// `leave` racing it cannot leave them disagreeing.
    pub fn join(
        &self,
        session_id: &str,
        room: &str,
    ) -> Result<Result<(), TooManyRooms>, SessionsFull> {
        let now = Instant::now();
        let max_rooms = self.limits.max_rooms_per_session;
        let room: Arc<str> = Arc::from(room);
        let mut registry = lock(&self.registry);
        registry.ensure(session_id, &self.limits, now)?;
        let Some(id) = registry
            .by_id
            .get_key_value(session_id)
            .map(|(id, _)| Arc::clone(id))
        else {
            return Err(SessionsFull);
        };
        let Some(session) = registry.by_id.get_mut(session_id) else {
            return Err(SessionsFull);
        };
        session.last_used = now;
        if session.rooms.contains(&room) {
            return Ok(Ok(()));
        }
        if session.rooms.len() >= max_rooms {
            return Ok(Err(TooManyRooms));
        }
        session.rooms.push(Arc::clone(&room));
        registry.rooms.entry(room).or_default().insert(id);
        Ok(Ok(()))
    }

    /// Takes the session out of `room`.
    pub fn leave(&self, session_id: &str, room: &str) {
        let mut registry = lock(&self.registry);
        if let Some(session) = registry.by_id.get_mut(session_id) {
            session.rooms.retain(|r| &**r != room);
        }
        registry.remove_member(room, session_id);
    }

    /// Numbers `envelope` in the stream of every session in `room` and sends
    /// it to their live channels; returns how many sessions it reached.
    pub fn push_to_room(&self, room: &str, envelope: &Value) -> usize {
        let mut registry = lock(&self.registry);
        let members: Vec<Arc<str>> = registry
            .rooms
            .get(room)
            .map(|members| members.iter().cloned().collect())
            .unwrap_or_default();
        let now = Instant::now();
        members
            .iter()
            .filter_map(|member| {
                registry.update(member, &self.limits, now, |session| {
                    session.push(envelope.clone())
                })
            })
            .count()
    }

    /// Sessions, idle ones, bytes and rooms.
    pub fn counts(&self) -> SessionCounts {
        let registry = lock(&self.registry);
        SessionCounts {
            sessions: registry.by_id.len(),
            idle: registry.by_id.values().filter(|s| s.is_idle()).count(),
            bytes: registry.bytes,
            rooms: registry.rooms.len(),
        }
    }
}

impl Registry {
    /// Runs `f` on an existing session, then settles the byte count and the
    /// memory budget; `None` when there is no such session.
    fn update<R>(
        &mut self,
        session_id: &str,
        limits: &Limits,
        now: Instant,
        f: impl FnOnce(&mut Session) -> R,
    ) -> Option<R> {
        let session = self.by_id.get_mut(session_id)?;
        let before = session.bytes();
        session.last_used = now;
        let result = f(session);
        let after = session.bytes();
        self.bytes = self.bytes - before + after;
        if self.bytes > limits.memory_budget_bytes {
            self.enforce_budget(session_id, limits);
        }
        Some(result)
    }

    /// Creates the session if there is none, making room first.
    fn ensure(
        &mut self,
        session_id: &str,
        limits: &Limits,
        now: Instant,
    ) -> Result<(), SessionsFull> {
        if now.duration_since(self.last_sweep) >= SWEEP_INTERVAL {
            self.sweep(limits, now);
        }
        if !self.by_id.contains_key(session_id) {
            self.make_room(limits, now)?;
            self.by_id
                .insert(Arc::from(session_id), Session::new(limits, now));
        }
        Ok(())
    }

    /// Over the memory budget: idle sessions go first, least recently used
    /// first; if live ones alone are over, the log that grew keeps its share,
    /// even if that drops its newest frame (a client that resumes behind it
    /// hears of a `gap`): the budget is a bound, not a wish.
    fn enforce_budget(&mut self, growing: &str, limits: &Limits) {
        for (_, id) in self.idle_oldest_first(Some(growing)) {
            if self.bytes <= limits.memory_budget_bytes {
                return;
            }
            self.remove(&id);
        }
        if self.bytes > limits.memory_budget_bytes {
            let share = limits.memory_budget_bytes / self.by_id.len().max(1);
            if let Some(session) = self.by_id.get_mut(growing) {
                let before = session.bytes();
                session.stream.trim_to_share(share);
                self.bytes = self.bytes - before + session.bytes();
            }
        }
    }

    /// The idle sessions (but `except`), least recently used first, with
    /// when each was last used.
    fn idle_oldest_first(&self, except: Option<&str>) -> Vec<(Instant, Arc<str>)> {
        let mut idle: Vec<(Instant, Arc<str>)> = self
            .by_id
            .iter()
            .filter(|(id, session)| session.is_idle() && Some(&***id) != except)
            .map(|(id, session)| (session.last_used, Arc::clone(id)))
            .collect();
        idle.sort_unstable();
        idle
    }

    /// Forgets idle sessions unused for the TTL, then the oldest idle ones
    /// beyond the idle cap.
    fn sweep(&mut self, limits: &Limits, now: Instant) {
        self.last_sweep = now;
        let idle = self.idle_oldest_first(None);
        let excess = idle.len().saturating_sub(limits.max_idle_sessions);
        for (index, (last_used, id)) in idle.into_iter().enumerate() {
            if index < excess || now.duration_since(last_used) >= limits.session_ttl {
                self.remove(&id);
            }
        }
    }

    /// Makes room for one more session, or says there is none.
    fn make_room(&mut self, limits: &Limits, now: Instant) -> Result<(), SessionsFull> {
        if self.by_id.len() < limits.max_sessions {
            return Ok(());
        }
        self.sweep(limits, now);
        if self.by_id.len() < limits.max_sessions {
            return Ok(());
        }
        let oldest_idle = self
            .by_id
            .iter()
            .filter(|(_, session)| session.is_idle())
            .min_by_key(|(_, session)| session.last_used)
            .map(|(id, _)| Arc::clone(id));
        match oldest_idle {
            Some(id) => {
                self.remove(&id);
                Ok(())
            }
            None => Err(SessionsFull),
        }
    }

    fn remove(&mut self, id: &str) {
        if let Some(session) = self.by_id.remove(id) {
            self.bytes -= session.bytes();
            for room in &session.rooms {
                self.remove_member(room, id);
            }
        }
    }

    fn remove_member(&mut self, room: &str, id: &str) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(id);
            if members.is_empty() {
                self.rooms.remove(room);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn limits() -> Limits {
        Limits {
            max_sessions: 100,
            max_idle_sessions: 10,
            ..Limits::default()
        }
    }

    fn live_socket() -> (LiveSocket, queue::Receiver<ConnectionCommand>) {
        let (commands, receiver) = queue::channel(2, 1 << 20);
        let socket = LiveSocket {
            commands,
            overflowed: CancellationToken::new(),
        };
        (socket, receiver)
    }

    #[test]
    fn idle_sessions_are_bounded_by_count_and_live_ones_kept() {
        let sessions = Sessions::new(limits(), false);
        let (socket, _receiver) = live_socket();
        sessions.attach("live", 1, socket).unwrap();
        for n in 0..30 {
            sessions.with(&format!("idle-{n}"), |_| ()).unwrap();
        }
        lock(&sessions.registry).sweep(&limits(), Instant::now());
        assert!(sessions.get("live", |_| ()).is_some());
        assert!(
            sessions.get("idle-0", |_| ()).is_none(),
            "the oldest idle ones go"
        );
        assert!(sessions.get("idle-29", |_| ()).is_some());
        assert_eq!(sessions.counts().sessions, 11);
    }

    #[test]
    fn idle_sessions_expire_by_time() {
        let limits = Limits {
            session_ttl: Duration::from_millis(30),
            ..limits()
        };
        let sessions = Sessions::new(limits.clone(), false);
        sessions.with("old", |_| ()).unwrap();
        std::thread::sleep(Duration::from_millis(40));
        sessions.with("new", |_| ()).unwrap();
        lock(&sessions.registry).sweep(&limits, Instant::now());
        assert!(sessions.get("old", |_| ()).is_none());
        assert!(sessions.get("new", |_| ()).is_some());
    }

    #[test]
    fn beyond_the_session_cap_idle_ones_make_room_and_live_ones_refuse() {
        let limits = Limits {
            max_sessions: 2,
            ..limits()
        };
        let sessions = Sessions::new(limits, false);
        let (a, _ra) = live_socket();
        let (b, _rb) = live_socket();
        sessions.with("idle", |_| ()).unwrap();
        sessions.attach("a", 1, a).unwrap();
        assert!(
            sessions.attach("b", 2, b.clone()).is_ok(),
            "the idle one made room"
        );
        assert!(sessions.get("idle", |_| ()).is_none());
        assert_eq!(sessions.with("c", |_| ()), Err(SessionsFull));
    }

    #[test]
    fn the_memory_budget_forgets_idle_sessions_then_trims_the_growing_log() {
        let limits = Limits {
            memory_budget_bytes: 64 * 1024,
            ..limits()
        };
        let sessions = Sessions::new(limits, false);
        let big = "x".repeat(10 * 1024);
        for n in 0..5 {
            sessions
                .with(&format!("idle-{n}"), |s| {
                    s.push(json!({"type": "t", "data": big}))
                })
                .unwrap();
        }
        let (socket, _receiver) = live_socket();
        sessions.attach("live", 1, socket).unwrap();
        for _ in 0..20 {
            sessions
                .with("live", |s| {
                    s.stream.number(json!({"type": "t", "data": big}))
                })
                .unwrap();
        }
        let counts = sessions.counts();
        assert!(counts.bytes <= 64 * 1024, "{counts:?}");
        assert_eq!(counts.sessions, 1, "every idle session went first");
        assert!(
            sessions
                .get("live", |s| s.stream.replay_after(0).frames.len())
                .unwrap()
                >= 1
        );
    }

    #[test]
    fn a_socket_that_does_not_read_is_told_and_forgotten() {
        let sessions = Sessions::new(limits(), false);
        let (socket, _receiver) = live_socket();
        let overflowed = socket.overflowed.clone();
        sessions.attach("s", 1, socket).unwrap();
        let reached: Vec<usize> = (0..3)
            .map(|n| {
                sessions
                    .with("s", |s| s.push(json!({"type": "t", "data": n})))
                    .unwrap()
            })
            .collect();
        assert_eq!(reached, [1, 1, 0], "the queue holds 2");
        assert!(overflowed.is_cancelled());
        assert!(sessions.get("s", Session::is_idle).unwrap());
    }

    #[test]
    fn closed_event_streams_are_forgotten_and_open_ones_capped() {
        let sessions = Sessions::new(limits(), false);
        for _ in 0..1000 {
            let (sender, receiver) = queue::channel(1, 1 << 20);
            sessions.with("s", |s| s.add_event_stream(sender)).unwrap();
            drop(receiver);
        }
        assert!(sessions.get("s", |s| s.event_streams.len()).unwrap() <= 1);
        let receivers: Vec<_> = (0..10)
            .map(|_| {
                let (sender, receiver) = queue::channel(1, 1 << 20);
                sessions.with("s", |s| s.add_event_stream(sender)).unwrap();
                receiver
            })
            .collect();
        assert_eq!(
            sessions.get("s", |s| s.event_streams.len()),
            Some(MAX_EVENT_STREAMS)
        );
        drop(receivers);
    }

    #[test]
    fn a_room_member_that_was_forgotten_is_skipped() {
        let limits = Limits {
            max_sessions: 1,
            ..limits()
        };
        let sessions = Sessions::new(limits, false);
        sessions.join("a", "room").unwrap().unwrap();
        // "b" takes the only place: idle "a" is forgotten, and leaves the room.
        sessions.with("b", |_| ()).unwrap();
        assert_eq!(sessions.push_to_room("room", &json!({"type": "t"})), 0);
        assert_eq!(sessions.counts().rooms, 0);
    }

    #[test]
    fn rooms_reach_their_members_and_are_capped_per_session() {
        let limits = Limits {
            max_rooms_per_session: 2,
            ..limits()
        };
        let sessions = Sessions::new(limits, false);
        sessions.join("a", "lobby").unwrap().unwrap();
        sessions.join("b", "lobby").unwrap().unwrap();
        sessions.join("a", "lobby").unwrap().unwrap();
        sessions.join("a", "other").unwrap().unwrap();
        assert_eq!(sessions.join("a", "third").unwrap(), Err(TooManyRooms));
        assert_eq!(sessions.push_to_room("lobby", &json!({"type": "t"})), 2);
        assert_eq!(sessions.get("a", |s| s.stream.last_seq()), Some(1));
        sessions.leave("b", "lobby");
        assert_eq!(sessions.push_to_room("lobby", &json!({"type": "t"})), 1);
        assert_eq!(sessions.push_to_room("nobody", &json!({"type": "t"})), 0);
        assert_eq!(sessions.counts().rooms, 2);
    }
}
