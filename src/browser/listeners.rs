//! The application's event listeners, kept in registration order.

use js_sys::Function;
use wasm_bindgen::JsValue;

/// The events `on(event, handler)` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventName {
    State,
    Open,
    Close,
    Message,
    Error,
}

impl EventName {
    /// Every event name, as listed in error messages.
    pub(crate) const ALL: &'static str = "\"state\", \"open\", \"close\", \"message\" or \"error\"";

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "state" => Self::State,
            "open" => Self::Open,
            "close" => Self::Close,
            "message" => Self::Message,
            "error" => Self::Error,
            _ => return None,
        })
    }
}

/// Listener functions with the id their unsubscribe function removes.
#[derive(Default)]
pub(crate) struct Listeners {
    next_id: u32,
    entries: Vec<(u32, EventName, Function)>,
}

impl Listeners {
    pub(crate) fn add(&mut self, event: EventName, handler: Function) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.entries.push((self.next_id, event, handler));
        self.next_id
    }

    pub(crate) fn remove(&mut self, id: u32) {
        self.entries.retain(|(entry_id, _, _)| *entry_id != id);
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// A snapshot of the handlers for `event`, so handlers may subscribe or
    /// unsubscribe while being called without disturbing this dispatch.
    pub(crate) fn for_event(&self, event: EventName) -> Vec<Function> {
        self.entries
            .iter()
            .filter(|(_, entry_event, _)| *entry_event == event)
            .map(|(_, _, handler)| handler.clone())
            .collect()
    }
}

/// Calls every handler with `argument`. A throwing handler is reported on the
/// console and does not stop the others, as with `EventTarget` listeners.
pub(crate) fn dispatch(handlers: &[Function], argument: &JsValue) {
    for handler in handlers {
        if let Err(thrown) = handler.call1(&JsValue::UNDEFINED, argument) {
            web_sys::console::error_2(
                &JsValue::from_str("resocket: an event listener threw"),
                &thrown,
            );
        }
    }
}
