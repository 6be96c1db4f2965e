//! The loop between the browser and the core.
//!
//! Every entry point (a public method, or a socket event) feeds one input to the
//! core and then executes the actions the core queued, in order. No `RefCell`
//! borrow is held while application code runs, so listeners may call any method
//! (including `free()`) from inside a handler.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::envelope;
use super::errors::{config_error_to_js, describe_js_error, runtime_error};
use super::listeners::{dispatch, EventName, Listeners};
use super::options::{read_options, TransportOptions};
use super::platform::{now_ms, random_seed};
use super::socket::{Socket, SocketEvent};
use crate::core::{Action, CloseInfo, ConfigError, Event, SendError, Transport};

/// Owns the shared state; dropping it (the JS object's `free()`) closes the
/// socket and silences every callback.
pub(crate) struct Driver {
    shared: Rc<Shared>,
}

struct Shared {
    core: RefCell<Transport<JsValue>>,
    socket: RefCell<Option<Socket>>,
    listeners: RefCell<Listeners>,
    protocols: Vec<String>,
    /// Set by `free()`: no socket may be opened and no action run after it.
    released: Cell<bool>,
    this: Weak<Shared>,
}

impl Driver {
    /// Builds a transport from the JS options object (and connects unless
    /// `autoConnect: false`).
    pub(crate) fn new(options: &JsValue) -> Result<Self, JsValue> {
        let TransportOptions {
            config,
            protocols,
            auto_connect,
        } = read_options(options).map_err(|error| config_error_to_js(&error))?;
        let core = Transport::new(config, random_seed(), now_ms());
        let shared = Rc::new_cyclic(|this| Shared {
            core: RefCell::new(core),
            socket: RefCell::new(None),
            listeners: RefCell::new(Listeners::default()),
            protocols,
            released: Cell::new(false),
            this: this.clone(),
        });
        if auto_connect {
            shared.feed(|core, now| core.connect(now));
        }
        Ok(Self { shared })
    }

    pub(crate) fn connect(&self) {
        self.shared.feed(|core, now| core.connect(now));
    }

    pub(crate) fn disconnect(&self, code: u16, reason: &str) -> Result<(), JsValue> {
        self.shared
            .feed(|core, now| core.disconnect(now, code, reason))
            .map_err(|error| config_error_to_js(&error))
    }

    /// Wraps `data` in an envelope of type `message_type` and sends it.
    pub(crate) fn send(&self, message_type: &JsValue, data: &JsValue) -> Result<(), JsValue> {
        if !message_type.is_string() {
            return Err(config_error_to_js(&ConfigError::type_error(
                "type",
                "must be a string",
            )));
        }
        let id = self.shared.core.borrow_mut().next_message_id();
        let frame = envelope::encode(message_type, data, &id).map_err(|thrown| {
            config_error_to_js(&ConfigError::type_error(
                "data",
                format!(
                    "cannot be serialised as JSON: {}",
                    describe_js_error(&thrown)
                ),
            ))
        })?;
        self.shared.feed(|core, now| core.send(now, frame)).map_err(
            |SendError::NotConnected(state)| {
                runtime_error(&format!("cannot send while {}", state.as_str()))
            },
        )
    }

    /// Registers `handler` for `event`; returns the function that removes it.
    /// The returned function holds only a weak reference, so calling it after
    /// `free()` (React may run cleanups in either order) does nothing.
    pub(crate) fn on(&self, event: &str, handler: JsValue) -> Result<Function, JsValue> {
        let name = EventName::parse(event).ok_or_else(|| {
            config_error_to_js(&ConfigError::range(
                "event",
                format!("must be one of {}, got {event:?}", EventName::ALL),
            ))
        })?;
        let handler: Function = handler.dyn_into().map_err(|_| {
            config_error_to_js(&ConfigError::type_error("handler", "must be a function"))
        })?;
        let id = self.shared.listeners.borrow_mut().add(name, handler);
        let shared = self.shared.this.clone();
        let unsubscribe = Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = shared.upgrade() {
                shared.listeners.borrow_mut().remove(id);
            }
        });
        // Ownership passes to the JS garbage collector (wasm-bindgen registers the
        // closure with a FinalizationRegistry), so it is freed with the function.
        Ok(unsubscribe.into_js_value().unchecked_into())
    }

    pub(crate) fn state(&self) -> &'static str {
        self.shared.core.borrow().state().as_str()
    }

    pub(crate) fn session_id(&self) -> String {
        self.shared.core.borrow().session_id().to_owned()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shared.released.set(true);
        self.shared.listeners.borrow_mut().clear();
        let socket = self.shared.socket.borrow_mut().take();
        if let Some(socket) = socket {
            socket.close(1000, "transport freed");
        }
    }
}

impl Shared {
    /// Gives the core one input, then executes everything it decided.
    fn feed<R>(&self, input: impl FnOnce(&mut Transport<JsValue>, f64) -> R) -> R {
        let result = input(&mut self.core.borrow_mut(), now_ms());
        self.run_actions();
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

    fn execute(&self, action: Action<JsValue>) {
        match action {
            Action::OpenSocket { url } => self.open_socket(&url),
            Action::CloseSocket { code, reason } => {
                let socket = self.socket.borrow_mut().take();
                if let Some(socket) = socket {
                    socket.close(code, &reason);
                }
            }
            Action::Transmit(frame) => {
                let sent = match self.socket.borrow().as_ref() {
                    Some(socket) => socket.send(&frame),
                    None => Ok(()),
                };
                if sent.is_err() {
                    self.core.borrow_mut().on_error(now_ms());
                }
            }
            Action::Emit(event) => self.emit(event),
        }
    }

    fn open_socket(&self, url: &str) {
        let this = self.this.clone();
        let opened = Socket::open(url, &self.protocols, move |event| {
            if let Some(shared) = this.upgrade() {
                shared.on_socket_event(event);
            }
        });
        match opened {
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

    fn on_socket_event(&self, event: SocketEvent) {
        if self.released.get() {
            return;
        }
        match event {
            SocketEvent::Open => self.feed(|core, now| core.on_open(now)),
            SocketEvent::Message(frame) => {
                let handlers = self.listeners.borrow().for_event(EventName::Message);
                if !handlers.is_empty() {
                    dispatch(&handlers, &envelope::decode(frame));
                }
            }
            SocketEvent::Error => self.feed(|core, now| core.on_error(now)),
            SocketEvent::Close(info) => {
                let closed = self.socket.borrow_mut().take();
                drop(closed);
                self.feed(|core, now| core.on_close(now, info));
            }
        }
    }

    fn emit(&self, event: Event) {
        let (name, argument) = match event {
            Event::StateChanged(state) => (EventName::State, JsValue::from_str(state.as_str())),
            Event::Opened => (EventName::Open, JsValue::UNDEFINED),
            Event::Closed(info) => (EventName::Close, close_info_to_js(&info)),
            Event::Error(message) => (EventName::Error, runtime_error(&message)),
        };
        let handlers = self.listeners.borrow().for_event(name);
        dispatch(&handlers, &argument);
    }
}

fn close_info_to_js(info: &CloseInfo) -> JsValue {
    let object = Object::new();
    // Reflect.set on a fresh plain object cannot fail.
    let _ = Reflect::set(&object, &"code".into(), &info.code.into());
    let _ = Reflect::set(&object, &"reason".into(), &JsValue::from_str(&info.reason));
    let _ = Reflect::set(&object, &"wasClean".into(), &info.was_clean.into());
    object.into()
}
