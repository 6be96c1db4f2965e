//! The loop between the browser and the core.
//!
//! Every entry point (a public method, or a call from the JavaScript host for a
//! socket event, the timer, a page signal or a URL answer) becomes one core
//! [`Input`]; the driver then executes the core's outputs, in order, keeps the
//! one browser timer on the core's deadline, and tells the host if the
//! snapshot changed. No `RefCell` borrow is held while application code runs,
//! so listeners may call any method (including `free()`) from inside a handler.
//!
//! Memory: the transport owns exactly one closure, the host's route into Rust.
//! Sockets, the timer, page listeners and URL promises call through the host,
//! and `free()` releases it, so nothing the browser still holds can reach freed
//! memory and nothing is left for the garbage collector to reclaim.

use crate::prelude::*;

use ::core::cell::{Cell, RefCell};
use alloc::rc::{Rc, Weak};

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::boundary::{frame_detail, HostCall, PAGE_EVENTS, VERDICT_CHANGED, VERDICT_DELIVER};
use super::bridge::{self, Host};
use super::cells::Cells;
use super::envelope::OutgoingFrame;
use super::errors::{
    config_error_to_js, config_error_with_value, describe_js_error, runtime_error,
};
use super::listeners::{is_event_name, EVENT_NAME_RULE};
use super::options::{read_options, TransportOptions};
use super::platform::{now_ms, random_seed};
use super::snapshot::{close_to_js, latency_to_js, snapshot_to_js};
use super::socket::Socket;
use crate::core::{
    push_number, CloseInfo, ConfigError, ConnectionState, Delivery, Event, FrameKind, Handled,
    InboundFrame, Input, InputError, Instant, Output, SendOutcome, Transport, MAX_TIMER_MS,
};

/// The host's route into Rust: `(call, data, number, detail) -> answer`
/// (see `boundary.rs`). `Fn`, not `FnMut`, because `getSnapshot()` may be
/// called from inside a listener that a host call is running.
type HostRoute = Closure<dyn Fn(u8, JsValue, f64, u32) -> u32>;

/// Owns the shared state; dropping it (the JS object's `free()`) closes the
/// socket, cancels the timer, releases the host and silences callbacks.
pub(crate) struct Driver {
    shared: Rc<Shared>,
}

struct Shared {
    core: RefCell<Transport<OutgoingFrame>>,
    host: Host,
    /// The closure behind `host`; dropped with the transport.
    _route: HostRoute,
    socket: RefCell<Option<Socket>>,
    /// The HTTP fallback's `EventSource`, while one is open.
    events: RefCell<Option<JsValue>>,
    /// When the browser timer is due, while one is armed.
    timer_due: Cell<Option<Instant>>,
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
    /// Set by `free()`: no socket may be opened and no output run after it.
    released: Cell<bool>,
}

