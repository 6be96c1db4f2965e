//! The HTTP fallback: when the session switches channel, how it POSTs, and the
//! probe that moves it back to the WebSocket without losing or doubling anything.

use super::*;

pub fn fallback_options() -> OptionValues {
    OptionValues {
        http_fallback_url: Some("http://h/messages".into()),
        http_events_url: Some("http://h/events".into()),
        upgrade_probe_interval: Some(5000.0),
        max_reconnect_attempts: Some(f64::INFINITY),
        ..quiet_options()
    }
}

pub fn posts(actions: &[Output<Payload>]) -> Vec<(String, Vec<Payload>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Post { url, frames } => Some((url.clone(), frames.clone())),
            _ => None,
        })
        .collect()
}

fn events_opened(actions: &[Output<Payload>]) -> Option<String> {
    actions.iter().find_map(|a| match a {
        Output::OpenEvents { url } => Some(url.clone()),
        _ => None,
    })
}

fn mode_changes(actions: &[Output<Payload>]) -> Vec<Mode> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Emit(Event::ModeChanged(mode)) => Some(*mode),
            _ => None,
        })
        .collect()
}

fn send(sim: &mut Sim, payload: Payload) -> SendOutcome {
    sim.transport
        .send(sim.now, payload, Some(payload.into()))
        .expect("accepted")
}

/// A transport with `options` on the HTTP fallback, its event stream open
/// (after three refused WebSocket attempts), and its outputs taken.
pub fn on_http(options: OptionValues) -> Sim {
    let mut sim = Sim::new(options);
    refuse_attempts(&mut sim, 3);
    sim.transport.on_events_open(sim.now);
    sim.take();
    sim
}

/// Fails `n` WebSocket attempts (each closes before opening, as a refused
/// upgrade does) and returns the actions of the last.
pub fn refuse_attempts(sim: &mut Sim, n: usize) -> Vec<Output<Payload>> {
    let mut actions = sim.connect();
    for attempt in 1..=n {
        assert_eq!(opens(&actions), 1, "attempt {attempt} opens a socket");
        actions = sim.close(1006);
        if attempt < n {
            actions = sim.fire(Deadline::Retry);
        }
    }
    actions
}

#[test]
fn it_falls_back_after_the_configured_failed_attempts_and_not_before() {
    let mut sim = Sim::new(OptionValues {
        fallback_after_attempts: Some(3.0),
        ..fallback_options()
    });
    let mut actions = sim.connect();
    for _ in 0..2 {
        actions = sim.close(1006);
        assert!(mode_changes(&actions).is_empty());
        assert!(
            reconnecting(&actions).is_some(),
            "still retrying the WebSocket"
        );
        actions = sim.fire(Deadline::Retry);
    }
    assert_eq!(opens(&actions), 1);
    let actions = sim.close(1006);
    assert_eq!(mode_changes(&actions), [Mode::Http]);
    assert_eq!(
        events_opened(&actions).as_deref(),
        Some("http://h/events?session_id=s&protocol=1.1"),
        "the event stream opens at once, with the session id"
    );
    assert_eq!(sim.transport.mode(), Mode::Http);
    assert_eq!(sim.transport.snapshot().mode, Mode::Http);
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    sim.transport.on_events_open(sim.now);
    assert_eq!(sim.state(), ConnectionState::Connected);
}

#[test]
fn a_connection_that_opened_and_dropped_does_not_count_toward_the_fallback() {
    let mut sim = Sim::new(OptionValues {
        fallback_after_attempts: Some(1.0),
        ..fallback_options()
    });
    sim.connect();
    sim.open();
    let actions = sim.close(1006);
    assert!(
        mode_changes(&actions).is_empty(),
        "the WebSocket works here"
    );
    sim.fire(Deadline::Retry);
    let actions = sim.close(1006);
    assert_eq!(mode_changes(&actions), [Mode::Http]);
}

#[test]
fn an_unusable_websocket_falls_back_at_once() {
    let mut sim = Sim::new(fallback_options());
    sim.connect();
    sim.transport.on_open_failed(sim.now, "SecurityError");
    let actions = sim.take();
    assert_eq!(mode_changes(&actions), [Mode::Http]);
    assert!(events_opened(&actions).is_some());
}

