//! Under a message rate the server announced in its `welcome` (protocol
//! 1.2), the client sends no faster than that: a second's worth at once,
//! then one frame per `1 / rate`, in order, pings counted, so a server that
//! closes a faster client (1013) never has to.

use super::delivery::at_least_once;
use super::fallback::{fallback_options, on_http, posts};
use super::*;

/// The server's welcome announcing `rate` frames per second (NaN: none).
fn welcome(sim: &mut Sim, rate: f64) {
    let frame = InboundFrame {
        epoch: Some("e1".into()),
        message_rate: rate,
        ..InboundFrame::of_kind(FrameSource::Socket, FrameKind::Welcome)
    };
    let handled = sim
        .transport
        .handle_input(Instant::from_ms(sim.now), Input::Frame(frame));
    assert_eq!(handled, Ok(Handled::Frame { deliver: false }));
}

/// Runs every deadline up to `until`; when each payload went out.
fn transmitted_at(sim: &mut Sim, until: f64) -> Vec<(f64, Payload)> {
    let mut sent = Vec::new();
    while let Some(due) = sim
        .transport
        .poll_timeout()
        .filter(|due| due.as_ms() <= until)
    {
        sim.at(sim.now.max(due.as_ms()));
        for payload in transmitted(&sim.input(Input::Timeout)) {
            sent.push((sim.now, payload));
        }
    }
    sent
}

/// The most frames sent in any one second of `times`.
fn most_in_a_second(times: &[f64]) -> usize {
    times
        .iter()
        .map(|&start| {
            times
                .iter()
                .filter(|&&t| t >= start && t < start + 1000.0)
                .count()
        })
        .max()
        .unwrap_or(0)
}

fn roomy(options: OptionValues) -> OptionValues {
    OptionValues {
        message_queue_size: Some(100.0),
        heartbeat_interval: Some(0.0),
        ..options
    }
}

#[test]
fn a_burst_beyond_a_seconds_worth_waits_its_turn_in_order() {
    let mut sim = Sim::connected(roomy(quiet_options()));
    welcome(&mut sim, 10.0);
    let mut outcomes = Vec::new();
    for payload in 1..=15 {
        outcomes.push(sim.transport.send(sim.now, payload, None).unwrap());
    }
    assert_eq!(outcomes[..10], [SendOutcome::Sent; 10]);
    assert_eq!(outcomes[10..], [SendOutcome::Queued; 5]);
    assert_eq!(transmitted(&sim.take()), (1..=10).collect::<Vec<_>>());
    assert_eq!(
        sim.transport.deadline(Deadline::Pace),
        Some(Instant::from_ms(100.0))
    );
    // One more while they wait goes behind them, not before.
    sim.at(50.0);
    assert_eq!(
        sim.transport.send(sim.now, 16, None),
        Ok(SendOutcome::Queued)
    );
    assert!(transmitted(&sim.take()).is_empty());
    let sent = transmitted_at(&mut sim, 2000.0);
    let expected: Vec<_> = (1..=6).map(|k| (f64::from(k) * 100.0, 10 + k)).collect();
    assert_eq!(sent, expected);
    assert_eq!(sim.transport.queue_length(), 0);
    assert_eq!(
        sim.transport.deadline(Deadline::Pace),
        None,
        "nothing waits"
    );
    // A second later the bucket is full again: a second's worth at once.
    sim.at(3000.0);
    for payload in 17..=26 {
        assert_eq!(
            sim.transport.send(sim.now, payload, None),
            Ok(SendOutcome::Sent)
        );
    }
}

