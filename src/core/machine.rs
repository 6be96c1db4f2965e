//! The connection state machine: inputs in (with the current time), actions out.
//!
//! The driver feeds browser events in (`on_open`, `on_close`, `on_timer`, …) and
//! then drains [`Transport::poll_action`] until it returns `None`, executing each
//! action in order. The core never calls out, never blocks and never panics on
//! any input sequence: inputs that do not fit the current phase are ignored.

use crate::prelude::*;

pub use super::actions::{Action, Event, SendError, SendOutcome};
use super::backoff::Backoff;
use super::channel::{Delivery, Mode};
use super::close::{should_reconnect_by_default, validate_close_request, CloseInfo};
use super::ids::{push_number, IdGenerator};
use super::latency::LatencyStats;
use super::options::{Config, ConfigError};
use super::outbox::{Held, Outbox};
use super::queue::Enqueued;
use super::rng::Rng;
use super::seqs::DeliveredSeqs;
use super::snapshot::{DisconnectReason, Snapshot, Stats};
use super::state::ConnectionState;
use super::timers::{TimerKind, TimerTable};
use super::url::{set_query_param, validate_socket_url};

/// The query parameter that carries the session id on every socket URL.
pub const SESSION_QUERY_PARAM: &str = "session_id";
/// The query parameter that tells the server the last `seq` delivered, so it
/// replays what followed (PROTOCOL.md §4).
pub const LAST_SEQ_QUERY_PARAM: &str = "last_seq";
/// The query parameter that asks the server for acknowledgements (PROTOCOL.md §5).
pub const ACK_QUERY_PARAM: &str = "ack";
/// The close code and reason the transport uses when a heartbeat goes unanswered.
pub const HEARTBEAT_TIMEOUT_CLOSE: (u16, &str) = (4000, "heartbeat timeout");
/// The close code and reason when tracked messages go unacknowledged.
pub const ACK_TIMEOUT_CLOSE: (u16, &str) = (4000, "ack timeout");
/// A timer that fires this much later than it was due ran in a throttled or
/// frozen tab: its silence says nothing about the link, so the core probes
/// instead of declaring the link dead.
pub const LATE_TIMER_MS: f64 = 1000.0;

/// Where the transport is in its life; the public state is derived from it.
/// The phase is about the channel in use ([`Mode`]): the WebSocket, or the
/// HTTP fallback's event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Down, and staying down until asked.
    Idle,
    /// Waiting for the URL function of attempt `attempt`.
    Resolving { attempt: u64 },
    /// A socket (or event stream) was created and has not opened yet.
    Opening,
    /// Connected.
    Open,
    /// Between attempts: the retry timer is armed, or paused while offline.
    Waiting,
    /// Closed for the back/forward cache; reopens on `pageshow`.
    Suspended,
}

/// A background WebSocket attempt while the HTTP fallback carries the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// None under way.
    Idle,
    /// Waiting for the URL function of attempt `attempt`.
    Resolving { attempt: u64 },
    /// The probe socket was created; its `open` moves the session back.
    Opening,
}

/// The transport's decision-making half. See the module docs for how it is driven.
#[derive(Debug)]
pub struct Transport<P> {
    config: Config,
    rng: Rng,
    ids: IdGenerator,
    phase: Phase,
    mode: Mode,
    probe: Probe,
    /// Identifies the current attempt (or probe), so stale URL answers are ignored.
    attempt_serial: u64,
    /// Consecutive failed attempts since the last reset.
    retry: u32,
    /// Consecutive WebSocket attempts that never opened (for the fallback).
    websocket_failures: u32,
    /// Set when a connection was lost or an attempt failed; cleared on open.
    recovering: bool,
    online: bool,
    disconnect_reason: Option<DisconnectReason>,
    next_retry_in_ms: Option<f64>,
    timers: TimerTable,
    outbox: Outbox<P>,
    post_in_flight: bool,
    /// When an ack last arrived (or tracking started): the ack timeout runs from it.
    ack_progress_at: f64,
    /// The unanswered ping: its id and when it was sent.
    pending_ping: Option<(String, f64)>,
    /// The server `seq` numbers delivered to the application.
    seqs: DeliveredSeqs,
    latency: LatencyStats,
    last_close: Option<CloseInfo>,
    stats: Stats,
    reported_state: ConnectionState,
    published: Option<Snapshot>,
    /// Decided and not yet polled, oldest first, behind `polling`.
    actions: Vec<Action<P>>,
    /// The batch being handed out by `poll_action` (a `Vec` and its iterator
    /// rather than a `VecDeque`, whose ring-buffer code costs wasm size).
    polling: alloc::vec::IntoIter<Action<P>>,
}

