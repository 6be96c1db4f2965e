//! The wire protocol's server side, as pure functions: what to answer to a frame.

use serde_json::{json, Map, Value};

/// What kind of frame arrived, so the connection can apply per-session faults
/// (pong delay, muted pings) to pings only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A heartbeat ping; its reply is a pong.
    Ping,
    /// Anything else.
    Other,
}

/// A parsed text frame, as the session log records it.
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

/// The reply to a text frame. `now` is the server's ISO-8601 wall-clock time.
///
/// - `ping` → `pong` with the same `id`, the ping's `timestamp` echoed, plus `serverTime`;
/// - `message` → `{"type":"message","data":…,"replyTo":<id>,"timestamp":now}`;
/// - any other envelope → echoed unchanged;
/// - invalid JSON or JSON without a string `type` → an `error` envelope (the connection stays open).
pub fn reply_to(inbound: &Inbound, now: &str) -> (FrameKind, Value) {
    match inbound {
        Inbound::Envelope(envelope) => match inbound.message_type() {
            Some("ping") => (
                FrameKind::Ping,
                json!({
                    "type": "pong",
                    "id": envelope.get("id").cloned().unwrap_or(Value::Null),
                    "timestamp": envelope.get("timestamp").cloned().unwrap_or(Value::Null),
                    "serverTime": now,
                }),
            ),
            Some("message") => (
                FrameKind::Other,
                json!({
                    "type": "message",
                    "data": envelope.get("data").cloned().unwrap_or(Value::Null),
                    "replyTo": envelope.get("id").cloned().unwrap_or(Value::Null),
                    "timestamp": now,
                }),
            ),
            _ => (FrameKind::Other, Value::Object(envelope.clone())),
        },
        Inbound::NotEnvelope(_) => (
            FrameKind::Other,
            error_envelope(
                "missing-type",
                "expected a JSON object with a string \"type\"",
                now,
            ),
        ),
        Inbound::NotJson(why) => (
            FrameKind::Other,
            error_envelope("invalid-json", &format!("frame is not JSON: {why}"), now),
        ),
    }
}

fn error_envelope(code: &str, message: &str, now: &str) -> Value {
    json!({
        "type": "error",
        "data": { "code": code, "message": message },
        "timestamp": now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-01-01T00:00:00.000Z";

    fn reply(text: &str) -> (FrameKind, Value) {
        reply_to(&Inbound::parse(text), NOW)
    }

    #[test]
    fn ping_gets_a_pong_with_the_same_id_and_timestamp() {
        let (kind, pong) = reply(r#"{"type":"ping","id":"p1","timestamp":"T"}"#);
        assert_eq!(kind, FrameKind::Ping);
        assert_eq!(
            pong,
            json!({"type":"pong","id":"p1","timestamp":"T","serverTime":NOW})
        );
    }

    #[test]
    fn message_is_echoed_with_reply_to() {
        let (kind, echo) = reply(r#"{"type":"message","data":{"text":"hi"},"id":"m1"}"#);
        assert_eq!(kind, FrameKind::Other);
        assert_eq!(
            echo,
            json!({"type":"message","data":{"text":"hi"},"replyTo":"m1","timestamp":NOW})
        );
    }

    #[test]
    fn other_types_are_echoed_unchanged() {
        let text = r#"{"type":"typing","data":{"user":"ann"},"id":"t1"}"#;
        assert_eq!(reply(text).1, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn bad_frames_get_error_envelopes() {
        assert_eq!(reply("not json").1["data"]["code"], "invalid-json");
        assert_eq!(reply("[1,2]").1["data"]["code"], "missing-type");
        assert_eq!(reply(r#"{"type":5}"#).1["data"]["code"], "missing-type");
        assert_eq!(reply("").1["type"], "error");
    }
}
