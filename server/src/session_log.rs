//! What the server saw from one session, for tests to assert on the server's side
//! of the story (`GET /control/{session_id}/log`).
//!
//! Bounded: a long-running demo server must not grow without limit, so only the
//! most recent entries are kept and the number forgotten is reported.

use std::collections::VecDeque;

use serde::Serialize;
use serde_json::Value;

use crate::protocol::Inbound;

/// How many received frames a session keeps.
const MAX_FRAMES: usize = 1000;
/// How many connection attempts a session keeps.
const MAX_ATTEMPTS: usize = 1000;
/// Frames larger than this are logged without their payload.
const MAX_LOGGED_FRAME_BYTES: usize = 8 * 1024;

/// One connection attempt, accepted or refused.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    /// Server-wide connection number (also used in [`FrameRecord::connection`]).
    pub connection: u64,
    /// Wall-clock time of the attempt, ISO-8601.
    pub attempted_at: String,
    /// Milliseconds since the server started, for computing intervals.
    pub attempted_at_ms: f64,
    /// `"accepted"`, or `"refused"` when a fault answered 503.
    pub outcome: &'static str,
    /// The query string of the upgrade request (tokens, session id, fault flags).
    pub query: String,
    /// When the connection ended (ms since server start); `None` while open.
    pub closed_at_ms: Option<f64>,
    /// Why it ended: `client-close`, `client-gone`, `server-drop`, `server-close`, `shutdown`.
    pub closed_by: Option<&'static str>,
    /// The close code, when a close frame was exchanged.
    pub close_code: Option<u16>,
    /// The close reason, when a close frame was exchanged.
    pub close_reason: Option<String>,
}

/// One frame received from the session.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameRecord {
    /// The frame's number in the session, from 1, counting forgotten ones, so a
    /// reader can page through with `?after=`.
    pub index: u64,
    /// The connection it arrived on.
    pub connection: u64,
    /// Milliseconds since the server started.
    pub at_ms: f64,
    /// `"text"` or `"binary"`.
    pub kind: &'static str,
    /// The envelope's `type`, when the frame was one.
    #[serde(rename = "type")]
    pub message_type: Option<String>,
    /// The envelope's `id`, when present.
    pub id: Option<Value>,
    /// The envelope's `data` (or the whole JSON value for a non-envelope).
    pub data: Option<Value>,
    /// The frame text, for frames that were not JSON.
    pub text: Option<String>,
    /// Frame size in bytes.
    pub bytes: usize,
    /// True for a resent envelope whose id the session had already delivered.
    pub duplicate: bool,
    /// How it arrived: `"ws"`, or `"http"` for `POST /messages` (connection 0).
    pub via: &'static str,
}

impl ConnectionRecord {
    /// An attempt just made (its outcome set by [`with_outcome`](Self::with_outcome)).
    pub fn attempt(
        connection: u64,
        attempted_at: String,
        attempted_at_ms: f64,
        query: String,
    ) -> Self {
        Self {
            connection,
            attempted_at,
            attempted_at_ms,
            outcome: "accepted",
            query,
            closed_at_ms: None,
            closed_by: None,
            close_code: None,
            close_reason: None,
        }
    }

    /// The same attempt, refused (`true`) or accepted.
    pub fn with_outcome(mut self, refused: bool) -> Self {
        self.outcome = if refused { "refused" } else { "accepted" };
        self
    }
}

/// The query parameters the protocol and the fault injection define; any
/// other value (a token, a signature, an application's own) is replaced
/// by `[redacted]` before the query is kept in a log.
pub const LOGGED_PARAMETERS: &[&str] = &[
    "session_id",
    "last_seq",
    "ack",
    "protocol",
    "epoch",
    "delay_pongs",
    "mute_pings",
];

