//! The transport: one input in, outputs out, one deadline.
//!
//! ```text
//! driver ──handle_input(now, Input)──▶ Transport ──poll_output()──▶ Output …
//!        ◀────────poll_timeout()─────── (earliest deadline of every part)
//! ```
//!
//! The driver feeds every browser event and application call in as an
//! [`Input`], drains [`Transport::poll_output`] until it returns `None`,
//! executing each output in order, and keeps one timer for
//! [`Transport::poll_timeout`], reporting it as [`Input::Timeout`]. The core
//! never calls out, never blocks and never panics on any input sequence: inputs
//! that do not fit the current phase are ignored.
//!
//! The work is split by concern, each part with its own state and deadline:
//! [`Connection`] (phase, retries, attempt deadlines), [`Channel`] (WebSocket,
//! or HTTP with its upgrade probe), [`Upstream`] (outbox and ack clock),
//! [`Downstream`] (delivered `seq`s, resume, stream resets), [`Heartbeat`]
//! (pings, latency, the silence rule) and the page-lifecycle policy
//! ([`page_signal`]). This file coordinates them; the public state is settled
//! once, at the end of every input.

use crate::prelude::*;

use super::backoff::{close_retry_after_ms, retry_after_ms, Backoff};
use super::channel::{Channel, Delivery, Mode, Probe};
use super::close::{should_reconnect_by_default, validate_close_request, CloseInfo};
use super::connection::{Connection, Phase};
use super::downstream::{Downstream, Numbered};
use super::feed::{Feed, POLL_QUERY_PARAM, POLL_WAIT, POLL_WAIT_MS};
use super::heartbeat::{Beat, Heartbeat, Silence};
use super::ids::{push_number, IdGenerator};
use super::input::{FrameKind, FrameSource, InboundFrame, Input};
use super::lifecycle::{page_signal, PageSignal};
use super::limits::Limits;
#[cfg(any(test, feature = "shared-tabs"))]
use super::options::validate_session_id;
use super::options::Config;
use super::outbox::Held;
use super::output::{Event, Handled, InputError, Output, SendOutcome};
use super::pace::Pacer;
use super::queue::Enqueued;
use super::rng::Rng;
use super::seqs::Step;
use super::snapshot::{DisconnectReason, Snapshot, Stats};
use super::state::ConnectionState;
use super::time::{earliest, is_due, Duration, Instant};
use super::upstream::Upstream;
use super::url::{set_query_param, split_once_byte, validate_socket_url};

/// The query parameter that carries the session id on every socket URL.
pub const SESSION_QUERY_PARAM: &str = "session_id";
/// The query parameter that tells the server the last `seq` delivered, so it
/// replays what followed (PROTOCOL.md §4).
pub const LAST_SEQ_QUERY_PARAM: &str = "last_seq";
/// The query parameter that asks the server for acknowledgements (PROTOCOL.md §5).
pub const ACK_QUERY_PARAM: &str = "ack";
/// The envelope type of acknowledgements (PROTOCOL.md §5).
pub const ACK_TYPE: &str = "ack";
/// The envelope type of gap notices (PROTOCOL.md §4).
pub const GAP_TYPE: &str = "gap";
/// The envelope type that names the server's stream epoch (PROTOCOL.md §4.1).
pub const WELCOME_TYPE: &str = "welcome";
/// The envelope type that says the resumed stream is gone (PROTOCOL.md §4.1).
pub const RESET_TYPE: &str = "reset";
/// The query parameter that names the protocol version the client speaks.
pub const PROTOCOL_QUERY_PARAM: &str = "protocol";
/// The protocol version this client speaks: v1 plus epochs (PROTOCOL.md §4.1).
pub const PROTOCOL_VERSION: &str = "1.1";
/// The query parameter that carries the epoch `last_seq` counts in.
pub const EPOCH_QUERY_PARAM: &str = "epoch";
/// The close code and reason the transport uses when the link falls silent.
pub const HEARTBEAT_TIMEOUT_CLOSE: (u16, &str) = (4000, "heartbeat timeout");
/// The close code and reason when tracked messages go unacknowledged.
pub const ACK_TIMEOUT_CLOSE: (u16, &str) = (4000, "ack timeout");
/// The close code of a server that refuses a message as too big (RFC 6455).
pub const MESSAGE_TOO_BIG: u16 = 1009;

/// The close code a server uses to say "try again later" (RFC 6455 §7.4.1):
/// its reason may say how much later (`close_retry_after_ms`).
pub const TRY_AGAIN_LATER: u16 = 1013;
/// The envelope every `send` writes (PROTOCOL.md §2), as the five fixed parts
/// around its variable ones: `[0] type [1] data [2] id [3] timestamp [4]`,
/// where `type` and `data` are JSON, the id is `message_id_prefix()` + `-` +
/// the message number (or `p` + a ping's number: `ping_id`), and the
/// timestamp ISO-8601. The driver fills it in without crossing into the core.
pub const ENVELOPE_PARTS: [&str; 5] = [
    "{\"type\":",
    ",\"data\":",
    ",\"id\":\"",
    "\",\"timestamp\":\"",
    "\"}",
];

/// What the `error` event says when the fallback's event stream (or the
/// long-poll standing in for it) fails.
const EVENTS_FAILED: &str = "the HTTP fallback's event stream failed";

/// How long a fallback POST may take when `ackTimeout` is 0 (no limit for
/// acks): a POST that never returns must not hold up every later send.
pub const DEFAULT_POST_TIMEOUT: Duration = Duration::from_ms(30_000.0);

/// The deadlines the core keeps, by what they are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The attempt under way is abandoned.
    Connect,
    /// The next attempt starts.
    Retry,
    /// The attempt counter resets after staying connected.
    MinUptime,
    /// The heartbeat's next ping, or its judgement of a silent link.
    Heartbeat,
    /// Tracked messages unacknowledged: the channel is taken for dead.
    Ack,
    /// The fallback POST in flight is abandoned.
    Post,
    /// The WebSocket is tried again from the HTTP fallback.
    Probe,
    /// The fallback's event stream has not opened (it is given up for
    /// long-polling), or the long-poll in flight is abandoned.
    Feed,
    /// Held frames have waited long enough for a missing number: it is
    /// given up on and reported as a gap.
    Hole,
    /// Held messages that waited for the server's message rate may go.
    Pace,
}

impl Deadline {
    /// Every kind.
    pub const ALL: [Deadline; 10] = [
        Deadline::Connect,
        Deadline::Retry,
        Deadline::MinUptime,
        Deadline::Heartbeat,
        Deadline::Ack,
        Deadline::Post,
        Deadline::Probe,
        Deadline::Feed,
        Deadline::Hole,
        Deadline::Pace,
    ];
}

/// The transport's decision-making half. See the module docs for how it is driven.
#[derive(Debug)]
pub struct Transport<P> {
    config: Config,
    rng: Rng,
    ids: IdGenerator,
    connection: Connection,
    channel: Channel,
    heartbeat: Heartbeat,
    upstream: Upstream<P>,
    downstream: Downstream,
    /// The fallback's way down: event stream or long-polling.
    feed: Feed,
    /// The largest message the server takes.
    limits: Limits,
    /// The message rate the server takes.
    pacer: Pacer,
    /// The deadline of the fallback POST in flight. Kept beside the channel,
    /// not in it: a POST sent just before the session moved back to the
    /// WebSocket still ends (and its replies still arrive) after the move.
    post_deadline: Option<Instant>,
    /// Where the socket being opened (or open) connects: the driver opens it
    /// from here, and error messages name it.
    socket_url: String,
    /// The `last_seq` the socket's URL and the event stream's URL asked to
    /// resume after, for the stream-reset check when they open.
    socket_resume: Option<u64>,
    events_resume: Option<u64>,
    last_close: Option<CloseInfo>,
    stats: Stats,
    reported_state: ConnectionState,
    /// Decided and not yet polled, oldest first, behind `polling`.
    outputs: Vec<Output<P>>,
    /// The batch being handed out by `poll_output`, newest first (popped
    /// from the end). The two vectors swap roles and keep their capacity, so
    /// once warmed up an input allocates nothing for its outputs (a `Vec`
    /// rather than a `VecDeque`, whose ring-buffer code costs wasm size).
    polling: Vec<Output<P>>,
}

