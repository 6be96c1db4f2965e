//! Property tests: random input sequences against the machine's invariants.
//!
//! The harness plays a well-behaved browser (socket events only for the socket
//! it holds, timers only when armed) interleaved with arbitrary application
//! calls and some plainly stale inputs, and checks after every step:
//! no panic; the queue within capacity and FIFO; at most one socket, one event
//! stream and one POST; messages first leave in the order they were sent;
//! backoff delays within [0, maxReconnectInterval]; every timer fired or
//! cancelled. Options vary over delivery guarantees and the HTTP fallback.

use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone)]
enum Input {
    Connect,
    Disconnect,
    Reconnect,
    Send,
    ClearQueue,
    SocketOpens,
    SocketCloses(u16),
    SocketErrors,
    OpenFails,
    FireTimer(usize),
    StaleTimer(usize),
    Pong(bool),
    UrlAnswer(bool),
    Offline,
    Online,
    Visible,
    Frozen,
    Restored,
    EventsOpen,
    EventsError,
    PostDone(bool),
    AckOldest,
    Wait(u16),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        1 => Just(Input::Connect),
        1 => Just(Input::Disconnect),
        1 => Just(Input::Reconnect),
        4 => Just(Input::Send),
        1 => Just(Input::ClearQueue),
        3 => Just(Input::SocketOpens),
        3 => prop::sample::select(vec![1000u16, 1001, 1006, 1008, 4000, 4401, 4403]).prop_map(Input::SocketCloses),
        1 => Just(Input::SocketErrors),
        1 => Just(Input::OpenFails),
        4 => (0usize..TIMER_KINDS).prop_map(Input::FireTimer),
        1 => (0usize..TIMER_KINDS).prop_map(Input::StaleTimer),
        1 => any::<bool>().prop_map(Input::Pong),
        1 => any::<bool>().prop_map(Input::UrlAnswer),
        1 => Just(Input::Offline),
        1 => Just(Input::Online),
        1 => Just(Input::Visible),
        1 => Just(Input::Frozen),
        1 => Just(Input::Restored),
        2 => Just(Input::EventsOpen),
        1 => Just(Input::EventsError),
        2 => any::<bool>().prop_map(Input::PostDone),
        3 => Just(Input::AckOldest),
        1 => any::<u16>().prop_map(Input::Wait),
    ]
}

/// What a browser would hold, updated from the core's actions.
#[derive(Default)]
struct World {
    socket_open: bool,
    events_open: bool,
    post_in_flight: bool,
    /// Tracked payloads on the wire, oldest first (acked from the front).
    unacked: Vec<Payload>,
    armed: [bool; TIMER_KINDS],
    last_ping: Option<String>,
    url_request: Option<u64>,
    next_payload: Payload,
    sent_in_order: Vec<Payload>,
}

impl World {
    /// Records a transmission; only first transmissions of envelopes must be in
    /// order (at-least-once re-sends repeat earlier ones, and raw frames, every
    /// fifth payload, wait for a WebSocket while envelopes go over HTTP).
    fn sent(&mut self, payload: Payload) {
        if payload % 5 != 0 && !self.sent_in_order.contains(&payload) {
            self.sent_in_order.push(payload);
        }
        if !self.unacked.contains(&payload) {
            self.unacked.push(payload);
        }
    }

    fn apply(
        &mut self,
        actions: Vec<Action<Payload>>,
        max_delay: f64,
    ) -> Result<(), TestCaseError> {
        for action in actions {
            match action {
                Action::OpenSocket { .. } => {
                    prop_assert!(!self.socket_open, "a second socket while one is open");
                    self.socket_open = true;
                }
                Action::CloseSocket { .. } => self.socket_open = false,
                Action::SetTimer { kind, .. } => self.armed[kind.slot()] = true,
                Action::CancelTimer { kind } => {
                    prop_assert!(
                        self.armed[kind.slot()],
                        "cancelled a timer that was not set"
                    );
                    self.armed[kind.slot()] = false;
                }
                Action::SendPing { id } => self.last_ping = Some(id),
                Action::ResolveUrl { attempt } => self.url_request = Some(attempt),
                Action::Transmit(payload) => self.sent(payload),
                Action::OpenEvents { .. } => {
                    prop_assert!(!self.events_open, "a second event stream");
                    self.events_open = true;
                }
                Action::CloseEvents => self.events_open = false,
                Action::Post { frames, .. } => {
                    prop_assert!(!self.post_in_flight, "a second POST in flight");
                    self.post_in_flight = true;
                    frames.into_iter().for_each(|frame| self.sent(frame));
                }
                Action::Emit(Event::Reconnecting { delay_ms, .. }) => {
                    prop_assert!((0.0..=max_delay).contains(&delay_ms), "delay {delay_ms}");
                }
                Action::Emit(_) => {}
            }
        }
        Ok(())
    }
}

