//! Clock and randomness from whatever global the code runs in (window or worker).

use super::bridge;

/// Monotonic milliseconds (`performance.now()`), the core's clock.
pub(crate) fn now_ms() -> f64 {
    bridge::now()
}

/// Fills `bytes` with random values (Web Crypto where it exists).
pub(crate) fn fill_random(bytes: &mut [u8]) {
    bridge::random_fill(bytes);
}

/// A random 64-bit seed for the core.
pub(crate) fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    fill_random(&mut bytes);
    u64::from_le_bytes(bytes)
}