#[test]
fn nothing_overtakes_what_waits_even_with_a_token_to_spare() {
    // At 5000 a second a token comes every 0.2 ms, but the pace's deadline
    // is at least 1 ms away: at 0.5 ms there are tokens, and one waits.
    let mut sim = Sim::connected(roomy(quiet_options()));
    welcome(&mut sim, 5000.0);
    for payload in 1..=5001 {
        sim.transport.send(sim.now, payload, None).unwrap();
    }
    assert_eq!(transmitted(&sim.take()).len(), 5000);
    assert_eq!(
        sim.transport.deadline(Deadline::Pace),
        Some(Instant::from_ms(1.0))
    );
    sim.at(0.5);
    assert_eq!(
        sim.transport.send(sim.now, 5002, None),
        Ok(SendOutcome::Queued)
    );
    assert!(transmitted(&sim.take()).is_empty());
    assert_eq!(transmitted(&sim.fire(Deadline::Pace)), [5001, 5002]);
}

#[test]
fn a_send_after_a_late_timer_first_sends_what_waited() {
    // A throttled tab's timer fires long after the pace's deadline: the
    // next send does what the timer would have done, then goes itself.
    let mut sim = Sim::connected(roomy(quiet_options()));
    welcome(&mut sim, 10.0);
    for payload in 1..=12 {
        sim.transport.send(sim.now, payload, None).unwrap();
    }
    assert_eq!(transmitted(&sim.take()).len(), 10);
    sim.at(5000.0);
    assert_eq!(sim.transport.send(sim.now, 13, None), Ok(SendOutcome::Sent));
    assert_eq!(transmitted(&sim.take()), [11, 12, 13]);
    assert_eq!(sim.transport.deadline(Deadline::Pace), None);
}

#[test]
fn a_deep_queue_flushed_on_reconnect_stays_under_the_rate() {
    let mut sim = Sim::connected(OptionValues {
        // The acks are not the point here.
        ack_timeout: Some(0.0),
        ..roomy(at_least_once())
    });
    welcome(&mut sim, 20.0);
    sim.close(1006);
    sim.take();
    for payload in 1..=90 {
        assert_eq!(
            sim.transport.send(sim.now, payload, Some(payload.into())),
            Ok(SendOutcome::Queued)
        );
    }
    sim.fire(Deadline::Retry);
    let opened_at = sim.now;
    let mut sent: Vec<(f64, Payload)> = transmitted(&sim.open())
        .into_iter()
        .map(|payload| (opened_at, payload))
        .collect();
    assert_eq!(sent.len(), 20, "a second's worth at once");
    // The new channel's welcome says the same rate: no second burst.
    welcome(&mut sim, 20.0);
    let acks: Vec<_> = (1..=90).map(|n| sim.transport.message_id(n)).collect();
    for id in &acks[..20] {
        sim.transport.on_ack(sim.now, id);
    }
    sent.extend(transmitted_at(&mut sim, opened_at + 10_000.0));
    let payloads: Vec<_> = sent.iter().map(|&(_, payload)| payload).collect();
    assert_eq!(
        payloads,
        (1..=90).collect::<Vec<_>>(),
        "each once, in order"
    );
    let times: Vec<_> = sent.iter().map(|&(at, _)| at).collect();
    assert!(
        most_in_a_second(&times) <= 40,
        "the server's burst is 2 × the rate"
    );
    assert_eq!(times[89], opened_at + 3500.0, "70 more at 20 a second");
}

#[test]
fn pings_count_against_the_rate_and_never_wait_for_it() {
    let mut sim = Sim::new(OptionValues {
        heartbeat_interval: Some(3000.0),
        ..roomy(quiet_options())
    });
    sim.connect();
    let first = pings(&sim.open());
    sim.pong(first[0]);
    welcome(&mut sim, 10.0);
    // The bucket is emptied just before the next ping is due (at 3000).
    sim.at(2999.0);
    for payload in 1..=10 {
        assert_eq!(
            sim.transport.send(sim.now, payload, None),
            Ok(SendOutcome::Sent)
        );
    }
    let actions = sim.fire(Deadline::Heartbeat);
    assert_eq!(sim.now, 3000.0);
    assert_eq!(
        pings(&actions).len(),
        1,
        "the ping goes though the bucket is empty"
    );
    // It was paid for: the next message waits for two tokens (0.99 owed,
    // then its own), not for one.
    sim.transport.send(sim.now, 11, None).unwrap();
    let sent = transmitted_at(&mut sim, 4000.0);
    assert_eq!(sent.len(), 1);
    assert!((sent[0].0 - 3199.0).abs() < 1e-6, "sent at {}", sent[0].0);
}

