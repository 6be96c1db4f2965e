//! The wire protocol's server side, as pure functions: what a frame is, and
//! the control frames the server writes (PROTOCOL.md §2–§5).

use serde_json::{json, Map, Value};

/// The envelope type of heartbeat pings (PROTOCOL.md §3).
pub const PING_TYPE: &str = "ping";

/// A parsed text frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A JSON object with a string `type`.
    Envelope(Map<String, Value>),
    /// Valid JSON that is not an envelope (no object, or no string `type`).
    NotEnvelope(Value),
    /// Not JSON at all; carries the parser's message.
    NotJson(String),
}

impl Inbound {
    /// Parses a text frame.
    pub fn parse(text: &str) -> Self {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => Self::from_value(value),
            Err(error) => Self::NotJson(error.to_string()),
        }
    }

    /// Classifies an already-parsed value (an element of a POSTed array).
    pub fn from_value(value: Value) -> Self {
        match value {
            Value::Object(object) if object.get("type").is_some_and(Value::is_string) => {
                Self::Envelope(object)
            }
            other => Self::NotEnvelope(other),
        }
    }

    /// The envelope's `id`, when it is a string.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Envelope(object) => object.get("id").and_then(Value::as_str),
            _ => None,
        }
    }

    /// The envelope's `type`, if it is one.
    pub fn message_type(&self) -> Option<&str> {
        match self {
            Self::Envelope(object) => object.get("type").and_then(Value::as_str),
            _ => None,
        }
    }
}

/// `{"type":"ack","id":…}`: the envelope with this id was received (sent to
/// connections that asked for acknowledgements, for first copies and resends).
pub fn ack(id: &str) -> Value {
    json!({ "type": "ack", "id": id })
}

/// The answer to a ping: `pong` with the same `id`, the ping's `timestamp`
/// echoed, plus `serverTime` (`now`, ISO-8601). Never numbered.
pub fn pong(ping: &Map<String, Value>, now: &str) -> Value {
    json!({
        "type": "pong",
        "id": ping.get("id").cloned().unwrap_or(Value::Null),
        "timestamp": ping.get("timestamp").cloned().unwrap_or(Value::Null),
        "serverTime": now,
    })
}

/// An `error` envelope about a frame the server could not take: `code` is
/// `invalid-json`, `missing-type` or `too-long` (the connection stays open).
pub fn frame_error(code: &str, message: &str, now: &str) -> Value {
    json!({
        "type": "error",
        "data": { "code": code, "message": message },
        "timestamp": now,
    })
}

/// The `error` envelope for a frame that is not an envelope, if it is not one.
pub fn not_an_envelope(inbound: &Inbound, now: &str) -> Option<Value> {
    match inbound {
        Inbound::Envelope(_) => None,
        Inbound::NotEnvelope(_) => Some(frame_error(
            "missing-type",
            "expected a JSON object with a string \"type\"",
            now,
        )),
        Inbound::NotJson(why) => Some(frame_error(
            "invalid-json",
            &format!("frame is not JSON: {why}"),
            now,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-01-01T00:00:00.000Z";

    #[test]
    fn a_pong_carries_the_pings_id_and_timestamp() {
        let Inbound::Envelope(ping) =
            Inbound::parse(r#"{"type":"ping","id":"p1","timestamp":"T"}"#)
        else {
            panic!("an envelope")
        };
        assert_eq!(
            pong(&ping, NOW),
            json!({"type":"pong","id":"p1","timestamp":"T","serverTime":NOW})
        );
    }

    #[test]
    fn frames_that_are_not_envelopes_get_error_envelopes() {
        let code = |text: &str| {
            not_an_envelope(&Inbound::parse(text), NOW).map(|e| e["data"]["code"].clone())
        };
        assert_eq!(code("not json"), Some(json!("invalid-json")));
        assert_eq!(code("[1,2]"), Some(json!("missing-type")));
        assert_eq!(code(r#"{"type":5}"#), Some(json!("missing-type")));
        assert_eq!(code(""), Some(json!("invalid-json")));
        assert_eq!(code(r#"{"type":"t"}"#), None);
    }
}
