//! Property tests: random sequences of the core's own [`Input`] against the
//! machine's invariants.
//!
//! The harness plays a well-behaved browser (socket and event-stream events
//! only for what it holds, the timeout at the core's deadline) interleaved
//! with arbitrary application calls, frames of every kind, and plainly stale
//! inputs, and checks after every step: no panic; the queue within capacity
//! and FIFO; at most one socket, one event stream and one POST, and every POST
//! with a deadline; a reported deadline is never already past (no busy loop);
//! an idle transport stays idle, with nothing pending, until `connect` or
//! `reconnect`; messages first leave in the order they were sent; backoff
//! delays within [0, maxReconnectInterval]. At the end every accepted message
//! is acknowledged, reported dropped or lost, or still held: never silently
//! gone.

use proptest::prelude::*;

use super::*;

/// What the harness does next; turned into one [`Input`] (or a clock move).
#[derive(Debug, Clone)]
enum Step {
    Connect,
    Disconnect,
    Reconnect,
    Send,
    ClearQueue,
    SocketOpens,
    SocketCloses(u16, Option<bool>),
    SocketErrors,
    OpenFails,
    /// The timeout at the core's deadline (or now, if none: a stale timer).
    Deadline,
    Frame(FrameKind, bool, f64),
    UrlAnswer(bool),
    Page(PageEvent),
    EventsOpen,
    EventsError,
    PostAnswered(u16),
    PostFails,
    PollAnswered(u16),
    PollFails,
    AckOldest,
    Wait(u16),
}