#[test]
fn without_a_fallback_url_the_websocket_is_retried_forever() {
    let mut sim = Sim::new(OptionValues {
        max_reconnect_attempts: Some(f64::INFINITY),
        ..quiet_options()
    });
    refuse_attempts(&mut sim, 6);
    assert_eq!(sim.transport.mode(), Mode::WebSocket);
    assert!(!sim
        .actions
        .iter()
        .any(|a| matches!(a, Output::OpenEvents { .. } | Output::Post { .. })));
}

#[test]
fn enable_websocket_false_is_http_from_the_start_and_never_probes() {
    let mut sim = Sim::new(OptionValues {
        url: None,
        enable_websocket: Some(false),
        ..fallback_options()
    });
    assert_eq!(sim.transport.mode(), Mode::Http);
    let actions = sim.connect();
    assert_eq!(opens(&actions), 0);
    assert!(events_opened(&actions).is_some());
    sim.transport.on_events_open(sim.now);
    sim.take();
    assert_eq!(send(&mut sim, 1), SendOutcome::Http);
    assert_eq!(sim.transport.timer_due(Deadline::Probe), None);
    let error = OptionValues {
        enable_websocket: Some(false),
        ..quiet_options()
    }
    .validate()
    .expect_err("needs a fallback URL");
    assert_eq!(error.field, "httpFallbackUrl");
}

#[test]
fn posts_batch_what_waits_and_one_is_in_flight_at_a_time() {
    let mut sim = on_http(OptionValues {
        message_queue_size: Some(100.0),
        ..fallback_options()
    });
    assert_eq!(send(&mut sim, 1), SendOutcome::Http);
    assert_eq!(
        posts(&sim.take()),
        [(
            "http://h/messages?session_id=s&protocol=1.1".into(),
            vec![1]
        )]
    );
    for n in 2..=4 {
        assert_eq!(send(&mut sim, n), SendOutcome::Http);
    }
    assert!(
        posts(&sim.take()).is_empty(),
        "one POST in flight at a time"
    );
    sim.transport.on_post_done(sim.now, true, "");
    assert_eq!(
        posts(&sim.take())[0].1,
        [2, 3, 4],
        "the rest in one batch, in order"
    );
    // Raw frames (no envelope id) cannot be POSTed: they wait for a WebSocket.
    assert_eq!(
        sim.transport.send(sim.now, 5, None),
        Ok(SendOutcome::Queued)
    );
}

#[test]
fn a_failed_post_is_retried_in_order_after_the_backoff() {
    let mut sim = Sim::new(OptionValues {
        message_queue_size: Some(100.0),
        ..fallback_options()
    });
    refuse_attempts(&mut sim, 3);
    sim.transport.on_events_open(sim.now);
    send(&mut sim, 1);
    send(&mut sim, 2);
    sim.take();
    sim.transport.on_post_done(sim.now, false, "HTTP 503");
    let actions = sim.take();
    assert_eq!(errors(&actions), ["an HTTP fallback POST failed: HTTP 503"]);
    assert!(actions.contains(&Output::CloseEvents));
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    send(&mut sim, 3);
    let actions = sim.fire(Deadline::Retry);
    assert!(events_opened(&actions).is_some(), "still on HTTP");
    // The upstream does not wait for the event stream to open.
    assert_eq!(posts(&actions)[0].1, [1, 2, 3]);
}

#[test]
fn without_an_events_url_http_is_up_as_soon_as_the_fallback_starts() {
    let mut sim = Sim::new(OptionValues {
        http_events_url: None,
        ..fallback_options()
    });
    sim.transport.send(sim.now, 1, Some(1)).unwrap();
    let actions = refuse_attempts(&mut sim, 3);
    assert_eq!(sim.state(), ConnectionState::Connected);
    assert_eq!(posts(&actions)[0].1, [1], "held messages go out at once");
}