impl Driver {
    /// Builds a transport from the JS options object (and connects unless
    /// `autoConnect: false`). Events of the construction reach listeners
    /// attached right after it (the host delivers them in a microtask).
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
            let route: HostRoute =
                Closure::new(move |call: u8, data: JsValue, number: f64, detail: u32| {
                    match this.upgrade() {
                        Some(shared) if !shared.released.get() => {
                            shared.on_host_call(call, data, number, detail)
                        }
                        _ => 0,
                    }
                });
            let host = bridge::create_host(
                route.as_ref(),
                &ping_type,
                &pong_type,
                core.message_id_prefix(),
            );
            Shared {
                core: RefCell::new(core),
                host,
                _route: route,
                socket: RefCell::new(None),
                events: RefCell::new(None),
                timer_due: Cell::new(None),
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
            let _ = shared.feed(Input::Connect);
        }
        shared.host.constructed();
        Ok(Self { shared })
    }

    pub(crate) fn connect(&self) {
        let _ = self.shared.feed(Input::Connect);
    }

    pub(crate) fn reconnect(&self) {
        let _ = self.shared.feed(Input::Reconnect);
    }

    pub(crate) fn disconnect(&self, code: u16, reason: String) -> Result<(), JsValue> {
        match self.shared.feed(Input::Disconnect { code, reason }) {
            Err(InputError::BadClose(error)) => Err(config_error_to_js(&error)),
            _ => Ok(()),
        }
    }

    /// Wraps `data` in an envelope of type `message_type` and sends or queues it.
    pub(crate) fn send(
        &self,
        message_type: &JsValue,
        data: &JsValue,
    ) -> Result<SendOutcome, JsValue> {
        let shared = &self.shared;
        let (number, frame) = shared.envelope(message_type, data)?;
        shared.send_frame(frame, Some(number))
    }

    /// Like `send`, but the promise settles with the server's acknowledgement.
    pub(crate) fn send_with_ack(
        &self,
        message_type: &JsValue,
        data: &JsValue,
    ) -> Result<js_sys::Promise, JsValue> {
        let shared = &self.shared;
        if shared.core.read().config().delivery != Delivery::AtLeastOnce {
            return Err(runtime_error(
                "sendWithAck needs the option delivery: \"at-least-once\" (the server only acknowledges then)",
            ));
        }
        let (number, frame) = shared.envelope(message_type, data)?;
        let id = shared.core.read().message_id(number);
        // Tracked before sending: a drop-newest overflow rejects it at once.
        let promise = shared.host.track(&id);
        if let Err(error) = shared.send_frame(frame, Some(number)) {
            shared.host.lost(&id, &error);
        }
        Ok(promise)
    }

    /// Sends a frame as is: a string as text, an `ArrayBuffer` or view as binary.
    pub(crate) fn send_raw(&self, data: &JsValue) -> Result<SendOutcome, JsValue> {
        let shared = &self.shared;
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
        shared.send_frame(frame, None)
    }

    /// Registers `handler` for `event`; returns the function that removes it.
    pub(crate) fn on(&self, event: &str, handler: &JsValue) -> Result<Function, JsValue> {
        let shared = &self.shared;
        if !is_event_name(event) {
            return Err(config_error_with_value(
                &ConfigError::range("event", EVENT_NAME_RULE),
                &JsValue::from_str(event),
            ));
        }
        shared.host.on(event, handler)
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
            .read()
            .queued()
            .map(OutgoingFrame::for_app)
            .collect()
    }

    pub(crate) fn clear_queue(&self) {
        let _ = self.shared.feed(Input::ClearQueue);
    }

    pub(crate) fn state(&self) -> ConnectionState {
        self.shared.core.read().state()
    }

    pub(crate) fn latency_ms(&self) -> Option<f64> {
        self.shared.core.read().latency_ms()
    }

    pub(crate) fn queue_length(&self) -> usize {
        self.shared.core.read().queue_length()
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
        let socket = shared.socket.write().take();
        if let Some(socket) = socket {
            socket.close(1000, "transport freed");
        }
        let events = shared.events.write().take();
        if let Some(events) = events {
            bridge::close_events(&events);
        }
    }
}

impl Shared {
    /// Gives the core one input, executes everything it decided, re-arms the
    /// timer and tells the host if the snapshot changed.
    fn feed(&self, input: Input<OutgoingFrame>) -> Result<Handled, InputError> {
        let answer = self.hand_in(input);
        self.run_outputs();
        self.publish_snapshot();
        answer
    }

    /// The core handles `input` at the current time; its outputs wait for
    /// `run_outputs` (an output that fails while running reports back here).
    fn hand_in(&self, input: Input<OutgoingFrame>) -> Result<Handled, InputError> {
        let now = Instant::from_ms(now_ms());
        self.core.write().handle_input(now, input)
    }

    fn run_outputs(&self) {
        while !self.released.get() {
            let output = self.core.write().poll_output();
            match output {
                Some(output) => self.execute(output),
                None => break,
            }
        }
        self.arm_timer();
    }

    /// Keeps the one browser timer on the core's deadline. A deadline that
    /// moved later keeps the armed timer (it fires early and the core finds
    /// nothing due): the per-message path never touches the timer.
    fn arm_timer(&self) {
        if self.released.get() {
            return;
        }
        let due = self.core.read().poll_timeout();
        let armed = self.timer_due.get();
        match due {
            None if armed.is_some() => {
                self.host.clear_timer();
                self.timer_due.set(None);
            }
            Some(due) if armed.is_none_or(|armed| due < armed) => {
                // max/min rather than clamp: clamp's NaN assertion formats floats.
                #[allow(clippy::manual_clamp)]
                let delay = (due.as_ms() - now_ms()).max(0.0).min(MAX_TIMER_MS);
                self.host.set_timer(delay);
                self.timer_due.set(Some(due));
            }
            _ => {}
        }
    }

