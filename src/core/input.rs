//! Everything that can happen to a transport, as one type: the driver turns
//! every browser event and every application call into an [`Input`] and hands
//! it to [`Transport::handle_input`](super::Transport::handle_input).

use crate::prelude::*;

use super::close::CloseInfo;

/// One thing that happened. `P` is the driver's outgoing frame type.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<P> {
    // ----- the application's calls -----
    /// `connect()`: connect if down, or retry at once if waiting.
    Connect,
    /// `reconnect()`: drop any connection and start again now, backoff reset.
    Reconnect,
    /// `disconnect(code, reason)`: close and stay down.
    Disconnect {
        /// The close code to send (1000, or 3000–4999).
        code: u16,
        /// The close reason to send (at most 123 bytes of UTF-8).
        reason: String,
    },
    /// `send`/`sendRaw`: a serialised frame.
    Send {
        /// The frame as the driver will put it on the wire.
        payload: P,
        /// The envelope's number (its id is `message_id(number)`); `None`
        /// for a raw frame, which never travels over HTTP and is never tracked.
        envelope: Option<u64>,
        /// Its size on the wire in bytes (UTF-8 for text), or a lower bound
        /// of it that is certainly within every size limit (the driver
        /// counts only text long enough to matter).
        bytes: u32,
    },
    #[cfg(any(test, feature = "shared-tabs"))]
    /// Another tab's envelope, relayed by this tab, the leader of a
    /// connection shared across tabs (`core::tabs`): sent or held like an
    /// envelope of its own, and with `delivery: "at-least-once"` tracked
    /// until the server acknowledges the id the other tab gave it.
    Relay {
        /// The frame as the other tab wrote it.
        payload: P,
        /// This tab's number for it (its handle; acks and losses name it).
        number: u64,
        /// The envelope's id, as the other tab wrote it.
        id: String,
        /// Its size, as for `Send`.
        bytes: u32,
    },
    /// `clearQueue()`.
    ClearQueue,
    #[cfg(any(test, feature = "shared-tabs"))]
    /// This tab becomes the leader of a connection shared across tabs
    /// (`core::tabs`): it continues the session the tabs were following
    /// instead of its own. Only while idle, before it connects; ignored
    /// otherwise.
    Adopt {
        /// The shared session's id.
        session_id: String,
        /// Its stream epoch, when the last leader knew one.
        epoch: Option<String>,
        /// `last_seq`: every frame up to it was delivered in this tab.
        resume_after: Option<u64>,
    },

    // ----- the WebSocket -----
    /// The socket finished its opening handshake.
    SocketOpened,
    /// The socket could not even be created (its constructor threw).
    SocketUnusable {
        /// What the constructor threw.
        message: String,
    },
    /// The socket reported an error (browsers give no detail).
    SocketError,
    /// The socket closed.
    SocketClosed {
        /// Code, reason and cleanliness as the browser reported them.
        close: CloseInfo,
        /// The application's `shouldReconnect` answer; `None` when it has
        /// none or it threw (the default policy decides).
        verdict: Option<bool>,
    },

    // ----- frames, from any channel -----
    /// A frame arrived (the driver read its type through the core's table).
    Frame(InboundFrame),

    // ----- the HTTP fallback -----
    /// The event stream opened, or the long-poll in flight was answered
    /// with a 2xx and a JSON array (its envelopes were fed in as
    /// event-stream frames first).
    EventsOpened,
    /// The event stream failed (the browser would retry on its own), or the
    /// long-poll in flight failed (no answer, another status, not a JSON array).
    EventsFailed,
    /// The POST in flight was answered with this HTTP status (its reply
    /// envelopes were fed in as frames first).
    PostAnswered {
        /// The HTTP status code.
        status: u16,
        /// Its `Retry-After` header, as sent ("" when there is none): delay
        /// seconds are honoured, an HTTP date is not read.
        retry_after: String,
    },
    /// The POST in flight failed without an answer (network error).
    PostFailed {
        /// Why, as the browser said.
        reason: String,
    },

    // ----- the URL function -----
    /// The URL function answered for `attempt`.
    UrlResolved {
        /// The attempt the answer is for (stale answers are ignored).
        attempt: u64,
        /// The URL, or why there is none.
        result: Result<String, String>,
    },

    // ----- the page -----
    /// A page-lifecycle event, as the browser reported it.
    Page(PageEvent),

    // ----- time -----
    /// The deadline from [`poll_timeout`](super::Transport::poll_timeout) was reached.
    Timeout,
}

/// The browser's page-lifecycle events, unfiltered: which of them matter is
/// the core's decision ([`lifecycle`](super::lifecycle)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEvent {
    /// `online` on the window (or worker).
    Online,
    /// `offline`.
    Offline,
    /// `visibilitychange`; whether the page is now visible.
    VisibilityChanged {
        /// `document.visibilityState === "visible"`.
        visible: bool,
    },
    /// `pagehide`; `persisted` when the page may enter the back/forward cache.
    PageHide {
        /// The event's `persisted` flag.
        persisted: bool,
    },
    /// `pageshow`; `persisted` when the page came back from the cache.
    PageShow {
        /// The event's `persisted` flag.
        persisted: bool,
    },
}

