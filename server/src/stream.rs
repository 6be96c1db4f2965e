//! Delivery bookkeeping per session: the numbered stream the server sends
//! (`seq`, with a bounded replay buffer and its epoch) and the ids it has
//! already received (duplicate suppression for clients that resend until
//! acknowledged).

use std::collections::{HashMap, VecDeque};

use serde_json::{json, Value};

use crate::random::random_token;

/// What one kept frame costs beyond its text (the deque slot, the `String`
/// header, the allocator's rounding), so that many tiny frames count too.
pub const FRAME_OVERHEAD_BYTES: usize = 48;
/// What one remembered id costs beyond its bytes (kept twice: the map's key
/// and the age queue).
const ID_OVERHEAD_BYTES: usize = 64;

/// Random bytes in an epoch: enough that two logs never share one by chance.
pub const EPOCH_BYTES: usize = 8;

/// The frames the server sent to one session, numbered from 1, under an
/// epoch: a random id chosen when this log was created (PROTOCOL.md §4.1).
/// A restarted server, or one that lost the log, has another epoch, so a
/// resuming client can tell "my position in *this* stream" from "a position
/// in a stream that no longer exists".
///
/// Bounded in bytes, not frames: the oldest frames go once the kept texts
/// pass the budget (the newest is always kept, so the last reply can be
/// replayed whatever its size).
#[derive(Debug)]
pub struct SessionStream {
    epoch: String,
    last_seq: u64,
    buffer: VecDeque<(u64, String)>,
    bytes: usize,
    budget: usize,
}

impl SessionStream {
    /// An empty log with a fresh epoch, keeping at most `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Self {
            epoch: random_token(EPOCH_BYTES),
            last_seq: 0,
            buffer: VecDeque::new(),
            bytes: 0,
            budget,
        }
    }

    /// What the kept frames cost, as counted against the budget.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Forgets the oldest frames until at most `budget` bytes are kept (the
    /// newest stays, whatever its size, so the last reply can be replayed).
    pub fn trim_to(&mut self, budget: usize) {
        self.trim(budget, 1);
    }

    /// Forgets the oldest frames until at most `share` bytes are kept, the
    /// newest included: the server's memory budget on the log that grew.
    pub fn trim_to_share(&mut self, share: usize) {
        self.trim(share, 0);
    }

    fn trim(&mut self, budget: usize, keep_at_least: usize) {
        while self.bytes > budget && self.buffer.len() > keep_at_least {
            if let Some((_, text)) = self.buffer.pop_front() {
                self.bytes -= text.len() + FRAME_OVERHEAD_BYTES;
            }
        }
    }
}

/// What a client said about its place in the stream when it opened a channel
/// (the query of `/ws` or `/events`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ResumeRequest<'a> {
    /// `protocol=1.1`: the client understands `welcome` and `reset`.
    pub v1_1: bool,
    /// `last_seq`: the highest `seq` it delivered.
    pub last_seq: Option<u64>,
    /// `epoch`: the stream that `last_seq` counts in.
    pub epoch: Option<&'a str>,
    /// The limits this server announces in the `welcome` (protocol 1.2:
    /// `data.limits`); `None` announces none.
    pub limits: Option<Announced>,
}

/// What a `welcome` tells the client of the server's limits (protocol 1.2),
/// so it keeps within them instead of being closed for going over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announced {
    /// `maxMessageBytes`: the largest message it takes.
    pub max_message_bytes: usize,
    /// `messageRate`: messages per second per connection it takes, with at
    /// least a second's worth at once (this server takes two); 0, not
    /// announced, when there is no limit.
    pub message_rate: u32,
}

impl Announced {
    /// What a server with `limits` announces.
    pub fn of(limits: &crate::config::Limits) -> Self {
        Self {
            max_message_bytes: limits.max_message_bytes,
            message_rate: limits.message_rate,
        }
    }
}

/// The protocol version the query parameter `protocol` must name for the
/// v1.1 control frames.
pub const PROTOCOL_V1_1: &str = "1.1";

/// What a reconnecting client gets: the frames after its `last_seq`, preceded
/// by a `gap` envelope when some of them are no longer buffered.
#[derive(Debug, PartialEq)]
pub struct Replay {
    /// Set when frames `after + 1 .. first_available` were lost to the bound.
    pub gap: Option<Value>,
    /// `(seq, JSON text)` in order.
    pub frames: Vec<(u64, String)>,
}

