//! Downstream resume: the client remembers the last numbered frame it
//! delivered, reports it on every attempt, and drops replayed duplicates.

use super::*;

#[test]
fn the_first_attempt_reports_nothing_and_later_ones_the_last_delivered_seq() {
    let mut sim = Sim::new(quiet_options());
    assert_eq!(
        {
            let actions = sim.connect();
            open_url(&sim, &actions)
        },
        "ws://h/ws?session_id=s&protocol=1.1"
    );
    sim.open();
    for seq in 1..=7 {
        assert!(sim.transport.on_numbered_frame(sim.now, seq));
    }
    assert_eq!(sim.transport.last_seq(), Some(7));
    sim.close(1006);
    let url = retry_url(&mut sim);
    assert_eq!(url, "ws://h/ws?session_id=s&protocol=1.1&last_seq=7");
}

#[test]
fn replayed_frames_already_delivered_are_dropped() {
    let mut sim = Sim::connected(quiet_options());
    assert!(sim.transport.on_numbered_frame(sim.now, 1));
    assert!(sim.transport.on_numbered_frame(sim.now, 2));
    // After a reconnect the server replays from what it believes we have.
    assert!(!sim.transport.on_numbered_frame(sim.now, 2));
    assert!(!sim.transport.on_numbered_frame(sim.now, 1));
    assert!(sim.transport.on_numbered_frame(sim.now, 3));
    assert_eq!(sim.transport.last_seq(), Some(3));
}

#[test]
fn a_url_function_gets_last_seq_added_like_the_session_id() {
    let mut sim = Sim::new(OptionValues {
        url: None,
        ..quiet_options()
    });
    sim.connect();
    let attempt = sim
        .actions
        .iter()
        .find_map(|a| match a {
            Output::ResolveUrl { attempt } => Some(*attempt),
            _ => None,
        })
        .unwrap();
    sim.transport
        .on_url_resolved(sim.now, attempt, Ok("ws://h/ws?token=a&last_seq=99".into()));
    sim.take();
    sim.open();
    sim.transport.on_numbered_frame(sim.now, 4);
    sim.close(1006);
    let attempt = resolve_request(&sim.fire(Deadline::Retry));
    sim.transport
        .on_url_resolved(sim.now, attempt, Ok("ws://h/ws?token=b&last_seq=99".into()));
    // Ours replaces whatever the function put there.
    assert_eq!(
        {
            let actions = sim.take();
            open_url(&sim, &actions)
        },
        "ws://h/ws?token=b&session_id=s&protocol=1.1&last_seq=4"
    );
}

/// A server that restarted numbers from 1 again: the client resumed with
/// `last_seq=5` and used to drop the new stream's frames 1–5 as replays,
/// without a word (5 of 5 lost).
#[test]
fn a_stream_that_restarts_below_the_resume_point_is_delivered_and_reported() {
    let mut sim = Sim::connected(quiet_options());
    for seq in 1..=5 {
        assert!(sim.transport.on_numbered_frame(sim.now, seq));
    }
    sim.close(1006);
    let url = retry_url(&mut sim);
    assert!(url.ends_with("last_seq=5"), "{url}");
    sim.open();
    let delivered: Vec<u64> = (1..=5)
        .filter(|&seq| sim.transport.on_numbered_frame(sim.now, seq))
        .collect();
    assert_eq!(
        delivered,
        [1, 2, 3, 4, 5],
        "the new stream's frames all arrive"
    );
    assert!(sim.take().contains(&Output::Emit(Event::StreamReset {
        previous: 5,
        first: 1
    })));
    let snapshot = sim.transport.snapshot();
    assert_eq!(snapshot.stats.resets, 1, "the snapshot says so");
    assert_eq!(snapshot.last_seq, Some(5));
    // The new stream resumes like any other: replays of it are dropped.
    assert!(!sim.transport.on_numbered_frame(sim.now, 3));
    sim.close(1006);
    sim.fire(Deadline::Retry);
    sim.open();
    assert!(sim.transport.on_numbered_frame(sim.now, 6), "it continues");
    assert!(
        !sim.transport.on_numbered_frame(sim.now, 5),
        "a stray replay"
    );
    assert_eq!(sim.transport.snapshot().stats.resets, 1);
}

/// PROTOCOL.md §4.1: the server's `welcome` names its epoch; every later URL
/// (socket, event stream, POST) carries it beside `last_seq`.
#[test]
fn the_epoch_a_welcome_names_rides_in_every_later_url() {
    let mut sim = Sim::connected(quiet_options());
    assert!(
        !sim.control(FrameKind::Welcome, Some("e1"), f64::NAN),
        "a control frame"
    );
    for seq in 1..=3 {
        assert!(sim.transport.on_numbered_frame(sim.now, seq));
    }
    sim.close(1006);
    let url = retry_url(&mut sim);
    assert_eq!(
        url,
        "ws://h/ws?session_id=s&protocol=1.1&epoch=e1&last_seq=3"
    );
}

/// The case the implicit rule cannot see: the restarted server's new stream
/// already went past the old position. Its explicit `reset` makes every
/// frame of the new stream count, and the application hears of it once.
#[test]
fn an_explicit_reset_delivers_a_new_stream_that_went_past_the_old_position() {
    let mut sim = Sim::connected(quiet_options());
    sim.control(FrameKind::Welcome, Some("e1"), f64::NAN);
    for seq in 1..=5 {
        assert!(sim.transport.on_numbered_frame(sim.now, seq));
    }
    sim.close(1006);
    sim.fire(Deadline::Retry);
    sim.open();
    sim.take();
    assert!(!sim.control(FrameKind::Welcome, Some("e2"), f64::NAN));
    assert!(!sim.control(FrameKind::Reset, Some("e2"), 1.0));
    let delivered: Vec<u64> = (1..=8)
        .filter(|&seq| sim.transport.on_numbered_frame(sim.now, seq))
        .collect();
    assert_eq!(delivered, [1, 2, 3, 4, 5, 6, 7, 8], "nothing dropped");
    let resets: Vec<_> = sim
        .take()
        .into_iter()
        .filter(|output| matches!(output, Output::Emit(Event::StreamReset { .. })))
        .collect();
    assert_eq!(
        resets,
        [Output::Emit(Event::StreamReset {
            previous: 5,
            first: 1
        })],
        "reported once, by the reset, not again by the first frame"
    );
    assert_eq!(sim.transport.snapshot().stats.resets, 1);
    sim.close(1006);
    let url = retry_url(&mut sim);
    assert_eq!(
        url,
        "ws://h/ws?session_id=s&protocol=1.1&epoch=e2&last_seq=8"
    );
}

/// A server of its own kind may send envelopes typed `welcome` or `reset`:
/// without a usable `data.epoch` they are the application's, untouched.
#[test]
fn a_welcome_or_reset_without_an_epoch_is_an_application_frame() {
    let mut sim = Sim::connected(quiet_options());
    assert!(sim.control(FrameKind::Welcome, None, f64::NAN));
    assert!(sim.control(FrameKind::Reset, None, f64::NAN));
    let too_long = "e".repeat(200);
    assert!(sim.control(FrameKind::Welcome, Some(&too_long), f64::NAN));
    assert_eq!(sim.transport.snapshot().stats.resets, 0);
    sim.close(1006);
    let url = retry_url(&mut sim);
    assert!(!url.contains("epoch="), "{url}");
}