    fn execute(&self, output: Output<OutgoingFrame>) {
        match output {
            Output::ResolveUrl { attempt } => {
                if let Some(provider) = &self.url_provider {
                    bridge::resolve_url(&self.host, provider, attempt as f64);
                }
            }
            Output::OpenSocket => self.open_socket(),
            Output::CloseSocket { code, reason } => {
                let socket = self.socket.write().take();
                if let Some(socket) = socket {
                    socket.close(code, &reason);
                }
            }
            Output::Transmit(frame) => self.transmit(&frame.value),
            Output::SendPing { number } => {
                self.transmit(&self.host.encode_ping(&self.ping_type, number as f64))
            }
            Output::OpenEvents { url } => match bridge::open_events(&self.host, &url) {
                Ok(events) => {
                    let previous = self.events.write().replace(events);
                    if let Some(previous) = previous {
                        bridge::close_events(&previous);
                    }
                }
                Err(_) => {
                    let _ = self.hand_in(Input::EventsFailed);
                }
            },
            Output::CloseEvents => {
                let events = self.events.write().take();
                if let Some(events) = events {
                    bridge::close_events(&events);
                }
            }
            Output::Post { url, frames } => {
                let frames: Array = frames.iter().map(|frame| frame.value.clone()).collect();
                self.host.post_frames(&url, frames);
            }
            Output::AbortPost => self.host.abort_post(),
            Output::Emit(event) => self.emit(event),
        }
    }

    /// A call from the JavaScript host (see `boundary.rs` for what the
    /// arguments of each call carry).
    fn on_host_call(&self, call: u8, data: JsValue, number: f64, detail: u32) -> u32 {
        let Some(call) = HostCall::from_number(call) else {
            return 0;
        };
        let input = match call {
            HostCall::Frame => return self.on_frame(data, number, detail),
            HostCall::Snapshot => {
                let snapshot = self.core.read().snapshot();
                self.host
                    .hold_snapshot(&snapshot_to_js(&snapshot, &self.session_id));
                self.host_snapshot_current.set(true);
                return 0;
            }
            HostCall::Watchers => {
                self.watchers.set(number as u32);
                return 0;
            }
            HostCall::SocketClosed => {
                return self.on_socket_closed(CloseInfo {
                    code: number as u16,
                    reason: data.as_string().unwrap_or_default(),
                    was_clean: detail != 0,
                })
            }
            HostCall::SocketOpened => Input::SocketOpened,
            HostCall::SocketError => Input::SocketError,
            HostCall::Timeout => {
                self.timer_due.set(None);
                Input::Timeout
            }
            HostCall::Page => match PAGE_EVENTS.get(detail as usize) {
                Some(&event) => Input::Page(event),
                None => return 0,
            },
            HostCall::UrlAnswer => Input::UrlResolved {
                attempt: number as u64,
                result: match data.as_string() {
                    Some(url) if detail != 0 => Ok(url),
                    _ => Err(describe_js_error(&data)),
                },
            },
            HostCall::EventsOpened => Input::EventsOpened,
            HostCall::EventsFailed => {
                self.events.write().take(); // already closed by bridge.js
                Input::EventsFailed
            }
            HostCall::PostAnswered => Input::PostAnswered {
                status: number as u16,
            },
            HostCall::PostFailed => Input::PostFailed {
                reason: data.as_string().unwrap_or_default(),
            },
        };
        let _ = self.feed(input);
        0
    }

    fn transmit(&self, frame: &JsValue) {
        let sent = self
            .socket
            .read()
            .as_ref()
            .is_none_or(|socket| socket.send(frame));
        if !sent {
            let _ = self.hand_in(Input::SocketError);
        }
    }

    /// A fresh message number and the envelope `{type, data, id, timestamp}`
    /// as JSON text (the host checks `type` and `data`: one call per message).
    fn envelope(
        &self,
        message_type: &JsValue,
        data: &JsValue,
    ) -> Result<(u64, OutgoingFrame), JsValue> {
        let number = self.core.write().next_message_number();
        let value = self.host.encode(message_type, data, number as f64)?;
        let frame = OutgoingFrame {
            value,
            is_envelope: true,
        };
        Ok((number, frame))
    }