impl SessionStream {
    /// Gives `envelope` the next `seq`, keeps it for replay, and returns its text.
    pub fn number(&mut self, envelope: Value) -> String {
        self.numbered(envelope).1
    }

    /// [`number`](Self::number), with the `seq` it gave.
    pub fn numbered(&mut self, mut envelope: Value) -> (u64, String) {
        // 2^64 frames are not sent in this universe; saturating keeps it a
        // non-panicking statement all the same.
        self.last_seq = self.last_seq.saturating_add(1);
        if let Value::Object(fields) = &mut envelope {
            fields.insert("seq".to_owned(), Value::from(self.last_seq));
        }
        let text = envelope.to_string();
        // The copy kept is allocated to size (the writer's buffer grew by
        // doubling), so the bytes counted are the bytes held.
        let kept = text.as_str().to_owned();
        self.bytes += kept.len() + FRAME_OVERHEAD_BYTES;
        self.buffer.push_back((self.last_seq, kept));
        self.trim_to(self.budget);
        (self.last_seq, text)
    }

    /// The highest `seq` sent so far (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// This log's epoch.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The lowest `seq` still kept (the next one when nothing is).
    fn first_available(&self) -> u64 {
        self.buffer
            .front()
            .map_or(self.last_seq.saturating_add(1), |(seq, _)| *seq)
    }

    /// Where this log stands, for the decisions a channel's opening makes.
    pub fn state(&self) -> StreamState<'_> {
        StreamState {
            epoch: &self.epoch,
            last_seq: self.last_seq,
            first_available: self.first_available(),
        }
    }

    /// `{"type":"welcome",…}`: see [`StreamState::welcome`].
    pub fn welcome(&self, limits: Option<Announced>) -> Value {
        self.state().welcome(limits)
    }

    /// See [`StreamState::is_stale`].
    pub fn is_stale(&self, request: &ResumeRequest<'_>) -> bool {
        self.state().is_stale(request)
    }

    /// `{"type":"reset",…}`: see [`StreamState::reset`].
    pub fn reset(&self, request: &ResumeRequest<'_>) -> Value {
        self.state().reset(request)
    }

    /// The frames a channel opened with `request` starts with: see
    /// [`StreamState::opening`].
    pub fn opening(&self, request: &ResumeRequest<'_>) -> Vec<(Option<u64>, String)> {
        let state = self.state();
        let frames = self.frames_after(state.replay_after(request).unwrap_or(u64::MAX));
        state.opening(request, frames)
    }

    /// See [`StreamState::post_preamble`].
    pub fn post_preamble(&self, request: &ResumeRequest<'_>) -> Vec<String> {
        self.state().post_preamble(request)
    }

    /// What to send a client that has delivered everything up to `after`.
    pub fn replay_after(&self, after: u64) -> Replay {
        Replay {
            gap: self.state().gap_after(after),
            frames: self.frames_after(after),
        }
    }

    /// The kept frames numbered above `after`, in order.
    fn frames_after(&self, after: u64) -> Vec<(u64, String)> {
        self.buffer
            .iter()
            .filter(|(seq, _)| *seq > after)
            .cloned()
            .collect()
    }
}

/// Where a session's numbered stream stands, wherever it is kept (this
/// process, or Redis): what a channel's opening decides from. The rules of
/// PROTOCOL.md §4–§4.1 are written here once, for every engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamState<'a> {
    /// The log's epoch.
    pub epoch: &'a str,
    /// The highest `seq` numbered so far (0 before the first).
    pub last_seq: u64,
    /// The lowest `seq` still kept (`last_seq + 1` when nothing is).
    pub first_available: u64,
}

