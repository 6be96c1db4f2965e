//! What the core tells the driver to do ([`Output`]), and what the application
//! hears ([`Event`]).

use crate::prelude::*;

use super::channel::Mode;
use super::close::CloseInfo;
use super::latency::LatencyStats;
use super::state::ConnectionState;

/// Something the driver must do, in the order the core emitted it
/// ([`Transport::poll_output`](super::Transport::poll_output)).
///
/// `P` is the payload type of an outgoing frame: the browser driver uses an
/// already-serialised JS value, so the core never copies message text.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<P> {
    /// Call the URL function and report its answer as `Input::UrlResolved`.
    ResolveUrl {
        /// Pass this back so a late answer for an abandoned attempt is ignored.
        attempt: u64,
    },
    /// Open a new socket to [`Transport::socket_url`](super::Transport::socket_url).
    /// There is never another socket open.
    OpenSocket,
    /// Close the current socket and stop listening to it.
    CloseSocket {
        /// The close code to send.
        code: u16,
        /// The close reason to send.
        reason: String,
    },
    /// Send this application frame on the open socket.
    Transmit(P),
    /// Send a heartbeat ping: an envelope of the ping type, no data, and the
    /// id `message_id_prefix()` + `-p` + `number`.
    SendPing {
        /// The ping's number; the pong must carry its id.
        number: u64,
    },
    /// Open the HTTP fallback's event stream (`EventSource`) at this URL.
    OpenEvents {
        /// The events URL with the session id and `last_seq`.
        url: String,
    },
    /// Close the event stream (or abandon the long-poll in flight) and
    /// stop listening to it.
    CloseEvents,
    /// Long-poll the events URL (PROTOCOL.md §6.2): GET it, feed each
    /// envelope of the JSON array answered as an event-stream frame, then
    /// report [`Input::EventsOpened`] (a 2xx with a JSON array) or
    /// [`Input::EventsFailed`]. There is never another poll in flight.
    Poll {
        /// The events URL with the session id, `last_seq` and `poll=<ms>`.
        url: String,
    },
    /// POST these envelopes, oldest first, as one JSON array, and report the
    /// replies and the outcome. There is never another POST in flight.
    Post {
        /// The fallback URL with the session id (and `ack=1`).
        url: String,
        /// The serialised envelopes.
        frames: Vec<P>,
    },
    /// Abandon the POST in flight: its deadline passed. Nothing more of it
    /// may be reported.
    AbortPost,
    /// Tell the application something happened.
    Emit(Event<P>),
}

/// Something the application hears about through `on(event, handler)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<P> {
    /// The connection state changed to this value.
    StateChanged(ConnectionState),
    /// A socket opened.
    Opened,
    /// A socket closed (reported by the browser, or closed by the transport).
    Closed(CloseInfo),
    /// Something went wrong that the application should know about.
    Error(String),
    /// A heartbeat round trip completed; carries the updated statistics.
    Latency(LatencyStats),
    /// A reconnect attempt is scheduled after `delay_ms`.
    Reconnecting {
        /// 1 for the first retry after a loss.
        attempt: u32,
        /// The backoff wait before it.
        delay_ms: f64,
    },
    /// The channel changed (WebSocket ↔ HTTP fallback).
    ModeChanged(Mode),
    /// The server acknowledged the tracked envelope with this number (its
    /// id is `message_id(number)`).
    Acked(u64),
    /// These tracked messages will not be acknowledged (their `sendWithAck`
    /// promises reject); the reason completes "the message …".
    AckLost {
        /// Their envelope numbers.
        numbers: Vec<u64>,
        /// Why, e.g. "was removed by clearQueue()".
        reason: &'static str,
    },
    /// A message was given up undelivered: the full queue dropped it, or a
    /// server refused it as too big (or would have: it is over the size
    /// limit). Its `sendWithAck` promise, if any, rejects with the reason.
    Dropped {
        /// The message.
        payload: P,
        /// Why, completing "the message …", e.g. "is 2097152 bytes, over
        /// maxMessageBytes (1048576)".
        reason: String,
    },
    /// The server's stream went back to an earlier position than the one
    /// resumed from (its numbering restarted, e.g. after a server restart):
    /// the frames are delivered, numbered anew from `first`.
    StreamReset {
        /// The last `seq` delivered before, which the client resumed from.
        previous: u64,
        /// The first `seq` of the new stream.
        first: u64,
    },
    /// Deliver the frame held under this `seq` ([`Handled::Held`]): the
    /// numbers before it were delivered or given up on.
    Deliver(u64),
    /// The client gave up on the stream's numbers after `after` and before
    /// `first` (they did not come in time, or a frame far above them did):
    /// the application hears it as the server's `gap` notice.
    Gap {
        /// The last number delivered before the hole.
        after: u64,
        /// The first number after it.
        first: u64,
    },
    /// The offline queue changed.
    Queue {
        /// Messages now queued.
        length: usize,
        /// Messages this change dropped (overflow), oldest first.
        dropped: Vec<P>,
    },
}

/// What `send` did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// On the wire.
    Sent,
    /// In the offline queue, sent on the next open.
    Queued,
    /// Dropped by the `drop-newest` policy because the queue was full.
    Dropped,
    /// Going out over the HTTP fallback (POSTed now, or in the next batch).
    Http,
}

/// What the core answers to an input, beside the outputs it queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Nothing to answer.
    Done,
    /// What `send` did with the message.
    Sent(SendOutcome),
    /// Whether to deliver the frame to the application: false for pongs,
    /// acks, our own pings coming back, and replays already delivered.
    Frame {
        /// Deliver it.
        deliver: bool,
    },
    /// A numbered frame above a missing one: the driver keeps it under its
    /// `seq` until [`Event::Deliver`] names it (in this call's outputs, when
    /// it was the missing one).
    Held,
}

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// The queue is full and the policy is `"error"`; carries the capacity.
    QueueFull(usize),
    /// A `disconnect` with a code or reason the WebSocket API rejects.
    BadClose(super::options::ConfigError),
    /// An adopted session id that a `sessionId` option could not be.
    BadSession(super::options::ConfigError),
}