fn page_event() -> impl Strategy<Value = PageEvent> {
    prop_oneof![
        Just(PageEvent::Online),
        Just(PageEvent::Offline),
        any::<bool>().prop_map(|visible| PageEvent::VisibilityChanged { visible }),
        any::<bool>().prop_map(|persisted| PageEvent::PageHide { persisted }),
        any::<bool>().prop_map(|persisted| PageEvent::PageShow { persisted }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => Just(Step::Connect),
        1 => Just(Step::Disconnect),
        1 => Just(Step::Reconnect),
        4 => Just(Step::Send),
        1 => Just(Step::ClearQueue),
        3 => Just(Step::SocketOpens),
        3 => (
            prop::sample::select(vec![1000u16, 1001, 1006, 1008, 4000, 4401, 4403]),
            prop::option::of(any::<bool>()),
        )
            .prop_map(|(code, verdict)| Step::SocketCloses(code, verdict)),
        1 => Just(Step::SocketErrors),
        1 => Just(Step::OpenFails),
        5 => Just(Step::Deadline),
        3 => (
            (0u8..6).prop_map(FrameKind::from_number),
            any::<bool>(),
            prop_oneof![Just(f64::NAN), (0u32..40).prop_map(f64::from), any::<f64>()],
        )
            .prop_map(|(kind, ours, seq)| Step::Frame(kind, ours, seq)),
        1 => any::<bool>().prop_map(Step::UrlAnswer),
        2 => page_event().prop_map(Step::Page),
        2 => Just(Step::EventsOpen),
        1 => Just(Step::EventsError),
        2 => prop::sample::select(vec![200u16, 204, 400, 401, 413, 429, 503]).prop_map(Step::PostAnswered),
        1 => Just(Step::PostFails),
        2 => prop::sample::select(vec![200u16, 404, 503]).prop_map(Step::PollAnswered),
        1 => Just(Step::PollFails),
        3 => Just(Step::AckOldest),
        1 => any::<u16>().prop_map(Step::Wait),
    ]
}

/// What a browser would hold, updated from the core's outputs.
#[derive(Default)]
struct World {
    socket_open: bool,
    events_open: bool,
    post_in_flight: bool,
    poll_in_flight: bool,
    /// Tracked payloads on the wire, oldest first (acked from the front).
    unacked: Vec<Payload>,
    last_ping: Option<u64>,
    url_request: Option<u64>,
    next_payload: Payload,
    sent_in_order: Vec<Payload>,
    /// Tracked payloads accepted by `send`.
    accepted: Vec<Payload>,
    /// Tracked payloads whose fate was reported (acked, dropped, lost), by number.
    settled: Vec<u64>,
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
        outputs: Vec<Output<Payload>>,
        max_delay: f64,
    ) -> Result<(), TestCaseError> {
        for output in outputs {
            match output {
                Output::OpenSocket => {
                    prop_assert!(!self.socket_open, "a second socket while one is open");
                    self.socket_open = true;
                }
                Output::CloseSocket { .. } => self.socket_open = false,
                Output::SendPing { number } => self.last_ping = Some(number),
                Output::ResolveUrl { attempt } => self.url_request = Some(attempt),
                Output::Transmit(payload) => self.sent(payload),
                Output::OpenEvents { .. } => {
                    prop_assert!(!self.events_open, "a second event stream");
                    self.events_open = true;
                }
                Output::CloseEvents => {
                    self.events_open = false;
                    self.poll_in_flight = false;
                }
                Output::Poll { .. } => {
                    prop_assert!(!self.poll_in_flight, "a second poll in flight");
                    prop_assert!(!self.events_open, "a poll beside an event stream");
                    self.poll_in_flight = true;
                }
                Output::Post { frames, .. } => {
                    prop_assert!(!self.post_in_flight, "a second POST in flight");
                    self.post_in_flight = true;
                    frames.into_iter().for_each(|frame| self.sent(frame));
                }
                Output::AbortPost => {
                    prop_assert!(self.post_in_flight, "aborted a POST that is not in flight");
                    self.post_in_flight = false;
                }
                Output::Emit(Event::Reconnecting { delay_ms, .. }) => {
                    prop_assert!((0.0..=max_delay).contains(&delay_ms), "delay {delay_ms}");
                }
                Output::Emit(Event::Acked(number)) => self.settled.push(number),
                Output::Emit(Event::AckLost { numbers, .. }) => self.settled.extend(numbers),
                // Its promise rejects with the reason.
                Output::Emit(Event::Dropped { payload, .. }) => self.settled.push(payload.into()),
                Output::Emit(_) => {}
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
        .prop_flat_map(|base| (Just(base), 0u8..4, any::<bool>(), 1u8..4, any::<bool>()))
        .prop_map(
            |(
                (initial, factor, jitter, attempts, heartbeat, capacity, policy, provider),
                fallback,
                acks,
                after,
                ack_timeout,
            )| {
                OptionValues {
                    http_fallback_url: (fallback > 0).then(|| "/messages".to_owned()),
                    http_events_url: (fallback > 1).then(|| "/events".to_owned()),
                    enable_websocket: Some(fallback != 3),
                    fallback_after_attempts: Some(f64::from(after)),
                    upgrade_probe_interval: Some(1500.0),
                    delivery: acks.then(|| "at-least-once".to_owned()),
                    ack_timeout: Some(if ack_timeout { 900.0 } else { 0.0 }),
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
        steps in prop::collection::vec(step(), 1..150),
    ) {
        let capacity = options.message_queue_size.unwrap_or(100.0) as usize;
        let max_delay = options.max_reconnect_interval.unwrap_or(30_000.0);
        let tracked = options.delivery.is_some();
        let mut sim = Sim::seeded(options, seed);
        let mut world = World::default();
        for step in steps {
            let idle_before = sim.transport.state() == ConnectionState::Disconnected;
            let mut wakes_up = false;
            let input = match step {
                Step::Connect => { wakes_up = true; Some(Input::Connect) }
                Step::Reconnect => { wakes_up = true; Some(Input::Reconnect) }
                Step::Disconnect => Some(Input::Disconnect { code: 1000, reason: "bye".into() }),
                Step::Send => {
                    world.next_payload += 1;
                    let payload = world.next_payload;
                    let envelope = (payload % 5 != 0).then_some(u64::from(payload));
                    Some(Input::Send { payload, envelope, bytes: 1 })
                }
                Step::ClearQueue => Some(Input::ClearQueue),
                Step::SocketOpens if world.socket_open => Some(Input::SocketOpened),
                Step::SocketCloses(code, verdict) if world.socket_open => {
                    world.socket_open = false;
                    Some(Input::SocketClosed { close: close_info(code), verdict })
                }
                Step::SocketErrors if world.socket_open => Some(Input::SocketError),
                Step::OpenFails if world.socket_open => {
                    world.socket_open = false;
                    Some(Input::SocketUnusable { message: "SecurityError".into() })
                }
                Step::Deadline => {
                    if let Some(due) = sim.transport.poll_timeout() {
                        sim.now = sim.now.max(due.as_ms());
                    }
                    Some(Input::Timeout)
                }
                Step::Frame(kind, ours, seq) => {
                    let id = match kind {
                        FrameKind::Pong | FrameKind::Ping if ours => {
                            world.last_ping.map(|n| sim.transport.ping_id(n))
                        }
                        FrameKind::Ack if ours => world.unacked.first().map(|&p| sim.transport.message_id(p.into())),
                        _ => Some("nope".to_owned()),
                    };
                    let source = if world.events_open || world.poll_in_flight { FrameSource::Events } else { FrameSource::Socket };
                    Some(Input::Frame(InboundFrame { id, seq, first_available: seq, epoch: ours.then(|| "e1".to_owned()), ..InboundFrame::of_kind(source, kind) }))
                }
                Step::UrlAnswer(ok) => world.url_request.take().map(|attempt| Input::UrlResolved {
                    attempt,
                    result: if ok { Ok("ws://h/p".to_owned()) } else { Err("no token".to_owned()) },
                }),
                Step::Page(event) => {
                    wakes_up = event == PageEvent::PageShow { persisted: true };
                    Some(Input::Page(event))
                }
                Step::EventsOpen if world.events_open => Some(Input::EventsOpened),
                Step::EventsError if world.events_open => {
                    world.events_open = false;
                    Some(Input::EventsFailed)
                }
                Step::PostAnswered(status) if world.post_in_flight => {
                    world.post_in_flight = false;
                    Some(Input::PostAnswered { status, retry_after: "1".into() })
                }
                Step::PostFails if world.post_in_flight => {
                    world.post_in_flight = false;
                    Some(Input::PostFailed { reason: "network".into() })
                }
                Step::PollAnswered(status) if world.poll_in_flight => {
                    world.poll_in_flight = false;
                    Some(if status < 300 { Input::EventsOpened } else { Input::EventsFailed })
                }
                Step::PollFails if world.poll_in_flight => {
                    world.poll_in_flight = false;
                    Some(Input::EventsFailed)
                }
                Step::AckOldest if !world.unacked.is_empty() => {
                    let id = sim.transport.message_id(world.unacked.remove(0).into());
                    let frame = InboundFrame { id: Some(id), ..InboundFrame::of_kind(FrameSource::Socket, FrameKind::Ack) };
                    Some(Input::Frame(frame))
                }
                Step::Wait(ms) => { sim.now += f64::from(ms); None }
                _ => None,
            };
            let Some(input) = input else { continue };
            let timeout = input == Input::Timeout;
            let accepts = matches!(&input, Input::Send { envelope: Some(_), .. }) && tracked;
            let payload = match &input { Input::Send { payload, .. } => *payload, _ => 0 };
            let answer = sim.transport.handle_input(Instant::from_ms(sim.now), input);
            if accepts && matches!(answer, Ok(Handled::Sent(outcome)) if outcome != SendOutcome::Dropped) {
                world.accepted.push(payload);
            }
            let outputs = sim.take();
            world.apply(outputs, max_delay)?;
            let t = &sim.transport;
            prop_assert!(t.queue_length() <= capacity);
            let queued: Vec<Payload> = t.queued().copied().collect();
            prop_assert!(queued.windows(2).all(|w| w[0] < w[1]), "queue out of order: {:?}", queued);
            if timeout {
                // Handled at `now`, so what is left lies ahead: no busy loop.
                if let Some(due) = t.poll_timeout() {
                    prop_assert!(due.as_ms() > sim.now, "deadline {} already past at {}", due.as_ms(), sim.now);
                }
            }
            prop_assert!(!world.post_in_flight || t.deadline(Deadline::Post).is_some(), "a POST without a deadline");
            if idle_before && !wakes_up && t.state() == ConnectionState::Disconnected {
                prop_assert!(!world.socket_open && !world.events_open, "an idle transport holds a channel");
            }
            if idle_before && !wakes_up {
                prop_assert_eq!(t.state(), ConnectionState::Disconnected, "idle woke up by itself");
            }
        }
        // Everything sent left in the order it was sent.
        prop_assert!(world.sent_in_order.windows(2).all(|w| w[0] < w[1]), "{:?}", world.sent_in_order);
        // Told to stop, nothing is left pending or open.
        sim.transport.disconnect(sim.now, 1000, "end").unwrap();
        let outputs = sim.take();
        world.apply(outputs, max_delay)?;
        // Only a POST already in flight may still run out (it is let finish:
        // its messages may have arrived).
        prop_assert_eq!(sim.transport.poll_timeout(), sim.transport.deadline(Deadline::Post), "deadlines left pending");
        prop_assert!(!world.socket_open);
        prop_assert!(!world.events_open);
        // No accepted tracked message vanished without a word.
        let held: Vec<u64> = sim.transport.queued().map(|&p| p.into()).collect();
        for payload in world.accepted {
            let number = u64::from(payload);
            prop_assert!(world.settled.contains(&number) || held.contains(&number), "message {} silently lost", payload);
        }
    }
}
