//! The loop between the browser and the core.
//!
//! Every entry point (a public method, or a call from the JavaScript host for a
//! socket event, timer, page signal or URL answer) feeds one input to the core,
//! executes the actions the core queued, in order, and tells the host if the
//! snapshot changed. No `RefCell` borrow is held while application code runs,
//! so listeners may call any method (including `free()`) from inside a handler.
//!
//! Memory: the transport owns exactly one closure, the host's route into Rust.
//! Sockets, timers, page listeners and URL promises call through the host, and
//! `free()` releases it, so nothing the browser still holds can reach freed
//! memory and nothing is left for the garbage collector to reclaim.

use crate::prelude::*;

use ::core::cell::{Cell, RefCell};
use alloc::rc::{Rc, Weak};

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::bridge::{self, Host};
use super::envelope::OutgoingFrame;
use super::errors::{
    config_error_to_js, config_error_with_value, describe_js_error, runtime_error,
};
use super::listeners::{is_event_name, EVENT_NAME_RULE};
use super::options::{read_options, TransportOptions};
use super::platform::{now_ms, random_seed};
use super::snapshot::{close_to_js, latency_to_js, snapshot_to_js};
use super::socket::Socket;
use super::timers::TimerSlots;
use crate::core::{
    push_number, Action, CloseInfo, ConfigError, Delivery, Event, SendError, SendOutcome,
    TimerKind, Transport,
};

/// The host's route into Rust: `(kind, data, number, flag) -> verdict`. `Fn`,
/// not `FnMut`, because `getSnapshot()` may be called from inside a listener
/// that a host call is running.
type HostCall = Closure<dyn Fn(u8, JsValue, f64, bool) -> u32>;

/// What a host call is about (the numbering of `bridge.js`).
mod call {
    pub(super) const OPEN: u8 = 0;
    pub(super) const FRAME: u8 = 1;
    pub(super) const SOCKET_ERROR: u8 = 2;
    pub(super) const CLOSE: u8 = 3;
    pub(super) const TIMER: u8 = 4;
    pub(super) const PAGE: u8 = 5;
    pub(super) const URL_ANSWER: u8 = 6;
    pub(super) const SNAPSHOT: u8 = 7;
    pub(super) const EVENTS_OPEN: u8 = 8;
    pub(super) const EVENTS_ERROR: u8 = 9;
    pub(super) const POST_DONE: u8 = 10;
    pub(super) const PONG: u8 = 11;
    pub(super) const ACK: u8 = 12;
    pub(super) const WATCHERS: u8 = 13;
}

/// The answer to a `FRAME` call (bits, as `bridge.js` reads them), so the host
/// delivers the frame and refreshes the snapshot without calling back in.
mod verdict {
    /// Deliver the frame to the listeners (not a replay already delivered).
    pub(super) const DELIVER: u32 = 1;
    /// The snapshot changed and someone can notice.
    pub(super) const CHANGED: u32 = 2;
}

/// Owns the shared state; dropping it (the JS object's `free()`) closes the
/// socket, cancels the timers, releases the host and silences callbacks.
pub(crate) struct Driver {
    shared: Rc<Shared>,
}

struct Shared {
    core: RefCell<Transport<OutgoingFrame>>,
    host: Host,
    /// The closure behind `host`; dropped with the transport.
    _host_call: HostCall,
    socket: RefCell<Option<Socket>>,
    /// The HTTP fallback's `EventSource`, while one is open.
    events: RefCell<Option<JsValue>>,
    timers: RefCell<TimerSlots>,
    url_provider: Option<Function>,
    should_reconnect: Option<Function>,
    /// The subprotocols, as the JS array `readOptions` produced.
    protocols: JsValue,
    ping_type: JsValue,
    session_id: JsValue,
    /// How many `subscribe()` listeners the host has.
    watchers: Cell<u32>,
    /// Whether the host holds an up-to-date snapshot object. While it holds
    /// none and nobody subscribes, a change needs no call into JavaScript.
    host_snapshot_current: Cell<bool>,
    /// Set by `free()`: no socket may be opened and no action run after it.
    released: Cell<bool>,
}

