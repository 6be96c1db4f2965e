//! The core's timers as browser timeouts, one slot per kind.
//!
//! A timeout reports its slot to the transport's host, so arming a timer
//! allocates no closure. Replacing, cancelling or dropping a slot clears it.

use wasm_bindgen::JsValue;

use super::bridge::{self, Host};
use crate::core::{TimerKind, MAX_TIMER_MS, TIMER_KINDS};

#[derive(Default)]
pub(crate) struct TimerSlots {
    pending: [Option<JsValue>; TIMER_KINDS],
}

impl TimerSlots {
    /// Fires `kind` after `delay_ms` (bounded to what `setTimeout` accepts),
    /// replacing any pending timer of that kind.
    pub(crate) fn set(&mut self, host: &Host, kind: TimerKind, delay_ms: f64) {
        self.cancel(kind);
        // max/min rather than clamp: clamp's NaN assertion formats floats, which
        // would link ~17 KB of float printing into the wasm build.
        #[allow(clippy::manual_clamp)]
        // (Rounded up in bridge.js: `f64::ceil` needs std.)
        let delay = delay_ms.max(0.0).min(MAX_TIMER_MS);
        let slot = kind.slot();
        // `slot` < TIMER_KINDS, so the cast is exact.
        self.pending[slot] = Some(bridge::start_timer(host, slot as u8, delay));
    }

    pub(crate) fn cancel(&mut self, kind: TimerKind) {
        if let Some(id) = self.pending[kind.slot()].take() {
            bridge::cancel_timer(&id);
        }
    }

    pub(crate) fn cancel_all(&mut self) {
        for kind in TimerKind::ALL {
            self.cancel(kind);
        }
    }
}

impl Drop for TimerSlots {
    fn drop(&mut self) {
        self.cancel_all();
    }
}
