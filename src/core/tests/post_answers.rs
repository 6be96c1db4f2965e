//! What a POST's status makes the fallback do (PROTOCOL.md §6): 401 and
//! 403 stop it as a WebSocket's 4401 and 4403 do, 413 gives up the message
//! refused alone and posts the rest one by one, and `Retry-After` bounds
//! the wait after a 429 or a 503 from below.

use super::fallback::{fallback_options, posts, refuse_attempts};
use super::*;

/// On the HTTP fallback with its event stream open, `messages` sent (one
/// POST in flight carrying them all), and its outputs taken.
fn posting(messages: &[Payload], options: OptionValues) -> Sim {
    let mut sim = Sim::new(OptionValues {
        message_queue_size: Some(100.0),
        max_reconnect_interval: Some(1000.0),
        ..options
    });
    sim.transport.send(sim.now, 100, Some(100)).unwrap();
    refuse_attempts(&mut sim, 3);
    sim.transport.on_events_open(sim.now);
    sim.transport.on_post_done(sim.now, true, "");
    sim.take();
    for &payload in messages {
        sim.transport
            .send_sized(sim.now, payload, Some(payload.into()), payload * 1000)
            .unwrap();
    }
    // The first goes alone (one POST in flight), then the rest in one.
    let first = posts(&sim.take());
    assert_eq!(first.len(), 1);
    if messages.len() > 1 {
        sim.transport.on_post_done(sim.now, true, "");
        assert_eq!(posts(&sim.take())[0].1, messages[1..]);
    }
    sim
}

fn answer(sim: &mut Sim, status: u16, retry_after: &str) -> Vec<Output<Payload>> {
    sim.input(Input::PostAnswered {
        status,
        retry_after: retry_after.to_owned(),
    })
}

#[test]
fn a_401_or_403_stops_the_fallback_as_a_4401_or_4403_close() {
    for status in [401, 403] {
        let mut sim = posting(&[1, 2], fallback_options());
        let actions = answer(&mut sim, status, "");
        let code = 4000 + status;
        assert!(actions.contains(&Output::CloseEvents));
        assert!(
            actions.iter().any(|action| matches!(action,
                Output::Emit(Event::Closed(close)) if close.code == code)),
            "{actions:?}"
        );
        assert_eq!(sim.state(), ConnectionState::Disconnected);
        let snapshot = sim.transport.snapshot();
        assert_eq!(
            snapshot.disconnect_reason,
            Some(DisconnectReason::TerminalClose)
        );
        assert_eq!(
            sim.transport.last_close().map(|close| close.code),
            Some(code)
        );
        assert_eq!(sim.transport.poll_timeout(), None, "nothing is retried");
        // Nothing is lost: they are sent again on the next connect().
        assert_eq!(sim.transport.queued().copied().collect::<Vec<_>>(), [2]);
    }
}

#[test]
fn a_413_for_one_message_gives_it_up_and_the_others_go_on() {
    let mut sim = posting(&[7], fallback_options());
    let actions = answer(&mut sim, 413, "");
    assert_eq!(
        dropped(&actions),
        [(
            7,
            "was refused: the server answered its POST with 413 (too big)".to_owned()
        )]
    );
    assert_eq!(sim.transport.queued().count(), 0);
    // Smaller ones still go, each in a POST of its own.
    sim.run_until(sim.now + 2000.0);
    sim.transport.on_events_open(sim.now);
    sim.take();
    sim.transport.send_sized(sim.now, 3, Some(3), 3000).unwrap();
    assert_eq!(posts(&sim.take())[0].1, [3]);
}

#[test]
fn a_413_for_a_batch_gives_nothing_up_and_posts_one_message_at_a_time() {
    let mut sim = posting(&[1, 2, 3], fallback_options());
    let actions = answer(&mut sim, 413, "");
    assert_eq!(dropped(&actions), []);
    let actions = sim.fire(Deadline::Retry);
    assert_eq!(posts(&actions)[0].1, [2], "one per POST");
    sim.transport.on_post_done(sim.now, true, "");
    assert_eq!(posts(&sim.take())[0].1, [3]);
}

#[test]
fn retry_after_is_the_least_wait_after_a_429_or_a_503() {
    for status in [429, 503] {
        let mut sim = posting(&[1], fallback_options());
        let at = sim.now;
        answer(&mut sim, status, "30");
        assert_eq!(
            sim.transport.deadline(Deadline::Retry),
            Some(Instant::from_ms(at + 30_000.0)),
            "past the backoff's 100 ms"
        );
        // Only that wait: the next one is the backoff's again.
        let actions = sim.fire(Deadline::Retry);
        assert_eq!(posts(&actions)[0].1, [1]);
        let at = sim.now;
        answer(&mut sim, status, "");
        let wait = sim.transport.deadline(Deadline::Retry).unwrap().as_ms() - at;
        assert!(wait <= 1000.0, "{wait}");
    }
}
