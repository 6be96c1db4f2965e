//! Reconnection timing: the backoff schedule, jitter, resets and limits.

use super::*;

/// Fails every attempt and returns (attempt, delay, time the socket was opened).
fn failing_schedule(sim: &mut Sim, failures: usize) -> Vec<(u32, f64, f64)> {
    let mut schedule = Vec::new();
    sim.connect();
    for _ in 0..failures {
        let actions = sim.close(1006);
        let Some((attempt, delay)) = reconnecting(&actions) else {
            break;
        };
        let actions = sim.fire(Deadline::Retry);
        assert_eq!(opens(&actions), 1, "each retry opens exactly one socket");
        schedule.push((attempt, delay, sim.now));
    }
    schedule
}

#[test]
fn the_schedule_without_jitter_is_exact_and_capped() {
    let mut sim = Sim::new(quiet_options());
    let schedule = failing_schedule(&mut sim, 5);
    assert_eq!(
        schedule,
        vec![
            (1, 100.0, 100.0),
            (2, 200.0, 300.0),
            (3, 400.0, 700.0),
            (4, 800.0, 1500.0),
            (5, 1000.0, 2500.0)
        ]
    );
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
}

#[test]
fn max_attempts_ends_disconnected_with_the_reason_and_no_timers() {
    let mut sim = Sim::new(quiet_options());
    failing_schedule(&mut sim, 5);
    let actions = sim.close(1006);
    assert_eq!(reconnecting(&actions), None);
    assert_eq!(opens(&actions), 0);
    assert_eq!(sim.state(), ConnectionState::Disconnected);
    let snapshot = sim.transport.snapshot();
    assert_eq!(
        snapshot.disconnect_reason,
        Some(DisconnectReason::MaxAttempts)
    );
    assert_eq!(snapshot.attempt, 5);
    assert!(!sim.transport.has_pending_timers());
    // connect() starts over with a fresh budget.
    sim.connect();
    assert_eq!(reconnecting(&sim.close(1006)), Some((1, 100.0)));
}

#[test]
fn zero_attempts_means_no_reconnect_and_infinity_means_no_limit() {
    let mut sim = Sim::connected(OptionValues {
        max_reconnect_attempts: Some(0.0),
        ..quiet_options()
    });
    sim.close(1006);
    assert_eq!(
        sim.transport.snapshot().disconnect_reason,
        Some(DisconnectReason::MaxAttempts)
    );

    let mut sim = Sim::new(OptionValues {
        max_reconnect_attempts: Some(f64::INFINITY),
        ..quiet_options()
    });
    let schedule = failing_schedule(&mut sim, 60);
    assert_eq!(schedule.len(), 60);
    assert!(schedule
        .iter()
        .skip(4)
        .all(|&(_, delay, _)| delay == 1000.0));
}

#[test]
fn jitter_is_drawn_per_attempt_within_bounds_and_reproducible() {
    let options = OptionValues {
        reconnect_jitter: Some(1.0),
        max_reconnect_attempts: Some(f64::INFINITY),
        ..quiet_options()
    };
    let run = |seed| {
        let mut sim = Sim::seeded(options.clone(), seed);
        failing_schedule(&mut sim, 40)
            .into_iter()
            .map(|(_, delay, _)| delay)
            .collect::<Vec<_>>()
    };
    let delays = run(1);
    assert_eq!(delays, run(1), "the same seed gives the same schedule");
    assert_ne!(delays, run(2), "another seed gives another schedule");
    let backoff = Backoff {
        initial_ms: 100.0,
        max_ms: 1000.0,
        factor: 2.0,
        jitter: 1.0,
    };
    for (index, delay) in delays.iter().enumerate() {
        let ceiling = backoff.ceiling(index as u32 + 1);
        assert!(
            (0.0..=ceiling).contains(delay),
            "attempt {}: {delay} not in [0, {ceiling}]",
            index + 1
        );
    }
    // Per attempt, not once: the capped attempts still differ from each other.
    let capped: Vec<f64> = delays[10..].to_vec();
    assert!(capped.windows(2).any(|pair| pair[0] != pair[1]));
}

#[test]
fn equal_jitter_keeps_at_least_half_the_ceiling() {
    let options = OptionValues {
        reconnect_jitter: Some(0.5),
        max_reconnect_attempts: Some(f64::INFINITY),
        ..quiet_options()
    };
    let mut sim = Sim::seeded(options, 99);
    for (attempt, delay, _) in failing_schedule(&mut sim, 30) {
        let ceiling = (100.0 * 2f64.powi(attempt as i32 - 1)).min(1000.0);
        assert!(
            delay >= ceiling / 2.0 && delay <= ceiling,
            "attempt {attempt}: {delay}"
        );
    }
}

