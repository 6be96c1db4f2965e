//! The connection state machine: inputs in (with the current time), actions out.
//!
//! The driver feeds browser events in (`on_open`, `on_close`, …) and then drains
//! [`Transport::poll_action`] until it returns `None`, executing each action in
//! order. The core never calls out, never blocks and never panics on any input
//! sequence: events that do not fit the current state are ignored.

use std::collections::VecDeque;

use super::close::{validate_close_request, CloseInfo};
use super::options::{Config, ConfigError};
use super::state::ConnectionState;
use super::url::set_query_param;

/// The query parameter that carries the session id on every socket URL.
pub const SESSION_QUERY_PARAM: &str = "session_id";

/// Something the driver must do, in the order the core emitted it.
///
/// `P` is the payload type of an outgoing frame: the browser driver uses an
/// already-serialised `JsValue` so the core never copies message text.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<P> {
    /// Open a new socket to this URL, replacing any previous one.
    OpenSocket {
        /// The full URL for this attempt, session id included.
        url: String,
    },
    /// Close the current socket with this code and reason and stop listening to it.
    CloseSocket {
        /// The close code to send.
        code: u16,
        /// The close reason to send.
        reason: String,
    },
    /// Send this frame on the open socket.
    Transmit(P),
    /// Tell the application something happened.
    Emit(Event),
}

/// Something the application hears about through `on(event, handler)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The connection state changed to this value.
    StateChanged(ConnectionState),
    /// A socket opened.
    Opened,
    /// The socket closed.
    Closed(CloseInfo),
    /// Something went wrong that the application should know about.
    Error(String),
}

/// Why `send` could not put a message on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// No socket is open; carries the state the transport was in.
    NotConnected(ConnectionState),
}

/// The transport's decision-making half. See the module docs for how it is driven.
#[derive(Debug)]
pub struct Transport<P> {
    config: Config,
    state: ConnectionState,
    state_changed_at: f64,
    message_id_prefix: String,
    messages_numbered: u64,
    actions: VecDeque<Action<P>>,
}

impl<P> Transport<P> {
    /// Creates a disconnected transport. `random_seed` comes from the platform's
    /// secure random source; it makes message ids unique even when two transports
    /// share a session id (e.g. a session restored after a page reload).
    pub fn new(config: Config, random_seed: u64, now_ms: f64) -> Self {
        Self {
            config,
            state: ConnectionState::Disconnected,
            state_changed_at: now_ms,
            message_id_prefix: base36(random_seed & 0xffff_ffff),
            messages_numbered: 0,
            actions: VecDeque::new(),
        }
    }

    /// The current connection state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// When (on the caller's clock) the state last changed.
    pub fn state_changed_at(&self) -> f64 {
        self.state_changed_at
    }

    /// The session id sent with every attempt.
    pub fn session_id(&self) -> &str {
        &self.config.session_id
    }

    /// The next action for the driver to execute, oldest first.
    pub fn poll_action(&mut self) -> Option<Action<P>> {
        self.actions.pop_front()
    }

    /// A fresh envelope id, unique for this transport's lifetime.
    pub fn next_message_id(&mut self) -> String {
        self.messages_numbered += 1;
        format!("{}-{}", self.message_id_prefix, self.messages_numbered)
    }

    /// Asks for a connection. Does nothing if one is open or being opened.
    pub fn connect(&mut self, now_ms: f64) {
        if self.state != ConnectionState::Disconnected {
            return;
        }
        let url = set_query_param(
            &self.config.url,
            SESSION_QUERY_PARAM,
            &self.config.session_id,
        );
        self.actions.push_back(Action::OpenSocket { url });
        self.enter(ConnectionState::Connecting, now_ms);
    }

    /// Closes the connection on the application's request and stays down.
    pub fn disconnect(&mut self, now_ms: f64, code: u16, reason: &str) -> Result<(), ConfigError> {
        validate_close_request(code, reason)?;
        if self.state == ConnectionState::Disconnected {
            return Ok(());
        }
        self.actions.push_back(Action::CloseSocket {
            code,
            reason: reason.to_owned(),
        });
        self.emit(Event::Closed(CloseInfo {
            code,
            reason: reason.to_owned(),
            was_clean: true,
        }));
        self.enter(ConnectionState::Disconnected, now_ms);
        Ok(())
    }

    /// The socket finished its opening handshake.
    pub fn on_open(&mut self, now_ms: f64) {
        if self.state != ConnectionState::Connecting {
            return;
        }
        self.emit(Event::Opened);
        self.enter(ConnectionState::Connected, now_ms);
    }

    /// The socket closed (cleanly or not).
    pub fn on_close(&mut self, now_ms: f64, info: CloseInfo) {
        if self.state == ConnectionState::Disconnected {
            return;
        }
        self.emit(Event::Closed(info));
        self.enter(ConnectionState::Disconnected, now_ms);
    }

    /// The socket reported an error. Browsers give no detail and always follow
    /// with a `close` event, which is where the state changes.
    pub fn on_error(&mut self, _now_ms: f64) {
        if self.state != ConnectionState::Disconnected {
            self.emit(Event::Error("WebSocket error".to_owned()));
        }
    }

