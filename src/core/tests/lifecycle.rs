//! Page lifecycle, terminal closes, the URL function, disconnect.

use super::*;

#[test]
fn offline_stops_spending_attempts_and_online_retries_at_once_with_a_fresh_budget() {
    let mut sim = Sim::new(quiet_options());
    sim.connect();
    sim.close(1006);
    sim.fire(Deadline::Retry);
    sim.close(1006); // attempt 2 waiting
    sim.transport.network_offline(sim.now);
    sim.take();
    assert_eq!(sim.transport.timer_due(Deadline::Retry), None);
    assert_eq!(sim.transport.snapshot().next_retry_in_ms, None);
    // A stale retry callback changes nothing.
    sim.transport.on_timeout(sim.now + 10_000.0);
    assert!(sim.take().is_empty());
    // Failures while offline do not schedule anything either.
    sim.at(sim.now + 60_000.0);
    sim.transport.network_online(sim.now);
    let actions = sim.take();
    assert_eq!(opens(&actions), 1, "attempt at once on online");
    assert_eq!(
        reconnecting(&sim.close(1006)),
        Some((1, 100.0)),
        "backoff reset"
    );
}

#[test]
fn an_attempt_failing_while_offline_waits_for_online() {
    let mut sim = Sim::new(quiet_options());
    sim.connect();
    sim.transport.network_offline(sim.now);
    let actions = sim.close(1006);
    assert_eq!(reconnecting(&actions), None);
    assert!(!sim.transport.has_pending_timers());
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    sim.transport.network_online(sim.now);
    assert_eq!(opens(&sim.take()), 1);
}

#[test]
fn online_and_visible_probe_an_open_connection() {
    let mut sim = Sim::connected(quiet_options());
    sim.pong(1); // the ping sent on open
    sim.transport.network_online(sim.now);
    assert_eq!(pings(&sim.take()).len(), 1);
    // One probe at a time.
    sim.transport.page_visible(sim.now);
    assert!(pings(&sim.take()).is_empty());
}

#[test]
fn becoming_visible_ends_a_backoff_wait() {
    let mut sim = Sim::new(quiet_options());
    sim.connect();
    sim.close(1006);
    sim.transport.page_visible(sim.now + 1.0);
    let actions = sim.take();
    assert_eq!(opens(&actions), 1);
    assert_eq!(sim.transport.timer_due(Deadline::Retry), None);
}

#[test]
fn pagehide_closes_cleanly_and_pageshow_reconnects() {
    let mut sim = Sim::connected(quiet_options());
    sim.transport.page_frozen(sim.now);
    let actions = sim.take();
    assert_eq!(
        actions[0],
        Output::CloseSocket {
            code: 1000,
            reason: "page hidden".into()
        }
    );
    assert_eq!(sim.state(), ConnectionState::Disconnected);
    assert!(!sim.transport.has_pending_timers());
    sim.transport.page_restored(sim.now + 5.0);
    assert_eq!(opens(&sim.take()), 1);
    assert_eq!(sim.state(), ConnectionState::Connecting);
}

#[test]
fn terminal_codes_end_in_disconnected_without_another_attempt() {
    for code in TERMINAL_CLOSE_CODES {
        let mut sim = Sim::connected(quiet_options());
        let actions = sim.close(code);
        assert_eq!(reconnecting(&actions), None, "code {code}");
        assert_eq!(sim.state(), ConnectionState::Disconnected);
        let snapshot = sim.transport.snapshot();
        assert_eq!(
            snapshot.disconnect_reason,
            Some(DisconnectReason::TerminalClose)
        );
        assert_eq!(snapshot.last_close.map(|c| c.code), Some(code));
        assert!(!sim.transport.has_pending_timers());
    }
}