#[test]
fn the_probe_moves_the_session_back_and_resends_unacked_in_order() {
    let mut sim = Sim::new(OptionValues {
        delivery: Some("at-least-once".into()),
        ack_timeout: Some(0.0),
        message_queue_size: Some(100.0),
        ..fallback_options()
    });
    refuse_attempts(&mut sim, 3);
    sim.transport.on_events_open(sim.now);
    for n in 1..=3 {
        send(&mut sim, n);
    }
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    sim.take();
    // 1 acknowledged; 2 and 3 are in the POST in flight; 4 waits for the next.
    send(&mut sim, 4);
    assert!(sim.transport.on_numbered_frame(sim.now, 1));
    assert!(sim.transport.on_numbered_frame(sim.now, 2));
    let actions = sim.fire(Deadline::Probe);
    let probe_url = open_url(&sim, &actions);
    assert_eq!(
        probe_url,
        "ws://h/ws?session_id=s&protocol=1.1&last_seq=2&ack=1"
    );
    assert_eq!(
        sim.transport.mode(),
        Mode::Http,
        "still on HTTP until it opens"
    );
    let actions = sim.open();
    assert_eq!(mode_changes(&actions), [Mode::WebSocket]);
    assert!(actions.contains(&Output::CloseEvents));
    assert_eq!(
        transmitted(&actions),
        [2, 3, 4],
        "everything unacked, in order"
    );
    assert_eq!(sim.state(), ConnectionState::Connected);
    // The POST that was in flight finishes later: nothing is sent twice by the client.
    sim.transport.on_post_done(sim.now, true, "");
    assert!(transmitted(&sim.take()).is_empty());
    // A push that reached both channels around the switch is delivered once.
    assert!(sim.transport.on_numbered_frame(sim.now, 3));
    assert!(!sim.transport.on_numbered_frame(sim.now, 3));
}

#[test]
fn a_post_that_fails_after_the_move_back_waits_for_an_open_socket() {
    let mut sim = on_http(OptionValues {
        message_queue_size: Some(100.0),
        ..fallback_options()
    });
    send(&mut sim, 1);
    assert_eq!(posts(&sim.take())[0].1, [1], "in a POST in flight");
    sim.fire(Deadline::Probe);
    sim.open();
    assert_eq!(sim.transport.mode(), Mode::WebSocket);
    // The socket drops, and the next one is still opening when the POST fails.
    sim.close(1006);
    sim.fire(Deadline::Retry);
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    sim.transport.on_post_done(sim.now, false, "network error");
    assert!(
        transmitted(&sim.take()).is_empty(),
        "not into a socket that is not open, where it would be lost"
    );
    assert_eq!(transmitted(&sim.open()), [1], "it goes once that one opens");
}

#[test]
fn a_failed_probe_changes_nothing_and_the_next_one_is_scheduled() {
    let mut sim = Sim::new(fallback_options());
    refuse_attempts(&mut sim, 3);
    sim.transport.on_events_open(sim.now);
    let actions = sim.fire(Deadline::Probe);
    assert_eq!(opens(&actions), 1);
    let due = sim.transport.timer_due(Deadline::Probe);
    assert_eq!(due, Some(sim.now + 5000.0));
    let actions = sim.close(1006);
    assert!(mode_changes(&actions).is_empty());
    assert!(
        reconnecting(&actions).is_none(),
        "the HTTP session is untouched"
    );
    assert_eq!(sim.state(), ConnectionState::Connected);
    // A probe still hanging when the next is due is abandoned, not doubled.
    sim.fire(Deadline::Probe);
    let actions = sim.fire(Deadline::Probe);
    assert!(matches!(actions[0], Output::CloseSocket { .. }));
    assert_eq!(opens(&actions), 1);
}

#[test]
fn reconnect_and_connect_start_over_on_the_websocket() {
    let mut sim = on_http(fallback_options());
    sim.transport.reconnect(sim.now);
    let actions = sim.take();
    assert_eq!(mode_changes(&actions), [Mode::WebSocket]);
    assert_eq!(actions[0], Output::CloseEvents);
    assert_eq!(opens(&actions), 1);
}

