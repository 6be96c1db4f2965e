//! The offline queue inside the machine: overflow policies and the flush order.

use super::*;

fn queue_events(actions: &[Output<Payload>]) -> Vec<(usize, Vec<Payload>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Emit(Event::Queue { length, dropped }) => Some((*length, dropped.clone())),
            _ => None,
        })
        .collect()
}

fn send(sim: &mut Sim, payload: Payload) -> Result<SendOutcome, InputError> {
    sim.transport.send(sim.now, payload, Some(payload.into()))
}

#[test]
fn drop_oldest_keeps_the_newest_and_reports_each_drop() {
    let mut sim = Sim::new(OptionValues {
        message_queue_size: Some(100.0),
        ..quiet_options()
    });
    for n in 1..=150 {
        assert_eq!(send(&mut sim, n), Ok(SendOutcome::Queued));
    }
    let events = queue_events(&sim.take());
    assert_eq!(events.len(), 150);
    assert_eq!(events[99], (100, vec![]));
    assert_eq!(events[100], (100, vec![1]));
    assert_eq!(events[149], (100, vec![50]));
    assert_eq!(
        sim.transport.queued().copied().collect::<Vec<_>>(),
        (51..=150).collect::<Vec<_>>()
    );
    assert_eq!(sim.transport.snapshot().stats.dropped, 50);
    // After the open, exactly the last 100 go out, in order.
    sim.connect();
    assert_eq!(transmitted(&sim.open()), (51..=150).collect::<Vec<_>>());
}

#[test]
fn drop_newest_keeps_the_oldest() {
    let mut sim = Sim::new(OptionValues {
        queue_overflow: Some("drop-newest".into()),
        ..quiet_options()
    });
    for n in 1..=3 {
        assert_eq!(send(&mut sim, n), Ok(SendOutcome::Queued));
    }
    sim.take();
    assert_eq!(send(&mut sim, 4), Ok(SendOutcome::Dropped));
    assert_eq!(queue_events(&sim.take()), vec![(3, vec![4])]);
    assert_eq!(
        sim.transport.queued().copied().collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[test]
fn error_policy_refuses_when_full() {
    let mut sim = Sim::new(OptionValues {
        queue_overflow: Some("error".into()),
        ..quiet_options()
    });
    for n in 1..=3 {
        send(&mut sim, n).unwrap();
    }
    sim.take();
    assert_eq!(send(&mut sim, 4), Err(InputError::QueueFull(3)));
    assert!(sim.take().is_empty(), "nothing changed, nothing reported");
    assert_eq!(sim.transport.snapshot().stats.dropped, 0);
}

#[test]
fn the_queue_flushes_first_in_order_before_later_sends() {
    let mut sim = Sim::new(quiet_options());
    sim.connect();
    send(&mut sim, 1).unwrap();
    send(&mut sim, 2).unwrap();
    sim.take();
    let actions = sim.open();
    let opened_at = actions
        .iter()
        .position(|a| a == &Output::Emit(Event::Opened))
        .unwrap();
    let last_flush = actions
        .iter()
        .rposition(|a| matches!(a, Output::Transmit(_)))
        .unwrap();
    assert!(
        last_flush < opened_at,
        "queued messages leave before listeners hear 'open'"
    );
    assert_eq!(transmitted(&actions), [1, 2]);
    assert_eq!(queue_events(&actions), vec![(0, vec![])]);
    assert_eq!(send(&mut sim, 3), Ok(SendOutcome::Sent));
    assert_eq!(transmitted(&sim.take()), [3]);
    assert_eq!(sim.transport.snapshot().stats.sent, 3);
}

#[test]
fn the_queue_survives_any_number_of_reconnects() {
    let mut sim = Sim::new(OptionValues {
        max_reconnect_attempts: Some(f64::INFINITY),
        ..quiet_options()
    });
    sim.connect();
    send(&mut sim, 1).unwrap();
    for _ in 0..20 {
        sim.close(1006);
        sim.fire(Deadline::Retry);
    }
    send(&mut sim, 2).unwrap();
    assert_eq!(transmitted(&sim.open()), [1, 2]);
}

#[test]
fn clear_queue_empties_it_without_counting_drops() {
    let mut sim = Sim::new(quiet_options());
    send(&mut sim, 1).unwrap();
    sim.take();
    sim.transport.clear_queue();
    assert_eq!(queue_events(&sim.take()), vec![(0, vec![])]);
    assert_eq!(sim.transport.queue_length(), 0);
    assert_eq!(sim.transport.snapshot().stats.dropped, 0);
    sim.transport.clear_queue();
    assert!(sim.take().is_empty());
}