impl Driver {
    /// Builds a transport from the JS options object (and connects unless
    /// `autoConnect: false`).
    pub(crate) fn new(options: &JsValue) -> Result<Self, JsValue> {
        let TransportOptions {
            config,
            url_provider,
            protocols,
            auto_connect,
            should_reconnect,
        } = read_options(options)?;
        let ping_type = JsValue::from_str(&config.ping_type);
        let pong_type = JsValue::from_str(&config.pong_type);
        let session_id = JsValue::from_str(&config.session_id);
        let core = Transport::new(config, random_seed());
        let shared = Rc::new_cyclic(|this: &Weak<Shared>| {
            let this = this.clone();
            let host_call: HostCall =
                Closure::new(move |kind: u8, data: JsValue, number: f64, flag: bool| {
                    match this.upgrade() {
                        Some(shared) if !shared.released.get() => {
                            shared.on_host_call(kind, data, number, flag)
                        }
                        _ => 0,
                    }
                });
            let host =
                bridge::create_host(host_call.as_ref(), &pong_type, core.message_id_prefix());
            Shared {
                core: RefCell::new(core),
                host,
                _host_call: host_call,
                socket: RefCell::new(None),
                events: RefCell::new(None),
                timers: RefCell::new(TimerSlots::default()),
                url_provider,
                should_reconnect,
                protocols,
                ping_type,
                session_id,
                watchers: Cell::new(0),
                host_snapshot_current: Cell::new(false),
                released: Cell::new(false),
            }
        });
        bridge::watch_page(&shared.host);
        if auto_connect {
            shared.feed(|core, now| core.connect(now));
        }
        Ok(Self { shared })
    }

    pub(crate) fn connect(&self) {
        self.shared.feed(|core, now| core.connect(now));
    }

    pub(crate) fn reconnect(&self) {
        self.shared.feed(|core, now| core.reconnect(now));
    }

    pub(crate) fn disconnect(&self, code: u16, reason: &str) -> Result<(), JsValue> {
        self.shared
            .feed(|core, now| core.disconnect(now, code, reason))
            .map_err(|error| config_error_to_js(&error))
    }

    /// Wraps `data` in an envelope of type `message_type` and sends or queues it.
    pub(crate) fn send(
        &self,
        message_type: &JsValue,
        data: &JsValue,
    ) -> Result<SendOutcome, JsValue> {
        let (number, frame) = self.envelope(message_type, data)?;
        self.shared.send_frame(frame, Some(number))
    }

    /// Like `send`, but the promise settles with the server's acknowledgement.
    pub(crate) fn send_with_ack(
        &self,
        message_type: &JsValue,
        data: &JsValue,
    ) -> Result<js_sys::Promise, JsValue> {
        if self.shared.core.borrow().config().delivery != Delivery::AtLeastOnce {
            return Err(runtime_error(
                "resocket: sendWithAck needs the option delivery: \"at-least-once\" (the server only acknowledges then)",
            ));
        }
        let (number, frame) = self.envelope(message_type, data)?;
        let id = self.shared.core.borrow().message_id(number);
        // Tracked before sending: a drop-newest overflow rejects it at once.
        let promise = self.shared.host.track(&id);
        if let Err(error) = self.shared.send_frame(frame, Some(number)) {
            self.shared.host.lost(&id, &error);
        }
        Ok(promise)
    }

    /// A fresh message number and the envelope `{type, data, id, timestamp}`
    /// as JSON text (the host checks `type` and `data`: one call per message).
    fn envelope(
        &self,
        message_type: &JsValue,
        data: &JsValue,
    ) -> Result<(u64, OutgoingFrame), JsValue> {
        let number = self.shared.core.borrow_mut().next_message_number();
        let value = self.shared.host.encode(message_type, data, number as f64)?;
        let frame = OutgoingFrame {
            value,
            is_envelope: true,
        };
        Ok((number, frame))
    }