#[test]
fn the_counter_resets_only_after_min_uptime() {
    let mut sim = Sim::new(quiet_options());
    sim.connect();
    sim.open();
    // Dropped after 1 s of uptime (< minUptime 2 s): the count goes on.
    sim.at(1000.0);
    assert_eq!(reconnecting(&sim.close(1006)), Some((1, 100.0)));
    sim.fire(Deadline::Retry);
    sim.open();
    let reopened_at = sim.now;
    sim.at(reopened_at + 500.0);
    assert_eq!(
        reconnecting(&sim.close(1006)),
        Some((2, 200.0)),
        "accept-then-drop is not rewarded"
    );
    sim.fire(Deadline::Retry);
    sim.open();
    // Staying up for minUptime resets it.
    sim.fire(Deadline::MinUptime);
    assert_eq!(sim.transport.snapshot().attempt, 0);
    assert_eq!(reconnecting(&sim.close(1006)), Some((1, 100.0)));
}

#[test]
fn a_connect_timeout_abandons_the_attempt_and_counts_it() {
    let mut sim = Sim::new(quiet_options());
    sim.connect();
    let actions = sim.fire(Deadline::Connect);
    assert_eq!(sim.now, 500.0);
    assert!(actions.contains(&Output::CloseSocket {
        code: 1000,
        reason: "connect timeout".into()
    }));
    assert_eq!(errors(&actions).len(), 1);
    assert_eq!(reconnecting(&actions), Some((1, 100.0)));
    // A late open from the abandoned socket is ignored.
    assert!(sim.open().is_empty());
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
}

#[test]
fn states_follow_the_seed_store_vocabulary() {
    let mut sim = Sim::new(quiet_options());
    assert_eq!(sim.state(), ConnectionState::Disconnected);
    sim.connect();
    assert_eq!(sim.state(), ConnectionState::Connecting);
    sim.close(1006);
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    sim.fire(Deadline::Retry);
    assert_eq!(
        sim.state(),
        ConnectionState::Reconnecting,
        "a retry in flight is still reconnecting"
    );
    sim.open();
    assert_eq!(sim.state(), ConnectionState::Connected);
    let snapshot = sim.transport.snapshot();
    assert_eq!(snapshot.stats.reconnects, 1);
    assert_eq!(snapshot.next_retry_in_ms, None);
    let states: Vec<ConnectionState> = sim
        .actions
        .iter()
        .filter_map(|a| match a {
            Output::Emit(Event::StateChanged(state)) => Some(*state),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            ConnectionState::Connecting,
            ConnectionState::Reconnecting,
            ConnectionState::Connected
        ]
    );
}

#[test]
fn reconnect_starts_over_now_with_the_backoff_reset() {
    let mut sim = Sim::new(quiet_options());
    failing_schedule(&mut sim, 3);
    sim.open();
    let actions = {
        sim.transport.reconnect(sim.now);
        sim.take()
    };
    assert_eq!(
        actions[0],
        Output::CloseSocket {
            code: 1000,
            reason: "reconnect".into()
        }
    );
    assert_eq!(opens(&actions), 1);
    assert_eq!(sim.state(), ConnectionState::Connecting);
    assert_eq!(reconnecting(&sim.close(1006)), Some((1, 100.0)));
}

/// `reconnect()` in a loop (a retry button hammered, a listener that calls
/// it on every event) opened one socket per call, and browsers ran out of
/// them. A fresh attempt under way is the reconnect asked for; a retry
/// under way is replaced by a fresh one once, with the backoff reset.
#[test]
fn reconnect_in_a_loop_opens_one_socket() {
    let mut sim = Sim::connected(quiet_options());
    let mut opened = 0;
    for _ in 0..300 {
        sim.transport.reconnect(sim.now);
        opened += opens(&sim.take());
    }
    assert_eq!(opened, 1, "one fresh attempt for 300 calls");
    assert_eq!(sim.state(), ConnectionState::Connecting);

    // During a retry's attempt, the first call starts a fresh one (backoff
    // reset), and the calls after it coalesce into that.
    let mut sim = Sim::new(quiet_options());
    sim.connect();
    sim.close(1006);
    assert_eq!(reconnecting(&sim.close(1006)), None, "no socket to close");
    assert_eq!(opens(&sim.fire(Deadline::Retry)), 1);
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    let mut opened = 0;
    for _ in 0..5 {
        sim.transport.reconnect(sim.now);
        opened += opens(&sim.take());
    }
    assert_eq!(opened, 1);
    assert_eq!(sim.state(), ConnectionState::Connecting, "backoff reset");
    assert_eq!(reconnecting(&sim.close(1006)), Some((1, 100.0)));
}