impl<P: Clone> Transport<P> {
    /// Creates a disconnected transport. `random_seed` comes from the platform's
    /// secure random source (tests pass a constant): it seeds the jitter and
    /// makes envelope ids unique across transports sharing a session id.
    pub fn new(config: Config, random_seed: u64) -> Self {
        let mut rng = Rng::new(random_seed);
        let ids = IdGenerator::new(rng.next_u64());
        let outbox = Outbox::new(config.queue_capacity, config.overflow);
        let mode = initial_mode(&config);
        Self {
            config,
            rng,
            ids,
            phase: Phase::Idle,
            mode,
            probe: Probe::Idle,
            attempt_serial: 0,
            retry: 0,
            websocket_failures: 0,
            recovering: false,
            online: true,
            disconnect_reason: None,
            next_retry_in_ms: None,
            timers: TimerTable::default(),
            outbox,
            post_in_flight: false,
            ack_progress_at: 0.0,
            pending_ping: None,
            seqs: DeliveredSeqs::default(),
            latency: LatencyStats::default(),
            last_close: None,
            stats: Stats::default(),
            reported_state: ConnectionState::Disconnected,
            published: None,
            actions: Vec::new(),
            polling: Vec::new().into_iter(),
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

    /// The channel in use.
    pub fn mode(&self) -> Mode {
        self.mode
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

    /// Messages held (waiting, or awaiting their ack), oldest first.
    pub fn queued(&self) -> impl Iterator<Item = &P> {
        self.outbox.iter()
    }

    /// How many messages are held.
    pub fn queue_length(&self) -> usize {
        self.outbox.len()
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
            mode: self.mode,
            attempt: self.retry,
            next_retry_in_ms: self.next_retry_in_ms,
            latency: self.latency,
            queued: self.outbox.len(),
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
        if let Some(action) = self.polling.next() {
            return Some(action);
        }
        self.polling = ::core::mem::take(&mut self.actions).into_iter();
        self.polling.next()
    }

    /// A fresh envelope number, unique for this transport's lifetime; its id
    /// is `message_id(number)`.
    pub fn next_message_number(&mut self) -> u64 {
        self.ids.next_message_number()
    }

    /// The id envelope `number` carries on the wire (and the server acks).
    pub fn message_id(&self, number: u64) -> String {
        self.ids.message_id(number)
    }

    /// The random prefix of this transport's envelope ids.
    pub fn message_id_prefix(&self) -> &str {
        self.ids.prefix()
    }

    // ----- application requests -----

    /// Connects if down (or retries at once if waiting). No-op while connecting or connected.
    pub fn connect(&mut self, now_ms: f64) {
        match self.phase {
            Phase::Idle | Phase::Suspended => {
                self.start_over();
                self.start_attempt(now_ms);
            }
            Phase::Waiting => self.start_attempt(now_ms),
            Phase::Resolving { .. } | Phase::Opening | Phase::Open => {}
        }
        self.settle();
    }

    /// Drops any connection and starts a fresh attempt now, backoff reset,
    /// on the WebSocket again if it is enabled.
    pub fn reconnect(&mut self, now_ms: f64) {
        self.close_current(1000, "reconnect", true);
        self.start_over();
        self.start_attempt(now_ms);
        self.settle();
    }

    /// Closes the connection on the application's request and stays down.
    /// Held messages stay held (sent on the next connect); their
    /// acknowledgements are no longer awaited.
    pub fn disconnect(&mut self, _now_ms: f64, code: u16, reason: &str) -> Result<(), ConfigError> {
        validate_close_request(code, reason)?;
        self.close_current(code, reason, true);
        self.go_idle(Some(DisconnectReason::Client));
        self.settle();
        Ok(())
    }

    /// Sends a serialised frame now if the channel allows, otherwise holds it.
    /// `envelope` is the number of an envelope (raw frames have none): with
    /// `at-least-once` delivery it is held until the server acknowledges its
    /// id (`message_id`), and only envelopes may travel over the HTTP fallback.
    pub fn send(
        &mut self,
        now_ms: f64,
        payload: P,
        envelope: Option<u64>,
    ) -> Result<SendOutcome, SendError> {
        let on_socket = self.phase == Phase::Open && self.mode == Mode::WebSocket;
        let http = envelope.is_some();
        // The id string is only made for a message that is tracked.
        let ack_id = envelope
            .filter(|_| self.config.delivery == Delivery::AtLeastOnce)
            .map(|number| self.ids.message_id(number));
        if on_socket && ack_id.is_none() {
            self.transmit(payload);
            return Ok(SendOutcome::Sent);
        }
        // On an open socket nothing held is unsent (opening flushes it all), so
        // a tracked message goes straight out, held as sent: no outbox scan
        // per message. (The clone is only used then; a queued message pays one
        // clone rather than a branch that costs wasm size.)
        let held = Held {
            payload: payload.clone(),
            ack_id,
            http,
            sent: on_socket,
        };
        match self.outbox.push(held) {
            Enqueued::Queued { dropped } => self.dropped(dropped.into_iter().collect()),
            Enqueued::DroppedNewest(held) => {
                self.dropped(vec![held]);
                return Ok(SendOutcome::Dropped);
            }
            Enqueued::Full(_) => return Err(SendError::QueueFull(self.outbox.capacity())),
        }
        let outcome = if on_socket {
            self.transmit(payload);
            self.arm_ack_timeout(now_ms);
            SendOutcome::Sent
        } else if self.phase == Phase::Open && http {
            self.post_next();
            SendOutcome::Http
        } else {
            SendOutcome::Queued
        };
        self.settle();
        Ok(outcome)
    }

    /// Forgets every held message without sending it.
    pub fn clear_queue(&mut self) {
        if !self.outbox.is_empty() {
            let ids = self.outbox.clear();
            self.ack_lost(ids, "was removed by clearQueue()");
            self.emit_queue(Vec::new());
        }
    }

    // ----- socket events -----

    /// The URL function of attempt `attempt` answered.
    pub fn on_url_resolved(&mut self, now_ms: f64, attempt: u64, result: Result<String, String>) {
        let for_probe = self.probe == (Probe::Resolving { attempt });
        if !for_probe && self.phase != (Phase::Resolving { attempt }) {
            return;
        }
        let checked = result.and_then(|url| {
            validate_socket_url(&url)
                .map(|()| url)
                .map_err(|why| format_reason("the url function's result ", why))
        });
        match checked {
            Ok(url) if for_probe => self.open_probe(&url),
            Err(_) if for_probe => self.probe = Probe::Idle,
            Ok(url) => self.open_socket(&url),
            Err(why) => {
                self.report_error(format_reason("could not get a URL: ", &why));
                self.attempt_failed(now_ms);
            }
        }
        self.settle();
    }

    /// The socket could not even be created (the constructor threw): the
    /// WebSocket is unusable here, so fall back at once if there is a fallback.
    pub fn on_open_failed(&mut self, now_ms: f64, message: &str) {
        if self.mode == Mode::Http {
            self.probe = Probe::Idle;
            return;
        }
        if self.phase != Phase::Opening {
            return;
        }
        self.report_error(format_reason("could not open a WebSocket: ", message));
        self.channel_lost(now_ms, true);
        self.settle();
    }

    /// The socket finished its opening handshake.
    pub fn on_open(&mut self, now_ms: f64) {
        match self.mode {
            Mode::WebSocket if self.phase == Phase::Opening => self.channel_open(now_ms),
            Mode::Http if self.probe == Probe::Opening => self.upgrade(now_ms),
            _ => return,
        }
        self.settle();
    }

    /// Whether the socket the driver holds is a background probe (its close
    /// says nothing about the session, so `shouldReconnect` is not asked).
    pub fn is_probing(&self) -> bool {
        self.mode == Mode::Http
    }

    /// The socket closed. `verdict` is the application's `shouldReconnect`
    /// answer, if it has one; otherwise the default policy decides.
    pub fn on_close(&mut self, now_ms: f64, info: CloseInfo, verdict: Option<bool>) {
        if self.mode == Mode::Http {
            self.probe = Probe::Idle; // a failed probe: the next one is scheduled
            return;
        }
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
        if self.mode == Mode::WebSocket && matches!(self.phase, Phase::Opening | Phase::Open) {
            self.report_error("WebSocket error".to_owned());
        }
    }

    /// The HTTP fallback's event stream opened.
    pub fn on_events_open(&mut self, now_ms: f64) {
        if self.mode == Mode::Http && self.phase == Phase::Opening {
            self.channel_open(now_ms);
            self.settle();
        }
    }

    /// The event stream failed (the browser would retry on its own; the
    /// transport closes it and retries with its backoff and `last_seq`).
    pub fn on_events_error(&mut self, now_ms: f64) {
        if self.mode == Mode::Http && matches!(self.phase, Phase::Opening | Phase::Open) {
            self.actions.push(Action::CloseEvents);
            self.report_error("the HTTP fallback's event stream failed".to_owned());
            self.attempt_failed(now_ms);
            self.settle();
        }
    }

    /// The POST in flight ended: `delivered` when the server answered 2xx (its
    /// replies and acks were fed in before this), otherwise `failure` says why.
    pub fn on_post_done(&mut self, now_ms: f64, delivered: bool, failure: &str) {
        if !self.post_in_flight {
            return;
        }
        self.post_in_flight = false;
        let before = self.outbox.len();
        self.outbox.post_finished(delivered);
        if self.outbox.len() != before {
            self.emit_queue(Vec::new());
        }
        if delivered {
            self.arm_ack_timeout(now_ms);
            self.post_next();
        } else {
            self.report_error(format_reason("an HTTP fallback POST failed: ", failure));
            match self.mode {
                Mode::Http if self.phase == Phase::Open => {
                    self.actions.push(Action::CloseEvents);
                    self.attempt_failed(now_ms);
                }
                // The session moved to the WebSocket meanwhile: send them there.
                Mode::WebSocket if self.phase == Phase::Open => self.flush_to_socket(now_ms),
                _ => {}
            }
        }
        self.settle();
    }

    /// An application frame arrived (counted only: the driver delivers it).
    pub fn on_message(&mut self) {
        self.stats.received += 1;
    }

    /// A numbered server frame arrived. Returns whether to deliver it: false
    /// for a `seq` already delivered (a replay overlapping what arrived before
    /// the connection dropped, or the same frame on two channels).
    pub fn on_numbered_frame(&mut self, seq: u64) -> bool {
        self.seqs.deliver(seq)
    }

    /// The server no longer has the frames before `first_available` (a `gap`
    /// frame): stop asking for them.
    pub fn on_gap(&mut self, first_available: u64) {
        self.seqs.skip_to(first_available);
    }

    /// The `seq` to resume after: every frame up to it was delivered.
    pub fn last_seq(&self) -> Option<u64> {
        self.seqs.resume_after()
    }

    /// The server acknowledged the envelope with this id.
    pub fn on_ack(&mut self, now_ms: f64, id: &str) {
        if !self.outbox.acknowledge(id) {
            return; // a second ack for a resent copy, or an id never tracked
        }
        self.ack_progress_at = now_ms;
        if !self.outbox.awaiting_ack() {
            self.cancel_timer(TimerKind::AckTimeout);
        }
        self.emit(Event::Acked(id.to_owned()));
        self.emit_queue(Vec::new());
        self.settle();
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
                        self.actions.push(match self.mode {
                            Mode::WebSocket => Action::CloseSocket {
                                code: 1000,
                                reason: "connect timeout".to_owned(),
                            },
                            Mode::Http => Action::CloseEvents,
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
                    self.channel_dead(now_ms, HEARTBEAT_TIMEOUT_CLOSE);
                }
            }
            TimerKind::MinUptime => self.retry = 0,
            TimerKind::AckTimeout => self.check_acks(now_ms),
            TimerKind::UpgradeProbe => self.start_probe(now_ms),
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
            Phase::Open => self.probe_link(now_ms),
            _ => {}
        }
        self.settle();
    }

    /// The page became visible: probe the link, or stop waiting out a backoff.
    pub fn page_visible(&mut self, now_ms: f64) {
        match self.phase {
            Phase::Open => self.probe_link(now_ms),
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
            if self.mode == Mode::Http {
                self.arm_probe(now_ms);
            }
            self.settle();
        }
    }

    // ----- internals: channels -----

    /// A fresh start (connect from idle, reconnect): backoff reset, and the
    /// WebSocket first again if it is enabled.
    fn start_over(&mut self) {
        self.retry = 0;
        self.recovering = false;
        self.websocket_failures = 0;
        self.set_mode(initial_mode(&self.config));
    }

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
        if self.mode == Mode::Http {
            self.open_events(now_ms);
            return;
        }
        match self.config.url.clone() {
            Some(url) => self.open_socket(&url),
            None => {
                self.phase = Phase::Resolving {
                    attempt: self.attempt_serial,
                };
                self.actions.push(Action::ResolveUrl {
                    attempt: self.attempt_serial,
                });
            }
        }
    }

    /// The full socket URL: session id, `last_seq` once something was
    /// delivered, `ack=1` for at-least-once delivery.
    fn socket_url(&self, base_url: &str) -> String {
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

    fn with_last_seq(&self, url: String) -> String {
        match self.seqs.resume_after() {
            Some(last) => {
                let mut digits = String::new();
                push_number(&mut digits, last, 10);
                set_query_param(&url, LAST_SEQ_QUERY_PARAM, &digits)
            }
            None => url,
        }
    }

    fn open_socket(&mut self, base_url: &str) {
        let url = self.socket_url(base_url);
        self.phase = Phase::Opening;
        self.actions.push(Action::OpenSocket { url });
    }

    /// Opens the fallback's downstream; without one, HTTP is usable at once.
    fn open_events(&mut self, now_ms: f64) {
        let events_url = self
            .config
            .fallback
            .as_ref()
            .and_then(|fallback| fallback.events_url.clone());
        match events_url {
            Some(base) => {
                let url = self.with_last_seq(set_query_param(
                    &base,
                    SESSION_QUERY_PARAM,
                    &self.config.session_id,
                ));
                self.phase = Phase::Opening;
                self.actions.push(Action::OpenEvents { url });
            }
            None => self.channel_open(now_ms),
        }
    }

    /// The channel in use is up: send what is held, in order.
    fn channel_open(&mut self, now_ms: f64) {
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
        // Held messages go first, before anything sent from an "open" listener.
        match self.mode {
            Mode::WebSocket => {
                self.websocket_failures = 0;
                self.flush_to_socket(now_ms);
                if let Some(heartbeat) = self.config.heartbeat {
                    self.set_timer(TimerKind::Heartbeat, now_ms + heartbeat.interval_ms);
                }
            }
            Mode::Http => self.post_next(),
        }
        self.emit(Event::Opened);
    }

    /// The open channel is silent (heartbeat or acks): close it and recover.
    fn channel_dead(&mut self, now_ms: f64, (code, reason): (u16, &str)) {
        if self.phase != Phase::Open {
            return;
        }
        if self.mode == Mode::Http {
            self.report_error(format_reason("the HTTP fallback failed: ", reason));
            self.actions.push(Action::CloseEvents);
        } else {
            self.actions.push(Action::CloseSocket {
                code,
                reason: reason.to_owned(),
            });
            self.record_close(CloseInfo {
                code,
                reason: reason.to_owned(),
                was_clean: false,
            });
        }
        self.attempt_failed(now_ms);
    }

    /// An attempt failed or a connection was lost: schedule the next attempt,
    /// or give up after `maxReconnectAttempts`.
    fn attempt_failed(&mut self, now_ms: f64) {
        self.channel_lost(now_ms, false);
    }

    /// Like `attempt_failed`; `unusable` means the WebSocket cannot work here
    /// at all (its constructor threw), so the fallback starts at once.
    fn channel_lost(&mut self, now_ms: f64, unusable: bool) {
        let never_opened = self.phase != Phase::Open;
        self.stop_connection_timers();
        self.outbox.resend_unacked();
        self.recovering = true;
        if self.mode == Mode::WebSocket && self.config.fallback.is_some() && self.online {
            if never_opened {
                self.websocket_failures += 1;
            }
            let after = self
                .config
                .fallback
                .as_ref()
                .map_or(u32::MAX, |fallback| fallback.after_attempts);
            if unusable || self.websocket_failures >= after {
                self.fall_back(now_ms);
                return;
            }
        }
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

    /// Moves the session to the HTTP fallback, with a fresh backoff.
    fn fall_back(&mut self, now_ms: f64) {
        self.websocket_failures = 0;
        self.retry = 0;
        self.set_mode(Mode::Http);
        self.start_attempt(now_ms);
        self.arm_probe(now_ms);
    }

    /// The probe socket opened: the session moves back to the WebSocket.
    /// Unacknowledged messages go out again on it, in order (the server drops
    /// copies); the event stream closes, and the socket's `last_seq` replay
    /// covers anything it had not delivered.
    fn upgrade(&mut self, now_ms: f64) {
        self.probe = Probe::Idle;
        self.cancel_timer(TimerKind::UpgradeProbe);
        self.cancel_timer(TimerKind::Retry);
        if matches!(self.phase, Phase::Opening | Phase::Open) {
            self.actions.push(Action::CloseEvents); // still on HTTP here
        }
        self.stop_connection_timers();
        self.outbox.resend_unacked();
        self.set_mode(Mode::WebSocket);
        self.retry = 0;
        self.recovering = false;
        self.channel_open(now_ms);
    }

    fn arm_probe(&mut self, now_ms: f64) {
        let interval = self
            .config
            .fallback
            .as_ref()
            .map_or(0.0, |fallback| fallback.probe_interval_ms);
        if self.mode == Mode::Http
            && self.config.websocket_enabled
            && interval > 0.0
            && self.timers.due(TimerKind::UpgradeProbe).is_none()
        {
            self.set_timer(TimerKind::UpgradeProbe, now_ms + interval);
        }
    }

    /// Tries the WebSocket in the background (abandoning a probe that has not
    /// opened since the last one).
    fn start_probe(&mut self, now_ms: f64) {
        if self.mode != Mode::Http {
            return;
        }
        if self.probe == Probe::Opening {
            self.actions.push(Action::CloseSocket {
                code: 1000,
                reason: "upgrade probe timeout".to_owned(),
            });
        }
        self.probe = Probe::Idle;
        self.arm_probe(now_ms);
        if !self.online || matches!(self.phase, Phase::Idle | Phase::Suspended) {
            return;
        }
        self.attempt_serial += 1;
        match self.config.url.clone() {
            Some(url) => self.open_probe(&url),
            None => {
                self.probe = Probe::Resolving {
                    attempt: self.attempt_serial,
                };
                self.actions.push(Action::ResolveUrl {
                    attempt: self.attempt_serial,
                });
            }
        }
    }

    fn open_probe(&mut self, base_url: &str) {
        self.probe = Probe::Opening;
        let url = self.socket_url(base_url);
        self.actions.push(Action::OpenSocket { url });
    }

    fn set_mode(&mut self, mode: Mode) {
        if self.mode != mode {
            self.mode = mode;
            self.emit(Event::ModeChanged(mode));
        }
    }

    // ----- internals: sending -----

    /// Puts every held message that is not on the wire onto the open socket.
    fn flush_to_socket(&mut self, now_ms: f64) {
        let before = self.outbox.len();
        let frames = self.outbox.take_for_socket();
        if frames.is_empty() {
            return;
        }
        for frame in frames {
            self.transmit(frame);
        }
        self.arm_ack_timeout(now_ms);
        if self.outbox.len() != before {
            self.emit_queue(Vec::new());
        }
    }

    /// Starts the next POST if the fallback is up, none is in flight and
    /// something is waiting: everything waiting goes in one batch.
    fn post_next(&mut self) {
        if self.mode != Mode::Http || self.phase != Phase::Open || self.post_in_flight {
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
        let frames = self.outbox.take_for_post();
        if frames.is_empty() {
            return;
        }
        let mut url = set_query_param(&post_url, SESSION_QUERY_PARAM, &self.config.session_id);
        if self.config.delivery == Delivery::AtLeastOnce {
            url = set_query_param(&url, ACK_QUERY_PARAM, "1");
        }
        self.post_in_flight = true;
        self.stats.sent += frames.len() as u64;
        self.actions.push(Action::Post { url, frames });
    }

    /// Starts the ack clock when tracked messages are out and it is not running.
    fn arm_ack_timeout(&mut self, now_ms: f64) {
        if self.config.ack_timeout_ms > 0.0
            && self.timers.due(TimerKind::AckTimeout).is_none()
            && self.outbox.awaiting_ack()
        {
            self.ack_progress_at = now_ms;
            self.set_timer(TimerKind::AckTimeout, now_ms + self.config.ack_timeout_ms);
        }
    }

    /// The ack clock ran out. If an ack arrived since it was set, it runs on
    /// from that ack (one timer, not one per message); otherwise the channel is
    /// taken for dead and everything unacknowledged goes out again after recovery.
    fn check_acks(&mut self, now_ms: f64) {
        if !self.outbox.awaiting_ack() {
            return;
        }
        let due = self.ack_progress_at + self.config.ack_timeout_ms;
        if due > now_ms {
            self.set_timer(TimerKind::AckTimeout, due);
        } else {
            self.channel_dead(now_ms, ACK_TIMEOUT_CLOSE);
        }
    }

    fn dropped(&mut self, dropped: Vec<Held<P>>) {
        if dropped.is_empty() {
            self.emit_queue(Vec::new());
            return;
        }
        self.stats.dropped += dropped.len() as u64;
        let ids = dropped.iter().filter_map(|h| h.ack_id.clone()).collect();
        self.ack_lost(ids, "was dropped from the full queue");
        self.emit_queue(dropped.into_iter().map(|held| held.payload).collect());
    }

    fn ack_lost(&mut self, ids: Vec<String>, reason: &'static str) {
        if !ids.is_empty() {
            self.emit(Event::AckLost { ids, reason });
        }
    }

    // ----- internals: heartbeat, closing, timers -----

    fn send_ping(&mut self, now_ms: f64) {
        let Some(heartbeat) = self.config.heartbeat else {
            return;
        };
        if self.phase != Phase::Open || self.mode != Mode::WebSocket {
            return;
        }
        let id = self.ids.next_ping();
        self.pending_ping = Some((id.clone(), now_ms));
        self.cancel_timer(TimerKind::Heartbeat);
        self.set_timer(TimerKind::PongTimeout, now_ms + heartbeat.timeout_ms);
        self.actions.push(Action::SendPing { id });
    }

    /// Checks the link now, unless a ping is already out.
    fn probe_link(&mut self, now_ms: f64) {
        if self.pending_ping.is_none() {
            self.send_ping(now_ms);
        }
    }

    /// Closes what the transport holds open, reporting a WebSocket as closed
    /// if it was open. Unacknowledged messages will go out again.
    fn close_current(&mut self, code: u16, reason: &str, was_clean: bool) {
        if self.probe == Probe::Opening {
            self.actions.push(Action::CloseSocket {
                code: 1000,
                reason: reason.to_owned(),
            });
        }
        self.probe = Probe::Idle;
        if !matches!(self.phase, Phase::Opening | Phase::Open) {
            return;
        }
        self.actions.push(match self.mode {
            Mode::WebSocket => Action::CloseSocket {
                code,
                reason: reason.to_owned(),
            },
            Mode::Http => Action::CloseEvents,
        });
        self.stop_connection_timers();
        self.outbox.resend_unacked();
        if self.phase == Phase::Open && self.mode == Mode::WebSocket {
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
        let ids = self.outbox.tracked_ids();
        match reason {
            Some(DisconnectReason::Client) => {
                self.retry = 0;
                self.recovering = false;
                self.ack_lost(ids, "was not acknowledged before disconnect()");
            }
            _ => self.ack_lost(ids, "could not be delivered: the transport gave up"),
        }
    }

    fn stop_connection_timers(&mut self) {
        for kind in [
            TimerKind::ConnectTimeout,
            TimerKind::Heartbeat,
            TimerKind::PongTimeout,
            TimerKind::MinUptime,
            TimerKind::AckTimeout,
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
        self.actions.push(Action::Transmit(payload));
    }

    fn set_timer(&mut self, kind: TimerKind, at_ms: f64) {
        self.timers.arm(kind, at_ms);
        self.actions.push(Action::SetTimer { kind, at_ms });
    }

    fn cancel_timer(&mut self, kind: TimerKind) {
        if self.timers.disarm(kind) {
            self.actions.push(Action::CancelTimer { kind });
        }
    }

    fn report_error(&mut self, message: String) {
        self.stats.errors += 1;
        self.emit(Event::Error(message));
    }

    fn emit_queue(&mut self, dropped: Vec<P>) {
        self.emit(Event::Queue {
            length: self.outbox.len(),
            dropped,
        });
    }

    fn emit(&mut self, event: Event<P>) {
        self.actions.push(Action::Emit(event));
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

/// The channel a transport starts on.
fn initial_mode(config: &Config) -> Mode {
    if config.websocket_enabled {
        Mode::WebSocket
    } else {
        Mode::Http
    }
}

/// `prefix + detail`, without `core::fmt`.
fn format_reason(prefix: &str, detail: &str) -> String {
    let mut message = String::with_capacity(prefix.len() + detail.len());
    message.push_str(prefix);
    message.push_str(detail);
    message
}
