//! The calls the JavaScript half makes into the core, by number, and what
//! their arguments carry: `call(session, call, a, b, input)` where
//! `input` is the UTF-8 text (or, for [`Call::New`], the options) written
//! into the input buffer.

use crate::core::{FrameKind, FrameSource, PageEvent};

/// A call into the core. Arguments not listed are unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Call {
    /// Makes a transport (session 0). input: the options (`options.rs`).
    New = 0,
    /// Frees the transport's core. The JavaScript half closes what it holds
    /// (socket, event stream, POST, timer) and drops its frames itself.
    Free,
    /// `connect()`.
    Connect,
    /// `reconnect()`.
    Reconnect,
    /// `disconnect(code, reason)`. a: the code; b: 1 if a code was given;
    /// input: the reason.
    Disconnect,
    /// `send`/`sendWithAck`/`sendRaw`. a: the frame's number (its handle,
    /// and its id's number); b: 0 raw, 1 envelope, 2 envelope awaiting an ack.
    Send,
    /// `clearQueue()`.
    ClearQueue,
    /// `queued()`: answers with a `Held` record.
    Queued,
    /// `getSnapshot()` on a changed snapshot: answers with a `Snapshot` record.
    Snapshot,
    /// The socket opened.
    SocketOpened,
    /// The socket reported an error (or `send` threw).
    SocketError,
    /// The socket closed. a: the code; b: 1 if clean, plus 2 × the
    /// application's verdict (0 not asked, 1 no, 2 yes, 3 it threw);
    /// input: the reason. Answers `ASK` when `shouldReconnect` must be asked first.
    SocketClosed,
    /// The WebSocket constructor threw. input: what it threw.
    SocketUnusable,
    /// The timer fired.
    Timeout,
    /// A page-lifecycle event. a: its number in [`PAGE_EVENTS`].
    Page,
    /// The URL function answered. a: the attempt; b: 1 fulfilled with a
    /// string, 0 otherwise; input: the URL, or what went wrong.
    UrlAnswer,
    /// The event stream opened, or the long-poll was answered with a 2xx
    /// and a JSON array.
    EventsOpened,
    /// The event stream failed (or its constructor threw), or the long-poll did.
    EventsFailed,
    /// The POST was answered. a: the HTTP status; input: its `Retry-After`
    /// header (empty when there is none, or the status is a 2xx).
    PostAnswered,
    /// The POST failed without an answer. input: why.
    PostFailed,
    // ----- a connection shared across tabs (the `shared-tabs` build only;
    // elsewhere they answer 0) -----
    /// The leader sends another tab's envelope. a: this tab's number for it
    /// (its handle); b: 2 if it awaits an ack; input: the id it was posted with.
    /// Answers like `Send`.
    Relay,
    /// Where the session stands, for the leader's announcements: answers a
    /// `Point` record.
    Point,
    /// This tab becomes the leader: its transport adopts the session the tab
    /// followed (while idle). Answers the `Mirrored` records to re-send first,
    /// oldest first.
    Lead,
    /// The leader published a frame. a: its `seq` (NaN if none). Answers
    /// `DELIVER` when this tab's application gets it.
    TabFrame,
    /// The leader's stream started over (a `reset`). a: the first seq.
    TabReset,
    /// A tab posted a message. a: the tab's id; b: 1 if it awaits an ack;
    /// input: its id, a space, the frame. Answers a `Mirrored` record for a
    /// message the mirror pushed out.
    TabPosted,
    /// The leader settled a message. input: its id. Answers 1 if it was in
    /// the mirror.
    TabSettled,
    /// The leader announced where the session stands. a: its `last_seq` (NaN
    /// if none); b: its mirror capacity; input: session id, a space, epoch.
    /// Answers `Mirrored` records for messages the capacity pushed out.
    TabAnnounced,
    /// This tab joined late and the leader sent its mirror. input: the
    /// leader's `TabMirror` records as they were. Answers `Mirrored` records
    /// for messages the capacity pushed out.
    TabJoined,
    /// The mirror: answers a `Mirrored` record per message, oldest first.
    TabMirror,
    /// The election without Web Locks (`core::tabs::Lease`): this tab takes
    /// part (b: 1; a: its id, the first time) or leaves (b: 0). Like the
    /// other two election calls, answers what the election asks: `Ballot`s
    /// to post, `Elected` or `Deposed`, then `LeaseTimer`.
    TabPresence,
    /// Another tab's ballot. a: its tab; b: its term × 4 + its kind (hello,
    /// claim, lease, resign).
    TabBallot,
    /// The election's timer fired.
    TabTimeout,
}