impl StreamState<'_> {
    /// `{"type":"welcome","data":{"epoch":…,"lastSeq":…,"limits":{…}}}`:
    /// the first frame of every channel a v1.1 client opens. `limits`
    /// (protocol 1.2) tells the client the largest message it may send, so
    /// it refuses a larger one at once instead of having it closed with
    /// 1009, and the message rate, so it paces its sends instead of being
    /// closed with 1013 (clients of 1.1 ignore it).
    pub fn welcome(&self, limits: Option<Announced>) -> Value {
        let mut welcome = json!({
            "type": "welcome",
            "data": { "epoch": self.epoch, "lastSeq": self.last_seq },
        });
        if let Some(limits) = limits {
            let mut announced = json!({ "maxMessageBytes": limits.max_message_bytes });
            if limits.message_rate > 0 {
                announced["messageRate"] = json!(limits.message_rate);
            }
            welcome["data"]["limits"] = announced;
        }
        welcome
    }

    /// Whether a client at `request` asks to resume a stream this log is
    /// not: another epoch, or a position beyond anything numbered here.
    pub fn is_stale(&self, request: &ResumeRequest<'_>) -> bool {
        let Some(after) = request.last_seq else {
            return false;
        };
        request.epoch.is_some_and(|epoch| epoch != self.epoch) || after > self.last_seq
    }

    /// `{"type":"reset","data":{"epoch","previousEpoch","after","firstSeq"}}`:
    /// the stream the client asked to resume is gone; this one starts at `firstSeq`.
    pub fn reset(&self, request: &ResumeRequest<'_>) -> Value {
        json!({
            "type": "reset",
            "data": {
                "epoch": self.epoch,
                "previousEpoch": request.epoch,
                "after": request.last_seq,
                "firstSeq": self.first_available,
            },
        })
    }

    /// The `seq` after which a channel opened with `request` replays the
    /// kept frames: its `last_seq`, or 0 (everything) after a reset; `None`
    /// when it asked for no replay.
    pub fn replay_after(&self, request: &ResumeRequest<'_>) -> Option<u64> {
        if request.v1_1 && self.is_stale(request) {
            Some(0)
        } else {
            request.last_seq
        }
    }

    /// `{"type":"gap",…}` when a client at `after` missed frames that are no
    /// longer kept.
    pub fn gap_after(&self, after: u64) -> Option<Value> {
        (after.saturating_add(1) < self.first_available && after < self.last_seq).then(|| {
            json!({
                "type": "gap",
                "data": { "after": after, "firstAvailable": self.first_available },
            })
        })
    }

    /// The frames a channel opened with `request` starts with, in order, as
    /// `(seq, JSON text)` (`None` for control frames): for a v1.1 client the
    /// `welcome`, then a `reset` and the whole kept stream if it asked to
    /// resume one that is gone; otherwise what followed its `last_seq` (with
    /// a `gap` first if some of it is no longer kept). `frames` are the kept
    /// frames after [`replay_after`](Self::replay_after), in order.
    pub fn opening(
        &self,
        request: &ResumeRequest<'_>,
        frames: Vec<(u64, String)>,
    ) -> Vec<(Option<u64>, String)> {
        let mut opening = Vec::new();
        let reset = request.v1_1 && self.is_stale(request);
        if request.v1_1 {
            opening.push((None, self.welcome(request.limits).to_string()));
            if reset {
                opening.push((None, self.reset(request).to_string()));
            }
        }
        if let Some(after) = self.replay_after(request) {
            // After a reset its `firstSeq` already says where the stream starts.
            if !reset {
                opening.extend(self.gap_after(after).map(|gap| (None, gap.to_string())));
            }
            opening.extend(frames.into_iter().map(|(seq, text)| (Some(seq), text)));
        }
        opening
    }

    /// The control frames a POST's answer starts with for a v1.1 client
    /// that does not know this epoch: the `welcome`, and a `reset` if it
    /// named another epoch (a POST carries no `last_seq`: its replies are
    /// numbered in this stream, which the client must know to place them).
    pub fn post_preamble(&self, request: &ResumeRequest<'_>) -> Vec<String> {
        if !request.v1_1 || request.epoch == Some(self.epoch) {
            return Vec::new();
        }
        let mut frames = vec![self.welcome(request.limits).to_string()];
        if request.epoch.is_some() {
            frames.push(self.reset(request).to_string());
        }
        frames
    }
}

/// The envelope ids one session has sent, bounded in bytes (oldest
/// forgotten first). An id is *in progress* while the application handles
/// it and *done* once it has been answered: a copy that arrives meanwhile
/// (another channel, a resend) is not handled twice.
#[derive(Debug)]
pub struct SeenIds {
    ids: HashMap<String, IdState>,
    order: VecDeque<String>,
    bytes: usize,
    budget: usize,
}

