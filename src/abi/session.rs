//! One transport behind the boundary: the core, and what the boundary itself
//! must remember between calls (the armed timer, the frames the JavaScript
//! half keeps). Each call becomes one core input; the outputs become records.

use crate::prelude::*;

#[cfg(any(test, feature = "shared-tabs"))]
mod shared;

use super::calls::{
    frame_call, Call, ANSWER_MASK, ASK, CHANGED, DELIVER, DROPPED, FRAME, HOLD, HTTP, KEPT,
    PAGE_EVENTS, QUEUED, SENT, THROW, TRANSMIT,
};
use super::options::read_options;
use super::records::{self, Op, Writer};
use crate::core::{
    push_number, CloseInfo, ConfigError, ConfigErrorKind, ConnectionState, Delivery,
    DisconnectReason, Event, Field, FrameKind, Handled, InboundFrame, Input, InputError, Instant,
    LatencyStats, Mode, Output, SendOutcome, Transport, MAX_TIMER_MS,
};

/// The JavaScript half's clock (`performance.now()`), read at most once per
/// call and only when a decision needs it: a steady send or received
/// envelope reads it only while a heartbeat listens for frames.
pub(crate) struct Clock<'a> {
    read: &'a mut dyn FnMut() -> f64,
    now: Option<Instant>,
}

impl<'a> Clock<'a> {
    /// A clock that calls `read` the first time it is asked.
    pub(crate) fn new(read: &'a mut dyn FnMut() -> f64) -> Self {
        Self { read, now: None }
    }

    /// The time of this call.
    pub(crate) fn now(&mut self) -> Instant {
        *self
            .now
            .get_or_insert_with(|| Instant::from_ms((self.read)()))
    }
}

/// A transport's core and the boundary's memory of it.
pub(crate) struct Session {
    core: Transport<u64>,
    /// When the JavaScript timer is due, while one is armed.
    timer_due: Option<Instant>,
    /// The frames the core held after the last call, oldest first: the
    /// JavaScript half keeps exactly these (and the one being sent).
    held: Vec<u64>,
    /// The core's [`Transport::queue_removals`] when `held` was last
    /// compared with it whole.
    removals_seen: u32,
    /// How many times `held` was compared whole (for the tests: a send
    /// must not cost a walk of the queue).
    #[cfg(test)]
    full_releases: u32,
    /// Whether the application gave `shouldReconnect`.
    asks_should_reconnect: bool,
    /// The highest frame number seen: numbers must grow (ids are unique).
    last_number: u64,
    /// The snapshot record as the last call left it, and room for the next
    /// one: a call changed the snapshot when their bytes differ. Both keep
    /// their capacity, so the comparison allocates nothing.
    published: Vec<u8>,
    next: Vec<u8>,
    /// This tab's side of a connection shared across tabs (`session/shared.rs`).
    #[cfg(any(test, feature = "shared-tabs"))]
    tab: crate::core::tabs::Follower,
    /// Its part in the election without Web Locks, once it takes part.
    #[cfg(any(test, feature = "shared-tabs"))]
    lease: Option<crate::core::tabs::Lease>,
}

impl Session {
    /// Makes a transport from the options in `input`, writing `Created` (with
    /// `handle` of the box it will live in, filled by the caller) or the
    /// error to throw. The first connection attempt starts unless
    /// `autoConnect` is false.
    pub(crate) fn create(
        input: &[u8],
        clock: &mut Clock,
        out: &mut Vec<u8>,
    ) -> Result<Session, u32> {
        let mut writer = Writer::new(out);
        let Some(read) = read_options(input) else {
            writer
                .op(Op::Throw)
                .u32(0)
                .str("the options could not be read");
            return Err(THROW);
        };
        let config = match read.values.validate() {
            Ok(config) => config,
            Err(error) => {
                option_error(&mut writer, &error);
                return Err(THROW);
            }
        };
        let core = Transport::new(config, read.seed);
        #[cfg(any(test, feature = "shared-tabs"))]
        let tab = crate::core::tabs::Follower::new(
            core.session_id(),
            core.config().queue_capacity,
            core.config().overflow,
        );
        let mut session = Session {
            core,
            timer_due: None,
            held: Vec::new(),
            removals_seen: 0,
            #[cfg(test)]
            full_releases: 0,
            asks_should_reconnect: read.should_reconnect,
            last_number: 0,
            published: Vec::new(),
            next: Vec::new(),
            #[cfg(any(test, feature = "shared-tabs"))]
            tab,
            #[cfg(any(test, feature = "shared-tabs"))]
            lease: None,
        };
        if read.auto_connect {
            session.feed(clock, Input::Connect);
        }
        Ok(session)
    }

    /// Writes `Created` for this session living at `handle`, then the
    /// records of what creating it did.
    pub(crate) fn created(&mut self, handle: u32, clock: &mut Clock, out: &mut Vec<u8>) -> u32 {
        let mut writer = Writer::new(out);
        writer
            .op(Op::Created)
            .u32(handle)
            .str(self.core.session_id())
            .str(self.core.message_id_prefix())
            .str(&self.core.config().ping_type)
            .str(&self.core.config().pong_type);
        self.finish(clock, 0, &mut writer)
    }

