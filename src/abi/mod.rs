//! The boundary between the core and its JavaScript half
//! (`src/browser/transport.js`): numbers and one pair of byte buffers, no
//! JavaScript values in Rust and no Rust objects in JavaScript.
//!
//! ```text
//! transport.js ── input(len) → pointer; writes text or options there
//!              ── call(session, call, a, b, len) → answer ──▶ Session → core
//!              ◀─ output() → pointer; reads the records the answer's length says
//!              ◀─ env.rs_now() → performance.now(), only when a decision needs the time
//! ```
//!
//! One crossing per message: a send or a received frame is one `call` with
//! numbers only (a frame's id or epoch, when the core needs it, is text in
//! the input buffer). Records are written only when there is something to
//! do, so the steady state (socket open, nothing queued) reads none and
//! allocates nothing. Frames stay JavaScript values: the core holds their
//! numbers, and `Release` records say when the JavaScript half may drop one.
//!
//! Everything numbered here (calls, records, answers, option order) is
//! generated into `transport.js` by a native test (`generated.rs`).

mod calls;
mod generated;
mod options;
mod records;
mod session;

#[cfg(target_arch = "wasm32")]
mod exports {
    use ::core::cell::UnsafeCell;

    use super::calls::{Call, RECORDS_SHIFT};
    use super::session::{Clock, Session};
    use crate::prelude::*;
    use alloc::boxed::Box;

    /// The input and output buffers shared with JavaScript.
    struct Buffers {
        input: Vec<u8>,
        output: Vec<u8>,
    }

    struct Shared(UnsafeCell<Buffers>);

    // SAFETY: wasm32-unknown-unknown without atomics runs on one thread, and
    // no export is re-entered (nothing here calls into JavaScript).
    unsafe impl Sync for Shared {}

    static BUFFERS: Shared = Shared(UnsafeCell::new(Buffers {
        input: Vec::new(),
        output: Vec::new(),
    }));

    fn buffers() -> &'static mut Buffers {
        // SAFETY: see `Shared`: one thread, no re-entry, so no other
        // reference to the buffers is alive while an export runs.
        unsafe { &mut *BUFFERS.0.get() }
    }

    extern "C" {
        /// `performance.now()`: the one import (`env.rs_now`), read through
        /// `Clock` only when a decision needs the time. The browser tests'
        /// own module defines it (tests/support/transport.rs): so the block
        /// names no `wasm_import_module`, which would force an import and
        /// make wasm-bindgen emit `import … from "env"` in the tests' glue.
        fn rs_now() -> f64;
    }

    /// Room for `len` bytes of input; returns where to write them.
    #[no_mangle]
    pub extern "C" fn rs_input(len: u32) -> *mut u8 {
        let input = &mut buffers().input;
        if input.len() < len as usize {
            input.resize(len as usize, 0);
        }
        input.as_mut_ptr()
    }

    /// Where the last call's records start.
    #[no_mangle]
    pub extern "C" fn rs_output() -> *const u8 {
        buffers().output.as_ptr()
    }

    /// One call (see `calls.rs`): `session` is what `Created` named (0 for
    /// `New`), the input is the first `len` bytes of the input buffer.
    ///
    /// # Safety
    /// `session` must be a live session this module created (the JavaScript
    /// half forgets it on `Free`, which is the only place it is dropped).
    #[no_mangle]
    pub unsafe extern "C" fn rs_call(
        session: *mut Session,
        call: u32,
        a: f64,
        b: f64,
        len: u32,
    ) -> u32 {
        // SAFETY: an import with no arguments that returns a number.
        let mut read = || unsafe { rs_now() };
        let clock = &mut Clock::new(&mut read);
        let Buffers { input, output } = buffers();
        output.clear();
        let input = input.get(..len as usize).unwrap_or_default();
        let answer = if call == Call::New as u32 {
            match Session::create(input, clock, output) {
                Ok(created) => {
                    let session = Box::into_raw(Box::new(created));
                    // SAFETY: just made from a box, and not yet shared.
                    unsafe { &mut *session }.created(session as u32, clock, output)
                }
                Err(answer) => answer,
            }
        } else if session.is_null() {
            0
        } else if call == Call::Free as u32 {
            // SAFETY: the caller's promise; the JavaScript half never names it
            // again (and closes what it holds itself).
            drop(unsafe { Box::from_raw(session) });
            0
        } else {
            // SAFETY: the caller's promise, and no other reference exists (no re-entry).
            unsafe { &mut *session }.call(call, a, b, clock, input, output)
        };
        answer | (output.len() as u32) << RECORDS_SHIFT
    }
}

/// Drives the boundary with arbitrary bytes as the JavaScript half would, for
/// the fuzzer (`fuzz/fuzz_targets/boundary.rs`): the first bytes are the
/// options (length-prefixed), the rest a sequence of calls (number, two
/// numbers, the time, input text). Panics only where the boundary breaks its
/// own contract: a call must never panic, and its records must end where
/// the answer says and parse as the format describes.
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub fn fuzz_session(data: &[u8]) {
    use crate::prelude::*;

    let mut reader = records::Reader::new(data);
    let Some(length) = reader.u8() else { return };
    let Some(options) = reader.take(usize::from(length)) else {
        return;
    };
    let mut out = Vec::new();
    let mut start = || 0.0;
    let Ok(mut session) =
        session::Session::create(options, &mut session::Clock::new(&mut start), &mut out)
    else {
        let _ = records::check(&out);
        return;
    };
    out.clear();
    session.created(1, &mut session::Clock::new(&mut start), &mut out);
    let _ = records::check(&out);
    let mut now = 0.0;
    while let (Some(call), Some(a), Some(b), Some(step), Some(length)) = (
        reader.u8(),
        reader.f64(),
        reader.f64(),
        reader.u8(),
        reader.u8(),
    ) {
        let Some(input) = reader.take(usize::from(length)) else {
            return;
        };
        // The clock only moves forward, as performance.now() does.
        now += f64::from(step) * 97.0;
        out.clear();
        let call = u32::from(call);
        if call == calls::Call::New as u32 || call == calls::Call::Free as u32 {
            continue;
        }
        let mut read = || now;
        session.call(
            call,
            a,
            b,
            &mut session::Clock::new(&mut read),
            input,
            &mut out,
        );
        let _ = records::check(&out);
    }
    drop(session);
}