    fn send_frame(
        &self,
        payload: OutgoingFrame,
        envelope: Option<u64>,
    ) -> Result<SendOutcome, JsValue> {
        match self.feed(Input::Send { payload, envelope }) {
            Ok(Handled::Sent(outcome)) => Ok(outcome),
            Err(InputError::QueueFull(capacity)) => {
                let mut message = "the offline queue is full (".to_owned();
                push_number(&mut message, capacity as u64, 10);
                message.push_str(" messages) and queueOverflow is \"error\"");
                Err(runtime_error(&message))
            }
            // `Send` is only answered with `Sent`.
            _ => Ok(SendOutcome::Queued),
        }
    }

    fn open_socket(&self) {
        let opened = Socket::open(&self.host, self.core.read().socket_url(), &self.protocols);
        match opened {
            Ok(socket) => {
                let previous = self.socket.write().replace(socket);
                drop(previous);
            }
            Err(thrown) => {
                let message = describe_js_error(&thrown);
                let _ = self.hand_in(Input::SocketUnusable { message });
            }
        }
    }

    fn on_socket_closed(&self, close: CloseInfo) -> u32 {
        let closed = self.socket.write().take();
        drop(closed);
        // A background probe's close says nothing about the session.
        let probing = self.core.read().is_probing();
        let verdict = self
            .should_reconnect
            .as_ref()
            .filter(|_| !probing)
            .and_then(|decide| self.host.decide(decide, &close_to_js(&close)).as_bool());
        let _ = self.feed(Input::SocketClosed { close, verdict });
        0
    }

    /// A frame the host read: the core decides what it is and whether to
    /// deliver it. Answers with `Verdict` bits.
    fn on_frame(&self, data: JsValue, seq: f64, detail: u32) -> u32 {
        let (kind, source) = frame_detail(detail);
        let mut frame = InboundFrame::of_kind(source, kind);
        // Reading `data` is a call into JavaScript: only for the kinds that
        // carry something in it (an application frame costs no extra crossing).
        if kind.needs_id() {
            frame.id = data.as_string();
        } else if kind.needs_epoch() {
            frame.epoch = data.as_string();
        } else if kind == FrameKind::Gap {
            frame.first_available = data.as_f64().unwrap_or(f64::NAN);
        }
        // A reset is never numbered: the host passes its `data.firstSeq` there.
        if kind == FrameKind::Reset {
            frame.first_available = seq;
        } else {
            frame.seq = seq;
        }
        let answer = self.hand_in(Input::Frame(frame));
        self.run_outputs();
        let deliver = answer == Ok(Handled::Frame { deliver: true });
        let deliver = if deliver { VERDICT_DELIVER } else { 0 };
        deliver | self.snapshot_news()
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
            Event::StreamReset { .. } => "reset",
            Event::Queue { .. } => "queue",
        };
        if !self.host.listening(name) {
            return; // nobody listens: build no payload
        }
        let argument = match event {
            // (Not the string enums' `into()`: it links a panic message per enum.)
            Event::StateChanged(state) => JsValue::from_str(state.as_str()),
            Event::ModeChanged(mode) => JsValue::from_str(mode.as_str()),
            Event::Acked(_) | Event::AckLost { .. } => return,
            Event::Opened => JsValue::UNDEFINED,
            Event::Closed(info) => close_to_js(&info),
            Event::Error(message) => runtime_error(&message),
            Event::Latency(stats) => latency_to_js(&stats),
            Event::Reconnecting { attempt, delay_ms } => bridge::reconnecting(attempt, delay_ms),
            Event::StreamReset { previous, first } => {
                bridge::stream_reset(previous as f64, first as f64)
            }
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

    /// `VERDICT_CHANGED` if the snapshot changed since it was last published
    /// and the host has a subscriber or a snapshot object that is now out of
    /// date (it marks it stale on hearing this); 0 otherwise.
    fn snapshot_news(&self) -> u32 {
        if self.released.get() {
            return 0;
        }
        let changed = self.core.write().snapshot_changed();
        if changed && (self.watchers.get() > 0 || self.host_snapshot_current.get()) {
            self.host_snapshot_current.set(false);
            VERDICT_CHANGED
        } else {
            0
        }
    }
}