    /// The socket could not even be created (the constructor threw).
    pub fn on_open_failed(&mut self, now_ms: f64, message: &str) {
        if self.state != ConnectionState::Connecting {
            return;
        }
        self.emit(Event::Error(format!("could not open WebSocket: {message}")));
        self.enter(ConnectionState::Disconnected, now_ms);
    }

    /// Sends a serialised frame if a socket is open.
    pub fn send(&mut self, _now_ms: f64, payload: P) -> Result<(), SendError> {
        if self.state != ConnectionState::Connected {
            return Err(SendError::NotConnected(self.state));
        }
        self.actions.push_back(Action::Transmit(payload));
        Ok(())
    }

    fn enter(&mut self, state: ConnectionState, now_ms: f64) {
        if self.state == state {
            return;
        }
        self.state = state;
        self.state_changed_at = now_ms;
        self.emit(Event::StateChanged(state));
    }

    fn emit(&mut self, event: Event) {
        self.actions.push_back(Action::Emit(event));
    }
}

fn base36(mut value: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut reversed = Vec::new();
    loop {
        reversed.push(DIGITS[(value % 36) as usize]);
        value /= 36;
        if value == 0 {
            break;
        }
    }
    reversed.iter().rev().map(|&digit| digit as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> Transport<&'static str> {
        let config = Config::new("ws://h/ws".into(), "s1".into()).unwrap();
        Transport::new(config, 42, 0.0)
    }

    fn drain(t: &mut Transport<&'static str>) -> Vec<Action<&'static str>> {
        std::iter::from_fn(|| t.poll_action()).collect()
    }

    fn closed(code: u16) -> CloseInfo {
        CloseInfo {
            code,
            reason: String::new(),
            was_clean: false,
        }
    }

    #[test]
    fn connect_opens_a_socket_carrying_the_session_id() {
        let mut t = transport();
        t.connect(5.0);
        assert_eq!(
            drain(&mut t),
            vec![
                Action::OpenSocket {
                    url: "ws://h/ws?session_id=s1".into()
                },
                Action::Emit(Event::StateChanged(ConnectionState::Connecting)),
            ]
        );
        assert_eq!(t.state_changed_at(), 5.0);
        // A second connect while connecting opens nothing more.
        t.connect(6.0);
        assert!(drain(&mut t).is_empty());
    }

    #[test]
    fn open_then_send_transmits() {
        let mut t = transport();
        assert_eq!(
            t.send(0.0, "early"),
            Err(SendError::NotConnected(ConnectionState::Disconnected))
        );
        t.connect(0.0);
        t.on_open(10.0);
        drain(&mut t);
        assert_eq!(t.state(), ConnectionState::Connected);
        t.send(11.0, "hello").unwrap();
        assert_eq!(drain(&mut t), vec![Action::Transmit("hello")]);
    }

    #[test]
    fn a_dropped_socket_reports_close_then_disconnected() {
        let mut t = transport();
        t.connect(0.0);
        t.on_open(1.0);
        drain(&mut t);
        t.on_close(2.0, closed(1006));
        assert_eq!(
            drain(&mut t),
            vec![
                Action::Emit(Event::Closed(closed(1006))),
                Action::Emit(Event::StateChanged(ConnectionState::Disconnected)),
            ]
        );
        // A late duplicate close changes nothing.
        t.on_close(3.0, closed(1006));
        assert!(drain(&mut t).is_empty());
    }

    #[test]
    fn disconnect_closes_with_the_requested_code_and_validates_it() {
        let mut t = transport();
        t.connect(0.0);
        t.on_open(1.0);
        drain(&mut t);
        assert_eq!(t.disconnect(2.0, 1001, "").unwrap_err().field, "code");
        assert!(drain(&mut t).is_empty());
        t.disconnect(2.0, 4000, "bye").unwrap();
        let actions = drain(&mut t);
        assert_eq!(
            actions[0],
            Action::CloseSocket {
                code: 4000,
                reason: "bye".into()
            }
        );
        assert_eq!(t.state(), ConnectionState::Disconnected);
        // Disconnecting again is a no-op, not an error.
        t.disconnect(3.0, 1000, "").unwrap();
        assert!(drain(&mut t).is_empty());
    }

    #[test]
    fn stale_events_are_ignored() {
        let mut t = transport();
        t.on_open(0.0);
        t.on_error(0.0);
        t.on_open_failed(0.0, "x");
        assert!(drain(&mut t).is_empty());
        assert_eq!(t.state(), ConnectionState::Disconnected);
    }

    #[test]
    fn a_constructor_failure_reports_an_error_and_disconnects() {
        let mut t = transport();
        t.connect(0.0);
        drain(&mut t);
        t.on_open_failed(1.0, "SyntaxError");
        let actions = drain(&mut t);
        assert!(matches!(&actions[0], Action::Emit(Event::Error(m)) if m.contains("SyntaxError")));
        assert_eq!(t.state(), ConnectionState::Disconnected);
    }

    #[test]
    fn message_ids_are_unique_and_prefixed_by_the_seed() {
        let mut t = transport();
        let first = t.next_message_id();
        let second = t.next_message_id();
        assert_eq!(first, "16-1");
        assert_ne!(first, second);
        assert_eq!(base36(0), "0");
        assert_eq!(base36(36 * 36), "100");
    }
}
