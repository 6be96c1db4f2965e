//! The connection state machine: inputs in (with the current time), actions out.
//!
//! The driver feeds browser events in (`on_open`, `on_close`, `on_timer`, …) and
//! then drains [`Transport::poll_action`] until it returns `None`, executing each
//! action in order. The core never calls out, never blocks and never panics on
//! any input sequence: inputs that do not fit the current phase are ignored.

use std::collections::VecDeque;

use super::backoff::Backoff;
use super::close::{should_reconnect_by_default, validate_close_request, CloseInfo};
use super::ids::{push_number, IdGenerator};
use super::latency::LatencyStats;
use super::options::{Config, ConfigError};
use super::queue::{Enqueued, OfflineQueue};
use super::rng::Rng;
use super::snapshot::{DisconnectReason, Snapshot, Stats};
use super::state::ConnectionState;
use super::timers::{TimerKind, TimerTable};
use super::url::{set_query_param, validate_socket_url};

/// The query parameter that carries the session id on every socket URL.
pub const SESSION_QUERY_PARAM: &str = "session_id";
/// The query parameter that tells the server the last `seq` delivered, so it
/// replays what followed (PROTOCOL.md §4).
pub const LAST_SEQ_QUERY_PARAM: &str = "last_seq";
/// The close code and reason the transport uses when a heartbeat goes unanswered.
pub const HEARTBEAT_TIMEOUT_CLOSE: (u16, &str) = (4000, "heartbeat timeout");
/// A timer that fires this much later than it was due ran in a throttled or
/// frozen tab: its silence says nothing about the link, so the core probes
/// instead of declaring the link dead.
pub const LATE_TIMER_MS: f64 = 1000.0;

/// Something the driver must do, in the order the core emitted it.
///
/// `P` is the payload type of an outgoing frame: the browser driver uses an
/// already-serialised JS value, so the core never copies message text.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<P> {
    /// Call the URL function and report with [`Transport::on_url_resolved`].
    ResolveUrl {
        /// Pass this back so a late answer for an abandoned attempt is ignored.
        attempt: u64,
    },
    /// Open a new socket to this URL. There is never another socket open.
    OpenSocket {
        /// The full URL for this attempt, session id included.
        url: String,
    },
    /// Close the current socket and stop listening to it.
    CloseSocket {
        /// The close code to send.
        code: u16,
        /// The close reason to send.
        reason: String,
    },
    /// Send this application frame on the open socket.
    Transmit(P),
    /// Send a heartbeat ping envelope with this id.
    SendPing {
        /// The ping's id; the pong must carry the same.
        id: String,
    },
    /// Run `on_timer(kind)` at `at_ms` (replacing a pending timer of that kind).
    SetTimer {
        /// Which timer.
        kind: TimerKind,
        /// When, on the core's clock.
        at_ms: f64,
    },
    /// Drop the pending timer of this kind.
    CancelTimer {
        /// Which timer.
        kind: TimerKind,
    },
    /// Tell the application something happened.
    Emit(Event<P>),
}

/// Something the application hears about through `on(event, handler)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<P> {
    /// The connection state changed to this value.
    StateChanged(ConnectionState),
    /// A socket opened.
    Opened,
    /// A socket closed (reported by the browser, or closed by the transport).
    Closed(CloseInfo),
    /// Something went wrong that the application should know about.
    Error(String),
    /// A heartbeat round trip completed; carries the updated statistics.
    Latency(LatencyStats),
    /// A reconnect attempt is scheduled after `delay_ms`.
    Reconnecting {
        /// 1 for the first retry after a loss.
        attempt: u32,
        /// The backoff wait before it.
        delay_ms: f64,
    },
    /// The offline queue changed.
    Queue {
        /// Messages now queued.
        length: usize,
        /// Messages this change dropped (overflow), oldest first.
        dropped: Vec<P>,
    },
}

/// What `send` did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// On the wire.
    Sent,
    /// In the offline queue, sent on the next open.
    Queued,
    /// Dropped by the `drop-newest` policy because the queue was full.
    Dropped,
}

/// Why `send` refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The queue is full and the policy is `"error"`; carries the capacity.
    QueueFull(usize),
}