fn options_strategy() -> impl Strategy<Value = OptionValues> {
    (
        0.0f64..2000.0,
        1.0f64..4.0,
        0.0f64..=1.0,
        0u8..5,
        any::<bool>(),
        0u8..6,
        0u8..3,
        any::<bool>(),
    )
        .prop_flat_map(|base| (Just(base), 0u8..4, any::<bool>(), 1u8..4))
        .prop_map(
            |(
                (initial, factor, jitter, attempts, heartbeat, capacity, policy, provider),
                fallback,
                acks,
                after,
            )| {
                OptionValues {
                    http_fallback_url: (fallback > 0).then(|| "/messages".to_owned()),
                    http_events_url: (fallback > 1).then(|| "/events".to_owned()),
                    enable_websocket: Some(fallback != 3),
                    fallback_after_attempts: Some(f64::from(after)),
                    upgrade_probe_interval: Some(1500.0),
                    delivery: acks.then(|| "at-least-once".to_owned()),
                    ack_timeout: Some(900.0),
                    url: (!provider).then(|| "ws://h/ws".to_owned()),
                    reconnect_interval: Some(initial),
                    max_reconnect_interval: Some(initial + 3000.0),
                    reconnect_backoff_factor: Some(factor),
                    reconnect_jitter: Some(jitter),
                    max_reconnect_attempts: Some(if attempts == 4 {
                        f64::INFINITY
                    } else {
                        f64::from(attempts)
                    }),
                    heartbeat_interval: Some(if heartbeat { 1000.0 } else { 0.0 }),
                    message_queue_size: Some(f64::from(capacity)),
                    queue_overflow: Some(
                        ["drop-oldest", "drop-newest", "error"][usize::from(policy)].to_owned(),
                    ),
                    ..quiet_options()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_any_input_sequence(
        options in options_strategy(),
        seed in any::<u64>(),
        inputs in prop::collection::vec(input(), 1..120),
    ) {
        let capacity = options.message_queue_size.unwrap_or(100.0) as usize;
        let max_delay = options.max_reconnect_interval.unwrap_or(30_000.0);
        let mut sim = Sim::seeded(options, seed);
        let mut world = World::default();
        for input in inputs {
            let now = sim.now;
            let t = &mut sim.transport;
            match input {
                Input::Connect => t.connect(now),
                Input::Disconnect => { let _ = t.disconnect(now, 1000, "bye"); }
                Input::Reconnect => t.reconnect(now),
                Input::Send => {
                    world.next_payload += 1;
                    let payload = world.next_payload;
                    let _ = t.send(now, payload, (payload % 5 != 0).then_some(payload.into()));
                }
                Input::ClearQueue => t.clear_queue(),
                Input::SocketOpens if world.socket_open => t.on_open(now),
                Input::SocketCloses(code) if world.socket_open => {
                    world.socket_open = false;
                    t.on_close(now, close_info(code), None);
                }
                Input::SocketErrors if world.socket_open => t.on_error(now),
                Input::OpenFails if world.socket_open => {
                    world.socket_open = false;
                    t.on_open_failed(now, "SecurityError");
                }
                Input::FireTimer(slot) if world.armed[slot] => {
                    let kind = TimerKind::ALL[slot];
                    world.armed[slot] = false;
                    let due = t.timer_due(kind);
                    prop_assert!(due.is_some(), "{:?} armed in the world but not in the core", kind);
                    sim.now = now.max(due.unwrap_or(now));
                    sim.transport.on_timer(sim.now, kind);
                }
                Input::StaleTimer(slot) if !world.armed[slot] => t.on_timer(now, TimerKind::ALL[slot]),
                Input::Pong(matching) => {
                    let id = if matching { world.last_ping.clone().unwrap_or_default() } else { "nope".into() };
                    t.on_pong(now, &id);
                }
                Input::UrlAnswer(ok) => {
                    if let Some(attempt) = world.url_request.take() {
                        let answer = if ok { Ok("ws://h/p".to_owned()) } else { Err("no token".to_owned()) };
                        t.on_url_resolved(now, attempt, answer);
                    }
                }
                Input::Offline => t.network_offline(now),
                Input::Online => t.network_online(now),
                Input::Visible => t.page_visible(now),
                Input::Frozen => t.page_frozen(now),
                Input::Restored => t.page_restored(now),
                Input::EventsOpen if world.events_open => t.on_events_open(now),
                Input::EventsError if world.events_open => {
                    world.events_open = false;
                    t.on_events_error(now);
                }
                Input::PostDone(ok) if world.post_in_flight => {
                    world.post_in_flight = false;
                    t.on_post_done(now, ok, "503");
                }
                Input::AckOldest if !world.unacked.is_empty() => {
                    let id = t.message_id(world.unacked.remove(0).into());
                    t.on_ack(now, &id);
                }
                Input::Wait(ms) => sim.now += f64::from(ms),
                _ => {}
            }
            let actions = sim.take();
            world.apply(actions, max_delay)?;
            prop_assert!(sim.transport.queue_length() <= capacity);
            let queued: Vec<Payload> = sim.transport.queued().copied().collect();
            prop_assert!(queued.windows(2).all(|w| w[0] < w[1]), "queue out of order: {:?}", queued);
            for (slot, armed) in world.armed.iter().enumerate() {
                prop_assert_eq!(*armed, sim.transport.timer_due(TimerKind::ALL[slot]).is_some());
            }
        }
        // Everything sent left in the order it was sent.
        prop_assert!(world.sent_in_order.windows(2).all(|w| w[0] < w[1]), "{:?}", world.sent_in_order);
        // Every timer set is fired or cancelled once the transport is told to stop.
        sim.transport.disconnect(sim.now, 1000, "end").unwrap();
        let actions = sim.take();
        world.apply(actions, max_delay)?;
        prop_assert!(world.armed.iter().all(|armed| !armed), "timers left pending: {:?}", world.armed);
        prop_assert!(!world.socket_open);
        prop_assert!(!world.events_open);
    }
}