    /// Sends a frame as is: a string as text, an `ArrayBuffer` or view as binary.
    pub(crate) fn send_raw(&self, data: &JsValue) -> Result<SendOutcome, JsValue> {
        if !bridge::is_sendable(data) {
            return Err(config_error_with_value(
                &ConfigError::type_error(
                    "data",
                    "must be a string, an ArrayBuffer or a typed array",
                ),
                data,
            ));
        }
        let frame = OutgoingFrame {
            value: data.clone(),
            is_envelope: false,
        };
        self.shared.send_frame(frame, None)
    }

    /// Registers `handler` for `event`; returns the function that removes it.
    pub(crate) fn on(&self, event: &str, handler: &JsValue) -> Result<Function, JsValue> {
        if !is_event_name(event) {
            return Err(config_error_with_value(
                &ConfigError::range("event", EVENT_NAME_RULE),
                &JsValue::from_str(event),
            ));
        }
        self.shared.host.on(event, handler)
    }

    /// Registers `handler` for envelopes of type `message_type`.
    pub(crate) fn on_message(
        &self,
        message_type: &JsValue,
        handler: &JsValue,
    ) -> Result<Function, JsValue> {
        self.shared.host.on_type(message_type, handler)
    }

    /// A copy of the queued messages, oldest first.
    pub(crate) fn queued(&self) -> Array {
        self.shared
            .core
            .borrow()
            .queued()
            .map(OutgoingFrame::for_app)
            .collect()
    }

    pub(crate) fn clear_queue(&self) {
        self.shared.feed(|core, _| core.clear_queue());
    }

    pub(crate) fn state(&self) -> &'static str {
        self.shared.core.borrow().state().as_str()
    }

    pub(crate) fn latency_ms(&self) -> Option<f64> {
        self.shared.core.borrow().latency_ms()
    }

    pub(crate) fn queue_length(&self) -> usize {
        self.shared.core.borrow().queue_length()
    }

    pub(crate) fn session_id(&self) -> JsValue {
        self.shared.session_id.clone()
    }

    /// `subscribe(listener)` as a standalone function (the same one every time).
    pub(crate) fn subscribe_function(&self) -> Function {
        self.shared.host.subscribe()
    }

    /// `getSnapshot()` as a standalone function (the same one every time).
    pub(crate) fn get_snapshot_function(&self) -> Function {
        self.shared.host.get_snapshot()
    }

    /// The current snapshot object (same object until something changes).
    pub(crate) fn snapshot(&self) -> JsValue {
        self.get_snapshot_function()
            .call0(&JsValue::UNDEFINED)
            .unwrap_or(JsValue::NULL)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Build the final snapshot while the route into Rust is open: the
        // standalone getSnapshot keeps answering with it after free().
        let _ = self.snapshot();
        let shared = &self.shared;
        shared.released.set(true);
        shared.host.release();
        shared.timers.borrow_mut().cancel_all();
        let socket = shared.socket.borrow_mut().take();
        if let Some(socket) = socket {
            socket.close(1000, "transport freed");
        }
        let events = shared.events.borrow_mut().take();
        if let Some(events) = events {
            bridge::close_events(&events);
        }
    }
}

impl Shared {
    /// Gives the core one input, executes everything it decided, and tells the
    /// host if the snapshot changed.
    fn feed<R>(&self, input: impl FnOnce(&mut Transport<OutgoingFrame>, f64) -> R) -> R {
        let result = input(&mut self.core.borrow_mut(), now_ms());
        self.run_actions();
        self.publish_snapshot();
        result
    }

    fn run_actions(&self) {
        while !self.released.get() {
            let action = self.core.borrow_mut().poll_action();
            match action {
                Some(action) => self.execute(action),
                None => break,
            }
        }
    }

