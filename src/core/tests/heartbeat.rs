//! Heartbeat: the first ping on open, latency samples, the silence rule
//! against servers as they are, dead-link detection, throttled timers.

use super::*;

/// Runs the clock to the heartbeat's next ping and returns its number.
fn next_ping(sim: &mut Sim) -> u64 {
    let numbers = pings(&sim.fire(Deadline::Heartbeat));
    assert_eq!(numbers.len(), 1, "one ping per heartbeat");
    numbers[0]
}

fn closes(outputs: &[Output<Payload>]) -> usize {
    outputs
        .iter()
        .filter(|o| matches!(o, Output::CloseSocket { .. }))
        .count()
}

#[test]
fn the_first_ping_goes_out_as_the_socket_opens_so_latency_is_known_at_once() {
    let mut sim = Sim::new(quiet_options());
    sim.connect();
    let opened = sim.open();
    assert_eq!(pings(&opened), [1], "ping right after open");
    sim.at(12.34);
    let outputs = sim.pong(1);
    let latency = outputs.iter().find_map(|o| match o {
        Output::Emit(Event::Latency(stats)) => Some(*stats),
        _ => None,
    });
    assert_eq!(latency.expect("a latency event").last, Some(12.3));
    assert_eq!(sim.transport.latency_ms(), Some(12.3), "rounded to 0.1 ms");
    assert_eq!(sim.transport.snapshot().latency.samples, 1);
    // The next ping keeps the cadence: one interval after the last was sent.
    assert_eq!(sim.transport.timer_due(Deadline::Heartbeat), Some(3000.0));
}

#[test]
fn pongs_with_other_ids_are_ignored() {
    let mut sim = Sim::connected(quiet_options());
    for id in ["someone-else", "s-p1", ""] {
        assert!(
            !sim.frame(FrameKind::Pong, Some(id), f64::NAN),
            "never delivered"
        );
    }
    let foreign = sim.transport.ping_id(1) + "0";
    sim.frame(FrameKind::Pong, Some(&foreign), f64::NAN);
    assert!(sim.take().is_empty());
    assert_eq!(sim.transport.latency_ms(), None);
}

#[test]
fn an_echo_server_answers_pings_by_sending_them_back() {
    let mut sim = Sim::connected(quiet_options());
    sim.at(4.0);
    let own = sim.transport.ping_id(1);
    assert!(
        !sim.frame(FrameKind::Ping, Some(&own), f64::NAN),
        "our ping is not delivered"
    );
    assert_eq!(sim.transport.latency_ms(), Some(4.0));
    // A late copy is swallowed too; a server's own ping is an application frame.
    assert!(!sim.frame(FrameKind::Ping, Some(&own), f64::NAN));
    assert!(sim.frame(FrameKind::Ping, Some("server-7"), f64::NAN));
}

#[test]
fn a_server_that_answers_pings_and_falls_silent_is_closed_with_4000_and_an_error() {
    let mut sim = Sim::connected(quiet_options());
    sim.pong(1);
    next_ping(&mut sim);
    let outputs = sim.fire(Deadline::Heartbeat);
    assert_eq!(
        sim.now, 3700.0,
        "interval + timeout after the last sign of life"
    );
    assert_eq!(
        outputs
            .iter()
            .find(|o| matches!(o, Output::CloseSocket { .. })),
        Some(&Output::CloseSocket {
            code: 4000,
            reason: "heartbeat timeout".into()
        })
    );
    let error = errors(&outputs).pop().expect("an error event");
    assert_eq!(
        error,
        "heartbeat timeout: silence after a ping (the server answered them before); reconnecting"
    );
    assert!(outputs.contains(&Output::Emit(Event::Closed(CloseInfo {
        code: 4000,
        reason: "heartbeat timeout".into(),
        was_clean: false
    }))));
    assert_eq!(reconnecting(&outputs), Some((1, 100.0)));
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    assert_eq!(opens(&sim.fire(Deadline::Retry)), 1);
}

#[test]
fn any_frame_after_a_ping_keeps_the_link() {
    let mut sim = Sim::connected(quiet_options());
    sim.pong(1);
    next_ping(&mut sim);
    sim.at(3100.0);
    assert!(sim.frame(FrameKind::Envelope, None, f64::NAN));
    let outputs = sim.run_until(3800.0);
    assert_eq!(closes(&outputs), 0);
    assert!(errors(&outputs).is_empty());
    assert_eq!(sim.state(), ConnectionState::Connected);
}

/// Ten minutes against a server, with the default options, counting closes.
fn ten_minutes(server: impl Fn(&mut Sim, u64)) -> (usize, usize) {
    let mut sim = Sim::new(OptionValues {
        url: Some("ws://h/ws".into()),
        session_id: "s".into(),
        ..OptionValues::default()
    });
    sim.connect();
    sim.open();
    let mut outputs = Vec::new();
    for second in 1..=600u64 {
        let mut step = sim.run_until(second as f64 * 1000.0);
        if opens(&step) > 0 {
            step.extend(sim.open()); // the server accepts every connection
        }
        outputs.extend(step);
        // Whatever the core sent this second, the server answers as it does.
        let sent = pings(&sim.actions);
        sim.actions.clear();
        for number in sent {
            server(&mut sim, number);
        }
        server(&mut sim, 0);
    }
    (closes(&outputs), errors(&outputs).len())
}