    /// Handles one call (see [`Call`]): records go to `out`; the answer
    /// packs the call's answer bits and whether the snapshot changed.
    pub(crate) fn call(
        &mut self,
        call: u32,
        a: f64,
        b: f64,
        clock: &mut Clock,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> u32 {
        let mut writer = Writer::new(out);
        let text = || records::utf8(input).unwrap_or_default().to_owned();
        let answer = if call >= FRAME {
            self.frame(call, a, b, input, clock)
        } else {
            match Call::ALL.get(call as usize).copied() {
                Some(Call::Connect) => self.feed(clock, Input::Connect),
                Some(Call::Reconnect) => self.feed(clock, Input::Reconnect),
                Some(Call::Disconnect) => self.disconnect(clock, a, b, text(), &mut writer),
                Some(Call::Send) => self.send(clock, a, b, &mut writer),
                Some(Call::ClearQueue) => self.feed(clock, Input::ClearQueue),
                // Questions, not inputs: nothing changes, so nothing to finish.
                Some(Call::Queued) => {
                    writer.op(Op::Held).handles(self.held.iter());
                    return 0;
                }
                Some(Call::Snapshot) => {
                    write_snapshot(&self.core, &mut writer);
                    return 0;
                }
                Some(Call::SocketOpened) => self.feed(clock, Input::SocketOpened),
                Some(Call::SocketError) => self.feed(clock, Input::SocketError),
                Some(Call::SocketClosed) => self.socket_closed(clock, a, b, text()),
                Some(Call::SocketUnusable) => {
                    self.feed(clock, Input::SocketUnusable { message: text() })
                }
                Some(Call::Timeout) => {
                    self.timer_due = None;
                    self.feed(clock, Input::Timeout)
                }
                Some(Call::Page) => match PAGE_EVENTS.get(a as usize) {
                    Some(&event) => self.feed(clock, Input::Page(event)),
                    None => 0,
                },
                Some(Call::UrlAnswer) => {
                    let text = text();
                    let result = if b == 1.0 { Ok(text) } else { Err(text) };
                    self.feed(
                        clock,
                        Input::UrlResolved {
                            attempt: a as u64,
                            result,
                        },
                    )
                }
                Some(Call::EventsOpened) => self.feed(clock, Input::EventsOpened),
                Some(Call::EventsFailed) => self.feed(clock, Input::EventsFailed),
                Some(Call::PostAnswered) => self.feed(
                    clock,
                    Input::PostAnswered {
                        status: a as u16,
                        retry_after: text(),
                    },
                ),
                Some(Call::PostFailed) => self.feed(clock, Input::PostFailed { reason: text() }),
                #[cfg(any(test, feature = "shared-tabs"))]
                Some(call) if call as u32 >= Call::Relay as u32 => {
                    self.shared_call(call, a, b, clock, input, &mut writer)
                }
                // `New` and `Free` are the caller's (they make and drop the
                // box); the shared calls answer 0 in a build without them.
                _ => 0,
            }
        };
        if answer & ANSWER_MASK == THROW {
            return answer;
        }
        self.finish(clock, answer, &mut writer)
    }

    /// The one place the core is handed an input (one closure type for the clock).
    fn input(&mut self, clock: &mut Clock, input: Input<u64>) -> Result<Handled, InputError> {
        self.core.handle_input_with(&mut || clock.now(), input)
    }

    fn feed(&mut self, clock: &mut Clock, input: Input<u64>) -> u32 {
        let _ = self.input(clock, input);
        0
    }

    fn disconnect(
        &mut self,
        clock: &mut Clock,
        code: f64,
        given: f64,
        reason: String,
        writer: &mut Writer,
    ) -> u32 {
        let code = if given == 1.0 {
            // In range first, so the cast is exact exactly when the number is whole.
            if (0.0..=f64::from(u16::MAX)).contains(&code) && code == f64::from(code as u16) {
                code as u16
            } else {
                option_error(
                    writer,
                    &ConfigError::range(Field::Code, "must be 1000 or from 3000 to 4999"),
                );
                return THROW;
            }
        } else {
            1000
        };
        match self.input(clock, Input::Disconnect { code, reason }) {
            Err(InputError::BadClose(error)) => {
                option_error(writer, &error);
                THROW
            }
            _ => 0,
        }
    }

    fn send(&mut self, clock: &mut Clock, number: f64, sent: f64, writer: &mut Writer) -> u32 {
        let Some((number, bytes)) = self.next_number(number, sent, writer) else {
            return THROW;
        };
        let envelope = (sent % 4.0 != 0.0).then_some(number);
        self.hand_to_core(
            clock,
            number,
            bytes,
            envelope,
            #[cfg(any(test, feature = "shared-tabs"))]
            None,
            writer,
        )
    }

    /// Checks a sent frame's number (numbers grow: ids are unique) and
    /// `sent`: its kind (0 raw, 1 envelope, 2 awaiting an ack) plus 4 × its
    /// size in bytes (see `Input::Send`); `None` once the error to throw is
    /// written.
    fn next_number(&mut self, number: f64, sent: f64, writer: &mut Writer) -> Option<(u64, u32)> {
        let kind = sent % 4.0;
        // Saturating: a size past u32 is over every limit all the same.
        let bytes = (sent / 4.0) as u32;
        let number = number as u64;
        if number <= self.last_number {
            writer.op(Op::Throw).u32(0).str("frame numbers must grow");
            return None;
        }
        self.last_number = number;
        if kind == 2.0 && self.core.config().delivery != Delivery::AtLeastOnce {
            writer.op(Op::Throw).u32(0).str(
                "sendWithAck needs the option delivery: \"at-least-once\" (the server only acknowledges then)",
            );
            return None;
        }
        Some((number, bytes))
    }

    /// Hands the core a sent frame numbered `number`: `Send`, or `Relay`
    /// with the id another tab gave it. Answers with what became of it.
    fn hand_to_core(
        &mut self,
        clock: &mut Clock,
        number: u64,
        bytes: u32,
        envelope: Option<u64>,
        #[cfg(any(test, feature = "shared-tabs"))] relayed_id: Option<String>,
        writer: &mut Writer,
    ) -> u32 {
        let input = Input::Send {
            payload: number,
            envelope,
            bytes,
        };
        #[cfg(any(test, feature = "shared-tabs"))]
        let input = match relayed_id {
            Some(id) => Input::Relay {
                payload: number,
                number,
                id,
                bytes,
            },
            None => input,
        };
        let answer = match self.input(clock, input) {
            Ok(Handled::Sent(SendOutcome::Sent)) => SENT,
            Ok(Handled::Sent(SendOutcome::Http)) => HTTP,
            Ok(Handled::Sent(SendOutcome::Dropped)) => DROPPED,
            Err(InputError::QueueFull(capacity)) => {
                let mut message = "the offline queue is full (".to_owned();
                push_number(&mut message, capacity as u64, 10);
                message.push_str(" messages) and queueOverflow is \"error\"");
                writer.op(Op::Throw).u32(0).str(&message);
                return THROW;
            }
            _ => QUEUED,
        };
        // Kept, it is the last one held (a send only appends).
        let length = self.core.queue_length();
        let kept = self.core.queued_from(length.wrapping_sub(1)).next() == Some(&number);
        let kept = if kept { KEPT } else { 0 };
        // The steady state: the frame goes out and nothing else happens.
        match self.core.poll_output() {
            Some(Output::Transmit(handle)) if handle == number => match self.core.poll_output() {
                None => answer | kept | TRANSMIT,
                Some(next) => {
                    self.write_output(Output::Transmit(handle), writer);
                    self.write_output(next, writer);
                    answer | kept
                }
            },
            Some(first) => {
                self.write_output(first, writer);
                answer | kept
            }
            None => answer | kept,
        }
    }

    fn socket_closed(&mut self, clock: &mut Clock, code: f64, detail: f64, reason: String) -> u32 {
        let detail = detail as u32;
        let close = CloseInfo {
            code: code as u16,
            reason,
            was_clean: detail & 1 != 0,
        };
        // A background probe's close says nothing about the session.
        let verdict = match detail >> 1 {
            0 if self.asks_should_reconnect && !self.core.is_probing() => return ASK,
            1 => Some(false),
            2 => Some(true),
            _ => None,
        };
        let verdict = verdict.filter(|_| !self.core.is_probing());
        self.feed(clock, Input::SocketClosed { close, verdict })
    }

    fn frame(&mut self, call: u32, seq: f64, number: f64, input: &[u8], clock: &mut Clock) -> u32 {
        let (kind, source) = frame_call(call);
        let mut frame = InboundFrame::of_kind(source, kind);
        let text = || records::utf8(input).map(ToOwned::to_owned);
        if kind.needs_id() {
            frame.id = text();
        } else if kind.needs_epoch() {
            frame.epoch = text();
        }
        // The driver passes it for a gap, a reset and a welcome only.
        frame.first_available = number;
        // A reset is never numbered. For a welcome naming an epoch (the
        // protocol's, never numbered) the driver passes the announced
        // message rate in `seq`'s place; for one without, which is the
        // application's own envelope, its `seq`: the core reads the one
        // that fits.
        if kind != FrameKind::Reset {
            frame.seq = seq;
        }
        if kind == FrameKind::Welcome {
            frame.message_rate = seq;
        }
        match self.input(clock, Input::Frame(frame)) {
            Ok(Handled::Frame { deliver: true }) => DELIVER,
            Ok(Handled::Held) => HOLD,
            _ => 0,
        }
    }

    /// Writes the outputs, re-arms the timer, names the frames let go of,
    /// and adds `CHANGED` when the snapshot changed.
    fn finish(&mut self, clock: &mut Clock, answer: u32, writer: &mut Writer) -> u32 {
        while let Some(output) = self.core.poll_output() {
            self.write_output(output, writer);
        }
        self.arm_timer(clock, writer);
        self.release(writer);
        answer | self.snapshot_change()
    }

    /// `CHANGED` when the snapshot differs from the one the last call left:
    /// the JavaScript half rebuilds its frozen object (and notifies
    /// subscribers) only then. Comparing the snapshot's record, written as
    /// the `Snapshot` call writes it but for the `sent` and `received`
    /// counters, makes "changed" mean exactly "reads differently, those two
    /// aside": they move with every message, and a render per message is
    /// what a subscriber must not pay (they are read fresh with `stats`,
    /// and ride along in the snapshot whenever anything else changes). The
    /// counters of rare events (reconnects, drops, errors, resets) do count.
    fn snapshot_change(&mut self) -> u32 {
        self.next.clear();
        let mut writer = Writer::new(&mut self.next);
        write_observed(&self.core, &mut writer);
        let stats = self.core.stats();
        for count in [stats.reconnects, stats.dropped, stats.errors, stats.resets] {
            writer.f64(count as f64);
        }
        if self.next == self.published {
            return 0;
        }
        ::core::mem::swap(&mut self.next, &mut self.published);
        CHANGED
    }

    /// Keeps the one timer on the core's deadline. A deadline that moved
    /// later keeps the armed timer (it fires early and the core finds
    /// nothing due): the per-message path never touches the timer.
    fn arm_timer(&mut self, clock: &mut Clock, writer: &mut Writer) {
        let due = self.core.poll_timeout();
        match due {
            None if self.timer_due.is_some() => {
                writer.op(Op::ClearTimer);
                self.timer_due = None;
            }
            Some(due) if self.timer_due.is_none_or(|armed| due < armed) => {
                // max/min rather than clamp: clamp's NaN assertion formats floats.
                #[allow(clippy::manual_clamp)]
                let delay = (due.as_ms() - clock.now().as_ms())
                    .max(0.0)
                    .min(MAX_TIMER_MS);
                writer.op(Op::SetTimer).f64(delay);
                self.timer_due = Some(due);
            }
            _ => {}
        }
    }

    /// `Release` for every frame held before this call and not after it.
    /// Both lists are in the core's order (removals keep it), so one pass
    /// finds them; the count is written once they are.
    fn release(&mut self, writer: &mut Writer) {
        if self.held.is_empty() && self.core.queue_length() == 0 {
            return;
        }
        let removals = self.core.queue_removals();
        if removals == self.removals_seen {
            // Nothing was let go of: the new ones follow what is mirrored
            // (O(1) per message: an offline queue of 100,000 is not walked
            // per send).
            for &handle in self.core.queued_from(self.held.len()) {
                self.held.push(handle);
            }
            return;
        }
        self.removals_seen = removals;
        #[cfg(test)]
        {
            self.full_releases += 1;
        }
        let mut now_held = self.core.queued().copied().peekable();
        let mut count = None;
        for &handle in &self.held {
            if now_held.peek() == Some(&handle) {
                now_held.next();
                continue;
            }
            let at = *count.get_or_insert_with(|| writer.op(Op::Release).placeholder());
            writer.f64(handle as f64).increment(at);
        }
        self.held.clear();
        // A loop, not `extend`: that would be an iterator instantiation of its own.
        for &handle in self.core.queued() {
            self.held.push(handle);
        }
    }

    fn write_output(&mut self, output: Output<u64>, writer: &mut Writer) {
        match output {
            Output::ResolveUrl { attempt } => {
                writer.op(Op::ResolveUrl).f64(attempt as f64);
            }
            Output::OpenSocket => {
                writer.op(Op::OpenSocket).str(self.core.socket_url());
            }
            Output::CloseSocket { code, reason } => {
                writer.op(Op::CloseSocket).u32(code.into()).str(&reason);
            }
            Output::Transmit(handle) => {
                writer.op(Op::Transmit).f64(handle as f64);
            }
            Output::SendPing { number } => {
                writer.op(Op::Ping).f64(number as f64);
            }
            Output::OpenEvents { url } => {
                writer.op(Op::OpenEvents).str(&url);
            }
            Output::CloseEvents => {
                writer.op(Op::CloseEvents);
            }
            Output::Post { url, frames } => {
                writer.op(Op::Post).str(&url).handles(frames.iter());
            }
            Output::AbortPost => {
                writer.op(Op::AbortPost);
            }
            Output::Poll { url } => {
                writer.op(Op::Poll).str(&url);
            }
            Output::Emit(event) => write_event(event, writer),
        }
    }
}

/// The `Snapshot` record: everything `getSnapshot()` reports but the
/// session id. It borrows the close rather than cloning it (it is written
/// after every call).
fn write_snapshot(core: &Transport<u64>, writer: &mut Writer) {
    write_observed(core, writer);
    let stats = core.stats();
    for count in [
        stats.sent,
        stats.received,
        stats.reconnects,
        stats.dropped,
        stats.errors,
        stats.resets,
    ] {
        writer.f64(count as f64);
    }
}

/// The `Snapshot` record up to its counters: what a change is judged by.
fn write_observed(core: &Transport<u64>, writer: &mut Writer) {
    let snapshot = core.snapshot_without_close();
    let close = core.last_close();
    writer
        .op(Op::Snapshot)
        .u32(state_number(snapshot.state))
        .u32(mode_number(snapshot.mode))
        .u32(snapshot.attempt)
        .maybe(snapshot.next_retry_in_ms);
    write_latency(&snapshot.latency, writer);
    writer
        .len(snapshot.queued)
        .u32(snapshot.disconnect_reason.map_or(0, reason_number))
        .maybe(close.map(|close| f64::from(close.code)))
        .str(close.map_or("", |close| close.reason.as_str()))
        .maybe(snapshot.last_seq.map(|seq| seq as f64));
}

fn write_event(event: Event<u64>, writer: &mut Writer) {
    match event {
        Event::StateChanged(state) => {
            writer.op(Op::State).u32(state_number(state));
        }
        Event::ModeChanged(mode) => {
            writer.op(Op::Mode).u32(mode_number(mode));
        }
        Event::Opened => {
            writer.op(Op::Opened);
        }
        Event::Closed(close) => {
            writer
                .op(Op::Closed)
                .u32(close.code.into())
                .u32(close.was_clean.into())
                .str(&close.reason);
        }
        Event::Error(message) => {
            writer.op(Op::Error).str(&message);
        }
        Event::Latency(stats) => write_latency(&stats, writer.op(Op::Latency)),
        Event::Reconnecting { attempt, delay_ms } => {
            writer.op(Op::Reconnecting).u32(attempt).f64(delay_ms);
        }
        Event::StreamReset { previous, first } => {
            writer.op(Op::Reset).f64(previous as f64).f64(first as f64);
        }
        Event::Queue { length, dropped } => {
            writer.op(Op::Queue).len(length).handles(dropped.iter());
        }
        Event::Acked(number) => {
            writer.op(Op::Acked).f64(number as f64);
        }
        Event::AckLost { numbers, reason } => {
            writer.op(Op::AckLost).str(reason).handles(numbers.iter());
        }
        Event::Dropped { payload, reason } => {
            writer.op(Op::Dropped).f64(payload as f64).str(&reason);
        }
        Event::Deliver(seq) => {
            writer.op(Op::Deliver).f64(seq as f64);
        }
        Event::Gap { after, first } => {
            writer.op(Op::Gap).f64(after as f64).f64(first as f64);
        }
    }
}

/// `last, avg, min, max, jitter` (NaN before the first sample), then `samples`.
fn write_latency(stats: &LatencyStats, writer: &mut Writer) {
    writer
        .maybe(stats.last)
        .maybe(stats.avg)
        .maybe(stats.min)
        .maybe(stats.max)
        .maybe(stats.jitter)
        .u32(stats.samples);
}

/// An option's `TypeError` (kind 1) or `RangeError` (2): the JavaScript
/// half writes the sentence (what `ConfigError::message` spells) and appends
/// the value it was given.
fn option_error(writer: &mut Writer, error: &ConfigError) {
    let kind = match error.kind {
        ConfigErrorKind::Type => 1,
        ConfigErrorKind::Range => 2,
    };
    writer
        .op(Op::OptionError)
        .u32(kind)
        .u32(error.field as u32)
        .str(error.reason);
}

/// The connection states, in the order of their numbers.
/// (Named for the generated JavaScript; the numbers themselves are casts.)
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const STATES: [ConnectionState; 4] = [
    ConnectionState::Connecting,
    ConnectionState::Connected,
    ConnectionState::Reconnecting,
    ConnectionState::Disconnected,
];

/// The modes, in the order of their numbers.
/// (Named for the generated JavaScript; the numbers themselves are casts.)
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const MODES: [Mode; 2] = [Mode::WebSocket, Mode::Http];

/// Why a transport is down, in the order of their numbers from 1 (0: it is not).
/// (Named for the generated JavaScript; the numbers themselves are casts.)
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const REASONS: [DisconnectReason; 3] = [
    DisconnectReason::Client,
    DisconnectReason::MaxAttempts,
    DisconnectReason::TerminalClose,
];

// The numbers are the enums' own: the tables list them in declaration order
// (a test holds them to it), so no search is needed.
fn state_number(state: ConnectionState) -> u32 {
    state as u32
}

fn mode_number(mode: Mode) -> u32 {
    mode as u32
}

fn reason_number(reason: DisconnectReason) -> u32 {
    reason as u32 + 1
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::super::calls::{Call, CHANGED, FRAME, KEPT, RECORDS_SHIFT, TRANSMIT};
    use super::super::options::tests::blob;
    use super::super::records::{self, Reader};
    use super::*;
    use crate::core::FrameKind;

    /// The ops of a call's records, in order (each parsed to its end).
    pub(super) fn ops(out: &[u8]) -> Vec<Op> {
        records::check(out)
    }

    pub(super) fn session(numbers: &[(&str, f64)], strings: &[(&str, &str)]) -> Session {
        let mut out = Vec::new();
        let mut session = Session::create(
            &blob(Some("ws://h/ws"), numbers, strings, Some(false)),
            &mut Clock::new(&mut || 0.0),
            &mut out,
        )
        .unwrap_or_else(|_| panic!("valid options"));
        session.created(1, &mut Clock::new(&mut || 0.0), &mut out);
        session
    }

    /// Call number `call` at time 0: the answer and the records' bytes.
    pub(super) fn exchange(
        session: &mut Session,
        call: u32,
        a: f64,
        b: f64,
        input: &[u8],
    ) -> (u32, Vec<u8>) {
        let mut out = Vec::new();
        let answer = session.call(call, a, b, &mut Clock::new(&mut || 0.0), input, &mut out);
        (answer, out)
    }

    pub(super) fn call(
        session: &mut Session,
        call: Call,
        a: f64,
        b: f64,
        input: &str,
    ) -> (u32, Vec<Op>) {
        let (answer, out) = exchange(session, call as u32, a, b, input.as_bytes());
        (answer, ops(&out))
    }

    /// The call's answer code (its low bits).
    fn code(session: &mut Session, which: Call, a: f64, b: f64, input: &str) -> u32 {
        call(session, which, a, b, input).0 & ANSWER_MASK
    }

    pub(super) fn open(session: &mut Session) {
        call(session, Call::Connect, 0.0, 0.0, "");
        call(session, Call::SocketOpened, 0.0, 0.0, "");
    }

    /// Whether the call's answer says the snapshot changed; and, whatever it
    /// says, the snapshot the session compares against is the one a
    /// `Snapshot` call reads now.
    fn changed(session: &mut Session, which: Call, a: f64, b: f64, input: &str) -> bool {
        let (answer, _) = call(session, which, a, b, input);
        let (code, read) = exchange(session, Call::Snapshot as u32, 0.0, 0.0, &[]);
        assert_eq!(code & CHANGED, 0, "a question changes nothing");
        // Everything but `sent` and `received`, the first two of the six
        // counters (f64s) at its end.
        let counters = read.len() - 48;
        let observed = [&read[..counters], &read[counters + 16..]].concat();
        assert_eq!(observed, session.published, "after {which:?}");
        answer & CHANGED != 0
    }

    #[test]
    fn the_name_tables_are_in_the_enums_order() {
        for (number, &state) in STATES.iter().enumerate() {
            assert_eq!(state_number(state), number as u32, "{state:?}");
        }
        for (number, &mode) in MODES.iter().enumerate() {
            assert_eq!(mode_number(mode), number as u32, "{mode:?}");
        }
        for (number, &reason) in REASONS.iter().enumerate() {
            assert_eq!(reason_number(reason), number as u32 + 1, "{reason:?}");
        }
    }

    #[test]
    fn changed_is_answered_exactly_when_the_snapshot_reads_differently() {
        let mut out = Vec::new();
        let options = blob(
            Some("ws://h/ws"),
            &[("heartbeatInterval", 0.0)],
            &[],
            Some(false),
        );
        let mut session = Session::create(&options, &mut Clock::new(&mut || 0.0), &mut out)
            .unwrap_or_else(|_| panic!("valid options"));
        let first = session.created(1, &mut Clock::new(&mut || 0.0), &mut out);
        assert_ne!(first & CHANGED, 0, "the first snapshot is news");
        let steps = [
            (Call::Timeout, 0.0, 0.0, false, "nothing was due"),
            (Call::Connect, 0.0, 0.0, true, "connecting"),
            (Call::Connect, 0.0, 0.0, false, "already connecting"),
            (Call::SocketOpened, 0.0, 0.0, true, "connected"),
            (Call::Send, 1.0, 1.0, false, "one more sent: a counter only"),
            (Call::ClearQueue, 0.0, 0.0, false, "the queue was empty"),
            (
                Call::SocketClosed,
                4000.0,
                4.0,
                true,
                "the close and the state",
            ),
            (Call::Timeout, 0.0, 0.0, false, "the retry is not due"),
        ];
        for (which, a, b, expected, why) in steps {
            assert_eq!(
                changed(&mut session, which, a, b, "gone"),
                expected,
                "{why}"
            );
        }
    }

    #[test]
    fn a_send_on_an_open_socket_writes_no_records_and_is_not_kept() {
        let mut session = session(&[("heartbeatInterval", 0.0)], &[]);
        open(&mut session);
        let (answer, out) = exchange(&mut session, Call::Send as u32, 1.0, 1.0, &[]);
        assert_eq!(answer & ANSWER_MASK, SENT);
        assert_eq!(answer & KEPT, 0);
        assert_ne!(answer & TRANSMIT, 0, "the answer stands for the one record");
        assert!(out.is_empty());
        // Only the snapshot's sent count moved: no change to notify.
        assert_eq!(answer & CHANGED, 0);
        assert_eq!(answer >> RECORDS_SHIFT, out.len() as u32);
    }

    #[test]
    fn a_received_envelope_is_delivered_with_no_records() {
        let mut session = session(&[("heartbeatInterval", 0.0)], &[]);
        open(&mut session);
        let (answer, out) = exchange(
            &mut session,
            FRAME + FrameKind::Envelope as u32,
            f64::NAN,
            f64::NAN,
            &[],
        );
        assert_eq!(answer & ANSWER_MASK, DELIVER);
        assert!(out.is_empty());
    }

    #[test]
    fn queued_frames_are_kept_then_released_once_sent() {
        let mut session = session(&[], &[]);
        let (answer, _) = call(&mut session, Call::Send, 1.0, 1.0, "");
        assert_eq!(answer & ANSWER_MASK, QUEUED);
        assert_ne!(answer & KEPT, 0);
        call(&mut session, Call::Connect, 0.0, 0.0, "");
        let (_, ops) = call(&mut session, Call::SocketOpened, 0.0, 0.0, "");
        let transmit = ops
            .iter()
            .position(|&op| op == Op::Transmit)
            .expect("flushed");
        let release = ops
            .iter()
            .position(|&op| op == Op::Release)
            .expect("released");
        assert!(transmit < release, "released after it went out: {ops:?}");
    }

    #[test]
    fn sends_into_a_long_offline_queue_never_walk_it() {
        // 200,000 sends once took 83 s of main thread: each call compared
        // the whole mirror with the queue, and each send looked for itself.
        let mut session = session(&[("messageQueueSize", 100_000.0)], &[]);
        for number in 1..=5000u32 {
            let (answer, _) = call(&mut session, Call::Send, f64::from(number), 1.0, "");
            assert_eq!(answer & ANSWER_MASK, QUEUED);
            assert_ne!(answer & KEPT, 0, "kept: message {number}");
        }
        assert_eq!(session.full_releases, 0, "no send compared the whole queue");
        assert_eq!(session.held.len(), 5000);
        assert_eq!(
            session.held,
            session.core.queued().copied().collect::<Vec<_>>()
        );
        // Letting go of messages still releases them, in one pass.
        let (_, ops) = call(&mut session, Call::ClearQueue, 0.0, 0.0, "");
        assert!(ops.contains(&Op::Release), "{ops:?}");
        assert_eq!(session.full_releases, 1);
        assert!(session.held.is_empty());
    }

    #[test]
    fn an_acknowledged_frame_is_released() {
        let mut session = session(
            &[("heartbeatInterval", 0.0)],
            &[("delivery", "at-least-once")],
        );
        open(&mut session);
        let (answer, _) = call(&mut session, Call::Send, 1.0, 2.0, "");
        assert_eq!(answer & ANSWER_MASK, SENT);
        assert_ne!(answer & KEPT, 0, "held until its ack");
        let id = session.core.message_id(1);
        let (_, ops) = call_frame(&mut session, FrameKind::Ack, &id);
        assert!(
            ops.contains(&Op::Acked) && ops.contains(&Op::Release),
            "{ops:?}"
        );
        assert!(session.held.is_empty());
    }

    fn call_frame(session: &mut Session, kind: FrameKind, input: &str) -> (u32, Vec<Op>) {
        let (answer, out) = exchange(
            session,
            FRAME + kind as u32,
            f64::NAN,
            f64::NAN,
            input.as_bytes(),
        );
        (answer, ops(&out))
    }

    #[test]
    fn numbers_must_grow_and_send_with_ack_needs_at_least_once() {
        let mut session = session(&[], &[]);
        assert_eq!(code(&mut session, Call::Send, 2.0, 1.0, ""), QUEUED);
        assert_eq!(code(&mut session, Call::Send, 2.0, 1.0, ""), THROW);
        assert_eq!(code(&mut session, Call::Send, 3.0, 2.0, ""), THROW);
    }

    #[test]
    fn a_close_asks_should_reconnect_only_when_given_and_not_for_a_probe() {
        let mut out = Vec::new();
        let mut options = blob(Some("ws://h/ws"), &[], &[], Some(false));
        // The `shouldReconnect` byte follows the URL, enableWebSocket and autoConnect.
        let position = 8 + 16 + 1 + 4 + "ws://h/ws".len() + 2;
        options[position] = 1;
        let mut session = Session::create(&options, &mut Clock::new(&mut || 0.0), &mut out)
            .unwrap_or_else(|_| panic!("valid"));
        open(&mut session);
        assert_eq!(code(&mut session, Call::SocketClosed, 4001.0, 1.0, ""), ASK);
        assert_eq!(
            session.core.state(),
            ConnectionState::Connected,
            "nothing decided yet"
        );
        call(
            &mut session,
            Call::SocketClosed,
            4001.0,
            1.0 + 2.0 * 1.0,
            "",
        );
        assert_eq!(session.core.state(), ConnectionState::Disconnected);
    }

    #[test]
    fn bad_options_and_arguments_become_errors_naming_the_field() {
        let mut out = Vec::new();
        let bad = blob(Some("ws://h/ws"), &[("reconnectInterval", -5.0)], &[], None);
        assert!(Session::create(&bad, &mut Clock::new(&mut || 0.0), &mut out).is_err());
        let mut reader = Reader::new(&out);
        assert_eq!(reader.u8(), Some(Op::OptionError as u8));
        assert_eq!(reader.u32(), Some(2));
        assert_eq!(reader.u32(), Some(Field::ReconnectInterval as u32));
        out.clear();
        assert!(
            Session::create(&[1, 2, 3], &mut Clock::new(&mut || 0.0), &mut out).is_err(),
            "malformed bytes are an error, not a panic"
        );
        let mut session = session(&[], &[]);
        assert_eq!(code(&mut session, Call::Disconnect, 1001.0, 1.0, ""), THROW);
        assert_eq!(code(&mut session, Call::Disconnect, 1000.5, 1.0, ""), THROW);
        assert_eq!(code(&mut session, Call::Disconnect, 0.0, 0.0, "bye"), 0);
    }

    #[test]
    fn the_timer_is_armed_for_a_retry_and_cleared_when_nothing_is_due() {
        let mut session = session(&[("reconnectJitter", 0.0), ("heartbeatInterval", 0.0)], &[]);
        open(&mut session);
        let (_, ops) = call(&mut session, Call::SocketClosed, 1006.0, 0.0, "");
        assert!(ops.contains(&Op::SetTimer), "{ops:?}");
        let (_, ops) = call(&mut session, Call::Disconnect, 0.0, 0.0, "");
        assert!(ops.contains(&Op::ClearTimer), "{ops:?}");
    }

    /// The steady state: socket open, nothing queued. Once warmed up (the
    /// buffers have their capacity), a send and a received envelope cross
    /// with numbers only and allocate nothing, in the boundary or the core.
    #[test]
    fn a_steady_send_and_receive_allocate_nothing() {
        for heartbeat in [0.0, 30_000.0] {
            let mut session = session(&[("heartbeatInterval", heartbeat)], &[]);
            open(&mut session);
            let mut out = Vec::with_capacity(1024);
            let mut number = 0.0;
            let mut exchange = |session: &mut Session, out: &mut Vec<u8>, now: f64| {
                number += 1.0;
                out.clear();
                let sent = session.call(
                    Call::Send as u32,
                    number,
                    1.0,
                    &mut Clock::new(&mut || now),
                    &[],
                    out,
                );
                out.clear();
                let delivered = session.call(
                    FRAME + FrameKind::Envelope as u32,
                    number,
                    f64::NAN,
                    &mut Clock::new(&mut || now),
                    &[],
                    out,
                );
                (sent, delivered)
            };
            for warm_up in 0..10 {
                exchange(&mut session, &mut out, f64::from(warm_up));
            }
            let ((sent, delivered), allocations) = crate::allocations::counted(|| {
                let mut last = (0, 0);
                for step in 0..1000 {
                    last = exchange(&mut session, &mut out, 10.0 + f64::from(step) / 10.0);
                }
                last
            });
            assert_eq!(sent & ANSWER_MASK, SENT);
            assert_ne!(sent & TRANSMIT, 0);
            assert_eq!(delivered & ANSWER_MASK, DELIVER);
            assert_eq!(allocations, 0, "heartbeat {heartbeat}");
        }
    }

    /// How many times `call` reads the clock.
    fn clock_reads(session: &mut Session, call: u32, a: f64, b: f64) -> u32 {
        let mut reads = 0;
        let mut read = || {
            reads += 1;
            5.0
        };
        let mut out = Vec::new();
        session.call(call, a, b, &mut Clock::new(&mut read), &[], &mut out);
        reads
    }

    /// The clock is a call out of wasm: a steady send never reads it, a
    /// received envelope only while a heartbeat listens for frames, and a
    /// call reads it at most once.
    #[test]
    fn the_clock_is_read_only_when_a_decision_needs_it() {
        for (heartbeat, frame_reads) in [(0.0, 0), (30_000.0, 1)] {
            let mut session = session(&[("heartbeatInterval", heartbeat)], &[]);
            open(&mut session);
            let send = clock_reads(&mut session, Call::Send as u32, 1.0, 1.0);
            let envelope = FRAME + FrameKind::Envelope as u32;
            let frame = clock_reads(&mut session, envelope, 1.0, f64::NAN);
            assert_eq!(send + frame, frame_reads, "heartbeat {heartbeat}");
        }
        let mut session = session(&[], &[]);
        // Connecting arms timers and reads the clock: once.
        assert_eq!(clock_reads(&mut session, Call::Connect as u32, 0.0, 0.0), 1);
    }

    #[test]
    fn the_snapshot_and_the_held_frames_are_written_as_their_shapes_say() {
        let mut session = session(&[], &[]);
        call(&mut session, Call::Send, 1.0, 1.0, "");
        let (_, ops) = call(&mut session, Call::Snapshot, 0.0, 0.0, "");
        assert_eq!(ops, [Op::Snapshot]);
        let (_, ops) = call(&mut session, Call::Queued, 0.0, 0.0, "");
        assert_eq!(ops, [Op::Held]);
    }

    #[test]
    fn unknown_calls_and_page_numbers_do_nothing() {
        let mut session = session(&[], &[]);
        let (answer, out) = exchange(&mut session, 31, 0.0, 0.0, &[]);
        assert_eq!(answer & ANSWER_MASK, 0);
        assert_eq!(code(&mut session, Call::Page, 99.0, 0.0, ""), 0);
        assert!(out.is_empty());
    }
}
