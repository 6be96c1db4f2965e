//! The boundary the JavaScript half calls (src/abi): arbitrary option bytes,
//! then arbitrary calls with arbitrary numbers and input text, on a clock
//! that moves forward. No call may panic (a panic would poison the page's
//! whole module), and every call's records must parse to their end.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    resocket::fuzz_session(data);
});
