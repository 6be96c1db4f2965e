//! The binary's handler: the reference replies ([`Echo`]) and, for the demo
//! page and the tests, a reply streamed token by token the way LLM chat
//! backends send them (PROTOCOL.md §8).
//!
//! A `{"type":"stream","data":{"text"?,"intervalMs"?,"stream"?},"id"}`
//! envelope is acknowledged, and the text comes back one word at a time as
//! `{"type":"token","data":{"stream","index","token","done":false},"replyTo"}`
//! frames (`index` counts the pieces from 0), and a last one with
//! `"token":"","done":true`. Each goes through
//! the [`Publisher`](crate::Publisher): numbered in the session's stream, so
//! a client that reconnects in the middle resumes by `last_seq` and gets
//! every token exactly once, on either engine.
//!
//! Bounded like everything a client can start: at most [`MAX_STREAMS`]
//! streams run at once on a node and [`MAX_STREAMS_PER_SESSION`] for one
//! session, each at most [`MAX_TEXT_BYTES`] of text, [`MAX_TOKENS`] tokens
//! and [`MAX_STREAM_DURATION`] long; a request over a bound is answered with
//! an `error` envelope (`busy`, `too-long`, `invalid`), acknowledged, never
//! retried. A stream goes on when its client disconnects (that is what
//! makes it resumable) until it ends or a publish fails; then a last
//! `done` frame is still tried, its `index` past the pieces that were lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use serde_json::{json, Value};

use crate::handler::{error_envelope, Context, Echo, Handler, HandlerError, Incoming, Replies};
use crate::state::iso_now;

/// The envelope type that asks for a streamed reply.
pub const STREAM_TYPE: &str = "stream";
/// The type of each streamed token frame.
pub const TOKEN_TYPE: &str = "token";
/// Streams running at once on one node.
pub const MAX_STREAMS: usize = 64;
/// Streams running at once for one session: one client cannot take them all.
pub const MAX_STREAMS_PER_SESSION: usize = 4;
/// The longest text one stream sends (so the node holds at most
/// `MAX_STREAMS` × this in stream texts).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Tokens in one stream.
pub const MAX_TOKENS: usize = 1_000;
/// The longest pause between two tokens a request may ask for.
pub const MAX_INTERVAL: Duration = Duration::from_secs(1);
/// How long one stream may take (tokens × interval).
pub const MAX_STREAM_DURATION: Duration = Duration::from_secs(120);
/// The pause between tokens when the request names none.
const DEFAULT_INTERVAL: Duration = Duration::from_millis(40);
/// The most bytes of a stream key a request may choose.
const MAX_KEY_BYTES: usize = 128;
/// What is streamed when the request carries no `text`.
const DEFAULT_TEXT: &str = "This reply is streamed one word at a time, numbered like every \
frame the server sends, so a reconnect in the middle loses nothing and repeats nothing.";

/// [`Echo`](crate::handler::Echo)'s replies, plus streamed replies to
/// `stream` envelopes. Clones share the running streams' count.
#[derive(Debug, Clone, Default)]
pub struct Demo {
    running: Arc<Mutex<Running>>,
}

/// The streams running, in all and per session.
#[derive(Debug, Default)]
struct Running {
    total: usize,
    per_session: HashMap<Arc<str>, usize>,
}

impl Handler for Demo {
    async fn on_message(
        &self,
        context: &Context,
        message: Incoming,
    ) -> Result<Replies, HandlerError> {
        if message.message_type() != STREAM_TYPE {
            return Echo.on_message(context, message).await;
        }
        let request = match StreamRequest::read(&message) {
            Ok(request) => request,
            Err(refusal) => return Ok(vec![error_envelope(&refusal, message.id(), &iso_now())]),
        };
        let slot = match Slot::take(&self.running, &context.session_id) {
            Ok(slot) => slot,
            Err(busy) => return Ok(vec![error_envelope(&busy, message.id(), &iso_now())]),
        };
        let publisher = context.publisher.clone();
        let session = context.session_id.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let last = request.tokens.len();
            for (index, token) in request.tokens.iter().enumerate() {
                let frame = request.frame(index, token, false);
                if publisher.publish_to_session(&session, frame).await.is_err() {
                    break;
                }
                if index + 1 < last {
                    tokio::time::sleep(request.interval).await;
                }
            }
            // Also after a failed publish: the reply ends, and its index
            // says how many pieces there should have been.
            let _ = publisher
                .publish_to_session(&session, request.frame(last, "", true))
                .await;
        });
        Ok(Vec::new())
    }

    async fn on_binary(&self, context: &Context, data: Bytes) -> Vec<Bytes> {
        Echo.on_binary(context, data).await
    }
}