/// Where a frame came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameSource {
    /// The WebSocket.
    Socket,
    /// The HTTP fallback's event stream.
    Events,
    /// The reply to a fallback POST.
    PostReply,
}

/// What the driver read of a frame: its kind (by the core's
/// [`frame type table`](super::Transport::frame_types)), and the fields the core
/// decides on, unvalidated.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundFrame {
    /// The channel it came on.
    pub source: FrameSource,
    /// The kind its `type` maps to.
    pub kind: FrameKind,
    /// The `id` field, read only for kinds that need it (pong, ping, ack).
    pub id: Option<String>,
    /// The `seq` field as a JavaScript number (`NaN` when absent or not a number).
    pub seq: f64,
    /// For a gap: `data.firstAvailable`; for a reset: `data.firstSeq` (the
    /// first `seq` of the new stream); for a welcome:
    /// `data.limits.maxMessageBytes`. A number, `NaN` when absent.
    pub first_available: f64,
    /// For a welcome or a reset: `data.epoch`, when it is a string.
    pub epoch: Option<String>,
    /// For a welcome: `data.limits.messageRate` (protocol 1.2, frames per
    /// second). A number, `NaN` when absent.
    pub message_rate: f64,
}

/// What a frame is, as the core's table classifies its `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// Not an envelope: not JSON, or JSON without a string `type`; binary.
    Raw = 0,
    /// An envelope of a type the core does not consume.
    Envelope = 1,
    /// An envelope of the pong type.
    Pong = 2,
    /// An envelope of the ping type (an echo server sends our pings back).
    Ping = 3,
    /// An acknowledgement (PROTOCOL.md §5).
    Ack = 4,
    /// A gap notice (PROTOCOL.md §4).
    Gap = 5,
    /// The server's stream epoch, first on a v1.1 channel (PROTOCOL.md §4.1).
    Welcome = 6,
    /// The stream the client resumed is gone; a new one starts (PROTOCOL.md §4.1).
    Reset = 7,
}

impl FrameKind {
    /// Every kind, by its number.
    pub const ALL: [FrameKind; 8] = [
        FrameKind::Raw,
        FrameKind::Envelope,
        FrameKind::Pong,
        FrameKind::Ping,
        FrameKind::Ack,
        FrameKind::Gap,
        FrameKind::Welcome,
        FrameKind::Reset,
    ];

    /// The kind numbered `number`; anything unknown is a plain envelope.
    pub fn from_number(number: u8) -> FrameKind {
        Self::ALL
            .get(usize::from(number))
            .copied()
            .unwrap_or(FrameKind::Envelope)
    }

    /// Whether the driver must pass the frame's `id` (a string) for this kind.
    pub fn needs_id(self) -> bool {
        matches!(self, FrameKind::Pong | FrameKind::Ping | FrameKind::Ack)
    }

    /// Whether the driver must pass the frame's `data.epoch` (a string).
    pub fn needs_epoch(self) -> bool {
        matches!(self, FrameKind::Welcome | FrameKind::Reset)
    }
}

impl InboundFrame {
    /// A frame with no fields the core reads (tests and raw frames).
    pub fn of_kind(source: FrameSource, kind: FrameKind) -> Self {
        Self {
            source,
            kind,
            id: None,
            seq: f64::NAN,
            first_available: f64::NAN,
            epoch: None,
            message_rate: f64::NAN,
        }
    }
}

/// A JavaScript number as a `seq` or a position in the stream, if it is one: a
/// whole number from 1 to 2^53 − 1. Anything else (absent, fractional,
/// negative, too large to be exact) is no number at all.
pub fn stream_position(value: f64) -> Option<u64> {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    // The range check comes first, so the cast below is exact.
    if (1.0..=MAX_SAFE_INTEGER).contains(&value) && value == (value as u64) as f64 {
        Some(value as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_whole_positive_numbers_are_stream_positions() {
        assert_eq!(stream_position(1.0), Some(1));
        assert_eq!(
            stream_position(9_007_199_254_740_991.0),
            Some((1 << 53) - 1)
        );
        for bad in [
            0.0,
            -1.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            9_007_199_254_740_992.0,
            1e300,
        ] {
            assert_eq!(stream_position(bad), None, "{bad}");
        }
    }

    #[test]
    fn kinds_round_trip_through_their_numbers() {
        for kind in FrameKind::ALL {
            assert_eq!(FrameKind::from_number(kind as u8), kind);
        }
        assert_eq!(FrameKind::from_number(200), FrameKind::Envelope);
    }
}