/// Where the transport is in its life; the public state is derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Down, and staying down until asked.
    Idle,
    /// Waiting for the URL function of attempt `attempt`.
    Resolving { attempt: u64 },
    /// A socket was created and has not opened yet.
    Opening,
    /// Connected.
    Open,
    /// Between attempts: the retry timer is armed, or paused while offline.
    Waiting,
    /// Closed for the back/forward cache; reopens on `pageshow`.
    Suspended,
}

/// The transport's decision-making half. See the module docs for how it is driven.
#[derive(Debug)]
pub struct Transport<P> {
    config: Config,
    rng: Rng,
    ids: IdGenerator,
    phase: Phase,
    /// Identifies the current attempt, so stale URL answers are ignored.
    attempt_serial: u64,
    /// Consecutive failed attempts since the last reset.
    retry: u32,
    /// Set when a connection was lost or an attempt failed; cleared on open.
    recovering: bool,
    online: bool,
    disconnect_reason: Option<DisconnectReason>,
    next_retry_in_ms: Option<f64>,
    timers: TimerTable,
    queue: OfflineQueue<P>,
    /// The unanswered ping: its id and when it was sent.
    pending_ping: Option<(String, f64)>,
    /// The highest server `seq` delivered to the application.
    last_seq: Option<u64>,
    latency: LatencyStats,
    last_close: Option<CloseInfo>,
    stats: Stats,
    reported_state: ConnectionState,
    published: Option<Snapshot>,
    actions: VecDeque<Action<P>>,
}

impl<P: Clone> Transport<P> {
    /// Creates a disconnected transport. `random_seed` comes from the platform's
    /// secure random source (tests pass a constant): it seeds the jitter and
    /// makes envelope ids unique across transports sharing a session id.
    pub fn new(config: Config, random_seed: u64) -> Self {
        let mut rng = Rng::new(random_seed);
        let ids = IdGenerator::new(rng.next_u64());
        let queue = OfflineQueue::new(config.queue_capacity, config.overflow);
        Self {
            config,
            rng,
            ids,
            phase: Phase::Idle,
            attempt_serial: 0,
            retry: 0,
            recovering: false,
            online: true,
            disconnect_reason: None,
            next_retry_in_ms: None,
            timers: TimerTable::default(),
            queue,
            pending_ping: None,
            last_seq: None,
            latency: LatencyStats::default(),
            last_close: None,
            stats: Stats::default(),
            reported_state: ConnectionState::Disconnected,
            published: None,
            actions: VecDeque::new(),
        }
    }

    // ----- reading -----

    /// The current connection state.
    pub fn state(&self) -> ConnectionState {
        match self.phase {
            Phase::Idle | Phase::Suspended => ConnectionState::Disconnected,
            Phase::Open => ConnectionState::Connected,
            Phase::Waiting => ConnectionState::Reconnecting,
            Phase::Resolving { .. } | Phase::Opening if self.recovering => {
                ConnectionState::Reconnecting
            }
            Phase::Resolving { .. } | Phase::Opening => ConnectionState::Connecting,
        }
    }

    /// The settings this transport runs on.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The session id sent with every attempt.
    pub fn session_id(&self) -> &str {
        &self.config.session_id
    }

    /// The most recent heartbeat round trip, in ms.
    pub fn latency_ms(&self) -> Option<f64> {
        self.latency.last
    }

    /// Messages waiting in the offline queue, oldest first.
    pub fn queued(&self) -> impl Iterator<Item = &P> {
        self.queue.iter()
    }

    /// How many messages wait in the offline queue.
    pub fn queue_length(&self) -> usize {
        self.queue.len()
    }

    /// Whether any timer is pending.
    pub fn has_pending_timers(&self) -> bool {
        !self.timers.is_idle()
    }

    /// When the timer of `kind` is due, if it is pending.
    pub fn timer_due(&self, kind: TimerKind) -> Option<f64> {
        self.timers.due(kind)
    }