/// A place among the running streams, given back when dropped.
struct Slot {
    running: Arc<Mutex<Running>>,
    session: Arc<str>,
}

impl Slot {
    /// A place for one more stream of `session`, or why there is none.
    fn take(running: &Arc<Mutex<Running>>, session: &Arc<str>) -> Result<Self, HandlerError> {
        let mut counts = running.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= MAX_STREAMS {
            return Err(HandlerError::new(
                "busy",
                format!("at most {MAX_STREAMS} streams run at once"),
            ));
        }
        let mine = counts.per_session.entry(Arc::clone(session)).or_insert(0);
        if *mine >= MAX_STREAMS_PER_SESSION {
            let message =
                format!("at most {MAX_STREAMS_PER_SESSION} streams of one session run at once");
            return Err(HandlerError::new("busy", message));
        }
        *mine += 1;
        counts.total += 1;
        Ok(Self {
            running: Arc::clone(running),
            session: Arc::clone(session),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(mine) = counts.per_session.get_mut(&self.session) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                counts.per_session.remove(&self.session);
            }
        }
    }
}

/// A `stream` envelope, read and checked.
#[derive(Debug)]
struct StreamRequest {
    /// `data.stream` when the client chose one, else the message's id.
    key: Value,
    reply_to: Value,
    tokens: Vec<String>,
    interval: Duration,
}

impl StreamRequest {
    fn read(message: &Incoming) -> Result<Self, HandlerError> {
        let data = message.data();
        let text = match data.get("text") {
            None | Some(Value::Null) => DEFAULT_TEXT,
            Some(Value::String(text)) => text,
            Some(_) => return Err(HandlerError::new("invalid", "data.text must be a string")),
        };
        let interval = match data.get("intervalMs") {
            None | Some(Value::Null) => DEFAULT_INTERVAL,
            Some(value) => match value.as_u64() {
                Some(ms) if ms <= MAX_INTERVAL.as_millis() as u64 => Duration::from_millis(ms),
                _ => {
                    let message = format!(
                        "data.intervalMs must be a whole number of ms from 0 to {}",
                        MAX_INTERVAL.as_millis()
                    );
                    return Err(HandlerError::new("invalid", message));
                }
            },
        };
        let key = match data.get("stream") {
            None | Some(Value::Null) => message.id().map_or(Value::Null, |id| json!(id)),
            Some(Value::String(key)) if key.len() <= MAX_KEY_BYTES => json!(key),
            Some(_) => {
                let message =
                    format!("data.stream must be a string of at most {MAX_KEY_BYTES} bytes");
                return Err(HandlerError::new("invalid", message));
            }
        };
        let too_long = || {
            let message = format!(
                "a stream is at most {MAX_TEXT_BYTES} bytes, {MAX_TOKENS} tokens and {} s long",
                MAX_STREAM_DURATION.as_secs()
            );
            HandlerError::new("too-long", message)
        };
        if text.len() > MAX_TEXT_BYTES {
            return Err(too_long());
        }
        // One more than the bound is enough to know it is over.
        let tokens: Vec<String> = words(text)
            .take(MAX_TOKENS + 1)
            .map(str::to_owned)
            .collect();
        let pauses = u32::try_from(tokens.len().saturating_sub(1)).unwrap_or(u32::MAX);
        if tokens.len() > MAX_TOKENS || interval.saturating_mul(pauses) > MAX_STREAM_DURATION {
            return Err(too_long());
        }
        Ok(Self {
            key,
            reply_to: message.id().map_or(Value::Null, |id| json!(id)),
            tokens,
            interval,
        })
    }

