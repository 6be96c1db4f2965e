//! The constructor's options as `transport.js` writes them into the exchange
//! buffer (it checks JavaScript types; every value rule is `core::OptionValues`).
//!
//! Layout: 8 random bytes (the core's seed), 16 random bytes (a session id
//! when none is given), then the head fields, then each of
//! the number options (`core::Field`'s first [`Field::NUMBERS`]) as a presence
//! byte and an `f64`, then each of the string options that follow them
//! ([`Field::STRINGS`]) as a presence byte and a string. The head: the URL kind
//! (0 none, 1 string, 2 function) and the URL when a string, then
//! `enableWebSocket` and `autoConnect` (0 absent, 1 false, 2 true), then
//! whether `shouldReconnect` is given (0/1).

use crate::prelude::*;

use super::records::Reader;
#[cfg(all(test, not(target_arch = "wasm32")))]
use crate::core::FIELD_NAMES;
use crate::core::{uuid_v4, Field, OptionValues};

/// The number options, in the order they are written.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const NUMBER_OPTIONS: &[&str] = FIELD_NAMES.split_at(Field::NUMBERS).0;

/// The string options, in the order they are written after the numbers.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const STRING_OPTIONS: &[&str] = FIELD_NAMES
    .split_at(Field::NUMBERS + Field::STRINGS)
    .0
    .split_at(Field::NUMBERS)
    .1;

/// The options that are neither: the head fields, and `protocols` (which
/// only the JavaScript half uses).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const OTHER_OPTIONS: &[&str] = FIELD_NAMES
    .split_at(Field::OPTIONS)
    .0
    .split_at(Field::NUMBERS + Field::STRINGS)
    .1;

/// A URL option given as a function: the core asks for a URL per attempt.
pub(crate) const URL_FUNCTION: u8 = 2;

/// The options, read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReadOptions {
    pub(crate) values: OptionValues,
    pub(crate) seed: u64,
    pub(crate) auto_connect: bool,
    pub(crate) should_reconnect: bool,
}

/// Reads the options; `None` when the bytes are not laid out as above.
pub(crate) fn read_options(bytes: &[u8]) -> Option<ReadOptions> {
    let mut reader = Reader::new(bytes);
    let seed = u64::from_le_bytes(reader.take(8)?.try_into().ok()?);
    let session_random: [u8; 16] = reader.take(16)?.try_into().ok()?;
    let url = match reader.u8()? {
        0 | URL_FUNCTION => None,
        1 => Some(reader.str()?.to_owned()),
        _ => return None,
    };
    let flag = |byte: u8| match byte {
        0 => Some(None),
        1 => Some(Some(false)),
        2 => Some(Some(true)),
        _ => None,
    };
    let enable_websocket = flag(reader.u8()?)?;
    let auto_connect = flag(reader.u8()?)?.unwrap_or(true);
    let should_reconnect = reader.u8()? != 0;
    let mut numbers = [None; Field::NUMBERS];
    for number in &mut numbers {
        if reader.u8()? != 0 {
            *number = Some(reader.f64()?);
        }
    }
    let mut strings: [Option<String>; Field::STRINGS] = Default::default();
    for string in &mut strings {
        if reader.u8()? != 0 {
            *string = Some(reader.str()?.to_owned());
        }
    }
    if !reader.is_done() {
        return None;
    }
    let [reconnect_interval, max_reconnect_interval, reconnect_backoff_factor, reconnect_jitter, max_reconnect_attempts, connect_timeout, min_uptime, heartbeat_interval, heartbeat_timeout, message_queue_size, fallback_after_attempts, upgrade_probe_interval, ack_timeout, max_message_bytes] =
        numbers;
    let [session_id, queue_overflow, ping_type, pong_type, http_fallback_url, http_events_url, delivery] =
        strings;
    let values = OptionValues {
        url,
        session_id: session_id.unwrap_or_else(|| uuid_v4(session_random)),
        reconnect_interval,
        max_reconnect_interval,
        reconnect_backoff_factor,
        reconnect_jitter,
        max_reconnect_attempts,
        connect_timeout,
        min_uptime,
        heartbeat_interval,
        heartbeat_timeout,
        message_queue_size,
        queue_overflow,
        ping_type,
        pong_type,
        http_fallback_url,
        http_events_url,
        fallback_after_attempts,
        upgrade_probe_interval,
        enable_websocket,
        delivery,
        ack_timeout,
        max_message_bytes,
    };
    Some(ReadOptions {
        values,
        seed,
        auto_connect,
        should_reconnect,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use super::*;
    use crate::abi::records::Writer;

    /// What `transport.js` writes for these options (the test side of the layout).
    pub(crate) fn blob(
        url: Option<&str>,
        numbers: &[(&str, f64)],
        strings: &[(&str, &str)],
        auto_connect: Option<bool>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&42u64.to_le_bytes());
        out.extend_from_slice(&[7; 16]);
        let mut writer = Writer::new(&mut out);
        match url {
            Some(url) => {
                writer.out_byte(1).str(url);
            }
            None => {
                writer.out_byte(0);
            }
        }
        writer.out_byte(0);
        writer.out_byte(auto_connect.map_or(0, |on| if on { 2 } else { 1 }));
        writer.out_byte(0);
        for &name in NUMBER_OPTIONS {
            match numbers.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => {
                    writer.out_byte(1).f64(*value);
                }
                None => {
                    writer.out_byte(0);
                }
            }
        }
        for &name in STRING_OPTIONS {
            match strings.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => {
                    writer.out_byte(1).str(value);
                }
                None => {
                    writer.out_byte(0);
                }
            }
        }
        out
    }

    #[test]
    fn options_are_read_in_their_places() {
        let read = read_options(&blob(
            Some("ws://h/ws"),
            &[("heartbeatInterval", 0.0), ("ackTimeout", 5.0)],
            &[("delivery", "at-least-once"), ("sessionId", "s1")],
            Some(false),
        ))
        .expect("well formed");
        assert_eq!(read.seed, 42);
        assert!(!read.auto_connect);
        assert_eq!(read.values.url.as_deref(), Some("ws://h/ws"));
        assert_eq!(read.values.heartbeat_interval, Some(0.0));
        assert_eq!(read.values.ack_timeout, Some(5.0));
        assert_eq!(read.values.reconnect_interval, None);
        assert_eq!(read.values.delivery.as_deref(), Some("at-least-once"));
        assert_eq!(read.values.session_id, "s1");
    }

    #[test]
    fn without_a_session_id_one_is_made_from_the_random_bytes() {
        let read = read_options(&blob(None, &[], &[], None)).expect("well formed");
        assert!(read.auto_connect);
        assert_eq!(read.values.session_id, uuid_v4([7; 16]));
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_malformed() {
        let good = blob(
            Some("ws://h"),
            &[("minUptime", 1.0)],
            &[("pingType", "p")],
            None,
        );
        for end in 0..good.len() {
            assert_eq!(read_options(&good[..end]), None, "cut at {end}");
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(read_options(&long), None);
    }
}