    /// Everything `getSnapshot()` reports.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state(),
            attempt: self.retry,
            next_retry_in_ms: self.next_retry_in_ms,
            latency: self.latency,
            queued: self.queue.len(),
            disconnect_reason: self.disconnect_reason,
            last_close: self.last_close.clone(),
            stats: self.stats,
        }
    }

    /// The snapshot, if it differs from the one this method returned last time:
    /// the driver rebuilds its frozen JS object (and notifies subscribers) only then.
    pub fn take_changed_snapshot(&mut self) -> Option<Snapshot> {
        let current = self.snapshot();
        if self.published.as_ref() == Some(&current) {
            return None;
        }
        self.published = Some(current.clone());
        Some(current)
    }

    /// The next action for the driver to execute, oldest first.
    pub fn poll_action(&mut self) -> Option<Action<P>> {
        self.actions.pop_front()
    }

    /// A fresh envelope id, unique for this transport's lifetime.
    pub fn next_message_id(&mut self) -> String {
        self.ids.next_message()
    }

    // ----- application requests -----

    /// Connects if down (or retries at once if waiting). No-op while connecting or connected.
    pub fn connect(&mut self, now_ms: f64) {
        match self.phase {
            Phase::Idle | Phase::Suspended => {
                self.retry = 0;
                self.recovering = false;
                self.start_attempt(now_ms);
            }
            Phase::Waiting => self.start_attempt(now_ms),
            Phase::Resolving { .. } | Phase::Opening | Phase::Open => {}
        }
        self.settle();
    }

    /// Drops any connection and starts a fresh attempt now, backoff reset.
    pub fn reconnect(&mut self, now_ms: f64) {
        self.close_current(1000, "reconnect", true);
        self.retry = 0;
        self.recovering = false;
        self.start_attempt(now_ms);
        self.settle();
    }

    /// Closes the connection on the application's request and stays down.
    pub fn disconnect(&mut self, _now_ms: f64, code: u16, reason: &str) -> Result<(), ConfigError> {
        validate_close_request(code, reason)?;
        self.close_current(code, reason, true);
        self.go_idle(Some(DisconnectReason::Client));
        self.settle();
        Ok(())
    }

    /// Sends a serialised frame now if connected, otherwise queues it.
    pub fn send(&mut self, _now_ms: f64, payload: P) -> Result<SendOutcome, SendError> {
        if self.phase == Phase::Open {
            self.transmit(payload);
            return Ok(SendOutcome::Sent);
        }
        let outcome = match self.queue.push(payload) {
            Enqueued::Queued { dropped } => {
                let dropped: Vec<P> = dropped.into_iter().collect();
                self.stats.dropped += dropped.len() as u64;
                self.emit_queue(dropped);
                SendOutcome::Queued
            }
            Enqueued::DroppedNewest(message) => {
                self.stats.dropped += 1;
                self.emit_queue(vec![message]);
                SendOutcome::Dropped
            }
            Enqueued::Full(_) => return Err(SendError::QueueFull(self.queue.capacity())),
        };
        Ok(outcome)
    }

    /// Empties the offline queue without sending anything.
    pub fn clear_queue(&mut self) {
        if !self.queue.is_empty() {
            self.queue.clear();
            self.emit_queue(Vec::new());
        }
    }

    // ----- socket events -----

    /// The URL function of attempt `attempt` answered.
    pub fn on_url_resolved(&mut self, now_ms: f64, attempt: u64, result: Result<String, String>) {
        if self.phase != (Phase::Resolving { attempt }) {
            return;
        }
        let checked = result.and_then(|url| {
            validate_socket_url(&url)
                .map(|()| url)
                .map_err(|why| format_reason("the url function's result ", why))
        });
        match checked {
            Ok(url) => self.open_socket(&url),
            Err(why) => {
                self.report_error(format_reason("could not get a URL: ", &why));
                self.attempt_failed(now_ms);
            }
        }
        self.settle();
    }

    /// The socket could not even be created (the constructor threw).
    pub fn on_open_failed(&mut self, now_ms: f64, message: &str) {
        if self.phase != Phase::Opening {
            return;
        }
        self.report_error(format_reason("could not open a WebSocket: ", message));
        self.attempt_failed(now_ms);
        self.settle();
    }

    /// The socket finished its opening handshake.
    pub fn on_open(&mut self, now_ms: f64) {
        if self.phase != Phase::Opening {
            return;
        }
        self.phase = Phase::Open;
        self.cancel_timer(TimerKind::ConnectTimeout);
        if self.recovering {
            self.stats.reconnects += 1;
        }
        self.recovering = false;
        self.disconnect_reason = None;
        self.next_retry_in_ms = None;
        if self.config.min_uptime_ms > 0.0 {
            self.set_timer(TimerKind::MinUptime, now_ms + self.config.min_uptime_ms);
        } else {
            self.retry = 0;
        }
        // Queued messages go first, before anything sent from an "open" listener.
        if !self.queue.is_empty() {
            let queued: Vec<P> = self.queue.drain().collect();
            for payload in queued {
                self.transmit(payload);
            }
            self.emit_queue(Vec::new());
        }
        if let Some(heartbeat) = self.config.heartbeat {
            self.set_timer(TimerKind::Heartbeat, now_ms + heartbeat.interval_ms);
        }
        self.emit(Event::Opened);
        self.settle();
    }

    /// The socket closed. `verdict` is the application's `shouldReconnect`
    /// answer, if it has one; otherwise the default policy decides.
    pub fn on_close(&mut self, now_ms: f64, info: CloseInfo, verdict: Option<bool>) {
        if !matches!(self.phase, Phase::Opening | Phase::Open) {
            return;
        }
        let reconnect = verdict.unwrap_or_else(|| should_reconnect_by_default(info.code));
        self.record_close(info);
        if reconnect {
            self.attempt_failed(now_ms);
        } else {
            self.go_idle(Some(DisconnectReason::TerminalClose));
        }
        self.settle();
    }

    /// The socket reported an error. Browsers give no detail and always follow
    /// with a `close` event, which is where the state changes.
    pub fn on_error(&mut self, _now_ms: f64) {
        if matches!(self.phase, Phase::Opening | Phase::Open) {
            self.report_error("WebSocket error".to_owned());
        }
    }

    /// An application frame arrived (counted only: the driver delivers it).
    pub fn on_message(&mut self) {
        self.stats.received += 1;
    }

    /// A numbered server frame arrived. Returns whether to deliver it: false
    /// for a `seq` already delivered (a replay overlapping what arrived before
    /// the connection dropped). Frames arrive in order on one connection, so
    /// the highest delivered `seq` is all there is to remember.
    pub fn on_numbered_frame(&mut self, seq: u64) -> bool {
        if self.last_seq.is_some_and(|last| seq <= last) {
            return false;
        }
        self.last_seq = Some(seq);
        true
    }

    /// The highest server `seq` delivered so far.
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// A pong arrived carrying `id`.
    pub fn on_pong(&mut self, now_ms: f64, id: &str) {
        let Some(heartbeat) = self.config.heartbeat else {
            return;
        };
        if self.phase != Phase::Open
            || self
                .pending_ping
                .as_ref()
                .is_none_or(|(pending, _)| pending != id)
        {
            return;
        }
        let sent_at = self
            .pending_ping
            .take()
            .map_or(now_ms, |(_, sent_at)| sent_at);
        self.latency.record(now_ms - sent_at);
        self.cancel_timer(TimerKind::PongTimeout);
        self.set_timer(
            TimerKind::Heartbeat,
            (sent_at + heartbeat.interval_ms).max(now_ms),
        );
        self.emit(Event::Latency(self.latency));
        self.settle();
    }

    /// A timer the core set has fired.
    pub fn on_timer(&mut self, now_ms: f64, kind: TimerKind) {
        let Some(due) = self.timers.due(kind) else {
            return; // cancelled or replaced: a stale callback
        };
        self.timers.disarm(kind);
        match kind {
            TimerKind::Retry => {
                if self.phase == Phase::Waiting {
                    self.start_attempt(now_ms);
                }
            }
            TimerKind::ConnectTimeout => {
                if matches!(self.phase, Phase::Resolving { .. } | Phase::Opening) {
                    if self.phase == Phase::Opening {
                        self.actions.push_back(Action::CloseSocket {
                            code: 1000,
                            reason: "connect timeout".to_owned(),
                        });
                    }
                    self.report_error(
                        "connect timeout: the server did not answer in time".to_owned(),
                    );
                    self.attempt_failed(now_ms);
                }
            }
            TimerKind::Heartbeat => self.send_ping(now_ms),
            TimerKind::PongTimeout => {
                if now_ms - due > LATE_TIMER_MS {
                    // The tab slept through the deadline; the pong may be queued
                    // behind this very callback. Ask again before judging.
                    self.send_ping(now_ms);
                } else {
                    self.heartbeat_failed(now_ms);
                }
            }
            TimerKind::MinUptime => self.retry = 0,
        }
        self.settle();
    }

    // ----- page lifecycle -----

    /// The browser reports the network is gone: stop spending attempts.
    pub fn network_offline(&mut self, _now_ms: f64) {
        self.online = false;
        if self.phase == Phase::Waiting {
            self.cancel_timer(TimerKind::Retry);
            self.next_retry_in_ms = None;
        }
        self.settle();
    }

    /// The network is back: retry at once with the backoff reset, or probe a
    /// connection that may not have survived.
    pub fn network_online(&mut self, now_ms: f64) {
        self.online = true;
        match self.phase {
            Phase::Waiting => {
                self.retry = 0;
                self.start_attempt(now_ms);
            }
            Phase::Open => self.probe(now_ms),
            _ => {}
        }
        self.settle();
    }

    /// The page became visible: probe the link, or stop waiting out a backoff.
    pub fn page_visible(&mut self, now_ms: f64) {
        match self.phase {
            Phase::Open => self.probe(now_ms),
            Phase::Waiting if self.online => self.start_attempt(now_ms),
            _ => {}
        }
        self.settle();
    }

    /// The page is entering the back/forward cache: close cleanly (an open
    /// socket would keep it out of the cache) and remember to come back.
    pub fn page_frozen(&mut self, _now_ms: f64) {
        if matches!(self.phase, Phase::Idle | Phase::Suspended) {
            return;
        }
        self.close_current(1000, "page hidden", true);
        self.cancel_all_timers();
        self.pending_ping = None;
        self.next_retry_in_ms = None;
        self.phase = Phase::Suspended;
        self.settle();
    }

    /// The page came back from the back/forward cache.
    pub fn page_restored(&mut self, now_ms: f64) {
        if self.phase == Phase::Suspended {
            self.retry = 0;
            self.start_attempt(now_ms);
            self.settle();
        }
    }

    // ----- internals -----

    fn start_attempt(&mut self, now_ms: f64) {
        self.cancel_timer(TimerKind::Retry);
        self.next_retry_in_ms = None;
        self.disconnect_reason = None;
        self.attempt_serial += 1;
        if self.config.connect_timeout_ms > 0.0 {
            self.set_timer(
                TimerKind::ConnectTimeout,
                now_ms + self.config.connect_timeout_ms,
            );
        }
        match self.config.url.clone() {
            Some(url) => self.open_socket(&url),
            None => {
                self.phase = Phase::Resolving {
                    attempt: self.attempt_serial,
                };
                self.actions.push_back(Action::ResolveUrl {
                    attempt: self.attempt_serial,
                });
            }
        }
    }

    fn open_socket(&mut self, base_url: &str) {
        let mut url = set_query_param(base_url, SESSION_QUERY_PARAM, &self.config.session_id);
        if let Some(last) = self.last_seq {
            let mut digits = String::new();
            push_number(&mut digits, last, 10);
            url = set_query_param(&url, LAST_SEQ_QUERY_PARAM, &digits);
        }
        self.phase = Phase::Opening;
        self.actions.push_back(Action::OpenSocket { url });
    }

    /// An attempt failed or a connection was lost: schedule the next attempt,
    /// or give up after `maxReconnectAttempts`.
    fn attempt_failed(&mut self, now_ms: f64) {
        self.stop_connection_timers();
        self.recovering = true;
        let attempt = self.retry.saturating_add(1);
        if self
            .config
            .max_reconnect_attempts
            .is_some_and(|max| attempt > max)
        {
            self.go_idle(Some(DisconnectReason::MaxAttempts));
            return;
        }
        self.retry = attempt;
        self.phase = Phase::Waiting;
        if !self.online {
            return; // resumes on network_online
        }
        let delay = Backoff::delay(&self.config.backoff, self.retry, self.rng.next_unit());
        self.next_retry_in_ms = Some(delay);
        self.set_timer(TimerKind::Retry, now_ms + delay);
        self.emit(Event::Reconnecting {
            attempt: self.retry,
            delay_ms: delay,
        });
    }

    fn heartbeat_failed(&mut self, now_ms: f64) {
        if self.phase != Phase::Open {
            return;
        }
        let (code, reason) = HEARTBEAT_TIMEOUT_CLOSE;
        self.actions.push_back(Action::CloseSocket {
            code,
            reason: reason.to_owned(),
        });
        self.record_close(CloseInfo {
            code,
            reason: reason.to_owned(),
            was_clean: false,
        });
        self.attempt_failed(now_ms);
    }

    fn send_ping(&mut self, now_ms: f64) {
        let Some(heartbeat) = self.config.heartbeat else {
            return;
        };
        if self.phase != Phase::Open {
            return;
        }
        let id = self.ids.next_ping();
        self.pending_ping = Some((id.clone(), now_ms));
        self.cancel_timer(TimerKind::Heartbeat);
        self.set_timer(TimerKind::PongTimeout, now_ms + heartbeat.timeout_ms);
        self.actions.push_back(Action::SendPing { id });
    }

    /// Checks the link now, unless a ping is already out.
    fn probe(&mut self, now_ms: f64) {
        if self.pending_ping.is_none() {
            self.send_ping(now_ms);
        }
    }

    /// Closes the socket the transport holds, reporting it as closed if it was open.
    fn close_current(&mut self, code: u16, reason: &str, was_clean: bool) {
        if !matches!(self.phase, Phase::Opening | Phase::Open) {
            return;
        }
        self.actions.push_back(Action::CloseSocket {
            code,
            reason: reason.to_owned(),
        });
        self.stop_connection_timers();
        if self.phase == Phase::Open {
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
        self.cancel_all_timers();
        self.pending_ping = None;
        self.next_retry_in_ms = None;
        self.phase = Phase::Idle;
        self.disconnect_reason = reason;
        if reason == Some(DisconnectReason::Client) {
            self.retry = 0;
            self.recovering = false;
        }
    }

    fn stop_connection_timers(&mut self) {
        for kind in [
            TimerKind::ConnectTimeout,
            TimerKind::Heartbeat,
            TimerKind::PongTimeout,
            TimerKind::MinUptime,
        ] {
            self.cancel_timer(kind);
        }
        self.pending_ping = None;
    }

    fn cancel_all_timers(&mut self) {
        for kind in TimerKind::ALL {
            self.cancel_timer(kind);
        }
    }

    fn transmit(&mut self, payload: P) {
        self.stats.sent += 1;
        self.actions.push_back(Action::Transmit(payload));
    }

    fn set_timer(&mut self, kind: TimerKind, at_ms: f64) {
        self.timers.arm(kind, at_ms);
        self.actions.push_back(Action::SetTimer { kind, at_ms });
    }

    fn cancel_timer(&mut self, kind: TimerKind) {
        if self.timers.disarm(kind) {
            self.actions.push_back(Action::CancelTimer { kind });
        }
    }

    fn report_error(&mut self, message: String) {
        self.stats.errors += 1;
        self.emit(Event::Error(message));
    }

    fn emit_queue(&mut self, dropped: Vec<P>) {
        self.emit(Event::Queue {
            length: self.queue.len(),
            dropped,
        });
    }

    fn emit(&mut self, event: Event<P>) {
        self.actions.push_back(Action::Emit(event));
    }

    /// Reports a state change, if the inputs just handled caused one.
    fn settle(&mut self) {
        let state = self.state();
        if state != self.reported_state {
            self.reported_state = state;
            self.emit(Event::StateChanged(state));
        }
    }
}

/// `prefix + detail`, without `core::fmt`.
fn format_reason(prefix: &str, detail: &str) -> String {
    let mut message = String::with_capacity(prefix.len() + detail.len());
    message.push_str(prefix);
    message.push_str(detail);
    message
}
