//! Behaviour tests of the whole state machine on a simulated clock.
//!
//! [`Sim`] plays the driver: it keeps the time, executes nothing, and records
//! every output so tests can assert on exactly what the core decided.

mod backoff_schedule;
mod delivery;
mod fallback;
mod heartbeat;
mod lifecycle;
mod limits;
mod order;
mod pace;
mod post_answers;
mod properties;
mod queue_flush;
mod resume;
mod tabs;

use super::*;

/// Payloads are numbers so FIFO order is easy to check.
pub type Payload = u32;

pub struct Sim {
    pub transport: Transport<Payload>,
    pub now: f64,
    pub actions: Vec<Output<Payload>>,
}

/// Options with jitter off and every timer short and distinct.
pub fn quiet_options() -> OptionValues {
    OptionValues {
        url: Some("ws://h/ws".into()),
        session_id: "s".into(),
        reconnect_interval: Some(100.0),
        max_reconnect_interval: Some(1000.0),
        reconnect_backoff_factor: Some(2.0),
        reconnect_jitter: Some(0.0),
        max_reconnect_attempts: Some(5.0),
        connect_timeout: Some(500.0),
        min_uptime: Some(2000.0),
        heartbeat_interval: Some(3000.0),
        heartbeat_timeout: Some(700.0),
        message_queue_size: Some(3.0),
        ..OptionValues::default()
    }
}

impl Sim {
    pub fn new(options: OptionValues) -> Self {
        Self::seeded(options, 7)
    }

    pub fn seeded(options: OptionValues, seed: u64) -> Self {
        let config = options.validate().expect("valid options");
        Self {
            transport: Transport::new(config, seed),
            now: 0.0,
            actions: Vec::new(),
        }
    }

    /// Everything the core decided since the last call.
    pub fn take(&mut self) -> Vec<Output<Payload>> {
        let mut fresh: Vec<_> = std::iter::from_fn(|| self.transport.poll_output()).collect();
        self.actions.extend(fresh.iter().cloned());
        std::mem::take(&mut fresh)
    }

    /// Feeds one input now and returns what the core decided.
    pub fn input(&mut self, input: Input<Payload>) -> Vec<Output<Payload>> {
        let _ = self
            .transport
            .handle_input(Instant::from_ms(self.now), input);
        self.take()
    }

    pub fn at(&mut self, now: f64) -> &mut Self {
        assert!(now >= self.now, "time runs forward");
        self.now = now;
        self
    }

    /// Advances the clock to the deadline of `kind` and reports the timeout
    /// (which also handles any other deadline due by then, as a driver would).
    pub fn fire(&mut self, kind: Deadline) -> Vec<Output<Payload>> {
        let due = self
            .transport
            .deadline(kind)
            .unwrap_or_else(|| panic!("{kind:?} is not pending"));
        self.now = self.now.max(due.as_ms());
        self.input(Input::Timeout)
    }

    /// Runs every deadline up to `until` in order, as one browser timer would.
    pub fn run_until(&mut self, until: f64) -> Vec<Output<Payload>> {
        let mut outputs = Vec::new();
        while let Some(due) = self
            .transport
            .poll_timeout()
            .filter(|due| due.as_ms() <= until)
        {
            self.now = self.now.max(due.as_ms());
            outputs.extend(self.input(Input::Timeout));
        }
        self.now = self.now.max(until);
        outputs
    }

    pub fn connect(&mut self) -> Vec<Output<Payload>> {
        self.input(Input::Connect)
    }

    pub fn open(&mut self) -> Vec<Output<Payload>> {
        self.input(Input::SocketOpened)
    }

    pub fn close(&mut self, code: u16) -> Vec<Output<Payload>> {
        self.input(Input::SocketClosed {
            close: close_info(code),
            verdict: None,
        })
    }

    /// A frame of `kind` on the socket, with this id and seq; whether it is delivered.
    pub fn frame(&mut self, kind: FrameKind, id: Option<&str>, seq: f64) -> bool {
        self.frame_on(FrameSource::Socket, kind, id, seq)
    }