    /// Piece `index` (from 0) of the reply.
    fn frame(&self, index: usize, token: &str, done: bool) -> Value {
        json!({
            "type": TOKEN_TYPE,
            "data": { "stream": self.key, "index": index, "token": token, "done": done },
            "replyTo": self.reply_to,
            "timestamp": iso_now(),
        })
    }
}

/// `text` as tokens the way a model streams them: each word with the
/// whitespace after it, so the tokens joined are the text again.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token_end = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |gap| word_end + gap);
        let (token, after) = rest.split_at(token_end);
        rest = after;
        Some(token)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn incoming(envelope: Value) -> Incoming {
        let Value::Object(envelope) = envelope else {
            unreachable!("the tests pass objects")
        };
        Incoming { envelope }
    }

    #[test]
    fn words_joined_are_the_text_again() {
        for text in [
            "",
            "one",
            "one two",
            "  lead",
            "trail  ",
            "a\tb\nc  d",
            "héllo wörld ✓",
        ] {
            let tokens: Vec<&str> = words(text).collect();
            assert_eq!(tokens.concat(), text);
            assert!(tokens.iter().all(|token| !token.is_empty()));
        }
        assert_eq!(
            words("one two  three").collect::<Vec<_>>(),
            ["one ", "two  ", "three"]
        );
    }

    #[test]
    fn a_request_keys_its_tokens_by_the_chosen_stream_or_the_message_id() {
        let request =
            StreamRequest::read(&incoming(json!({"type": "stream", "id": "m1"}))).unwrap();
        assert_eq!(request.key, json!("m1"));
        assert_eq!(request.tokens.concat(), DEFAULT_TEXT);
        assert_eq!(request.interval, DEFAULT_INTERVAL);
        let frame = request.frame(3, "x ", false);
        assert_eq!(
            frame["data"],
            json!({"stream": "m1", "index": 3, "token": "x ", "done": false})
        );
        assert_eq!(frame["replyTo"], json!("m1"));

        let chosen = json!({"type": "stream", "id": "m2", "data": {"stream": "s", "text": "a b", "intervalMs": 0}});
        let request = StreamRequest::read(&incoming(chosen)).unwrap();
        assert_eq!((request.key, request.tokens.len()), (json!("s"), 2));
        assert_eq!(request.interval, Duration::ZERO);
    }

    #[test]
    fn requests_over_a_bound_are_refused_with_a_code() {
        let refused = |data: Value| {
            let mut envelope = Map::new();
            envelope.insert("type".into(), json!("stream"));
            envelope.insert("data".into(), data);
            StreamRequest::read(&Incoming { envelope })
                .unwrap_err()
                .code
        };
        assert_eq!(refused(json!({"text": 5})), "invalid");
        assert_eq!(refused(json!({"intervalMs": 1001})), "invalid");
        assert_eq!(refused(json!({"intervalMs": -1})), "invalid");
        assert_eq!(refused(json!({"stream": "k".repeat(129)})), "invalid");
        assert_eq!(
            refused(json!({"text": "w ".repeat(MAX_TOKENS + 1)})),
            "too-long"
        );
        assert_eq!(
            refused(json!({"text": "w ".repeat(200), "intervalMs": 1000})),
            "too-long"
        );
    }

    #[test]
    fn slots_are_bounded_per_session_and_in_all_and_given_back() {
        let running = Arc::new(Mutex::new(Running::default()));
        let session = |n: usize| -> Arc<str> { Arc::from(format!("s{n}")) };
        let mine: Vec<Slot> = (0..MAX_STREAMS_PER_SESSION)
            .map_while(|_| Slot::take(&running, &session(0)).ok())
            .collect();
        assert_eq!(mine.len(), MAX_STREAMS_PER_SESSION);
        let refused = Slot::take(&running, &session(0))
            .err()
            .map(|refusal| refusal.code);
        assert_eq!(
            refused.as_deref(),
            Some("busy"),
            "one session cannot take them all"
        );
        let others: Vec<Slot> = (1..)
            .map_while(|n| Slot::take(&running, &session(n)).ok())
            .collect();
        assert_eq!(mine.len() + others.len(), MAX_STREAMS);
        drop(mine);
        drop(others);
        let counts = running.lock().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(
            (counts.total, counts.per_session.len()),
            (0, 0),
            "every place given back"
        );
    }
}
