//! The browser driver: turns WebSocket events into core inputs and executes the
//! core's actions. It decides nothing of its own beyond JavaScript type checks.

mod driver;
mod envelope;
mod errors;
mod listeners;
mod options;
mod platform;
mod socket;

pub(crate) use driver::Driver;
pub(crate) use errors::config_error_to_js;
