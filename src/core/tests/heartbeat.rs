//! Heartbeat: latency samples, dead-link detection, and throttled timers.

use super::*;

fn ping_now(sim: &mut Sim) -> String {
    let actions = sim.fire(TimerKind::Heartbeat);
    let ids = pings(&actions);
    assert_eq!(ids.len(), 1, "one ping per heartbeat");
    ids[0].clone()
}

#[test]
fn a_pong_gives_an_rtt_sample_on_the_clients_clock() {
    let mut sim = Sim::connected(quiet_options());
    let id = ping_now(&mut sim);
    assert_eq!(sim.now, 3000.0, "first ping one interval after open");
    sim.at(3150.0);
    sim.transport.on_pong(sim.now, &id);
    let actions = sim.take();
    let latency = actions.iter().find_map(|a| match a {
        Action::Emit(Event::Latency(stats)) => Some(*stats),
        _ => None,
    });
    let latency = latency.expect("a latency event");
    assert_eq!(latency.last, Some(150.0));
    assert_eq!(latency.samples, 1);
    assert_eq!(sim.transport.latency_ms(), Some(150.0));
    assert!(actions.contains(&Action::CancelTimer {
        kind: TimerKind::PongTimeout
    }));
    // The next ping keeps the cadence: one interval after the last one was sent.
    assert_eq!(sim.transport.timer_due(TimerKind::Heartbeat), Some(6000.0));
}

#[test]
fn pongs_with_other_ids_are_ignored() {
    let mut sim = Sim::connected(quiet_options());
    let id = ping_now(&mut sim);
    sim.transport.on_pong(sim.now, "someone-else");
    sim.transport.on_pong(sim.now, &(id.clone() + "x"));
    assert!(sim.take().is_empty());
    assert!(sim.transport.timer_due(TimerKind::PongTimeout).is_some());
}

#[test]
fn no_pong_in_time_closes_with_4000_and_reconnects() {
    let mut sim = Sim::connected(quiet_options());
    ping_now(&mut sim);
    let actions = sim.fire(TimerKind::PongTimeout);
    assert_eq!(sim.now, 3700.0);
    assert_eq!(
        actions[0],
        Action::CloseSocket {
            code: 4000,
            reason: "heartbeat timeout".into()
        }
    );
    assert!(actions.contains(&Action::Emit(Event::Closed(CloseInfo {
        code: 4000,
        reason: "heartbeat timeout".into(),
        was_clean: false
    }))));
    assert_eq!(reconnecting(&actions), Some((1, 100.0)));
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    assert_eq!(
        sim.transport.snapshot().last_close.map(|c| c.code),
        Some(4000)
    );
    // The next attempt reconnects.
    assert_eq!(opens(&sim.fire(TimerKind::Retry)), 1);
}

#[test]
fn a_late_pong_timeout_probes_instead_of_declaring_death() {
    let mut sim = Sim::connected(quiet_options());
    let first = ping_now(&mut sim);
    // The tab was throttled: the timeout runs 60 s after it was due.
    sim.at(3700.0 + 60_000.0);
    sim.transport.on_timer(sim.now, TimerKind::PongTimeout);
    let actions = sim.take();
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::CloseSocket { .. })));
    let probe = pings(&actions);
    assert_eq!(probe.len(), 1);
    assert_ne!(probe[0], first);
    assert_eq!(sim.state(), ConnectionState::Connected);
    // The probe is answered: alive, with an honest sample.
    sim.at(sim.now + 40.0);
    sim.transport.on_pong(sim.now, &probe[0]);
    assert_eq!(sim.transport.latency_ms(), Some(40.0));
    // Had it gone unanswered, an on-time timeout would have ended the link.
    ping_now(&mut sim);
    let actions = sim.fire(TimerKind::PongTimeout);
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::CloseSocket { code: 4000, .. })));
}

#[test]
fn heartbeat_can_be_switched_off() {
    let mut sim = Sim::connected(OptionValues {
        heartbeat_interval: Some(0.0),
        ..quiet_options()
    });
    assert_eq!(sim.transport.timer_due(TimerKind::Heartbeat), None);
    sim.transport.page_visible(sim.now);
    assert!(
        pings(&sim.take()).is_empty(),
        "no probe to a server that may not answer pings"
    );
}

#[test]
fn a_custom_ping_type_is_carried_in_the_config() {
    let config = OptionValues {
        ping_type: Some("hb".into()),
        pong_type: Some("hb-ack".into()),
        ..quiet_options()
    }
    .validate()
    .unwrap();
    assert_eq!(
        (config.ping_type.as_str(), config.pong_type.as_str()),
        ("hb", "hb-ack")
    );
}