#[test]
fn should_reconnect_overrides_the_default_both_ways() {
    let mut sim = Sim::connected(quiet_options());
    sim.transport
        .on_close(sim.now, close_info(4401), Some(true));
    assert_eq!(reconnecting(&sim.take()), Some((1, 100.0)));
    let mut sim = Sim::connected(quiet_options());
    sim.transport
        .on_close(sim.now, close_info(1006), Some(false));
    sim.take();
    assert_eq!(
        sim.transport.snapshot().disconnect_reason,
        Some(DisconnectReason::TerminalClose)
    );
}

fn provider_options() -> OptionValues {
    OptionValues {
        url: None,
        ..quiet_options()
    }
}

#[test]
fn the_url_function_is_asked_before_every_attempt() {
    let mut sim = Sim::new(provider_options());
    let first = resolve_request(&sim.connect());
    sim.transport
        .on_url_resolved(sim.now, first, Ok("ws://h/ws?token=1".into()));
    let actions = sim.take();
    assert_eq!(
        open_url(&sim, &actions),
        "ws://h/ws?token=1&session_id=s&protocol=1.1"
    );
    sim.close(1006);
    let second = resolve_request(&sim.fire(Deadline::Retry));
    assert_ne!(first, second);
    // A late answer for the first attempt is ignored.
    sim.transport
        .on_url_resolved(sim.now, first, Ok("ws://h/stale".into()));
    assert!(sim.take().is_empty());
    sim.transport
        .on_url_resolved(sim.now, second, Ok("ws://h/ws?token=2".into()));
    let actions = sim.take();
    assert_eq!(
        open_url(&sim, &actions),
        "ws://h/ws?token=2&session_id=s&protocol=1.1"
    );
}

#[test]
fn a_failing_url_function_counts_as_a_failed_attempt() {
    let mut sim = Sim::new(provider_options());
    let attempt = resolve_request(&sim.connect());
    sim.transport
        .on_url_resolved(sim.now, attempt, Err("token service down".into()));
    let actions = sim.take();
    assert_eq!(
        errors(&actions),
        ["could not get a URL: token service down"]
    );
    assert_eq!(reconnecting(&actions), Some((1, 100.0)));
    let attempt = resolve_request(&sim.fire(Deadline::Retry));
    sim.transport
        .on_url_resolved(sim.now, attempt, Ok("http://wrong/".into()));
    let actions = sim.take();
    assert_eq!(errors(&actions).len(), 1);
    assert_eq!(reconnecting(&actions), Some((2, 200.0)));
    assert_eq!(sim.transport.snapshot().stats.errors, 2);
}

#[test]
fn a_hanging_url_function_is_cut_off_by_the_connect_timeout() {
    let mut sim = Sim::new(provider_options());
    let attempt = resolve_request(&sim.connect());
    let actions = sim.fire(Deadline::Connect);
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Output::CloseSocket { .. })),
        "no socket to close"
    );
    assert_eq!(reconnecting(&actions), Some((1, 100.0)));
    sim.transport
        .on_url_resolved(sim.now, attempt, Ok("ws://h/late".into()));
    assert_eq!(opens(&sim.take()), 0);
}

#[test]
fn disconnect_stops_everything_and_stays_down() {
    let mut sim = Sim::connected(quiet_options());
    sim.transport.disconnect(sim.now, 4000, "bye").unwrap();
    let actions = sim.take();
    assert_eq!(
        actions[0],
        Output::CloseSocket {
            code: 4000,
            reason: "bye".into()
        }
    );
    assert!(!sim.transport.has_pending_timers());
    assert_eq!(
        sim.transport.snapshot().disconnect_reason,
        Some(DisconnectReason::Client)
    );
    sim.transport.network_online(sim.now);
    sim.transport.page_visible(sim.now);
    sim.transport.page_restored(sim.now);
    assert_eq!(
        opens(&sim.take()),
        0,
        "nothing brings it back but connect()"
    );
    assert!(matches!(
        sim.transport.disconnect(sim.now, 1001, ""),
        Err(InputError::BadClose(ConfigError {
            field: Field::Code,
            ..
        }))
    ));
}
