//! resocket: a reconnecting WebSocket client for the browser, in Rust compiled to
//! WebAssembly.
//!
//! The crate has two halves, and JavaScript holds the third:
//! - [`core`]: the sans-IO state machine (backoff, offline queue, heartbeat,
//!   latency, page lifecycle, option rules). Pure Rust with no browser imports;
//!   it takes inputs with the current time and returns actions. Tested natively
//!   on a simulated clock.
//! - `abi`: the boundary the JavaScript half calls. Numbers and a pair of
//!   byte buffers cross it; each call is one core input, and the core's
//!   outputs come back as records.
//! - `src/browser/transport.js`: the `WebSocketTransport` class applications
//!   use. It owns the socket, the timer, page and application listeners and
//!   the frames as JavaScript values, and executes the records.
#![deny(missing_docs)]
// The npm package's build is `no_std` on wasm32 (see `abort-on-panic` in
// Cargo.toml and `panic` below); everything else links std as usual.
#![cfg_attr(all(target_arch = "wasm32", feature = "abort-on-panic"), no_std)]

extern crate alloc;

// Natively only its tests call the boundary (its exports are wasm32's).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod abi;
pub mod core;

#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub use abi::fuzz_session;
mod prelude;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod allocations;

/// A panic aborts the wasm instance without formatting its message: nothing
/// would print it (the JavaScript side sees "unreachable executed" either way),
/// and the formatting machinery is ~4 KB of the download.
#[cfg(all(target_arch = "wasm32", feature = "abort-on-panic"))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

// SAFETY: wasm32-unknown-unknown without atomics runs on a single thread, which
// is the condition `AssumeSingleThreaded` requires.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