/// Where a remembered id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdState {
    /// Being handled; `waiting` once a copy arrived meanwhile (its channel
    /// is owed an ack, pushed to every live socket when it is done).
    InProgress {
        waiting: bool,
    },
    Done,
}

/// What a received id is to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Never seen: handle it (it is now in progress).
    New,
    /// Being handled right now, by another channel.
    InProgress,
    /// Handled and answered before: acknowledge again, do nothing else.
    Done,
}

impl SeenIds {
    /// No ids yet; at most `budget` bytes of them will be kept.
    pub fn new(budget: usize) -> Self {
        Self {
            ids: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            budget,
        }
    }

    /// What the remembered ids cost, as counted against the budget.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Looks `id` up; a new one is recorded as in progress.
    pub fn begin(&mut self, id: &str) -> Seen {
        match self.ids.get_mut(id) {
            Some(IdState::Done) => return Seen::Done,
            Some(IdState::InProgress { waiting }) => {
                *waiting = true;
                return Seen::InProgress;
            }
            None => {}
        }
        self.ids
            .insert(id.to_owned(), IdState::InProgress { waiting: false });
        self.order.push_back(id.to_owned());
        self.bytes += 2 * id.len() + ID_OVERHEAD_BYTES;
        while self.bytes > self.budget && self.order.len() > 1 {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
                self.bytes -= 2 * oldest.len() + ID_OVERHEAD_BYTES;
            }
        }
        Seen::New
    }

    /// `id` was handled and answered: copies from now on are duplicates.
    /// Returns whether a copy arrived while it was handled (its channel is
    /// owed the ack).
    pub fn finish(&mut self, id: &str) -> bool {
        match self.ids.insert(id.to_owned(), IdState::Done) {
            Some(IdState::InProgress { waiting }) => waiting,
            Some(IdState::Done) => false,
            // Forgotten meanwhile (the budget): not remembered again.
            None => {
                self.ids.remove(id);
                false
            }
        }
    }

    /// Handling `id` failed: forget it, so that the client's resend is handled.
    pub fn abandon(&mut self, id: &str) {
        if self.ids.remove(id).is_some() {
            if let Some(at) = self.order.iter().position(|kept| kept == id) {
                self.order.remove(at);
                self.bytes -= 2 * id.len() + ID_OVERHEAD_BYTES;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq_of(text: &str) -> u64 {
        serde_json::from_str::<Value>(text).unwrap()["seq"]
            .as_u64()
            .unwrap()
    }

    #[test]
    fn numbers_frames_from_one_and_replays_what_follows() {
        let mut stream = SessionStream::new(1 << 20);
        let texts: Vec<String> = (0..3)
            .map(|n| stream.number(json!({"type": "message", "data": n})))
            .collect();
        assert_eq!(
            texts.iter().map(|t| seq_of(t)).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let replay = stream.replay_after(1);
        assert_eq!(replay.gap, None);
        let replayed: Vec<&String> = replay.frames.iter().map(|(_, text)| text).collect();
        assert_eq!(replayed, texts[1..].iter().collect::<Vec<_>>());
        assert_eq!(replay.frames[0].0, 2);
        assert!(stream.replay_after(3).frames.is_empty());
        assert_eq!(stream.last_seq(), 3);
    }

    /// The budget that keeps exactly the last `frames` of the `total` that
    /// `stream_of(total)` numbers.
    fn budget_for(frames: usize, total: usize) -> usize {
        let mut scratch = SessionStream::new(usize::MAX);
        let texts: Vec<String> = (1000..1000 + total)
            .map(|n| scratch.number(json!({"type": "message", "data": n})))
            .collect();
        texts[total - frames..]
            .iter()
            .map(|text| text.len() + FRAME_OVERHEAD_BYTES)
            .sum()
    }

    #[test]
    fn a_replay_beyond_the_budget_reports_the_gap() {
        let mut stream = SessionStream::new(budget_for(100, 110));
        for n in 1000..1110 {
            stream.number(json!({"type": "message", "data": n}));
        }
        let replay = stream.replay_after(5);
        assert_eq!(
            replay.gap,
            Some(json!({"type": "gap", "data": {"after": 5, "firstAvailable": 11}}))
        );
        assert_eq!(replay.frames.len(), 100);
        assert_eq!(seq_of(&replay.frames[0].1), 11);
        // Caught up exactly at the edge: no gap.
        assert_eq!(stream.replay_after(10).gap, None);
        assert!(stream.bytes() <= budget_for(100, 110));
    }

    #[test]
    fn the_budget_counts_bytes_not_frames_and_keeps_the_newest() {
        let mut stream = SessionStream::new(64 * 1024);
        let big = "x".repeat(8 * 1024);
        for _ in 0..100 {
            stream.number(json!({"type": "message", "data": big}));
        }
        assert!(stream.bytes() <= 64 * 1024, "{}", stream.bytes());
        assert_eq!(stream.replay_after(0).frames.len(), 7);
        let huge = "y".repeat(100 * 1024);
        stream.number(json!({"type": "message", "data": huge}));
        let replay = stream.replay_after(0);
        assert_eq!(
            replay.frames.len(),
            1,
            "only the newest, over budget by itself"
        );
        assert_eq!(seq_of(&replay.frames[0].1), 101);
        stream.trim_to(0);
        assert_eq!(stream.replay_after(0).frames.len(), 1);
        stream.trim_to_share(0);
        assert_eq!(stream.bytes(), 0);
        let replay = stream.replay_after(100);
        assert_eq!(
            replay.gap,
            Some(json!({"type": "gap", "data": {"after": 100, "firstAvailable": 102}}))
        );
    }

    fn types(frames: &[(Option<u64>, String)]) -> Vec<String> {
        frames
            .iter()
            .map(|(seq, text)| {
                let value: Value = serde_json::from_str(text).unwrap();
                match seq {
                    Some(seq) => format!("{}#{seq}", value["type"].as_str().unwrap()),
                    None => value["type"].as_str().unwrap().to_owned(),
                }
            })
            .collect()
    }

    fn stream_of(count: usize) -> SessionStream {
        let mut stream = SessionStream::new(budget_for(100.min(count), count));
        for n in 1000..1000 + count {
            stream.number(json!({"type": "message", "data": n}));
        }
        stream
    }

    fn v1_1(last_seq: Option<u64>, epoch: Option<&str>) -> ResumeRequest<'_> {
        ResumeRequest {
            v1_1: true,
            last_seq,
            epoch,
            limits: None,
        }
    }

    #[test]
    fn a_welcome_announces_the_message_limit_it_is_given() {
        let stream = stream_of(0);
        let mut limits = Announced {
            max_message_bytes: 1024,
            message_rate: 0,
        };
        let request = ResumeRequest {
            limits: Some(limits),
            ..v1_1(None, None)
        };
        let frames = stream.opening(&request);
        let welcome: Value = serde_json::from_str(&frames[0].1).unwrap();
        assert_eq!(welcome["data"]["limits"], json!({"maxMessageBytes": 1024}));
        limits.message_rate = 50;
        let request = ResumeRequest {
            limits: Some(limits),
            ..v1_1(None, None)
        };
        let frames = stream.opening(&request);
        let welcome: Value = serde_json::from_str(&frames[0].1).unwrap();
        assert_eq!(
            welcome["data"]["limits"],
            json!({"maxMessageBytes": 1024, "messageRate": 50})
        );
        let frames = stream.opening(&v1_1(None, None));
        let welcome: Value = serde_json::from_str(&frames[0].1).unwrap();
        assert!(welcome["data"].get("limits").is_none());
    }

    #[test]
    fn every_log_has_its_own_epoch() {
        let (a, b) = (SessionStream::new(0), SessionStream::new(0));
        assert_ne!(a.epoch(), b.epoch());
        assert_eq!(a.epoch().len(), 2 * EPOCH_BYTES);
    }

    #[test]
    fn a_v1_client_gets_no_control_frames() {
        let stream = stream_of(3);
        let request = ResumeRequest {
            v1_1: false,
            last_seq: Some(1),
            epoch: Some("elsewhere"),
            limits: None,
        };
        assert_eq!(types(&stream.opening(&request)), ["message#2", "message#3"]);
        assert!(stream.post_preamble(&request).is_empty());
        assert!(stream.opening(&ResumeRequest::default()).is_empty());
    }

    #[test]
    fn a_v1_1_client_in_this_epoch_resumes_after_a_welcome() {
        let stream = stream_of(3);
        let epoch = stream.epoch().to_owned();
        let frames = stream.opening(&v1_1(Some(1), Some(&epoch)));
        assert_eq!(types(&frames), ["welcome", "message#2", "message#3"]);
        let welcome: Value = serde_json::from_str(&frames[0].1).unwrap();
        assert_eq!(welcome["data"], json!({"epoch": epoch, "lastSeq": 3}));
        assert_eq!(types(&stream.opening(&v1_1(None, None))), ["welcome"]);
    }

    #[test]
    fn another_epoch_or_a_position_past_the_end_is_a_reset_and_a_full_replay() {
        let stream = stream_of(3);
        let epoch = stream.epoch().to_owned();
        for request in [
            v1_1(Some(7), Some("gone")),
            v1_1(Some(1), Some("gone")),
            v1_1(Some(4), Some(&epoch)),
            v1_1(Some(4), None),
        ] {
            let frames = stream.opening(&request);
            assert_eq!(
                types(&frames),
                ["welcome", "reset", "message#1", "message#2", "message#3"],
                "{request:?}"
            );
            let reset: Value = serde_json::from_str(&frames[1].1).unwrap();
            assert_eq!(reset["data"]["epoch"], epoch.as_str());
            assert_eq!(reset["data"]["firstSeq"], 1);
            assert_eq!(reset["data"]["after"], request.last_seq.unwrap());
        }
    }

    #[test]
    fn a_reset_names_the_first_seq_still_kept() {
        let stream = stream_of(104);
        let frames = stream.opening(&v1_1(Some(2), Some("gone")));
        let reset: Value = serde_json::from_str(&frames[1].1).unwrap();
        assert_eq!(reset["data"]["firstSeq"], 5);
        assert_eq!(types(&frames[2..3]), ["message#5"], "no gap after a reset");
        let empty = SessionStream::new(0);
        let reset: Value =
            serde_json::from_str(&empty.opening(&v1_1(Some(9), Some("gone")))[1].1).unwrap();
        assert_eq!(reset["data"]["firstSeq"], 1);
    }

    #[test]
    fn a_post_tells_a_client_the_epoch_it_does_not_know() {
        let stream = stream_of(1);
        let epoch = stream.epoch().to_owned();
        let kinds = |request: ResumeRequest<'_>| {
            stream
                .post_preamble(&request)
                .iter()
                .map(|text| serde_json::from_str::<Value>(text).unwrap()["type"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(v1_1(None, None)), ["welcome"]);
        assert_eq!(kinds(v1_1(None, Some("gone"))), ["welcome", "reset"]);
        assert!(kinds(v1_1(None, Some(&epoch))).is_empty());
    }

    #[test]
    fn positions_at_the_limit_of_u64_do_not_overflow() {
        let stream = stream_of(2);
        assert!(stream.replay_after(u64::MAX).frames.is_empty());
        assert_eq!(stream.replay_after(u64::MAX).gap, None);
        let frames = stream.opening(&v1_1(Some(u64::MAX), None));
        assert_eq!(
            types(&frames),
            ["welcome", "reset", "message#1", "message#2"]
        );
    }

    #[test]
    fn seen_ids_catch_duplicates_within_the_budget() {
        let mut seen = SeenIds::new(100 * (2 * 4 + ID_OVERHEAD_BYTES));
        assert_eq!(seen.begin("a"), Seen::New);
        assert_eq!(seen.begin("a"), Seen::InProgress);
        assert!(seen.finish("a"), "a copy waits for the ack");
        assert_eq!(seen.begin("a"), Seen::Done);
        assert_eq!(seen.begin("b"), Seen::New);
        assert!(!seen.finish("b"), "nobody waits");
        for n in 1000..1100 {
            seen.begin(&n.to_string());
        }
        assert!(seen.bytes() <= 100 * (2 * 4 + ID_OVERHEAD_BYTES));
        assert_eq!(
            seen.begin("a"),
            Seen::New,
            "forgotten once the budget is passed"
        );
    }

    #[test]
    fn an_abandoned_id_is_new_again() {
        let mut seen = SeenIds::new(1 << 16);
        assert_eq!(seen.begin("a"), Seen::New);
        let bytes = seen.bytes();
        seen.abandon("a");
        assert_eq!(seen.bytes(), 0);
        assert_eq!(seen.begin("a"), Seen::New);
        assert_eq!(seen.bytes(), bytes);
    }
}
