//! A message the server cannot take never blocks the others: one over the
//! size limit is refused at `send`, a `welcome` can lower the limit, and a
//! message a server refused with 1009 is given up instead of being sent
//! again on every reconnect.

use super::delivery::at_least_once;
use super::*;

fn lost(actions: &[Output<Payload>]) -> Vec<u64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Emit(Event::AckLost { numbers, .. }) => Some(numbers.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn limited(bytes: f64) -> OptionValues {
    OptionValues {
        max_message_bytes: Some(bytes),
        ..at_least_once()
    }
}

#[test]
fn a_message_over_the_limit_is_refused_at_once_and_never_queued() {
    let mut sim = Sim::new(limited(2000.0));
    // Offline: a queued message would wait for a channel that refuses it.
    let outcome = sim.transport.send_sized(sim.now, 1, Some(1), 2001);
    assert_eq!(outcome, Ok(SendOutcome::Dropped));
    let actions = sim.take();
    let why = "is 2001 bytes, over maxMessageBytes (2000) or the server's limit";
    assert_eq!(dropped(&actions), [(1, why.to_owned())]);
    assert_eq!(errors(&actions), [format!("the message {why}")]);
    assert_eq!(sim.transport.queue_length(), 0);
    assert_eq!(sim.transport.snapshot().stats.dropped, 1);
    // At the limit it is taken, and goes out on the next socket.
    let outcome = sim.transport.send_sized(sim.now, 2, Some(2), 2000);
    assert_eq!(outcome, Ok(SendOutcome::Queued));
    sim.connect();
    assert_eq!(transmitted(&sim.open()), [2]);
}

#[test]
fn a_welcome_lowers_the_limit_and_a_later_one_cannot_raise_it() {
    let mut sim = Sim::connected(at_least_once());
    let welcome = |sim: &mut Sim, bytes: f64| {
        let frame = InboundFrame {
            epoch: Some("e1".into()),
            first_available: bytes,
            ..InboundFrame::of_kind(FrameSource::Socket, FrameKind::Welcome)
        };
        sim.transport
            .handle_input(Instant::from_ms(sim.now), Input::Frame(frame))
    };
    welcome(&mut sim, 4096.0).unwrap();
    let big = sim.transport.send_sized(sim.now, 1, Some(1), 4097);
    assert_eq!(big, Ok(SendOutcome::Dropped));
    welcome(&mut sim, f64::NAN).unwrap();
    welcome(&mut sim, 1e9).unwrap();
    let big = sim.transport.send_sized(sim.now, 2, Some(2), 4097);
    assert_eq!(big, Ok(SendOutcome::Dropped));
    assert_eq!(
        sim.transport.send_sized(sim.now, 3, Some(3), 4096),
        Ok(SendOutcome::Sent)
    );
}

#[test]
fn a_1009_gives_up_the_message_it_refused_and_the_others_go_on() {
    // The reported case: 2 MiB followed by 5 small ones, at-least-once, on a
    // server whose limit (1 MiB) the client was not told of.
    let mut sim = Sim::new(limited(4_194_304.0));
    sim.transport
        .send_sized(sim.now, 1, Some(1), 2_097_152)
        .unwrap();
    for n in 2..=5 {
        sim.transport
            .send_sized(sim.now, n, Some(n.into()), 20)
            .unwrap();
    }
    sim.connect();
    assert_eq!(transmitted(&sim.open()), [1, 2, 3, 4, 5]);
    let actions = sim.close(1009);
    let why = "was refused: the server closed the socket with 1009 (message too big)";
    assert_eq!(dropped(&actions), [(1, why.to_owned())]);
    assert_eq!(
        lost(&actions),
        Vec::<u64>::new(),
        "the Dropped event settles it"
    );
    assert_eq!(errors(&actions), [format!("the message {why}")]);
    assert_eq!(sim.transport.queue_length(), 4);
    // Reconnected, only the others are sent again; the server acks them.
    sim.fire(Deadline::Retry);
    assert_eq!(transmitted(&sim.open()), [2, 3, 4, 5]);
    for n in 2..=5 {
        let id = sim.transport.message_id(n);
        sim.transport.on_ack(sim.now, &id);
    }
    assert_eq!(sim.transport.queue_length(), 0);
    // The limit is now below the refused size: the same message is refused at once.
    let again = sim.transport.send_sized(sim.now, 6, Some(6), 2_097_152);
    assert_eq!(again, Ok(SendOutcome::Dropped));
}

#[test]
fn a_1009_with_nothing_on_the_wire_drops_nothing() {
    let mut sim = Sim::connected(quiet_options());
    assert_eq!(
        sim.transport.send_sized(sim.now, 1, None, 10),
        Ok(SendOutcome::Sent)
    );
    let actions = sim.close(1009);
    assert!(dropped(&actions).is_empty());
    assert!(
        reconnecting(&actions).is_some(),
        "1009 is retried like any close"
    );
}

#[test]
fn the_limit_option_is_validated_like_the_other_counts() {
    for bad in [1023.0, 1e10, 2048.5, f64::NAN] {
        let error = limited(bad).validate().unwrap_err();
        assert_eq!(error.field, "maxMessageBytes");
        assert_eq!(
            error.reason,
            "must be a whole number from 1024 to 4294967295"
        );
    }
    assert_eq!(limited(1024.0).validate().unwrap().max_message_bytes, 1024);
    assert_eq!(
        quiet_options().validate().unwrap().max_message_bytes,
        1_048_576
    );
}