    /// A frame of `kind` from `source`; whether it is delivered.
    pub fn frame_on(
        &mut self,
        source: FrameSource,
        kind: FrameKind,
        id: Option<&str>,
        seq: f64,
    ) -> bool {
        let frame = InboundFrame {
            id: id.map(str::to_owned),
            seq,
            ..InboundFrame::of_kind(source, kind)
        };
        let handled = self
            .transport
            .handle_input(Instant::from_ms(self.now), Input::Frame(frame));
        handled == Ok(Handled::Frame { deliver: true })
    }

    /// A `welcome` (`first_seq` NaN) or `reset` control frame naming `epoch`,
    /// on the socket; whether it is delivered.
    pub fn control(&mut self, kind: FrameKind, epoch: Option<&str>, first_seq: f64) -> bool {
        let frame = InboundFrame {
            epoch: epoch.map(str::to_owned),
            first_available: first_seq,
            ..InboundFrame::of_kind(FrameSource::Socket, kind)
        };
        let handled = self
            .transport
            .handle_input(Instant::from_ms(self.now), Input::Frame(frame));
        handled == Ok(Handled::Frame { deliver: true })
    }

    /// Answers ping `number` with a pong.
    pub fn pong(&mut self, number: u64) -> Vec<Output<Payload>> {
        let id = self.transport.ping_id(number);
        self.frame(FrameKind::Pong, Some(&id), f64::NAN);
        self.take()
    }

    pub fn state(&self) -> ConnectionState {
        self.transport.state()
    }

    /// Connects and opens, returning the actions of the open.
    pub fn connected(options: OptionValues) -> Self {
        let mut sim = Self::new(options);
        sim.connect();
        sim.open();
        sim
    }
}

/// One-input shorthands named after the events they replay. Each feeds
/// exactly one [`Input`] at `now` (ms).
pub trait Inputs {
    fn feed(&mut self, now: f64, input: Input<Payload>) -> Result<Handled, InputError>;
    fn timer_due(&self, kind: Deadline) -> Option<f64>;

    fn has_pending_timers(&self) -> bool {
        Deadline::ALL
            .iter()
            .any(|&kind| self.timer_due(kind).is_some())
    }
    fn reconnect(&mut self, now: f64) {
        let _ = self.feed(now, Input::Reconnect);
    }
    fn disconnect(&mut self, now: f64, code: u16, reason: &str) -> Result<(), InputError> {
        let reason = reason.to_owned();
        self.feed(now, Input::Disconnect { code, reason })
            .map(|_| ())
    }
    fn send(
        &mut self,
        now: f64,
        payload: Payload,
        envelope: Option<u64>,
    ) -> Result<SendOutcome, InputError> {
        self.send_sized(now, payload, envelope, 1)
    }
    /// A send of a message `bytes` long.
    fn send_sized(
        &mut self,
        now: f64,
        payload: Payload,
        envelope: Option<u64>,
        bytes: u32,
    ) -> Result<SendOutcome, InputError> {
        let input = Input::Send {
            payload,
            envelope,
            bytes,
        };
        match self.feed(now, input)? {
            Handled::Sent(outcome) => Ok(outcome),
            other => panic!("send answered {other:?}"),
        }
    }
    fn clear_queue(&mut self) {
        let _ = self.feed(0.0, Input::ClearQueue);
    }
    fn on_open(&mut self, now: f64) {
        let _ = self.feed(now, Input::SocketOpened);
    }
    fn on_open_failed(&mut self, now: f64, message: &str) {
        let message = message.to_owned();
        let _ = self.feed(now, Input::SocketUnusable { message });
    }
    fn on_close(&mut self, now: f64, close: CloseInfo, verdict: Option<bool>) {
        let _ = self.feed(now, Input::SocketClosed { close, verdict });
    }
    fn on_timeout(&mut self, now: f64) {
        let _ = self.feed(now, Input::Timeout);
    }
    fn on_url_resolved(&mut self, now: f64, attempt: u64, result: Result<String, String>) {
        let _ = self.feed(now, Input::UrlResolved { attempt, result });
    }
    fn on_events_open(&mut self, now: f64) {
        let _ = self.feed(now, Input::EventsOpened);
    }
    fn on_events_error(&mut self, now: f64) {
        let _ = self.feed(now, Input::EventsFailed);
    }
    fn on_post_done(&mut self, now: f64, delivered: bool, failure: &str) {
        let input = if delivered {
            Input::PostAnswered {
                status: 200,
                retry_after: String::new(),
            }
        } else {
            Input::PostFailed {
                reason: failure.to_owned(),
            }
        };
        let _ = self.feed(now, input);
    }
    /// A numbered application envelope on the socket; whether it is delivered.
    fn on_numbered_frame(&mut self, now: f64, seq: u64) -> bool {
        let frame = InboundFrame {
            seq: seq as f64,
            ..InboundFrame::of_kind(FrameSource::Socket, FrameKind::Envelope)
        };
        self.feed(now, Input::Frame(frame)) == Ok(Handled::Frame { deliver: true })
    }
    fn on_ack(&mut self, now: f64, id: &str) {
        let frame = InboundFrame {
            id: Some(id.to_owned()),
            ..InboundFrame::of_kind(FrameSource::Socket, FrameKind::Ack)
        };
        let _ = self.feed(now, Input::Frame(frame));
    }
    fn network_online(&mut self, now: f64) {
        let _ = self.feed(now, Input::Page(PageEvent::Online));
    }
    fn network_offline(&mut self, now: f64) {
        let _ = self.feed(now, Input::Page(PageEvent::Offline));
    }
    fn page_visible(&mut self, now: f64) {
        let visible = PageEvent::VisibilityChanged { visible: true };
        let _ = self.feed(now, Input::Page(visible));
    }
    fn page_frozen(&mut self, now: f64) {
        let _ = self.feed(now, Input::Page(PageEvent::PageHide { persisted: true }));
    }
    fn page_restored(&mut self, now: f64) {
        let _ = self.feed(now, Input::Page(PageEvent::PageShow { persisted: true }));
    }
}