impl<P: Clone> Transport<P> {
    /// Creates a disconnected transport. `random_seed` comes from the platform's
    /// secure random source (tests pass a constant): it seeds the jitter and
    /// makes envelope ids unique across transports sharing a session id.
    pub fn new(config: Config, random_seed: u64) -> Self {
        let mut rng = Rng::new(random_seed);
        let ids = IdGenerator::new(rng.next_u64());
        let upstream = Upstream::new(config.queue_capacity, config.overflow, config.ack_timeout);
        Self {
            channel: Channel::new(initial_mode(&config)),
            heartbeat: Heartbeat::new(config.heartbeat),
            limits: Limits::new(config.max_message_bytes),
            pacer: Pacer::default(),
            config,
            rng,
            ids,
            connection: Connection::default(),
            upstream,
            downstream: Downstream::default(),
            feed: Feed::default(),
            post_deadline: None,
            socket_url: String::new(),
            socket_resume: None,
            events_resume: None,
            last_close: None,
            stats: Stats::default(),
            reported_state: ConnectionState::Disconnected,
            outputs: Vec::new(),
            polling: Vec::new(),
        }
    }

    // ----- reading -----

    /// The current connection state.
    pub fn state(&self) -> ConnectionState {
        self.connection.state()
    }

    /// The channel in use.
    pub fn mode(&self) -> Mode {
        self.channel.mode()
    }

    /// The settings this transport runs on.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The session id sent with every attempt.
    pub fn session_id(&self) -> &str {
        &self.config.session_id
    }

    /// The most recent heartbeat round trip, in ms (rounded to 0.1).
    pub fn latency_ms(&self) -> Option<f64> {
        self.heartbeat.latency().last
    }

    /// Messages held (waiting, or awaiting their ack), oldest first.
    pub fn queued(&self) -> impl Iterator<Item = &P> {
        self.upstream.outbox().iter()
    }

    /// The held messages after the first `skip`, oldest first, in O(1)
    /// for the skipped ones.
    pub fn queued_from(&self, skip: usize) -> impl Iterator<Item = &P> {
        self.upstream.outbox().iter_from(skip)
    }

    /// A number that changes whenever a held message may have been let go
    /// of; while it stays the same, messages were only added at the end of
    /// [`queued`](Self::queued).
    pub fn queue_removals(&self) -> u32 {
        self.upstream.outbox().removals()
    }

    /// How many messages are held.
    pub fn queue_length(&self) -> usize {
        self.upstream.outbox().len()
    }

    /// The `seq` to resume after: every numbered frame up to it was delivered.
    pub fn last_seq(&self) -> Option<u64> {
        self.downstream.resume_position()
    }

    /// The server's stream epoch, once a `welcome` named one: a connection
    /// shared across tabs announces it, so the next leader resumes in it.
    #[cfg(any(test, feature = "shared-tabs"))]
    pub fn epoch(&self) -> Option<&str> {
        self.downstream.epoch()
    }

    /// The URL of the socket [`Output::OpenSocket`] asks for (session id,
    /// `last_seq` and `ack` included).
    pub fn socket_url(&self) -> &str {
        &self.socket_url
    }

    /// Whether a WebSocket the driver holds is a background probe (its close
    /// says nothing about the session, so `shouldReconnect` is not asked).
    pub fn is_probing(&self) -> bool {
        self.channel.mode() == Mode::Http
    }

