//! Strings that cross into JavaScript as wasm-bindgen string enums: each
//! crosses as an index into a table of JS strings the glue holds, so no string
//! is encoded, allocated or decoded (what `send` returns, the state, the mode,
//! why the transport is down).

// wasm-bindgen adds an undocumented hidden variant and helper to a string enum.
#![allow(missing_docs)]

use wasm_bindgen::prelude::*;

use crate::core::{ConnectionState, DisconnectReason, Mode, SendOutcome};

/// What `send`/`sendRaw` did, as the strings of the `SendResult` type (declared
/// in `typescript.rs`). A string enum crosses into JavaScript as an index into
/// a table of those strings: no string is decoded per message.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    /// On the wire.
    Sent = "sent",
    /// In the offline queue.
    Queued = "queued",
    /// Dropped: the queue was full under `"drop-newest"`.
    Dropped = "dropped",
    /// Going out over the HTTP fallback.
    Http = "http",
}

pub(crate) fn send_result(outcome: SendOutcome) -> SendResult {
    match outcome {
        SendOutcome::Sent => SendResult::Sent,
        SendOutcome::Queued => SendResult::Queued,
        SendOutcome::Dropped => SendResult::Dropped,
        SendOutcome::Http => SendResult::Http,
    }
}

/// The connection state as the strings of the `ConnectionState` type: like
/// `SendResult`, an index into a table of strings, so reading `state` decodes
/// no string.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateName {
    /// `"connecting"`
    Connecting = "connecting",
    /// `"connected"`
    Connected = "connected",
    /// `"reconnecting"`
    Reconnecting = "reconnecting",
    /// `"disconnected"`
    Disconnected = "disconnected",
}

impl StateName {
    /// The state's name, as JavaScript reads it (for Rust callers; without
    /// wasm-bindgen's conversion, which links a panic message).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            _ => "disconnected",
        }
    }
}

/// `transport.state() == "connected"` for Rust callers (the browser tests).
impl PartialEq<&str> for StateName {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

pub(crate) fn state_name(state: ConnectionState) -> StateName {
    match state {
        ConnectionState::Connecting => StateName::Connecting,
        ConnectionState::Connected => StateName::Connected,
        ConnectionState::Reconnecting => StateName::Reconnecting,
        ConnectionState::Disconnected => StateName::Disconnected,
    }
}

/// The channel in use, as the strings of the `mode` event and snapshot field.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeName {
    /// `"websocket"`
    WebSocket = "websocket",
    /// `"http"`
    Http = "http",
}

pub(crate) fn mode_name(mode: Mode) -> ModeName {
    match mode {
        Mode::WebSocket => ModeName::WebSocket,
        Mode::Http => ModeName::Http,
    }
}

/// Why the transport is down, as the strings of `snapshot.disconnectReason`.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonName {
    /// `"client"`
    Client = "client",
    /// `"max-attempts"`
    MaxAttempts = "max-attempts",
    /// `"terminal-close"`
    TerminalClose = "terminal-close",
}

pub(crate) fn reason_name(reason: DisconnectReason) -> ReasonName {
    match reason {
        DisconnectReason::Client => ReasonName::Client,
        DisconnectReason::MaxAttempts => ReasonName::MaxAttempts,
        DisconnectReason::TerminalClose => ReasonName::TerminalClose,
    }
}