impl Call {
    /// Every call, by number.
    pub(crate) const ALL: [Call; 33] = [
        Call::New,
        Call::Free,
        Call::Connect,
        Call::Reconnect,
        Call::Disconnect,
        Call::Send,
        Call::ClearQueue,
        Call::Queued,
        Call::Snapshot,
        Call::SocketOpened,
        Call::SocketError,
        Call::SocketClosed,
        Call::SocketUnusable,
        Call::Timeout,
        Call::Page,
        Call::UrlAnswer,
        Call::EventsOpened,
        Call::EventsFailed,
        Call::PostAnswered,
        Call::PostFailed,
        Call::Relay,
        Call::Point,
        Call::Lead,
        Call::TabFrame,
        Call::TabReset,
        Call::TabPosted,
        Call::TabSettled,
        Call::TabAnnounced,
        Call::TabJoined,
        Call::TabMirror,
        Call::TabPresence,
        Call::TabBallot,
        Call::TabTimeout,
    ];
}

/// A frame is call `FRAME + kind + FRAME_SOURCE_SHIFT × source`. a: its `seq`
/// (NaN if none); b: a gap's `data.firstAvailable` or a reset's
/// `data.firstSeq`; input: its `id` (pong, ping, ack) or `data.epoch`
/// (welcome, reset). Answers `DELIVER` when the application gets it.
pub(crate) const FRAME: u32 = 48;

/// How many frame kinds fit below a source.
pub(crate) const FRAME_SOURCE_SHIFT: u32 = 8;

/// Frame sources, by number.
pub(crate) const FRAME_SOURCES: [FrameSource; 3] = [
    FrameSource::Socket,
    FrameSource::Events,
    FrameSource::PostReply,
];

/// The kind and source of frame call `call` (at least [`FRAME`]).
pub(crate) fn frame_call(call: u32) -> (FrameKind, FrameSource) {
    let detail = call - FRAME;
    let kind = FrameKind::from_number((detail % FRAME_SOURCE_SHIFT) as u8);
    let source = FRAME_SOURCES
        .get((detail / FRAME_SOURCE_SHIFT) as usize)
        .copied()
        .unwrap_or(FrameSource::Socket);
    (kind, source)
}

/// Page events, by the number the JavaScript half reports.
pub(crate) const PAGE_EVENTS: [PageEvent; 8] = [
    PageEvent::Online,
    PageEvent::Offline,
    PageEvent::VisibilityChanged { visible: true },
    PageEvent::VisibilityChanged { visible: false },
    PageEvent::PageHide { persisted: false },
    PageEvent::PageHide { persisted: true },
    PageEvent::PageShow { persisted: false },
    PageEvent::PageShow { persisted: true },
];

/// The low bits of a call's answer; what they mean depends on the call.
pub(crate) const ANSWER_MASK: u32 = 7;
/// `Send`: on the wire (the `SendResult` strings are in this order from 1).
pub(crate) const SENT: u32 = 1;
/// `Send`: in the offline queue.
pub(crate) const QUEUED: u32 = 2;
/// `Send`: dropped (queue full, `"drop-newest"`).
pub(crate) const DROPPED: u32 = 3;
/// `Send`: going out over the HTTP fallback.
pub(crate) const HTTP: u32 = 4;
/// A frame call: deliver the frame to the application.
pub(crate) const DELIVER: u32 = 1;
/// A frame call's answer: keep the frame under its seq until a `Deliver`
/// record names it (it arrived above a missing one).
pub(crate) const HOLD: u32 = 2;
/// `SocketClosed`: ask `shouldReconnect`, then call again with its verdict.
pub(crate) const ASK: u32 = 1;
/// Any call: the records end with a `Throw` or `OptionError` to throw.
pub(crate) const THROW: u32 = 7;
/// `Send`: the core holds the frame (the JavaScript half keeps it until a
/// `Release` record names it).
pub(crate) const KEPT: u32 = 8;
/// Any call: the snapshot changed.
pub(crate) const CHANGED: u32 = 16;
/// `Send`: put the frame on the socket now. It stands for the `Transmit`
/// record that would otherwise be the call's only one: the steady state
/// writes and reads no records.
pub(crate) const TRANSMIT: u32 = 32;
/// The answer's bits above this many are the length of the records written.
pub(crate) const RECORDS_SHIFT: u32 = 6;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn calls_are_numbered_in_order_below_frames() {
        for (number, call) in Call::ALL.iter().enumerate() {
            assert_eq!(*call as usize, number);
        }
        assert!((Call::ALL.len() as u32) <= FRAME);
    }

    #[test]
    fn frame_calls_carry_kind_and_source() {
        for (number, source) in FRAME_SOURCES.iter().enumerate() {
            for kind in FrameKind::ALL {
                let call = FRAME + kind as u32 + FRAME_SOURCE_SHIFT * number as u32;
                assert_eq!(frame_call(call), (kind, *source));
            }
        }
    }

    #[test]
    fn answer_bits_do_not_overlap() {
        for code in [SENT, QUEUED, DROPPED, HTTP, DELIVER, ASK, THROW] {
            assert_eq!(code & !ANSWER_MASK, 0);
        }
        let flags = [ANSWER_MASK, KEPT, CHANGED, TRANSMIT];
        for (i, a) in flags.iter().enumerate() {
            for b in &flags[i + 1..] {
                assert_eq!(a & b, 0);
            }
        }
        assert_eq!(
            (ANSWER_MASK | KEPT | CHANGED | TRANSMIT) >> RECORDS_SHIFT,
            0
        );
    }
}