#[test]
fn no_announced_rate_means_no_pacing() {
    let mut sim = Sim::connected(roomy(quiet_options()));
    welcome(&mut sim, 10.0);
    welcome(&mut sim, f64::NAN);
    for payload in 1..=50 {
        assert_eq!(
            sim.transport.send(sim.now, payload, None),
            Ok(SendOutcome::Sent)
        );
    }
    assert_eq!(sim.transport.deadline(Deadline::Pace), None);
}

#[test]
fn a_closed_channel_stops_the_pace_and_the_next_one_resumes_it() {
    let mut sim = Sim::connected(roomy(quiet_options()));
    welcome(&mut sim, 5.0);
    for payload in 1..=8 {
        sim.transport.send(sim.now, payload, None).unwrap();
    }
    assert_eq!(transmitted(&sim.take()), [1, 2, 3, 4, 5]);
    sim.at(10.0).close(1006);
    assert_eq!(sim.transport.deadline(Deadline::Pace), None);
    // Waited for: the bucket refilled, so the new socket takes the rest at once.
    sim.fire(Deadline::Retry);
    sim.at(2000.0);
    assert_eq!(transmitted(&sim.open()), [6, 7, 8]);
}

#[test]
fn the_fallback_posts_no_more_than_the_rate_allows() {
    let mut sim = on_http(OptionValues {
        message_queue_size: Some(100.0),
        ..fallback_options()
    });
    let welcome_on_events = InboundFrame {
        epoch: Some("e1".into()),
        message_rate: 4.0,
        ..InboundFrame::of_kind(FrameSource::Events, FrameKind::Welcome)
    };
    sim.transport
        .handle_input(Instant::from_ms(sim.now), Input::Frame(welcome_on_events))
        .unwrap();
    sim.take();
    for payload in 1..=10 {
        sim.transport
            .send(sim.now, payload, Some(payload.into()))
            .unwrap();
    }
    assert_eq!(posts(&sim.take())[0].1, [1], "one in flight at a time");
    sim.transport.on_post_done(sim.now, true, "");
    assert_eq!(
        posts(&sim.take())[0].1,
        [2, 3, 4],
        "the rest of the second's worth"
    );
    sim.transport.on_post_done(sim.now, true, "");
    assert!(posts(&sim.take()).is_empty(), "then it waits");
    let start = sim.now;
    let actions = sim.fire(Deadline::Pace);
    assert_eq!(sim.now - start, 250.0);
    assert_eq!(posts(&actions)[0].1, [5]);
}

#[test]
fn a_1013_that_says_how_long_is_waited_for_as_a_retry_after() {
    let try_later = |sim: &mut Sim, reason: &str| {
        sim.input(Input::SocketClosed {
            close: CloseInfo {
                code: TRY_AGAIN_LATER,
                reason: reason.into(),
                was_clean: true,
            },
            verdict: None,
        });
    };
    let mut sim = Sim::connected(roomy(quiet_options()));
    let at = sim.now;
    try_later(&mut sim, "the server is full; retry after 5 s");
    assert_eq!(
        sim.transport.deadline(Deadline::Retry),
        Some(Instant::from_ms(at + 5000.0)),
        "past the backoff's 100 ms"
    );
    // Without a hint (or with another code) the backoff decides alone.
    sim.fire(Deadline::Retry);
    sim.open();
    let at = sim.now;
    try_later(&mut sim, "message rate limit");
    let wait = sim.transport.deadline(Deadline::Retry).unwrap().as_ms() - at;
    assert!(wait <= 1000.0, "{wait}");
}