/// D1: on HTTP, reaching `maxReconnectAttempts` went idle without stopping
/// the upgrade probe; when the probe socket then opened, the transport that
/// had reported `disconnected` / `max-attempts` became `connected` by itself.
#[test]
fn giving_up_on_http_stops_the_upgrade_probe() {
    for url_function in [false, true] {
        let mut sim = Sim::new(OptionValues {
            fallback_after_attempts: Some(1.0),
            max_reconnect_attempts: Some(1.0),
            url: (!url_function).then(|| "ws://h/ws".to_owned()),
            ..fallback_options()
        });
        let mut actions = sim.connect();
        if url_function {
            let attempt = resolve_request(&actions);
            sim.transport
                .on_url_resolved(sim.now, attempt, Ok("ws://h/ws".into()));
            actions = sim.take();
        }
        assert_eq!(opens(&actions), 1);
        sim.close(1006); // refused: on to HTTP
        assert_eq!(sim.transport.mode(), Mode::Http);
        let probe = sim.fire(Deadline::Probe);
        let probe_attempt = url_function.then(|| resolve_request(&probe));
        assert!(url_function || opens(&probe) == 1, "the probe socket");
        // The event stream fails until the transport gives up.
        sim.transport.on_events_error(sim.now);
        sim.fire(Deadline::Retry);
        sim.transport.on_events_error(sim.now);
        assert_eq!(sim.state(), ConnectionState::Disconnected);
        assert_eq!(
            sim.transport.snapshot().disconnect_reason,
            Some(DisconnectReason::MaxAttempts)
        );
        let stopped = sim.take();
        assert!(!url_function || !stopped.is_empty());
        // The probe's late answers change nothing.
        if let Some(attempt) = probe_attempt {
            sim.transport
                .on_url_resolved(sim.now, attempt, Ok("ws://h/ws".into()));
            assert_eq!(opens(&sim.take()), 0, "no socket after giving up");
        }
        sim.transport.on_open(sim.now);
        sim.take();
        assert_eq!(
            sim.state(),
            ConnectionState::Disconnected,
            "url function: {url_function}"
        );
        assert_eq!(sim.transport.poll_timeout(), None, "nothing scheduled");
    }
}

/// D2: with `ackTimeout: 0` a fallback POST had no deadline, and the next
/// POST waited for it: one POST that never returned stopped every later send.
#[test]
fn a_post_that_never_returns_is_abandoned_even_without_an_ack_timeout() {
    let mut sim = Sim::new(OptionValues {
        enable_websocket: Some(false),
        ack_timeout: Some(0.0),
        delivery: Some("at-least-once".into()),
        ..fallback_options()
    });
    sim.connect();
    sim.transport.on_events_open(sim.now);
    assert_eq!(send(&mut sim, 1), SendOutcome::Http);
    assert_eq!(posts(&sim.take()).len(), 1);
    assert_eq!(send(&mut sim, 2), SendOutcome::Http);
    assert!(posts(&sim.take()).is_empty(), "one POST at a time");
    assert_eq!(
        sim.transport.timer_due(Deadline::Post),
        Some(DEFAULT_POST_TIMEOUT.as_ms())
    );
    let actions = sim.fire(Deadline::Post);
    assert!(actions.contains(&Output::AbortPost));
    let error = errors(&actions).pop().expect("an error");
    assert_eq!(error, "an HTTP fallback POST failed: no answer in time");
    // The session recovers and both messages go out, in order, as the
    // attempt starts (the upstream does not wait for the event stream).
    let retried = posts(&sim.fire(Deadline::Retry));
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].1, [1, 2]);
}

/// The probe's URL carries the position when the probe started; frames the
/// event stream delivers while the probe opens must not make the socket's
/// replay of them look like a restarted stream.
#[test]
fn frames_delivered_while_the_probe_opens_are_replays_not_a_reset() {
    let mut sim = Sim::new(OptionValues {
        fallback_after_attempts: Some(1.0),
        ..fallback_options()
    });
    refuse_attempts(&mut sim, 1);
    sim.transport.on_events_open(sim.now);
    for seq in 1..=2 {
        assert!(sim.frame_on(FrameSource::Events, FrameKind::Envelope, None, seq as f64));
    }
    let probe = sim.fire(Deadline::Probe);
    assert!(open_url(&sim, &probe).contains("last_seq=2"));
    for seq in 3..=4 {
        assert!(sim.frame_on(FrameSource::Events, FrameKind::Envelope, None, seq as f64));
    }
    sim.open(); // the probe socket: back on the WebSocket, which replays 3 and 4
    assert!(!sim.frame(FrameKind::Envelope, None, 3.0));
    assert!(!sim.frame(FrameKind::Envelope, None, 4.0));
    assert!(sim.frame(FrameKind::Envelope, None, 5.0));
    assert_eq!(sim.transport.snapshot().stats.resets, 0);
}

fn polls(actions: &[Output<Payload>]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Poll { url } => Some(url.clone()),
            _ => None,
        })
        .collect()
}

/// HTTP from the start, with the event stream never opening (a proxy
/// holding it back): returns the sim with its stream requested.
fn http_only() -> Sim {
    let mut sim = Sim::new(OptionValues {
        enable_websocket: Some(false),
        url: None,
        ..fallback_options()
    });
    assert!(events_opened(&sim.connect()).is_some());
    sim
}

