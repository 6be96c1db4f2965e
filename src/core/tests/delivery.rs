//! At-least-once delivery: the outbox keeps every envelope until its ack,
//! within the queue's bound, re-sends in order after any loss, and treats a
//! silent server as a dead channel.

use super::*;

pub(super) fn at_least_once() -> OptionValues {
    OptionValues {
        delivery: Some("at-least-once".into()),
        ack_timeout: Some(1000.0),
        message_queue_size: Some(5.0),
        heartbeat_interval: Some(0.0),
        ..quiet_options()
    }
}

pub(super) fn send(sim: &mut Sim, payload: Payload) -> Result<SendOutcome, InputError> {
    sim.transport.send(sim.now, payload, Some(payload.into()))
}

pub(super) fn lost(actions: &[Output<Payload>]) -> Vec<(Vec<u64>, &'static str)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Emit(Event::AckLost { numbers, reason }) => Some((numbers.clone(), *reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_socket_url_asks_for_acks() {
    let mut sim = Sim::new(at_least_once());
    assert_eq!(
        {
            let actions = sim.connect();
            open_url(&sim, &actions)
        },
        "ws://h/ws?session_id=s&protocol=1.1&ack=1"
    );
}

#[test]
fn sent_envelopes_stay_held_until_acked_and_raw_frames_do_not() {
    let mut sim = Sim::connected(at_least_once());
    sim.take();
    assert_eq!(send(&mut sim, 1), Ok(SendOutcome::Sent));
    assert_eq!(sim.transport.send(sim.now, 2, None), Ok(SendOutcome::Sent));
    assert_eq!(transmitted(&sim.take()), [1, 2]);
    assert_eq!(sim.transport.queued().copied().collect::<Vec<_>>(), [1]);
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    let actions = sim.take();
    assert!(actions.contains(&Output::Emit(Event::Acked(1))));
    assert_eq!(sim.transport.queue_length(), 0);
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    assert!(
        sim.take().is_empty(),
        "a second ack (for a resent copy) is ignored"
    );
}

#[test]
fn unacked_messages_are_resent_in_order_after_a_reconnect_before_new_ones() {
    let mut sim = Sim::connected(at_least_once());
    for n in 1..=3 {
        send(&mut sim, n).unwrap();
    }
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    sim.close(1006);
    send(&mut sim, 4).unwrap(); // sent while down: queued behind 2 and 3
    sim.fire(Deadline::Retry);
    let actions = sim.open();
    assert_eq!(transmitted(&actions), [2, 3, 4]);
    let opened = actions
        .iter()
        .position(|a| *a == Output::Emit(Event::Opened))
        .unwrap();
    let last_transmit = actions
        .iter()
        .rposition(|a| matches!(a, Output::Transmit(_)))
        .unwrap();
    assert!(last_transmit < opened, "resent before 'open' listeners run");
    // And again after another loss, until acked.
    sim.close(1006);
    sim.fire(Deadline::Retry);
    assert_eq!(transmitted(&sim.open()), [2, 3, 4]);
}

#[test]
fn the_outbox_is_bounded_by_the_queue_size_with_the_same_policy() {
    let mut sim = Sim::connected(at_least_once());
    for n in 1..=5 {
        assert_eq!(send(&mut sim, n), Ok(SendOutcome::Sent));
    }
    sim.take();
    // drop-oldest: the oldest unacked message goes, and its promise is told.
    assert_eq!(send(&mut sim, 6), Ok(SendOutcome::Sent));
    let actions = sim.take();
    assert_eq!(
        dropped(&actions),
        [(1, "was dropped from the full queue".to_owned())]
    );
    assert_eq!(sim.transport.queue_length(), 5);
    assert_eq!(sim.transport.snapshot().stats.dropped, 1);

    let mut sim = Sim::connected(OptionValues {
        queue_overflow: Some("error".into()),
        ..at_least_once()
    });
    for n in 1..=5 {
        send(&mut sim, n).unwrap();
    }
    assert_eq!(send(&mut sim, 6), Err(InputError::QueueFull(5)));
    sim.transport.on_ack(sim.now, &sim.transport.message_id(3));
    assert_eq!(
        send(&mut sim, 6),
        Ok(SendOutcome::Sent),
        "an ack makes room"
    );
}

#[test]
fn no_ack_within_the_timeout_closes_with_4000_and_resends() {
    let mut sim = Sim::connected(at_least_once());
    send(&mut sim, 1).unwrap();
    assert_eq!(sim.transport.timer_due(Deadline::Ack), Some(1000.0));
    // Progress moves the deadline: one timer, not one per message.
    sim.at(600.0);
    send(&mut sim, 2).unwrap();
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    sim.take();
    assert_eq!(sim.transport.timer_due(Deadline::Ack), Some(1600.0));
    assert!(errors(&sim.run_until(1599.0)).is_empty());
    let actions = sim.fire(Deadline::Ack);
    assert_eq!(
        actions[0],
        Output::CloseSocket {
            code: 4000,
            reason: "ack timeout".into()
        }
    );
    assert!(reconnecting(&actions).is_some());
    sim.fire(Deadline::Retry);
    assert_eq!(transmitted(&sim.open()), [2]);
}

#[test]
fn all_acked_stops_the_clock() {
    let mut sim = Sim::connected(at_least_once());
    send(&mut sim, 1).unwrap();
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    sim.take();
    assert_eq!(sim.transport.timer_due(Deadline::Ack), None);
}

/// A rejected `sendWithAck` used to stay queued and be delivered after
/// `connect()`: rejected and delivered, and sent twice by an app that
/// retries on rejection. Now disconnect() and giving up keep every tracked
/// message held, their acks still awaited, and deliver them on `connect()`.
#[test]
fn disconnect_and_giving_up_keep_tracked_messages_and_their_acks() {
    let mut sim = Sim::connected(at_least_once());
    send(&mut sim, 1).unwrap();
    sim.take();
    sim.transport.disconnect(sim.now, 1000, "bye").unwrap();
    assert_eq!(lost(&sim.take()), []);
    assert_eq!(sim.transport.queue_length(), 1);
    sim.connect();
    assert_eq!(transmitted(&sim.open()), [1], "sent again on connect()");
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    assert!(sim
        .take()
        .iter()
        .any(|output| matches!(output, Output::Emit(Event::Acked(1)))));

    let mut sim = Sim::new(OptionValues {
        max_reconnect_attempts: Some(0.0),
        ..at_least_once()
    });
    send(&mut sim, 7).unwrap();
    sim.connect();
    let actions = sim.close(1006);
    assert_eq!(sim.state(), ConnectionState::Disconnected);
    assert_eq!(lost(&actions), []);
    assert_eq!(
        sim.transport.queue_length(),
        1,
        "still held after giving up"
    );
    // Only leaving the outbox reports a lost ack.
    sim.transport.clear_queue();
    assert_eq!(
        lost(&sim.take()),
        [(vec![7], "was removed by clearQueue()")]
    );
}

#[test]
fn at_most_once_forgets_what_it_put_on_the_socket() {
    let mut sim = Sim::connected(OptionValues {
        delivery: None,
        ..at_least_once()
    });
    send(&mut sim, 1).unwrap();
    assert_eq!(sim.transport.queue_length(), 0);
    assert_eq!(sim.transport.timer_due(Deadline::Ack), None);
    assert!(!sim.transport.socket_url().contains("ack="));
}