/// `raw` (a URL query) with every value but the protocol's replaced by `[redacted]`.
pub fn redact_query(raw: &str) -> String {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if LOGGED_PARAMETERS.contains(&name) => format!("{name}={value}"),
            Some((name, _)) => format!("{name}=[redacted]"),
            // A bare key may itself be a token (`?eyJhbGciOi…`).
            None if LOGGED_PARAMETERS.contains(&pair) => pair.to_owned(),
            None => "[redacted]".to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl FrameRecord {
    /// Records a text frame, parsed.
    pub fn text(connection: u64, at_ms: f64, text: &str, inbound: &Inbound) -> Self {
        let keep_payload = text.len() <= MAX_LOGGED_FRAME_BYTES;
        let (message_type, id, data, raw) = match inbound {
            Inbound::Envelope(envelope) => (
                inbound.message_type().map(str::to_owned),
                envelope.get("id").cloned(),
                envelope.get("data").filter(|_| keep_payload).cloned(),
                None,
            ),
            Inbound::NotEnvelope(value) => (
                None,
                None,
                Some(value.clone()).filter(|_| keep_payload),
                None,
            ),
            Inbound::NotJson(_) => (
                None,
                None,
                None,
                Some(text.to_owned()).filter(|_| keep_payload),
            ),
        };
        Self {
            index: 0,
            connection,
            at_ms,
            kind: "text",
            message_type,
            id,
            data,
            text: raw,
            bytes: text.len(),
            duplicate: false,
            via: "ws",
        }
    }

    /// Records a binary frame (size only).
    pub fn binary(connection: u64, at_ms: f64, bytes: usize) -> Self {
        Self {
            index: 0,
            connection,
            at_ms,
            kind: "binary",
            message_type: None,
            id: None,
            data: None,
            text: None,
            bytes,
            duplicate: false,
            via: "ws",
        }
    }
}

/// The bounded log of one session.
#[derive(Debug, Default, Clone)]
pub struct SessionLog {
    connections: VecDeque<ConnectionRecord>,
    frames: VecDeque<FrameRecord>,
    forgotten_frames: u64,
}

impl SessionLog {
    /// Adds an attempt.
    pub fn record_attempt(&mut self, record: ConnectionRecord) {
        if self.connections.len() == MAX_ATTEMPTS {
            self.connections.pop_front();
        }
        self.connections.push_back(record);
    }

    /// Marks a connection as ended.
    pub fn record_close(
        &mut self,
        connection: u64,
        at_ms: f64,
        closed_by: &'static str,
        close: Option<(u16, String)>,
    ) {
        if let Some(record) = self
            .connections
            .iter_mut()
            .rev()
            .find(|r| r.connection == connection)
        {
            record.closed_at_ms = Some(at_ms);
            record.closed_by = Some(closed_by);
            if let Some((code, reason)) = close {
                record.close_code = Some(code);
                record.close_reason = Some(reason);
            }
        }
    }

    /// Adds a received frame, numbering it.
    pub fn record_frame(&mut self, mut frame: FrameRecord) {
        if self.frames.len() == MAX_FRAMES {
            self.frames.pop_front();
            self.forgotten_frames += 1;
        }
        frame.index = self.forgotten_frames + self.frames.len() as u64 + 1;
        self.frames.push_back(frame);
    }

    /// Every connection attempt kept, oldest first.
    pub fn connections(&self) -> &VecDeque<ConnectionRecord> {
        &self.connections
    }

    /// The kept frames numbered above `after`, oldest first.
    pub fn frames_after(&self, after: u64) -> impl Iterator<Item = &FrameRecord> {
        // Indices are consecutive, so the first wanted one is found by arithmetic.
        let skip = after.saturating_sub(self.forgotten_frames);
        self.frames
            .iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
    }

    /// Frames dropped from the front of the log to keep it bounded.
    pub fn forgotten_frames(&self) -> u64 {
        self.forgotten_frames
    }

    /// Accepted connections ever recorded (refused attempts excluded).
    pub fn accepted_connections(&self) -> usize {
        self.connections
            .iter()
            .filter(|r| r.outcome == "accepted")
            .count()
    }

    /// Connections that have not ended yet.
    pub fn open_connections(&self) -> usize {
        self.connections
            .iter()
            .filter(|r| r.outcome == "accepted" && r.closed_at_ms.is_none())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(connection: u64, outcome: &'static str) -> ConnectionRecord {
        ConnectionRecord {
            connection,
            attempted_at: String::new(),
            attempted_at_ms: 0.0,
            outcome,
            query: String::new(),
            closed_at_ms: None,
            closed_by: None,
            close_code: None,
            close_reason: None,
        }
    }

    #[test]
    fn tokens_in_queries_are_never_kept() {
        assert_eq!(
            redact_query("session_id=s&token=secret&last_seq=4&protocol=1.1&eyJhbGci&access_token=x"),
            "session_id=s&token=[redacted]&last_seq=4&protocol=1.1&[redacted]&access_token=[redacted]"
        );
    }

    #[test]
    fn counts_accepted_and_open_connections() {
        let mut log = SessionLog::default();
        log.record_attempt(attempt(1, "accepted"));
        log.record_attempt(attempt(2, "refused"));
        log.record_attempt(attempt(3, "accepted"));
        log.record_close(1, 5.0, "client-close", Some((1000, "bye".into())));
        assert_eq!(log.accepted_connections(), 2);
        assert_eq!(log.open_connections(), 1);
    }

    #[test]
    fn frames_are_bounded_and_the_loss_is_counted() {
        let mut log = SessionLog::default();
        for n in 0..(MAX_FRAMES + 5) {
            log.record_frame(FrameRecord::binary(1, n as f64, 1));
        }
        assert_eq!(log.frames.len(), MAX_FRAMES);
        assert_eq!(log.forgotten_frames, 5);
        assert_eq!(log.frames.front().map(|f| f.at_ms), Some(5.0));
        assert_eq!(log.frames.front().map(|f| f.index), Some(6));
    }

    #[test]
    fn frames_after_pages_by_index_across_forgotten_ones() {
        let mut log = SessionLog::default();
        for n in 0..(MAX_FRAMES + 5) {
            log.record_frame(FrameRecord::binary(1, n as f64, 1));
        }
        let indices = |after| log.frames_after(after).map(|f| f.index).collect::<Vec<_>>();
        assert_eq!(indices(1003), vec![1004, 1005]);
        assert_eq!(
            indices(0).first(),
            Some(&6),
            "forgotten frames cannot come back"
        );
        assert_eq!(indices(0).len(), MAX_FRAMES);
        assert!(indices(5000).is_empty());
    }

    #[test]
    fn big_frames_are_logged_without_payload() {
        let big = format!(
            r#"{{"type":"message","id":"x","data":"{}"}}"#,
            "a".repeat(9000)
        );
        let record = FrameRecord::text(1, 0.0, &big, &Inbound::parse(&big));
        assert_eq!(record.message_type.as_deref(), Some("message"));
        assert!(record.data.is_none());
        assert_eq!(record.bytes, big.len());
    }
}