/// The upstream stalled while the event stream had not opened: behind
/// nginx at its defaults no message went out at all. Now what is sent is
/// POSTed at once, and an answered POST shows the server is there.
#[test]
fn the_upstream_never_waits_for_the_event_stream() {
    let mut sim = http_only();
    assert_eq!(sim.state(), ConnectionState::Connecting);
    send(&mut sim, 1);
    assert_eq!(
        posts(&sim.take()).len(),
        1,
        "POSTed before the stream opened"
    );
    sim.transport.on_post_done(sim.now, true, "");
    assert!(sim.take().contains(&Output::Emit(Event::Opened)));
    assert_eq!(sim.state(), ConnectionState::Connected);
    // The stream opening later changes nothing but the downstream.
    sim.transport.on_events_open(sim.now);
    assert!(!sim.take().contains(&Output::Emit(Event::Opened)));
}

/// An event stream that has not opened within the bound is given up for
/// long-polling (PROTOCOL.md §6.2): the first poll asks for no wait, the
/// next ones wait, frames come down numbered, and every later attempt polls.
#[test]
fn an_event_stream_held_back_is_replaced_by_long_polling() {
    let mut sim = http_only();
    // quiet_options' connectTimeout is 500 ms: the stream gets half of it.
    assert_eq!(sim.transport.timer_due(Deadline::Feed), Some(250.0));
    let actions = sim.fire(Deadline::Feed);
    assert!(actions.contains(&Output::CloseEvents));
    let error = errors(&actions).pop().expect("said why");
    assert_eq!(
        error,
        "the HTTP fallback's event stream failed to open in time: long-polling it"
    );
    let first = polls(&actions);
    assert_eq!(first.len(), 1);
    assert!(
        first[0].starts_with("http://h/events?session_id=s"),
        "{}",
        first[0]
    );
    assert!(first[0].ends_with("&poll=0"), "{}", first[0]);
    assert_eq!(sim.state(), ConnectionState::Connecting);

    assert!(sim.frame_on(FrameSource::Events, FrameKind::Envelope, None, 1.0));
    let actions = sim.input(Input::EventsOpened);
    assert_eq!(sim.state(), ConnectionState::Connected);
    let next = polls(&actions);
    assert_eq!(next.len(), 1, "the next poll at once");
    assert!(
        next[0].contains("last_seq=1") && next[0].ends_with("&poll=20000"),
        "{}",
        next[0]
    );
    assert!(
        !sim.frame_on(FrameSource::Events, FrameKind::Envelope, None, 1.0),
        "a frame answered twice is delivered once"
    );

    // A poll that fails ends the connection; the retry polls at once.
    let actions = sim.input(Input::EventsFailed);
    assert!(errors(&actions)
        .iter()
        .any(|e| e == "the HTTP fallback's event stream failed"));
    assert_eq!(sim.state(), ConnectionState::Reconnecting);
    let actions = sim.fire(Deadline::Retry);
    assert!(events_opened(&actions).is_none(), "no event stream again");
    assert_eq!(polls(&actions).len(), 1);

    // A waiting poll that is never answered is abandoned.
    sim.input(Input::EventsOpened);
    let actions = sim.fire(Deadline::Feed);
    assert!(actions.contains(&Output::CloseEvents));
    assert!(errors(&actions)
        .iter()
        .any(|e| e == "the HTTP fallback's event stream failed"));
    // A late answer of the abandoned poll is ignored.
    assert!(sim.input(Input::EventsOpened).is_empty());
}

/// A POST answered while the event stream still opens makes the channel up;
/// a tracked message it carried whose ack did not come with it keeps its
/// ack clock running, as on an open channel.
#[test]
fn a_post_that_opens_the_channel_starts_the_ack_clock() {
    let mut sim = Sim::new(OptionValues {
        enable_websocket: Some(false),
        url: None,
        delivery: Some("at-least-once".into()),
        ..fallback_options()
    });
    sim.connect();
    send(&mut sim, 1);
    assert_eq!(posts(&sim.take()).len(), 1);
    sim.transport.on_post_done(sim.now, true, "");
    assert_eq!(sim.state(), ConnectionState::Connected);
    assert!(
        sim.transport.timer_due(Deadline::Ack).is_some(),
        "the unacknowledged message is timed"
    );
}