    fn execute(&self, action: Action<OutgoingFrame>) {
        match action {
            Action::ResolveUrl { attempt } => {
                if let Some(provider) = &self.url_provider {
                    bridge::resolve_url(&self.host, provider, attempt as f64);
                }
            }
            Action::OpenSocket { url } => self.open_socket(&url),
            Action::CloseSocket { code, reason } => {
                let socket = self.socket.borrow_mut().take();
                if let Some(socket) = socket {
                    socket.close(code, &reason);
                }
            }
            Action::Transmit(frame) => self.transmit(&frame.value),
            Action::SendPing { id } => self.transmit(&bridge::encode_ping(&self.ping_type, &id)),
            Action::SetTimer { kind, at_ms } => {
                self.timers
                    .borrow_mut()
                    .set(&self.host, kind, at_ms - now_ms())
            }
            Action::CancelTimer { kind } => self.timers.borrow_mut().cancel(kind),
            Action::OpenEvents { url } => match bridge::open_events(&self.host, &url) {
                Ok(events) => {
                    let previous = self.events.borrow_mut().replace(events);
                    if let Some(previous) = previous {
                        bridge::close_events(&previous);
                    }
                }
                Err(_) => self.core.borrow_mut().on_events_error(now_ms()),
            },
            Action::CloseEvents => {
                let events = self.events.borrow_mut().take();
                if let Some(events) = events {
                    bridge::close_events(&events);
                }
            }
            Action::Post { url, frames } => {
                let frames: Array = frames.iter().map(|frame| frame.value.clone()).collect();
                let timeout = self.core.borrow().config().ack_timeout_ms;
                bridge::post_frames(&self.host, &url, frames, timeout);
            }
            Action::Emit(event) => self.emit(event),
        }
    }

    /// A call from the JavaScript host (see `bridge.js` for the numbering).
    fn on_host_call(&self, kind: u8, data: JsValue, number: f64, flag: bool) -> u32 {
        match kind {
            call::OPEN => self.feed(|core, now| core.on_open(now)),
            call::FRAME => return self.on_frame(number, flag.then(|| data.as_f64()).flatten()),
            call::PONG => {
                let id = data.as_string().unwrap_or_default();
                self.feed(|core, now| core.on_pong(now, &id));
            }
            call::ACK => {
                let id = data.as_string().unwrap_or_default();
                self.feed(|core, now| core.on_ack(now, &id));
            }
            call::SOCKET_ERROR => self.feed(|core, now| core.on_error(now)),
            call::CLOSE => self.on_socket_closed(CloseInfo {
                code: number as u16,
                reason: data.as_string().unwrap_or_default(),
                was_clean: flag,
            }),
            call::TIMER => {
                if let Some(&timer) = TimerKind::ALL.get(number as usize) {
                    self.feed(|core, now| core.on_timer(now, timer));
                }
            }
            call::PAGE => self.feed(|core, now| match number as u8 {
                0 => core.network_online(now),
                1 => core.network_offline(now),
                2 => core.page_visible(now),
                3 => core.page_frozen(now),
                _ => core.page_restored(now),
            }),
            call::URL_ANSWER => {
                let answer = match data.as_string() {
                    Some(url) if flag => Ok(url),
                    _ => Err(describe_js_error(&data)),
                };
                self.feed(|core, now| core.on_url_resolved(now, number as u64, answer));
            }
            call::EVENTS_OPEN => self.feed(|core, now| core.on_events_open(now)),
            call::EVENTS_ERROR => {
                self.events.borrow_mut().take(); // already closed by bridge.js
                self.feed(|core, now| core.on_events_error(now));
            }
            call::POST_DONE => {
                let failure = data.as_string().unwrap_or_default();
                self.feed(|core, now| core.on_post_done(now, flag, &failure));
            }
            call::SNAPSHOT => {
                let snapshot = self.core.borrow().snapshot();
                self.host
                    .hold_snapshot(&snapshot_to_js(&snapshot, &self.session_id));
                self.host_snapshot_current.set(true);
            }
            call::WATCHERS => self.watchers.set(number as u32),
            _ => {}
        }
        0
    }

    fn transmit(&self, frame: &JsValue) {
        let sent = self
            .socket
            .borrow()
            .as_ref()
            .is_none_or(|socket| socket.send(frame));
        if !sent {
            self.core.borrow_mut().on_error(now_ms());
        }
    }

    fn send_frame(
        &self,
        frame: OutgoingFrame,
        envelope: Option<u64>,
    ) -> Result<SendOutcome, JsValue> {
        self.feed(|core, now| core.send(now, frame, envelope))
            .map_err(|SendError::QueueFull(capacity)| {
                let mut message = "the offline queue is full (".to_owned();
                push_number(&mut message, capacity as u64, 10);
                message.push_str(" messages) and queueOverflow is \"error\"");
                runtime_error(&message)
            })
    }