    /// Everything `getSnapshot()` reports.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            last_close: self.last_close.clone(),
            ..self.snapshot_without_close()
        }
    }

    /// The snapshot with `last_close` left out (see [`last_close`](Self::last_close)):
    /// nothing in it allocates, so the boundary can read it after every input.
    pub fn snapshot_without_close(&self) -> Snapshot {
        Snapshot {
            state: self.state(),
            mode: self.mode(),
            attempt: self.connection.retry,
            next_retry_in_ms: self.connection.next_retry_in().map(Duration::as_ms),
            latency: *self.heartbeat.latency(),
            queued: self.queue_length(),
            last_seq: self.last_seq(),
            disconnect_reason: self.connection.disconnect_reason,
            last_close: None,
            stats: self.stats,
        }
    }

    /// The counters, read fresh (the snapshot's are as of its last change).
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The last close the snapshot reports, lent rather than cloned.
    pub fn last_close(&self) -> Option<&CloseInfo> {
        self.last_close.as_ref()
    }

    /// How the driver classifies an incoming envelope by its `type`: the
    /// types the core consumes itself, each with its kind. Any other type is a
    /// [`FrameKind::Envelope`]. When the ping and pong types are the same, the
    /// pong reading wins (both are answered the same way); custom ping and
    /// pong types win over the protocol's own.
    pub fn frame_types(&self) -> [(&str, FrameKind); 6] {
        [
            (ACK_TYPE, FrameKind::Ack),
            (GAP_TYPE, FrameKind::Gap),
            (WELCOME_TYPE, FrameKind::Welcome),
            (RESET_TYPE, FrameKind::Reset),
            (self.config.ping_type.as_str(), FrameKind::Ping),
            (self.config.pong_type.as_str(), FrameKind::Pong),
        ]
    }

    /// The id envelope `number` carries on the wire (and the server acks).
    pub fn message_id(&self, number: u64) -> String {
        self.ids.message_id(number)
    }

    /// The id of heartbeat ping `number`.
    pub fn ping_id(&self, number: u64) -> String {
        self.ids.ping_id(number)
    }

    /// The random prefix of this transport's envelope and ping ids.
    pub fn message_id_prefix(&self) -> &str {
        self.ids.prefix()
    }

    // ----- driving -----

    /// Handles one input. Outputs go to the queue that
    /// [`poll_output`](Self::poll_output) drains; the answer says what `send`
    /// did or whether to deliver a frame.
    pub fn handle_input(&mut self, now: Instant, input: Input<P>) -> Result<Handled, InputError> {
        self.handle_input_with(&mut || now, input)
    }

    /// Like [`handle_input`](Self::handle_input), reading `clock` only when
    /// a decision needs the time: a send on an open socket that is not
    /// tracked, and a frame that no running heartbeat listens for and that
    /// answers nothing, need none (the per-message path of a browser, where
    /// every read of the clock is a call out of wasm).
    pub fn handle_input_with(
        &mut self,
        clock: &mut dyn FnMut() -> Instant,
        input: Input<P>,
    ) -> Result<Handled, InputError> {
        let handled = self.dispatch(clock, input);
        self.settle();
        handled
    }

    /// The next output for the driver to execute, oldest first.
    pub fn poll_output(&mut self) -> Option<Output<P>> {
        if self.polling.is_empty() {
            // Moved newest first, so `pop` yields the oldest. Both vectors
            // keep their capacity: the steady state allocates nothing. A
            // plain loop: `swap` + `reverse` links the reversal's bounds
            // panics, and `extend(drain(..).rev())` an iterator
            // instantiation of its own (229 B of gzip).
            while let Some(output) = self.outputs.pop() {
                self.polling.push(output);
            }
        }
        self.polling.pop()
    }

    /// When the core next needs [`Input::Timeout`]: the earliest deadline of
    /// every part, or `None` when nothing is pending. The driver may report
    /// the timeout late (throttled tabs) or early (a deadline that moved
    /// later); both are handled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut due = None;
        for kind in Deadline::ALL {
            due = earliest(due, self.deadline(kind));
        }
        due
    }

    /// When the deadline of `kind` is due, if it is pending: what
    /// [`poll_timeout`](Self::poll_timeout) is the earliest of (for tests
    /// and diagnostics; the driver needs only the earliest).
    pub fn deadline(&self, kind: Deadline) -> Option<Instant> {
        match kind {
            Deadline::Connect => self.connection.connect_deadline,
            Deadline::Retry => self.connection.retry_at.map(|(at, _)| at),
            Deadline::MinUptime => self.connection.uptime_deadline,
            Deadline::Heartbeat => self
                .on_open_socket()
                .then(|| self.heartbeat.poll_timeout())
                .flatten(),
            Deadline::Ack => self.upstream.poll_timeout(),
            Deadline::Post => self.post_deadline,
            Deadline::Probe => self.channel.probe_at(),
            Deadline::Feed => self.feed.poll_timeout(),
            // Counted while open: the replay after a reconnect fills holes.
            Deadline::Hole => self
                .downstream
                .hole_deadline()
                .filter(|_| matches!(self.connection.phase, Phase::Open)),
            Deadline::Pace => self.connection.pace_at,
        }
    }

    fn dispatch(
        &mut self,
        clock: &mut dyn FnMut() -> Instant,
        input: Input<P>,
    ) -> Result<Handled, InputError> {
        // The per-message inputs read the clock themselves, if at all.
        let input = match input {
            Input::Send {
                payload,
                envelope,
                bytes,
            } => {
                return self
                    .send(clock, payload, envelope, bytes)
                    .map(Handled::Sent)
            }
            #[cfg(any(test, feature = "shared-tabs"))]
            Input::Relay {
                payload,
                number,
                id,
                bytes,
            } => {
                // Tracked exactly when `send` tracks it; the outbox forgets
                // the id whenever the message stops being tracked.
                if self.config.delivery == Delivery::AtLeastOnce {
                    self.upstream.relaying(number, id);
                }
                return self
                    .send(clock, payload, Some(number), bytes)
                    .map(Handled::Sent);
            }
            Input::Frame(frame) => return Ok(self.on_frame(clock, frame)),
            input => input,
        };
        let now = clock();
        match input {
            Input::Connect => self.connect(now),
            Input::Reconnect => self.reconnect(now),
            Input::Disconnect { code, reason } => {
                validate_close_request(code, &reason).map_err(InputError::BadClose)?;
                self.close_current(code, &reason, true);
                self.go_idle(Some(DisconnectReason::Client));
            }
            // Handled above.
            Input::Send { .. } | Input::Frame(_) => {}
            #[cfg(any(test, feature = "shared-tabs"))]
            Input::Relay { .. } => {}
            Input::ClearQueue => self.clear_queue(),
            #[cfg(any(test, feature = "shared-tabs"))]
            Input::Adopt {
                session_id,
                epoch,
                resume_after,
            } => self.adopt(session_id, epoch.as_deref(), resume_after)?,
            Input::SocketOpened => self.on_socket_opened(now),
            Input::SocketUnusable { message } => self.on_socket_unusable(now, &message),
            Input::SocketError => self.on_socket_error(),
            Input::SocketClosed { close, verdict } => self.on_socket_closed(now, close, verdict),
            Input::EventsOpened => self.on_events_opened(now),
            Input::EventsFailed => self.on_events_failed(now),
            Input::PostAnswered {
                status,
                retry_after,
            } => self.on_post_answered(now, status, &retry_after),
            Input::PostFailed { reason } => self.post_done(now, Some(&reason)),
            Input::UrlResolved { attempt, result } => self.on_url_resolved(now, attempt, result),
            Input::Page(event) => {
                if let Some(signal) = page_signal(event) {
                    self.on_page(now, signal);
                }
            }
            Input::Timeout => self.on_timeout(now),
        }
        Ok(Handled::Done)
    }

    // ----- application requests -----

    fn connect(&mut self, now: Instant) {
        match self.connection.phase {
            Phase::Idle | Phase::Suspended => {
                self.start_over();
                self.start_attempt(now);
            }
            Phase::Waiting => self.start_attempt(now),
            Phase::Resolving { .. } | Phase::Opening | Phase::Open => {}
        }
    }

    /// A fresh attempt now, backoff reset. Coalesced: while a fresh attempt
    /// (one `connect()` or `reconnect()` started, not a retry) is being
    /// opened, it is the attempt asked for, so a `reconnect()` in a loop
    /// opens one socket, not one per call (browsers run out of them).
    fn reconnect(&mut self, now: Instant) {
        if matches!(
            self.connection.phase,
            Phase::Resolving { .. } | Phase::Opening
        ) && !self.connection.recovering
        {
            return;
        }
        self.close_current(1000, "reconnect", true);
        self.start_over();
        self.start_attempt(now);
    }

    /// Sends a serialised frame now if the channel allows, otherwise holds it.
    fn send(
        &mut self,
        clock: &mut dyn FnMut() -> Instant,
        payload: P,
        envelope: Option<u64>,
        bytes: u32,
    ) -> Result<SendOutcome, InputError> {
        let http = envelope.is_some();
        // Tracked by its number: no id string is made for it.
        let ack = envelope.filter(|_| self.config.delivery == Delivery::AtLeastOnce);
        let held = Held {
            payload,
            ack,
            http,
            sent: false,
            bytes,
        };
        let limit = self.limits.max_message_bytes();
        if bytes > limit {
            // Queued, it would be refused on every channel and hold the rest.
            let mut reason = "is ".to_owned();
            push_number(&mut reason, bytes.into(), 10);
            reason.push_str(" bytes, over maxMessageBytes (");
            push_number(&mut reason, limit.into(), 10);
            reason.push_str(") or the server's limit");
            self.give_up(held, reason, true);
            return Ok(SendOutcome::Dropped);
        }
        let on_socket = self.on_open_socket() && self.paced_one(clock);
        let payload = held.payload.clone();
        if on_socket && ack.is_none() {
            self.transmit(payload);
            return Ok(SendOutcome::Sent);
        }
        // On an open socket nothing held is unsent unless it waits for the
        // pace (opening flushes the rest), so a tracked message the pace
        // allows goes straight out, held as sent. (The clone is only used then; a queued message pays one
        // clone rather than a branch that costs wasm size.)
        let held = Held {
            sent: on_socket,
            ..held
        };
        match self.upstream.hold(held) {
            Enqueued::Queued { dropped } => self.dropped(dropped),
            Enqueued::DroppedNewest(held) => {
                self.dropped(Some(held));
                return Ok(SendOutcome::Dropped);
            }
            Enqueued::Full(_) => {
                return Err(InputError::QueueFull(self.upstream.outbox().capacity()))
            }
        }
        Ok(if on_socket {
            self.transmit(payload);
            self.upstream.start_clock(clock());
            SendOutcome::Sent
        } else if self.mode() == Mode::Http && self.connection.is_live() && http {
            // The upstream does not wait for the downstream to open.
            self.post_next(clock());
            SendOutcome::Http
        } else {
            SendOutcome::Queued
        })
    }

    /// Continues a session shared across tabs (`Input::Adopt`).
    #[cfg(any(test, feature = "shared-tabs"))]
    fn adopt(
        &mut self,
        session_id: String,
        epoch: Option<&str>,
        resume_after: Option<u64>,
    ) -> Result<(), InputError> {
        if !matches!(self.connection.phase, Phase::Idle) {
            return Ok(());
        }
        validate_session_id(&session_id).map_err(InputError::BadSession)?;
        self.config.session_id = session_id;
        self.downstream.adopt(epoch, resume_after);
        Ok(())
    }

    fn clear_queue(&mut self) {
        if !self.upstream.outbox().is_empty() {
            let ids = self.upstream.clear();
            self.ack_lost(ids, "was removed by clearQueue()");
            self.emit_queue(Vec::new());
        }
    }

    // ----- socket events -----

    fn on_url_resolved(&mut self, now: Instant, attempt: u64, result: Result<String, String>) {
        let for_probe =
            matches!(self.channel.probe(), Probe::Resolving { attempt: asked } if asked == attempt);
        if !for_probe
            && !matches!(self.connection.phase, Phase::Resolving { attempt: asked } if asked == attempt)
        {
            return;
        }
        let checked = match result {
            Ok(url) => match validate_socket_url(&url) {
                Ok(()) => Ok(url),
                Err(why) => Err(join("the url function's result ", why)),
            },
            Err(why) => Err(why),
        };
        match checked {
            Ok(url) if for_probe => self.open_probe(&url),
            Err(_) if for_probe => self.channel.set_probe(Probe::Idle),
            Ok(url) => self.open_socket(&url),
            Err(why) => {
                self.report_error(join("could not get a URL: ", &why));
                self.attempt_failed(now);
            }
        }
    }

    /// The socket could not even be created: the WebSocket is unusable here,
    /// so fall back at once if there is a fallback.
    fn on_socket_unusable(&mut self, now: Instant, message: &str) {
        if self.mode() == Mode::Http {
            self.channel.set_probe(Probe::Idle);
            return;
        }
        if !matches!(self.connection.phase, Phase::Opening) {
            return;
        }
        self.report_error(join("could not open a WebSocket: ", message));
        self.channel_lost(now, true);
    }

    fn on_socket_opened(&mut self, now: Instant) {
        match self.mode() {
            Mode::WebSocket if matches!(self.connection.phase, Phase::Opening) => {
                self.channel_open(now)
            }
            Mode::Http if self.channel.probe() == Probe::Opening => self.upgrade(now),
            _ => {}
        }
    }

    /// Browsers give no detail and always follow with a `close` event, which
    /// is where the state changes; the error says what little is known.
    fn on_socket_error(&mut self) {
        if self.mode() != Mode::WebSocket || !self.connection.is_live() {
            return;
        }
        let opening = matches!(self.connection.phase, Phase::Opening);
        let mut message = String::from(if opening {
            "could not connect to "
        } else {
            "lost the WebSocket to "
        });
        message.push_str(without_query(&self.socket_url));
        message.push_str(" (browsers give no reason)");
        if opening {
            // The one place the reason for a refused upgrade can be read.
            message.push_str("; a server that refused it logs why");
        }
        self.report_error(message);
    }

    fn on_socket_closed(&mut self, now: Instant, close: CloseInfo, verdict: Option<bool>) {
        if self.mode() == Mode::Http {
            // A failed probe: the next one is scheduled.
            self.channel.set_probe(Probe::Idle);
            return;
        }
        if !self.connection.is_live() {
            return;
        }
        let reconnect = verdict.unwrap_or_else(|| should_reconnect_by_default(close.code));
        if close.code == MESSAGE_TOO_BIG {
            self.refused_as_too_big("closed the socket with 1009 (message too big)");
        }
        if close.code == TRY_AGAIN_LATER {
            // As a 503's Retry-After: the least the next wait may be.
            self.connection.retry_floor = close_retry_after_ms(&close.reason);
        }
        self.record_close(close);
        if reconnect {
            self.attempt_failed(now);
        } else {
            self.go_idle(Some(DisconnectReason::TerminalClose));
        }
    }

    /// A server refused a message as too big (close 1009): the largest on
    /// the wire goes (sent again, it would be refused again, and hold the
    /// rest behind it), and the size limit drops below its size.
    fn refused_as_too_big(&mut self, how: &str) {
        if let Some(held) = self.upstream.give_up_largest_sent() {
            self.limits.lower_to(f64::from(held.bytes) - 1.0);
            self.give_up(held, join("was refused: the server ", how), true);
        }
    }

    // ----- frames -----

    /// Whether to deliver the frame to the application now, or to hold it.
    fn on_frame(&mut self, clock: &mut dyn FnMut() -> Instant, frame: InboundFrame) -> Handled {
        const DROP: Handled = Handled::Frame { deliver: false };
        // Only a running heartbeat needs to know when the socket last spoke.
        if frame.source == FrameSource::Socket && self.heartbeat.is_checking() {
            self.heartbeat.heard(clock());
        }
        let id = frame.id.as_deref().unwrap_or("");
        match frame.kind {
            FrameKind::Pong => {
                self.on_ping_answer(clock(), id);
                return DROP;
            }
            // An echo server sends our own pings back: that is an answer too.
            FrameKind::Ping if self.ids.is_ping_id(id) => {
                self.on_ping_answer(clock(), id);
                return DROP;
            }
            FrameKind::Ack => {
                self.on_ack(clock(), id);
                return DROP;
            }
            // Told as the client's own notice, hole by hole (`Step::Gap`).
            FrameKind::Gap if self.downstream.gap(frame.first_available) => {
                self.drain_stream(clock());
                return DROP;
            }
            // A `welcome` or `reset` without a usable epoch is some server's
            // own envelope of that type: the application's.
            FrameKind::Welcome | FrameKind::Reset
                if Downstream::is_epoch(frame.epoch.as_deref()) =>
            {
                let epoch = frame.epoch.as_deref().unwrap_or("");
                if frame.kind == FrameKind::Welcome {
                    self.downstream.welcome(epoch);
                    self.limits.lower_to(frame.first_available);
                    self.pacer.announce(frame.message_rate, clock());
                } else {
                    self.end_stream(clock());
                    if let Some(Numbered::Reset { previous, first }) =
                        self.downstream.reset(epoch, frame.first_available)
                    {
                        self.stream_reset(previous, first);
                    }
                }
                return DROP;
            }
            FrameKind::Raw
            | FrameKind::Envelope
            | FrameKind::Ping
            | FrameKind::Gap
            | FrameKind::Welcome
            | FrameKind::Reset => {}
        }
        if frame.kind != FrameKind::Raw {
            let mut numbered = self.downstream.numbered(frame.source, frame.seq);
            if let Some(Numbered::TooFar(seq)) = numbered {
                // Numbers this far behind will not come: said, not waited for.
                self.downstream.give_up_below(seq);
                self.drain_stream(clock());
                numbered = self.downstream.numbered(frame.source, frame.seq);
            }
            match numbered {
                Some(Numbered::Duplicate) => return DROP,
                Some(Numbered::Held) => {
                    // Out of `next_step` now when it was the missing one.
                    self.drain_stream(clock());
                    return Handled::Held;
                }
                Some(Numbered::Reset { previous, first }) => {
                    self.end_stream(clock());
                    self.downstream.restart_before(first);
                    // Fresh: the first of the new stream is the next.
                    self.downstream.numbered(frame.source, frame.seq);
                    self.stream_reset(previous, first);
                }
                Some(Numbered::Deliver | Numbered::TooFar(_)) | None => {}
            }
        }
        self.stats.received += 1;
        Handled::Frame { deliver: true }
    }

    /// Moves the stream's floor as far as it goes: each held frame that now
    /// continues it is delivered, each hole given up on reported; then times
    /// the holes still open.
    fn drain_stream(&mut self, now: Instant) {
        while let Some(step) = self.downstream.next_step() {
            let event = match step {
                Step::Release(seq) => {
                    self.stats.received += 1;
                    Event::Deliver(seq)
                }
                Step::Gap { after, first } => Event::Gap { after, first },
            };
            self.emit(event);
        }
        self.downstream.time_holes(now);
    }

    /// The server's stream ends (a reset follows): what it held is
    /// delivered, each hole between reported.
    fn end_stream(&mut self, now: Instant) {
        self.downstream.release_all();
        self.drain_stream(now);
    }

    /// Reports that the stream went back from `previous` to `first`.
    fn stream_reset(&mut self, previous: u64, first: u64) {
        self.stats.resets += 1;
        self.emit(Event::StreamReset { previous, first });
    }

    /// A pong, or our ping echoed: an answer if it carries the waiting ping's id.
    fn on_ping_answer(&mut self, now: Instant, id: &str) {
        let Some(number) = self.heartbeat.pending() else {
            return;
        };
        if self.ids.ping_number(id) == Some(number) {
            if let Some(stats) = self.heartbeat.answered(now, number) {
                self.emit(Event::Latency(stats));
            }
        }
    }

    fn on_ack(&mut self, now: Instant, id: &str) {
        // A leader relaying tabs' envelopes knows their ids first: its own
        // tab's are relayed too, under numbers other than their ids'.
        #[cfg(any(test, feature = "shared-tabs"))]
        let number = self
            .upstream
            .relayed_number(id)
            .or_else(|| self.ids.message_number(id));
        #[cfg(not(any(test, feature = "shared-tabs")))]
        let number = self.ids.message_number(id);
        let Some(number) = number else {
            return;
        };
        if self.upstream.acknowledge(now, number) {
            self.emit(Event::Acked(number));
            self.emit_queue(Vec::new());
        }
    }

    // ----- the HTTP fallback -----

    /// The event stream opened, or (long-polling) the poll in flight was
    /// answered with a 2xx, its envelopes fed in first: the next poll goes
    /// out at once. Either opens the channel if nothing had yet.
    fn on_events_opened(&mut self, now: Instant) {
        if self.mode() != Mode::Http || !self.connection.is_live() {
            return;
        }
        if self.feed.is_polling() {
            if !self.feed.poll_ended() {
                return;
            }
        } else if self.feed.stream_opened() {
            self.downstream.channel_opened(self.events_resume);
        } else {
            return;
        }
        if matches!(self.connection.phase, Phase::Opening) {
            self.channel_open(now);
        }
        if self.feed.is_polling() {
            self.poll(now);
        }
    }

    /// Sends the next long-poll of the events URL, from where the stream
    /// stands now.
    fn poll(&mut self, now: Instant) {
        let Some(base) = self.events_url() else {
            return;
        };
        // The connection's first poll asks for an answer at once: it is what
        // shows the server is there.
        let (wait, asked) = if matches!(self.connection.phase, Phase::Opening) {
            (Duration::ZERO, "0")
        } else {
            (POLL_WAIT, POLL_WAIT_MS)
        };
        self.feed.poll_sent(now, wait, self.post_timeout());
        let url = set_query_param(&self.with_last_seq(base), POLL_QUERY_PARAM, asked);
        self.push(Output::Poll { url });
    }

    /// The events URL with the session id, if the fallback has one.
    fn events_url(&self) -> Option<String> {
        let base = self.config.fallback.as_ref()?.events_url.as_deref()?;
        Some(set_query_param(
            base,
            SESSION_QUERY_PARAM,
            &self.config.session_id,
        ))
    }

    /// The event stream has not opened in time: a proxy is holding it back.
    /// The same URL is long-polled instead, from now on.
    fn stream_held_back(&mut self, now: Instant) {
        self.feed.give_up_stream();
        self.push(Output::CloseEvents);
        self.report_error(join(EVENTS_FAILED, " to open in time: long-polling it"));
        self.downstream.channel_opened(self.events_resume);
        self.poll(now);
    }

    /// The event stream failed (the browser would retry on its own; the
    /// transport closes it and retries with its backoff and `last_seq`), or
    /// the long-poll in flight failed: no answer, not a 2xx, not a JSON
    /// array, or no answer in time.
    fn on_events_failed(&mut self, now: Instant) {
        if self.mode() != Mode::Http
            || !self.connection.is_live()
            || (self.feed.is_polling() && !self.feed.poll_ended())
        {
            return;
        }
        self.push(Output::CloseEvents);
        self.report_error(EVENTS_FAILED.to_owned());
        self.attempt_failed(now);
    }

    /// The POST in flight ended: delivered (`failure` is `None`; its replies
    /// and acks were fed in before this), or failed for the reason given.
    /// The POST in flight was answered with `status` (PROTOCOL.md §6).
    fn on_post_answered(&mut self, now: Instant, status: u16, retry_after: &str) {
        if (200..300).contains(&status) {
            return self.post_done(now, None);
        }
        let mut why = "HTTP ".to_owned();
        push_number(&mut why, u64::from(status), 10);
        match status {
            // This client is refused, as a WebSocket's 4401 and 4403 say:
            // trying again cannot help.
            401 | 403 if self.mode() == Mode::Http => {
                let close = CloseInfo {
                    code: 4000 + status,
                    reason: join(&why, " from the HTTP fallback"),
                    was_clean: false,
                };
                self.close_current(close.code, &close.reason, false);
                self.record_close(close);
                self.go_idle(Some(DisconnectReason::TerminalClose));
            }
            // Too big: a message refused alone is given up, as after a
            // 1009; a batch is sent again one message per POST.
            413 => {
                if self.upstream.posted_alone() {
                    self.refused_as_too_big("answered its POST with 413 (too big)");
                }
                self.limits.post_one_by_one();
            }
            // 429 and 503 (or any other): the next attempt waits at least
            // what the server asked.
            _ => self.connection.retry_floor = retry_after_ms(retry_after),
        }
        self.post_done(now, Some(&why));
    }

    fn post_done(&mut self, now: Instant, failure: Option<&str>) {
        if self.post_deadline.take().is_none() {
            return;
        }
        let before = self.queue_length();
        self.upstream.post_finished(failure.is_none());
        if self.queue_length() != before {
            self.emit_queue(Vec::new());
        }
        let Some(failure) = failure else {
            // An answered POST shows the server is there, whatever the
            // downstream is doing: the channel is up (and posts what waits).
            // Either way the ack clock runs for what it carried.
            let opens =
                self.mode() == Mode::Http && matches!(self.connection.phase, Phase::Opening);
            if opens || matches!(self.connection.phase, Phase::Open) {
                self.upstream.start_clock(now);
            }
            if opens {
                self.channel_open(now);
            } else if matches!(self.connection.phase, Phase::Open) {
                self.post_next(now);
            }
            return;
        };
        self.report_error(join("an HTTP fallback POST failed: ", failure));
        if !self.connection.is_live() {
            return;
        }
        match self.mode() {
            Mode::Http => {
                self.push(Output::CloseEvents);
                self.attempt_failed(now);
            }
            // The session moved to the WebSocket meanwhile: send them there.
            Mode::WebSocket => self.flush_to_socket(now),
        }
    }

    // ----- the page -----

    fn on_page(&mut self, now: Instant, signal: PageSignal) {
        match signal {
            PageSignal::Offline => {
                self.connection.online = false;
                if matches!(self.connection.phase, Phase::Waiting) {
                    self.connection.retry_at = None;
                }
            }
            PageSignal::Online => {
                self.connection.online = true;
                match self.connection.phase {
                    Phase::Waiting => {
                        self.connection.retry = 0;
                        self.start_attempt(now);
                    }
                    Phase::Open => self.probe_link(now),
                    _ => {}
                }
            }
            PageSignal::Visible => match self.connection.phase {
                Phase::Open => self.probe_link(now),
                Phase::Waiting if self.connection.online => self.start_attempt(now),
                _ => {}
            },
            PageSignal::Frozen => {
                if self.connection.is_down() {
                    return;
                }
                self.close_current(1000, "page hidden", true);
                self.stop_everything();
                self.connection.phase = Phase::Suspended;
            }
            PageSignal::Restored => {
                if matches!(self.connection.phase, Phase::Suspended) {
                    self.connection.retry = 0;
                    self.start_attempt(now);
                    self.arm_probe(now);
                }
            }
        }
    }

    // ----- deadlines -----

    /// The deadline was reached. Handling one deadline can set another that is
    /// already due (a zero backoff, a ping due at once), so this runs until
    /// none is left in the past: the driver's timer never has to fire at once.
    fn on_timeout(&mut self, now: Instant) {
        // Each round consumes what is due; a few rounds cover every chain
        // (the fuzz target checks that nothing is left due after a timeout).
        for _ in 0..4 {
            if !is_due(self.poll_timeout(), now) {
                break;
            }
            self.handle_due(now);
        }
    }

    fn handle_due(&mut self, now: Instant) {
        if is_due(self.connection.connect_deadline, now) {
            self.connection.connect_deadline = None;
            self.connect_timed_out(now);
        }
        if self
            .connection
            .retry_at
            .is_some_and(|(at, _)| is_due(Some(at), now))
        {
            self.connection.retry_at = None;
            if matches!(self.connection.phase, Phase::Waiting) {
                self.start_attempt(now);
            }
        }
        if is_due(self.connection.uptime_deadline, now) {
            self.connection.uptime_deadline = None;
            self.connection.retry = 0;
        }
        if self.on_open_socket() {
            self.on_heartbeat(now);
        }
        if is_due(self.upstream.poll_timeout(), now) {
            self.upstream.stop_clock();
            self.channel_dead(now, ACK_TIMEOUT_CLOSE);
        }
        if is_due(self.post_deadline, now) {
            self.push(Output::AbortPost);
            // ackTimeout, or 30 s without one.
            self.post_done(now, Some("no answer in time"));
        }
        if is_due(self.channel.probe_at(), now) {
            self.channel.set_probe_at(None);
            self.start_probe(now);
        }
        if is_due(self.feed.proof_at(), now) {
            self.stream_held_back(now);
        }
        if is_due(self.feed.poll_deadline(), now) {
            self.on_events_failed(now);
        }
        if is_due(self.deadline(Deadline::Hole), now) {
            self.downstream.hole_timed_out();
            self.drain_stream(now);
        }
        if is_due(self.connection.pace_at, now) {
            self.connection.pace_at = None;
            match self.mode() {
                Mode::WebSocket => self.flush_to_socket(now),
                Mode::Http => self.post_next(now),
            }
        }
    }

    fn connect_timed_out(&mut self, now: Instant) {
        if !matches!(
            self.connection.phase,
            Phase::Resolving { .. } | Phase::Opening
        ) {
            return;
        }
        if matches!(self.connection.phase, Phase::Opening) {
            self.push(match self.mode() {
                Mode::WebSocket => Output::CloseSocket {
                    code: 1000,
                    reason: "connect timeout".to_owned(),
                },
                Mode::Http => Output::CloseEvents,
            });
        }
        self.report_error("connect timeout: the server did not answer in time".to_owned());
        self.attempt_failed(now);
    }

    fn on_heartbeat(&mut self, now: Instant) {
        match self.heartbeat.handle_timeout(now) {
            Beat::Nothing => {}
            Beat::Ping(number) => self.ping(now, number),
            Beat::Silent(silence) => {
                self.report_error(Self::silence_message(silence).to_owned());
                if silence != Silence::StoppedChecking {
                    self.channel_dead(now, HEARTBEAT_TIMEOUT_CLOSE);
                }
            }
        }
    }

    /// What the `error` event says when the heartbeat gives up: what was
    /// missed, what happens now, and what to set if the server does not
    /// answer pings. (The times are the options': `heartbeatTimeout` after
    /// a ping, or `heartbeatInterval + heartbeatTimeout` of silence; not
    /// spelled out, which would cost every page the formatting.)
    fn silence_message(silence: Silence) -> &'static str {
        match silence {
            Silence::Unanswered => "heartbeat timeout: silence after a ping (the server answered them before); reconnecting",
            Silence::NeverAnswered => "heartbeat timeout: silence, and no ping was ever answered; reconnecting once. A server that answers no ping needs heartbeatInterval: 0 (or pingType/pongType)",
            Silence::StoppedChecking => "heartbeat: silent again; the link is kept and no longer checked",
        }
    }

    // ----- internals: channels -----

    /// Whether the session is up on an open WebSocket.
    fn on_open_socket(&self) -> bool {
        matches!(self.connection.phase, Phase::Open) && self.mode() == Mode::WebSocket
    }

    /// A fresh start (connect from idle, reconnect): backoff reset, and the
    /// WebSocket first again if it is enabled.
    fn start_over(&mut self) {
        // A wait a server asked of the last connection is not this one's.
        self.connection.retry_floor = 0.0;
        self.connection.retry = 0;
        self.connection.recovering = false;
        self.connection.websocket_failures = 0;
        self.set_mode(initial_mode(&self.config));
    }

    fn start_attempt(&mut self, now: Instant) {
        self.connection.retry_at = None;
        self.connection.disconnect_reason = None;
        let attempt = self.connection.next_attempt();
        self.connection.connect_deadline = self
            .config
            .connect_timeout
            .non_zero()
            .map(|timeout| now + timeout);
        if self.mode() == Mode::Http {
            self.open_events(now);
            return;
        }
        match self.config.url.clone() {
            Some(url) => self.open_socket(&url),
            None => {
                self.connection.phase = Phase::Resolving { attempt };
                self.push(Output::ResolveUrl { attempt });
            }
        }
    }

    /// The full socket URL: session id, `last_seq` once something was
    /// delivered, `ack=1` for at-least-once delivery.
    fn attempt_url(&self, base_url: &str) -> String {
        let mut url = self.with_last_seq(set_query_param(
            base_url,
            SESSION_QUERY_PARAM,
            &self.config.session_id,
        ));
        if self.config.delivery == Delivery::AtLeastOnce {
            url = set_query_param(&url, ACK_QUERY_PARAM, "1");
        }
        url
    }

    /// `url` with what the server needs to continue the stream: the
    /// protocol version, the epoch once known, and `last_seq` once something
    /// was delivered (PROTOCOL.md §4, §4.1).
    fn with_last_seq(&self, url: String) -> String {
        let url = self.with_epoch(url);
        match self.downstream.resume_position() {
            Some(last) => {
                let mut digits = String::new();
                push_number(&mut digits, last, 10);
                set_query_param(&url, LAST_SEQ_QUERY_PARAM, &digits)
            }
            None => url,
        }
    }

    /// `url` with the protocol version and the epoch once known: a POST's
    /// replies are numbered in a stream the server must know the client knows.
    fn with_epoch(&self, url: String) -> String {
        let url = set_query_param(&url, PROTOCOL_QUERY_PARAM, PROTOCOL_VERSION);
        match self.downstream.epoch() {
            Some(epoch) => set_query_param(&url, EPOCH_QUERY_PARAM, epoch),
            None => url,
        }
    }

    fn open_socket(&mut self, base_url: &str) {
        self.connection.phase = Phase::Opening;
        self.request_socket(base_url);
    }

    /// Asks the driver for a socket to `base_url` (session id, `last_seq` and
    /// `ack` added), remembering the position its URL resumes after.
    fn request_socket(&mut self, base_url: &str) {
        self.socket_url = self.attempt_url(base_url);
        self.socket_resume = self.downstream.resume_position();
        self.push(Output::OpenSocket);
    }

    /// Opens the fallback's downstream (the event stream, or its first
    /// long-poll); without one, HTTP is usable at once. The upstream does
    /// not wait for it: what is held is POSTed now.
    fn open_events(&mut self, now: Instant) {
        let Some(base) = self.events_url() else {
            self.channel_open(now);
            return;
        };
        self.events_resume = self.downstream.resume_position();
        self.connection.phase = Phase::Opening;
        if self.feed.is_polling() {
            self.downstream.channel_opened(self.events_resume);
            self.poll(now);
        } else {
            let url = self.with_last_seq(base);
            self.feed
                .stream_requested(now, Feed::proof_bound(self.config.connect_timeout));
            self.push(Output::OpenEvents { url });
        }
        self.post_next(now);
    }

    /// The channel in use is up: send what is held, in order.
    fn channel_open(&mut self, now: Instant) {
        let connection = &mut self.connection;
        connection.phase = Phase::Open;
        connection.connect_deadline = None;
        if connection.recovering {
            self.stats.reconnects += 1;
        }
        connection.recovering = false;
        connection.disconnect_reason = None;
        connection.retry_at = None;
        self.downstream.restart_hole_clock(now);
        match self.config.min_uptime.non_zero() {
            Some(uptime) => connection.uptime_deadline = Some(now + uptime),
            None => connection.retry = 0,
        }
        // Held messages go first, before anything sent from an "open" listener.
        match self.mode() {
            Mode::WebSocket => {
                self.connection.websocket_failures = 0;
                self.downstream.channel_opened(self.socket_resume);
                self.flush_to_socket(now);
                if let Some(number) = self.heartbeat.start(now) {
                    self.ping(now, number);
                }
            }
            Mode::Http => self.post_next(now),
        }
        self.emit(Event::Opened);
    }

    /// The open channel is silent (heartbeat or acks): close it and recover.
    fn channel_dead(&mut self, now: Instant, (code, reason): (u16, &str)) {
        if !matches!(self.connection.phase, Phase::Open) {
            return;
        }
        if self.mode() == Mode::Http {
            self.report_error(join("the HTTP fallback failed: ", reason));
            self.push(Output::CloseEvents);
        } else {
            self.push(Output::CloseSocket {
                code,
                reason: reason.to_owned(),
            });
            self.record_close(CloseInfo {
                code,
                reason: reason.to_owned(),
                was_clean: false,
            });
        }
        self.attempt_failed(now);
    }

    /// An attempt failed or a connection was lost: schedule the next attempt,
    /// or give up after `maxReconnectAttempts`.
    fn attempt_failed(&mut self, now: Instant) {
        self.channel_lost(now, false);
    }

    /// Like `attempt_failed`; `unusable` means the WebSocket cannot work here
    /// at all (its constructor threw), so the fallback starts at once.
    fn channel_lost(&mut self, now: Instant, unusable: bool) {
        let never_opened = !matches!(self.connection.phase, Phase::Open);
        self.stop_connection();
        self.connection.recovering = true;
        if self.mode() == Mode::WebSocket && self.connection.online {
            if let Some(after) = self.config.fallback.as_ref().map(|f| f.after_attempts) {
                if never_opened {
                    self.connection.websocket_failures += 1;
                }
                if unusable || self.connection.websocket_failures >= after {
                    self.fall_back(now);
                    return;
                }
            }
        }
        let attempt = self.connection.retry.saturating_add(1);
        if self
            .config
            .max_reconnect_attempts
            .is_some_and(|max| attempt > max)
        {
            self.go_idle(Some(DisconnectReason::MaxAttempts));
            return;
        }
        self.connection.retry = attempt;
        self.connection.phase = Phase::Waiting;
        if !self.connection.online {
            return; // resumes on the online signal
        }
        // At least what the server asked for, once (`Retry-After`).
        let delay = Duration::from_ms(
            Backoff::delay(&self.config.backoff, attempt, self.rng.next_unit())
                .max(::core::mem::take(&mut self.connection.retry_floor)),
        );
        self.connection.retry_at = Some((now + delay, delay));
        self.emit(Event::Reconnecting {
            attempt,
            delay_ms: delay.as_ms(),
        });
    }

    /// Moves the session to the HTTP fallback, with a fresh backoff.
    fn fall_back(&mut self, now: Instant) {
        self.connection.websocket_failures = 0;
        self.connection.retry = 0;
        self.set_mode(Mode::Http);
        self.start_attempt(now);
        self.arm_probe(now);
    }

    /// The probe socket opened: the session moves back to the WebSocket.
    /// Unacknowledged messages go out again on it, in order (the server drops
    /// copies); the event stream closes, and the socket's `last_seq` replay
    /// covers anything it had not delivered.
    fn upgrade(&mut self, now: Instant) {
        if self.connection.is_live() {
            self.push(Output::CloseEvents); // still on HTTP here
        }
        self.stop_connection();
        self.set_mode(Mode::WebSocket);
        self.connection.retry = 0;
        self.connection.recovering = false;
        self.channel_open(now);
    }

    /// Schedules the next probe, on the HTTP fallback with the WebSocket enabled.
    fn arm_probe(&mut self, now: Instant) {
        let interval = self
            .config
            .fallback
            .as_ref()
            .and_then(|fallback| fallback.probe_interval.non_zero());
        if let Some(interval) = interval.filter(|_| self.config.websocket_enabled) {
            if self.channel.probe_at().is_none() {
                self.channel.set_probe_at(Some(now + interval));
            }
        }
    }

    /// Tries the WebSocket in the background (abandoning a probe that has not
    /// opened since the last one).
    fn start_probe(&mut self, now: Instant) {
        if self.mode() != Mode::Http {
            return;
        }
        self.drop_probe("upgrade probe timeout");
        self.arm_probe(now);
        if !self.connection.online || self.connection.is_down() {
            return;
        }
        let attempt = self.connection.next_attempt();
        match self.config.url.clone() {
            Some(url) => self.open_probe(&url),
            None => {
                self.channel.set_probe(Probe::Resolving { attempt });
                self.push(Output::ResolveUrl { attempt });
            }
        }
    }

    fn open_probe(&mut self, base_url: &str) {
        self.channel.set_probe(Probe::Opening);
        self.request_socket(base_url);
    }

    /// Abandons a probe under way (closing its socket, if it has one).
    fn drop_probe(&mut self, reason: &str) {
        if matches!(self.channel.probe(), Probe::Opening) {
            self.push(Output::CloseSocket {
                code: 1000,
                reason: reason.to_owned(),
            });
        }
        self.channel.set_probe(Probe::Idle);
    }

    fn set_mode(&mut self, mode: Mode) {
        if self.mode() != mode {
            self.channel = Channel::new(mode);
            self.emit(Event::ModeChanged(mode));
        }
    }

    // ----- internals: sending -----

    /// Puts the held messages that are not on the wire onto the open
    /// socket, as many as the pace allows; the rest wait for the Pace
    /// deadline.
    fn flush_to_socket(&mut self, now: Instant) {
        // Not into a socket still opening: its opening flushes (a POST that
        // ends, or the pace, may come first).
        if !self.on_open_socket() {
            return;
        }
        let before = self.queue_length();
        let allowance = self.pacer.allowance(now);
        let frames = self.upstream.take_for_socket(allowance);
        self.pacer.spend(frames.len());
        if frames.len() == allowance {
            // Paced, and more may wait (if none does, the deadline finds none).
            self.connection.pace_at = Some(self.pacer.next_at());
        }
        if frames.is_empty() {
            return;
        }
        for frame in frames {
            self.transmit(frame);
        }
        self.upstream.start_clock(now);
        if self.queue_length() != before {
            self.emit_queue(Vec::new());
        }
    }

    /// Starts the next POST if the fallback is up, none is in flight and
    /// something is waiting: everything waiting goes in one batch.
    fn post_next(&mut self, now: Instant) {
        if self.mode() != Mode::Http || !self.connection.is_live() || self.post_deadline.is_some() {
            return;
        }
        let Some(post_url) = self
            .config
            .fallback
            .as_ref()
            .map(|fallback| fallback.post_url.clone())
        else {
            return;
        };
        let allowance = self.pacer.allowance(now);
        if allowance == 0 {
            self.connection.pace_at = Some(self.pacer.next_at());
            return;
        }
        let most = if self.limits.posts_alone() {
            1
        } else {
            allowance
        };
        let frames = self
            .upstream
            .take_for_post(self.limits.max_message_bytes(), most);
        if frames.is_empty() {
            return;
        }
        self.pacer.spend(frames.len());
        let mut url = self.with_epoch(set_query_param(
            &post_url,
            SESSION_QUERY_PARAM,
            &self.config.session_id,
        ));
        if self.config.delivery == Delivery::AtLeastOnce {
            url = set_query_param(&url, ACK_QUERY_PARAM, "1");
        }
        self.post_deadline = Some(now + self.post_timeout());
        self.stats.sent += frames.len() as u64;
        self.push(Output::Post { url, frames });
    }

    /// How long a POST may take: `ackTimeout`, or [`DEFAULT_POST_TIMEOUT`]
    /// when that is 0.
    fn post_timeout(&self) -> Duration {
        self.config
            .ack_timeout
            .non_zero()
            .unwrap_or(DEFAULT_POST_TIMEOUT)
    }

    fn dropped(&mut self, dropped: Option<Held<P>>) {
        let Some(held) = dropped else {
            self.emit_queue(Vec::new());
            return;
        };
        let payload = held.payload.clone();
        self.give_up(held, "was dropped from the full queue".to_owned(), false);
        self.emit_queue(vec![payload]);
    }

    /// A message is given up undelivered, for `reason` (completing "the
    /// message …"); `error` when the application is also told with an
    /// `error` (a refusal, not an overflow it chose the policy of).
    fn give_up(&mut self, held: Held<P>, reason: String, error: bool) {
        self.stats.dropped += 1;
        if error {
            self.report_error(join("the message ", &reason));
        }
        self.emit(Event::Dropped {
            payload: held.payload,
            reason,
        });
    }

    fn ack_lost(&mut self, numbers: Vec<u64>, reason: &'static str) {
        if !numbers.is_empty() {
            self.emit(Event::AckLost { numbers, reason });
        }
    }

    // ----- internals: heartbeat, closing -----

    /// Checks the link now, unless a ping is already out.
    fn probe_link(&mut self, now: Instant) {
        if self.on_open_socket() {
            if let Some(number) = self.heartbeat.probe(now) {
                self.ping(now, number);
            }
        }
    }

    /// Closes what the transport holds open, reporting a WebSocket as closed
    /// if it was open. Unacknowledged messages will go out again.
    fn close_current(&mut self, code: u16, reason: &str, was_clean: bool) {
        self.drop_probe(reason);
        if !self.connection.is_live() {
            return;
        }
        self.push(match self.mode() {
            Mode::WebSocket => Output::CloseSocket {
                code,
                reason: reason.to_owned(),
            },
            Mode::Http => Output::CloseEvents,
        });
        let was_open = self.on_open_socket();
        self.stop_connection();
        if was_open {
            self.record_close(CloseInfo {
                code,
                reason: reason.to_owned(),
                was_clean,
            });
        }
    }

    fn record_close(&mut self, info: CloseInfo) {
        self.last_close = Some(info.clone());
        self.emit(Event::Closed(info));
    }

    fn go_idle(&mut self, reason: Option<DisconnectReason>) {
        self.drop_probe("transport stopped");
        self.stop_everything();
        self.connection.phase = Phase::Idle;
        self.connection.disconnect_reason = reason;
        // Held messages stay held, tracked ones included, for the next
        // `connect()`; their acks are not reported lost. One rule for a
        // `sendWithAck` promise: it is rejected exactly when its message
        // leaves the outbox unacknowledged (clearQueue, an overflow), so a
        // rejected message is never delivered after all, and an app that
        // sends it again cannot send it twice.
        if reason == Some(DisconnectReason::Client) {
            self.connection.retry = 0;
            self.connection.recovering = false;
        }
    }

    /// Stops what belongs to the connection under way: its deadlines, its
    /// heartbeat, the ack clock (tracked messages will be sent again).
    fn stop_connection(&mut self) {
        self.connection.stop_deadlines();
        self.feed.stop();
        self.heartbeat.stop();
        self.upstream.channel_lost();
    }

    /// Stops every deadline: the transport goes down (idle or suspended).
    fn stop_everything(&mut self) {
        self.stop_connection();
        self.connection.retry_at = None;
        self.channel.set_probe_at(None);
    }

    /// Whether one more message may go on the open socket now: none waits
    /// for the pace before it, and the server's rate allows it (it is
    /// counted). When the rate does not, the Pace deadline is set.
    fn paced_one(&mut self, clock: &mut dyn FnMut() -> Instant) -> bool {
        if self.connection.pace_at.is_none() && !self.pacer.is_on() {
            return true;
        }
        let now = clock();
        // A throttled tab's timer may be long late: what waits goes first,
        // as its deadline would have sent it.
        if is_due(self.connection.pace_at, now) {
            self.connection.pace_at = None;
            self.flush_to_socket(now);
        }
        if self.connection.pace_at.is_some() {
            return false;
        }
        if self.pacer.allowance(now) == 0 {
            self.connection.pace_at = Some(self.pacer.next_at());
            return false;
        }
        self.pacer.spend(1);
        true
    }

    /// Sends ping `number`: it counts against the server's rate, and does
    /// not wait for it (a ping that waited could be taken for a dead link).
    fn ping(&mut self, now: Instant, number: u64) {
        self.pacer.charge(now);
        self.push(Output::SendPing { number });
    }

    fn transmit(&mut self, payload: P) {
        self.stats.sent += 1;
        self.push(Output::Transmit(payload));
    }

    fn report_error(&mut self, message: String) {
        self.stats.errors += 1;
        self.emit(Event::Error(message));
    }

    fn emit_queue(&mut self, dropped: Vec<P>) {
        self.emit(Event::Queue {
            length: self.queue_length(),
            dropped,
        });
    }

    fn emit(&mut self, event: Event<P>) {
        self.push(Output::Emit(event));
    }

    fn push(&mut self, output: Output<P>) {
        self.outputs.push(output);
    }

    /// Reports a state change, if the input just handled caused one: the one
    /// place the public state is settled.
    fn settle(&mut self) {
        let state = self.state();
        if state != self.reported_state {
            self.reported_state = state;
            self.emit(Event::StateChanged(state));
        }
    }
}

/// The channel a transport starts on.
fn initial_mode(config: &Config) -> Mode {
    if config.websocket_enabled {
        Mode::WebSocket
    } else {
        Mode::Http
    }
}

/// `prefix + detail`, without `core::fmt`.
fn join(prefix: &str, detail: &str) -> String {
    let mut message = String::with_capacity(prefix.len() + detail.len());
    message.push_str(prefix);
    message.push_str(detail);
    message
}

/// The URL without its query: what an error message may show (the query
/// can hold an auth token). A socket URL has no fragment (the browser's
/// constructor refuses one).
fn without_query(url: &str) -> &str {
    split_once_byte(url, b'?').map_or(url, |(head, _)| head)
}