impl Inputs for Transport<Payload> {
    fn feed(&mut self, now: f64, input: Input<Payload>) -> Result<Handled, InputError> {
        self.handle_input(Instant::from_ms(now), input)
    }
    fn timer_due(&self, kind: Deadline) -> Option<f64> {
        self.deadline(kind).map(Instant::as_ms)
    }
}

pub fn close_info(code: u16) -> CloseInfo {
    CloseInfo {
        code,
        reason: String::new(),
        was_clean: code != 1006,
    }
}

pub fn reconnecting(actions: &[Output<Payload>]) -> Option<(u32, f64)> {
    actions.iter().find_map(|action| match action {
        Output::Emit(Event::Reconnecting { attempt, delay_ms }) => Some((*attempt, *delay_ms)),
        _ => None,
    })
}

pub fn opens(actions: &[Output<Payload>]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Output::OpenSocket))
        .count()
}

pub fn transmitted(actions: &[Output<Payload>]) -> Vec<Payload> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Transmit(payload) => Some(*payload),
            _ => None,
        })
        .collect()
}

pub fn pings(actions: &[Output<Payload>]) -> Vec<u64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::SendPing { number } => Some(*number),
            _ => None,
        })
        .collect()
}

pub fn errors(actions: &[Output<Payload>]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Emit(Event::Error(message)) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// The `Dropped` events among `actions`: each message given up, and why.
pub fn dropped(actions: &[Output<Payload>]) -> Vec<(Payload, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Emit(Event::Dropped { payload, reason }) => Some((*payload, reason.clone())),
            _ => None,
        })
        .collect()
}

/// The URL of the socket opened among `actions` (the core holds it).
pub fn open_url(sim: &Sim, actions: &[Output<Payload>]) -> String {
    assert!(
        actions.iter().any(|a| matches!(a, Output::OpenSocket)),
        "a socket is opened"
    );
    sim.transport.socket_url().to_owned()
}

/// Fires the retry deadline; the URL of the socket that opens.
pub fn retry_url(sim: &mut Sim) -> String {
    let actions = sim.fire(Deadline::Retry);
    open_url(sim, &actions)
}

/// The attempt number of the URL request among `actions`.
pub fn resolve_request(actions: &[Output<Payload>]) -> u64 {
    actions
        .iter()
        .find_map(|a| match a {
            Output::ResolveUrl { attempt } => Some(*attempt),
            _ => None,
        })
        .expect("asks for a URL")
}
