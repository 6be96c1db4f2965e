//! What `send`/`sendRaw` return to JavaScript.

// wasm-bindgen adds an undocumented hidden variant and helper to a string enum.
#![allow(missing_docs)]

use wasm_bindgen::prelude::*;

use crate::core::SendOutcome;

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
