//! Plain data from the core as frozen JavaScript objects (built in `bridge.js`).

use wasm_bindgen::JsValue;

use super::bridge;
use crate::core::{CloseInfo, LatencyStats, Snapshot};
use crate::string_enums::{mode_name, reason_name, state_name};

/// `{last, avg, min, max, jitter, samples}` (ms; `null` before the first sample).
pub(crate) fn latency_to_js(latency: &LatencyStats) -> JsValue {
    bridge::latency_stats(
        latency.last,
        latency.avg,
        latency.min,
        latency.max,
        latency.jitter,
        latency.samples,
    )
}

/// `{code, reason, wasClean}`
pub(crate) fn close_to_js(close: &CloseInfo) -> JsValue {
    bridge::close_details(close.code, &close.reason, close.was_clean)
}

/// The frozen object `getSnapshot()` returns.
pub(crate) fn snapshot_to_js(snapshot: &Snapshot, session_id: &JsValue) -> JsValue {
    let stats = snapshot.stats;
    let close = snapshot.last_close.as_ref();
    bridge::snapshot(
        state_name(snapshot.state),
        mode_name(snapshot.mode),
        snapshot.attempt,
        snapshot.next_retry_in_ms,
        latency_to_js(&snapshot.latency),
        u32::try_from(snapshot.queued).unwrap_or(u32::MAX),
        session_id,
        snapshot.disconnect_reason.map(reason_name),
        close.map(|c| c.code),
        close.map_or("", |c| c.reason.as_str()),
        snapshot.last_seq.map(|seq| seq as f64),
        stats.sent as f64,
        stats.received as f64,
        stats.reconnects as f64,
        stats.dropped as f64,
        stats.errors as f64,
        stats.resets as f64,
    )
}