#[test]
fn ten_minutes_against_an_echo_server_and_a_pushing_server_close_nothing() {
    // Echoes every frame verbatim: our pings come back as pings.
    let echo = |sim: &mut Sim, ping: u64| {
        if ping > 0 {
            let id = sim.transport.ping_id(ping);
            sim.frame(FrameKind::Ping, Some(&id), f64::NAN);
        }
    };
    assert_eq!(ten_minutes(echo), (0, 0));
    // Ignores the client, pushes a frame of its own every 30 s (once per interval).
    let pusher = |sim: &mut Sim, ping: u64| {
        if ping == 0 && (sim.now as u64) % 30_000 == 0 {
            sim.frame(FrameKind::Envelope, None, f64::NAN);
        }
    };
    assert_eq!(ten_minutes(pusher), (0, 0));
}

#[test]
fn a_server_that_never_sends_is_closed_once_then_kept_with_one_error() {
    assert_eq!(
        ten_minutes(|_, _| {}),
        (1, 2),
        "one close, its error, and one 'stopped checking'"
    );
    let mut sim = Sim::connected(quiet_options());
    let first = sim.run_until(3700.0);
    assert_eq!(closes(&first), 1, "interval + timeout of silence");
    let message = errors(&first).pop().expect("an error");
    assert!(
        message.contains("no ping was ever answered; reconnecting once"),
        "{message}"
    );
    assert!(
        message.contains("heartbeatInterval: 0"),
        "says what to do: {message}"
    );
    sim.fire(Deadline::Retry);
    sim.open();
    let second = sim.run_until(200_000.0);
    assert_eq!(closes(&second), 0);
    let said = errors(&second);
    assert_eq!(said.len(), 1);
    assert!(said[0].contains("no longer checked"), "{}", said[0]);
    assert_eq!(sim.state(), ConnectionState::Connected);
}

#[test]
fn a_late_deadline_probes_instead_of_declaring_death() {
    let mut sim = Sim::connected(quiet_options());
    sim.pong(1);
    let first = next_ping(&mut sim);
    // The tab was throttled: the timeout runs 60 s after it was due.
    sim.at(3700.0 + 60_000.0);
    let outputs = sim.input(Input::Timeout);
    assert_eq!(closes(&outputs), 0);
    let probe = pings(&outputs);
    assert_eq!(probe.len(), 1);
    assert_ne!(probe[0], first);
    assert_eq!(sim.state(), ConnectionState::Connected);
    // The probe is answered: alive, with an honest sample.
    sim.at(sim.now + 40.0);
    sim.pong(probe[0]);
    assert_eq!(sim.transport.latency_ms(), Some(40.0));
    // Had it gone unanswered, an on-time deadline would have ended the link.
    next_ping(&mut sim);
    let outputs = sim.fire(Deadline::Heartbeat);
    assert_eq!(closes(&outputs), 1);
}

#[test]
fn heartbeat_can_be_switched_off() {
    let mut sim = Sim::new(OptionValues {
        heartbeat_interval: Some(0.0),
        ..quiet_options()
    });
    sim.connect();
    assert!(pings(&sim.open()).is_empty());
    assert_eq!(sim.transport.timer_due(Deadline::Heartbeat), None);
    sim.transport.page_visible(sim.now);
    assert!(
        pings(&sim.take()).is_empty(),
        "no probe to a server that may not answer pings"
    );
}

#[test]
fn a_custom_ping_type_is_what_the_frame_table_reads() {
    let sim = Sim::new(OptionValues {
        ping_type: Some("hb".into()),
        pong_type: Some("hb-ack".into()),
        ..quiet_options()
    });
    let table = sim.transport.frame_types();
    assert!(table.contains(&("hb", FrameKind::Ping)));
    assert!(table.contains(&("hb-ack", FrameKind::Pong)));
    assert!(table.contains(&("ack", FrameKind::Ack)));
    assert!(table.contains(&("gap", FrameKind::Gap)));
}

#[test]
fn an_answer_slower_than_the_interval_still_gives_a_sample() {
    let mut sim = Sim::new(OptionValues {
        heartbeat_interval: Some(100.0),
        heartbeat_timeout: Some(2000.0),
        ..quiet_options()
    });
    sim.connect();
    sim.open();
    // No second ping while the first is out, however short the interval.
    assert!(pings(&sim.run_until(149.0)).is_empty());
    sim.pong(1);
    assert_eq!(sim.transport.latency_ms(), Some(149.0));
    // The next is due an interval after the first was sent: at once.
    assert_eq!(sim.transport.timer_due(Deadline::Heartbeat), Some(149.0));
    assert_eq!(pings(&sim.fire(Deadline::Heartbeat)), [2]);
}
