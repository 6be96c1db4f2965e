//! What the application does with client messages: the [`Handler`] trait.
//!
//! The server does the protocol (acks, duplicate suppression, numbering,
//! replay, heartbeats, the HTTP fallback) and hands the application each
//! accepted envelope once; the envelopes it returns go back to the client,
//! numbered in the session's stream, the way the message came.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use serde_json::{json, Map, Value};

use crate::auth::Identity;
use crate::publish::Publisher;

/// One envelope a client sent (PROTOCOL.md §2): a JSON object with a string `type`.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The whole envelope, as received (unknown fields included).
    pub envelope: Map<String, Value>,
}

impl Incoming {
    /// The envelope's `type`.
    pub fn message_type(&self) -> &str {
        self.envelope
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The envelope's `id`, when it has a string one.
    pub fn id(&self) -> Option<&str> {
        self.envelope.get("id").and_then(Value::as_str)
    }

    /// The envelope's `data` (`null` when absent).
    pub fn data(&self) -> &Value {
        self.envelope.get("data").unwrap_or(&Value::Null)
    }
}

/// Which channel a message came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The WebSocket at `/ws`.
    WebSocket,
    /// A fallback `POST /messages`.
    Post,
    /// The fallback's event stream at `/events` (opened, never sends).
    Events,
}

impl Channel {
    /// How the gateway's webhooks name it: `websocket`, `post`, `events`.
    pub fn name(self) -> &'static str {
        match self {
            Channel::WebSocket => "websocket",
            Channel::Post => "post",
            Channel::Events => "events",
        }
    }
}

/// Who sent a message, and a way to reach others from the handler.
#[derive(Debug, Clone)]
pub struct Context {
    /// The session's id (PROTOCOL.md §1).
    pub session_id: Arc<str>,
    /// What the auth hook said about the request that opened the channel.
    pub identity: Identity,
    /// The channel the message came on.
    pub channel: Channel,
    /// Sends to any session or room; joins and leaves rooms.
    pub publisher: Publisher,
}

/// Why a handler could not handle a message. The client gets an `error`
/// envelope (`{"type":"error","data":{"code","message"},"replyTo":<id>}`)
/// and no acknowledgement, so a client with at-least-once delivery sends
/// the message again later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    /// A short machine-readable code, e.g. `"backend-unavailable"`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl HandlerError {
    /// An error with this code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The envelopes a handler answers a message with: each a JSON object with
/// a string `type`; the server adds `seq`.
pub type Replies = Vec<Value>;

/// The application's side. Implement it with `async fn`s:
///
/// ```
/// use resocket_server::handler::{Context, Handler, HandlerError, Incoming, Replies};
/// use serde_json::json;
///
/// struct Chat;
///
/// impl Handler for Chat {
///     async fn on_message(&self, context: &Context, message: Incoming) -> Result<Replies, HandlerError> {
///         if message.message_type() == "chat" {
///             // Everyone in the room hears it; the sender gets a receipt.
///             context.publisher.to_room("lobby", json!({"type": "chat", "data": message.data()}))
///                 .map_err(|error| HandlerError::new("publish", error.to_string()))?;
///         }
///         Ok(vec![json!({"type": "receipt", "replyTo": message.id()})])
///     }
/// }
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Called once for every envelope a client sends (pings excepted; with
    /// `ack=1`, a resent copy of a message already handled is acknowledged
    /// without calling it again). Messages of one channel are handled one at
    /// a time, in order.
    fn on_message(
        &self,
        context: &Context,
        message: Incoming,
    ) -> impl Future<Output = Result<Replies, HandlerError>> + Send;

    /// Called for every binary frame on a WebSocket; the frames it returns go
    /// back on the same socket, unnumbered (PROTOCOL.md §2). Default: none.
    fn on_binary(&self, context: &Context, data: Bytes) -> impl Future<Output = Vec<Bytes>> + Send {
        let _ = (context, data);
        async { Vec::new() }
    }
}

/// A shared handler (the application keeps a clone to read its state).
impl<H: Handler> Handler for Arc<H> {
    fn on_message(
        &self,
        context: &Context,
        message: Incoming,
    ) -> impl Future<Output = Result<Replies, HandlerError>> + Send {
        H::on_message(self, context, message)
    }

    fn on_binary(&self, context: &Context, data: Bytes) -> impl Future<Output = Vec<Bytes>> + Send {
        H::on_binary(self, context, data)
    }
}

/// The reference replies of PROTOCOL.md §2, what the demo and the tests use:
/// a `message` comes back as `{"type":"message","data":…,"replyTo":<id>,"timestamp":…}`,
/// any other envelope is echoed unchanged, binary frames are echoed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Echo;

impl Handler for Echo {
    async fn on_message(&self, _: &Context, message: Incoming) -> Result<Replies, HandlerError> {
        Ok(vec![echo_reply(message.envelope, &crate::state::iso_now())])
    }

    async fn on_binary(&self, _: &Context, data: Bytes) -> Vec<Bytes> {
        vec![data]
    }
}

/// The reference reply to an envelope at time `now` (ISO-8601).
pub fn echo_reply(envelope: Map<String, Value>, now: &str) -> Value {
    if envelope.get("type").and_then(Value::as_str) == Some("message") {
        json!({
            "type": "message",
            "data": envelope.get("data").cloned().unwrap_or(Value::Null),
            "replyTo": envelope.get("id").cloned().unwrap_or(Value::Null),
            "timestamp": now,
        })
    } else {
        Value::Object(envelope)
    }
}

/// A boxed future, for handlers behind `dyn`.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Handler`] made object-safe, so the server holds any handler behind one `Arc`.
pub(crate) trait DynHandler: Send + Sync {
    fn on_message<'a>(
        &'a self,
        context: &'a Context,
        message: Incoming,
    ) -> BoxFuture<'a, Result<Replies, HandlerError>>;

    fn on_binary<'a>(&'a self, context: &'a Context, data: Bytes) -> BoxFuture<'a, Vec<Bytes>>;
}

impl<H: Handler> DynHandler for H {
    fn on_message<'a>(
        &'a self,
        context: &'a Context,
        message: Incoming,
    ) -> BoxFuture<'a, Result<Replies, HandlerError>> {
        Box::pin(Handler::on_message(self, context, message))
    }

    fn on_binary<'a>(&'a self, context: &'a Context, data: Bytes) -> BoxFuture<'a, Vec<Bytes>> {
        Box::pin(Handler::on_binary(self, context, data))
    }
}

/// The `error` envelope for a handler's failure to answer `id`.
pub(crate) fn error_envelope(error: &HandlerError, reply_to: Option<&str>, now: &str) -> Value {
    json!({
        "type": "error",
        "data": { "code": error.code, "message": error.message },
        "replyTo": reply_to,
        "timestamp": now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_replies() {
        const NOW: &str = "2026-01-01T00:00:00.000Z";
        let message = json!({"type": "message", "data": {"text": "hi"}, "id": "m1"});
        let Value::Object(message) = message else {
            unreachable!()
        };
        assert_eq!(
            echo_reply(message, NOW),
            json!({"type":"message","data":{"text":"hi"},"replyTo":"m1","timestamp":NOW})
        );
        let typing = json!({"type": "typing", "data": {"user": "ann"}, "id": "t1"});
        let Value::Object(fields) = typing.clone() else {
            unreachable!()
        };
        assert_eq!(echo_reply(fields, NOW), typing);
    }
}
