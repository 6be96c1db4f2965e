//! The frames the load sends, and what counts as a correct answer from each
//! kind of server.

use std::time::SystemTime;

use serde_json::{json, Value};

/// Which server is being measured: it decides what a correct answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// resocket-server: a ping gets a `pong` with the same `id`, a `message`
    /// gets a `message` with `replyTo` set to its `id` and a `seq`.
    Resocket,
    /// The plain echo server: every frame comes back byte for byte.
    Floor,
}

impl Target {
    /// The name used in the output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Resocket => "resocket",
            Self::Floor => "floor",
        }
    }

    /// The query that makes one connection its own session. resocket-server
    /// then speaks protocol v1.1 to it (a `welcome` frame first); the floor
    /// ignores the query.
    pub fn query(self, session_id: &str) -> String {
        format!("?session_id={session_id}&protocol=1.1")
    }

    /// The `id` of the sent frame that `frame` answers, or `None` for frames
    /// that answer nothing (resocket-server's `welcome`, and any other
    /// unsolicited envelope), which the load ignores.
    pub fn answered_id(self, frame: &Value) -> Option<&str> {
        let field = match (self, frame.get("type").and_then(Value::as_str)) {
            (Self::Resocket, Some("pong")) | (Self::Floor, Some("ping" | "message")) => "id",
            (Self::Resocket, Some("message")) => "replyTo",
            _ => return None,
        };
        frame.get(field).and_then(Value::as_str)
    }

    /// Checks an answer (already matched to `sent` by id) against what was sent.
    pub fn check(self, sent: &Sent, text: &str, frame: &Value) -> Result<(), String> {
        let wrong = |what: &str| Err(format!("wrong answer to {} ({what}): {text}", sent.id));
        match self {
            // The floor is a plain echo: anything but the same bytes is wrong.
            Self::Floor if text != sent.text => wrong("not the frame sent"),
            Self::Floor => Ok(()),
            Self::Resocket => match sent.envelope.get("type").and_then(Value::as_str) {
                Some("ping") if frame.get("timestamp") != sent.envelope.get("timestamp") => {
                    wrong("the ping's timestamp is not echoed")
                }
                Some("message") if frame.get("data") != sent.envelope.get("data") => {
                    wrong("other data")
                }
                Some("message") if !frame.get("seq").is_some_and(Value::is_u64) => wrong("no seq"),
                _ => Ok(()),
            },
        }
    }
}

/// One frame sent and not yet answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// Its `id`, which the answer names.
    pub id: String,
    /// The envelope, for checking the answer's fields.
    pub envelope: Value,
    /// The exact text sent, for checking a verbatim echo.
    pub text: String,
    /// When it was made (just before it is sent): the answer's latency.
    pub at: std::time::Instant,
}

impl Sent {
    fn new(envelope: Value) -> Self {
        let id = envelope
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let text = envelope.to_string();
        Self {
            id,
            envelope,
            text,
            at: std::time::Instant::now(),
        }
    }

    /// The resocket heartbeat: `{"type":"ping","id":…,"timestamp":<ISO-8601>}`.
    pub fn ping(id: String) -> Self {
        let timestamp = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        Self::new(json!({ "type": "ping", "id": id, "timestamp": timestamp }))
    }

    /// A chat-style envelope, `{"type":"message","data":{"n":n},"id":…}`.
    pub fn message(id: String, n: u64) -> Self {
        Self::new(json!({ "type": "message", "data": { "n": n }, "id": id }))
    }
}

/// The frames one connection has sent and not yet seen answered, oldest first.
///
/// Both servers answer in order, so the answer is nearly always the first
/// entry; a search keeps a reordering from being miscounted all the same.
#[derive(Debug, Default)]
pub struct InFlight(std::collections::VecDeque<Sent>);

impl InFlight {
    /// Records a frame as sent.
    pub fn push(&mut self, sent: Sent) {
        self.0.push_back(sent);
    }

    /// Removes and returns the frame with this id, if it is still unanswered.
    pub fn take(&mut self, id: &str) -> Option<Sent> {
        let index = self.0.iter().position(|sent| sent.id == id)?;
        self.0.remove(index)
    }

