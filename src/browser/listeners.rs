//! The event names `on(event, handler)` accepts. The listeners themselves live
//! in the JavaScript host (`bridge.js`), so unsubscribe functions are plain JS.

/// Every event the transport emits, as `on()` spells it.
const EVENT_NAMES: [&str; 10] = [
    "state",
    "mode",
    "open",
    "close",
    "message",
    "latency",
    "reconnecting",
    "queue",
    "error",
    "reset",
];

/// The rule an unknown name breaks, for the `RangeError` message.
pub(crate) const EVENT_NAME_RULE: &str =
    "must be \"state\", \"mode\", \"open\", \"close\", \"message\", \"latency\", \"reconnecting\", \"queue\", \"error\" or \"reset\"";

/// Whether `on(name, …)` accepts `name`.
pub(crate) fn is_event_name(name: &str) -> bool {
    EVENT_NAMES.contains(&name)
}
