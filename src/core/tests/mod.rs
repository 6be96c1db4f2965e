//! Behaviour tests of the whole state machine on a simulated clock.
//!
//! [`Sim`] plays the driver: it keeps the time, executes nothing, and records
//! every action so tests can assert on exactly what the core decided.

mod backoff_schedule;
mod delivery;
mod fallback;
mod heartbeat;
mod lifecycle;
mod properties;
mod queue_flush;
mod resume;

use super::*;

/// Payloads are numbers so FIFO order is easy to check.
pub type Payload = u32;

pub struct Sim {
    pub transport: Transport<Payload>,
    pub now: f64,
    pub actions: Vec<Action<Payload>>,
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
    pub fn take(&mut self) -> Vec<Action<Payload>> {
        let mut fresh: Vec<_> = std::iter::from_fn(|| self.transport.poll_action()).collect();
        self.actions.extend(fresh.iter().cloned());
        std::mem::take(&mut fresh)
    }

    pub fn at(&mut self, now: f64) -> &mut Self {
        assert!(now >= self.now, "time runs forward");
        self.now = now;
        self
    }

    /// Advances the clock to `kind`'s due time and fires it.
    pub fn fire(&mut self, kind: TimerKind) -> Vec<Action<Payload>> {
        let due = self
            .transport
            .timer_due(kind)
            .unwrap_or_else(|| panic!("{kind:?} is not armed"));
        self.now = self.now.max(due);
        self.transport.on_timer(self.now, kind);
        self.take()
    }

    pub fn connect(&mut self) -> Vec<Action<Payload>> {
        self.transport.connect(self.now);
        self.take()
    }

    pub fn open(&mut self) -> Vec<Action<Payload>> {
        self.transport.on_open(self.now);
        self.take()
    }

    pub fn close(&mut self, code: u16) -> Vec<Action<Payload>> {
        self.transport.on_close(self.now, close_info(code), None);
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

pub fn close_info(code: u16) -> CloseInfo {
    CloseInfo {
        code,
        reason: String::new(),
        was_clean: code != 1006,
    }
}

pub fn reconnecting(actions: &[Action<Payload>]) -> Option<(u32, f64)> {
    actions.iter().find_map(|action| match action {
        Action::Emit(Event::Reconnecting { attempt, delay_ms }) => Some((*attempt, *delay_ms)),
        _ => None,
    })
}

pub fn opens(actions: &[Action<Payload>]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::OpenSocket { .. }))
        .count()
}

pub fn transmitted(actions: &[Action<Payload>]) -> Vec<Payload> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Transmit(payload) => Some(*payload),
            _ => None,
        })
        .collect()
}

pub fn pings(actions: &[Action<Payload>]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendPing { id } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

pub fn errors(actions: &[Action<Payload>]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(Event::Error(message)) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// The URL of the socket opened among `actions`.
pub fn open_url(actions: &[Action<Payload>]) -> String {
    actions
        .iter()
        .find_map(|a| match a {
            Action::OpenSocket { url } => Some(url.clone()),
            _ => None,
        })
        .expect("a socket is opened")
}

/// The attempt number of the URL request among `actions`.
pub fn resolve_request(actions: &[Action<Payload>]) -> u64 {
    actions
        .iter()
        .find_map(|a| match a {
            Action::ResolveUrl { attempt } => Some(*attempt),
            _ => None,
        })
        .expect("asks for a URL")
}