    fn open_socket(&self, url: &str) {
        match Socket::open(&self.host, url, &self.protocols) {
            Ok(socket) => {
                let previous = self.socket.borrow_mut().replace(socket);
                drop(previous);
            }
            Err(thrown) => {
                let message = describe_js_error(&thrown);
                self.core.borrow_mut().on_open_failed(now_ms(), &message);
            }
        }
    }

    fn on_socket_closed(&self, info: CloseInfo) {
        let closed = self.socket.borrow_mut().take();
        drop(closed);
        // A background probe's close says nothing about the session.
        let probing = self.core.borrow().is_probing();
        let verdict = self
            .should_reconnect
            .as_ref()
            .filter(|_| !probing)
            .and_then(|decide| self.host.decide(decide, &close_to_js(&info)).as_bool());
        self.feed(|core, now| core.on_close(now, info, verdict));
    }

    /// An application frame the host read (pongs and acks come separately):
    /// its `seq` (or -1) and, for a `gap` frame, the first `seq` the server
    /// still has. Answers whether to deliver it and whether the snapshot changed.
    fn on_frame(&self, seq: f64, gap_first_available: Option<f64>) -> u32 {
        {
            let mut core = self.core.borrow_mut();
            if let Some(first) = gap_first_available {
                core.on_gap(first as u64);
            }
            // A replay overlapping what was already delivered: drop it.
            if seq >= 0.0 && !core.on_numbered_frame(seq as u64) {
                return 0;
            }
            core.on_message();
        }
        verdict::DELIVER | self.snapshot_news()
    }

    fn emit(&self, event: Event<OutgoingFrame>) {
        let name = match &event {
            // Not listener events: they settle sendWithAck promises.
            Event::Acked(id) => return self.host.acked(id),
            Event::AckLost { ids, reason } => {
                let mut message = "resocket: the message ".to_owned();
                message.push_str(reason);
                let message = JsValue::from_str(&message);
                return ids.iter().for_each(|id| self.host.lost(id, &message));
            }
            Event::ModeChanged(_) => "mode",
            Event::StateChanged(_) => "state",
            Event::Opened => "open",
            Event::Closed(_) => "close",
            Event::Error(_) => "error",
            Event::Latency(_) => "latency",
            Event::Reconnecting { .. } => "reconnecting",
            Event::Queue { .. } => "queue",
        };
        if !self.host.listening(name) {
            return; // nobody listens: build no payload
        }
        let argument = match event {
            Event::StateChanged(state) => JsValue::from_str(state.as_str()),
            Event::ModeChanged(mode) => JsValue::from_str(mode.as_str()),
            Event::Acked(_) | Event::AckLost { .. } => return,
            Event::Opened => JsValue::UNDEFINED,
            Event::Closed(info) => close_to_js(&info),
            Event::Error(message) => runtime_error(&message),
            Event::Latency(stats) => latency_to_js(&stats),
            Event::Reconnecting { attempt, delay_ms } => bridge::reconnecting(attempt, delay_ms),
            Event::Queue { length, dropped } => {
                let dropped: Array = dropped.iter().map(OutgoingFrame::for_app).collect();
                bridge::queue_change(u32::try_from(length).unwrap_or(u32::MAX), dropped)
            }
        };
        self.host.emit(name, &argument);
    }

    /// Tells the host (and so `subscribe` listeners) when the snapshot changed.
    fn publish_snapshot(&self) {
        if self.snapshot_news() != 0 {
            self.host.changed();
        }
    }

    /// `verdict::CHANGED` if the snapshot changed since it was last published
    /// and the host has a subscriber or a snapshot object that is now out of
    /// date (it marks it stale on hearing this); 0 otherwise.
    fn snapshot_news(&self) -> u32 {
        if self.released.get() {
            return 0;
        }
        let changed = self.core.borrow_mut().take_changed_snapshot().is_some();
        if changed && (self.watchers.get() > 0 || self.host_snapshot_current.get()) {
            self.host_snapshot_current.set(false);
            verdict::CHANGED
        } else {
            0
        }
    }
}
