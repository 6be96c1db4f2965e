//! The browser driver: turns WebSocket, timer and page events into core inputs
//! and executes the core's actions. It decides nothing of its own beyond
//! JavaScript type checks.

mod boundary;
mod bridge;
mod cells;
mod driver;
mod envelope;
mod errors;
mod listeners;
mod options;
mod platform;
mod snapshot;
mod socket;

pub(crate) use driver::Driver;
pub(crate) use errors::config_error_with_value;