    /// How many are unanswered.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether every frame sent has been answered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What one incoming text frame was, after matching it to what was sent.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// The correct answer to a frame in flight.
    /// The right answer, this long after its message was made.
    Correct(std::time::Duration),
    /// Not an answer to anything (e.g. `welcome`): ignored.
    Ignored,
    /// Not JSON, an answer to nothing in flight, or an answer with the wrong
    /// content; the message says which.
    Wrong(String),
}

/// Parses `text`, matches it to a frame in `in_flight` (removing it) and checks it.
pub fn classify(target: Target, in_flight: &mut InFlight, text: &str) -> Answer {
    let frame: Value = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(error) => return Answer::Wrong(format!("not JSON ({error}): {text}")),
    };
    let Some(id) = target.answered_id(&frame) else {
        return Answer::Ignored;
    };
    let Some(sent) = in_flight.take(id) else {
        return Answer::Wrong(format!("an answer to nothing in flight: {text}"));
    };
    match target.check(&sent, text, &frame) {
        Ok(()) => Answer::Correct(sent.at.elapsed()),
        Err(why) => Answer::Wrong(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_flight(sent: &[&Sent]) -> InFlight {
        let mut in_flight = InFlight::default();
        for sent in sent {
            in_flight.push((*sent).clone());
        }
        in_flight
    }

    #[test]
    fn resocket_pongs_and_replies_are_matched_by_id() {
        let ping = Sent::ping("hb-1".to_owned());
        let message = Sent::message("c-1".to_owned(), 7);
        let mut flight = in_flight(&[&ping, &message]);
        let welcome = r#"{"type":"welcome","epoch":"e"}"#;
        assert_eq!(
            classify(Target::Resocket, &mut flight, welcome),
            Answer::Ignored
        );
        let reply = r#"{"type":"message","data":{"n":7},"replyTo":"c-1","seq":1,"timestamp":"T"}"#;
        assert!(matches!(
            classify(Target::Resocket, &mut flight, reply),
            Answer::Correct(_)
        ));
        let pong = json!({
            "type": "pong", "id": "hb-1",
            "timestamp": ping.envelope["timestamp"], "serverTime": "T",
        });
        assert!(matches!(
            classify(Target::Resocket, &mut flight, &pong.to_string()),
            Answer::Correct(_)
        ));
        assert!(flight.is_empty());
    }

    #[test]
    fn resocket_wrong_answers_are_caught() {
        let message = Sent::message("c-1".to_owned(), 7);
        for wrong in [
            r#"{"type":"message","data":{"n":8},"replyTo":"c-1","seq":1}"#,
            r#"{"type":"message","data":{"n":7},"replyTo":"c-1"}"#,
            r#"{"type":"message","data":{"n":7},"replyTo":"c-2","seq":1}"#,
            "not json",
        ] {
            let mut flight = in_flight(&[&message]);
            assert!(
                matches!(
                    classify(Target::Resocket, &mut flight, wrong),
                    Answer::Wrong(_)
                ),
                "accepted {wrong}"
            );
        }
        let ping = Sent::ping("hb-1".to_owned());
        let mut flight = in_flight(&[&ping]);
        let stale = r#"{"type":"pong","id":"hb-1","timestamp":"1970-01-01T00:00:00.000Z"}"#;
        assert!(matches!(
            classify(Target::Resocket, &mut flight, stale),
            Answer::Wrong(_)
        ));
    }

    #[test]
    fn the_floor_must_echo_verbatim() {
        let message = Sent::message("c-1".to_owned(), 7);
        let mut flight = in_flight(&[&message]);
        assert!(matches!(
            classify(Target::Floor, &mut flight, &message.text),
            Answer::Correct(_)
        ));
        let mut flight = in_flight(&[&message]);
        let reformatted = r#"{ "type":"message","data":{"n":7},"id":"c-1"}"#;
        assert!(matches!(
            classify(Target::Floor, &mut flight, reformatted),
            Answer::Wrong(_)
        ));
    }

    #[test]
    fn the_ping_timestamp_is_iso_8601() {
        let ping = Sent::ping("p".to_owned());
        let timestamp = ping.envelope["timestamp"].as_str().unwrap();
        assert!(humantime::parse_rfc3339(timestamp).is_ok(), "{timestamp}");
        assert!(timestamp.ends_with('Z'));
    }
}
