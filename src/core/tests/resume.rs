//! Downstream resume: the client remembers the last numbered frame it
//! delivered, reports it on every attempt, and drops replayed duplicates.

use super::*;

#[test]
fn the_first_attempt_reports_nothing_and_later_ones_the_last_delivered_seq() {
    let mut sim = Sim::new(quiet_options());
    assert_eq!(open_url(&sim.connect()), "ws://h/ws?session_id=s");
    sim.open();
    for seq in 1..=7 {
        assert!(sim.transport.on_numbered_frame(seq));
    }
    assert_eq!(sim.transport.last_seq(), Some(7));
    sim.close(1006);
    let url = open_url(&sim.fire(TimerKind::Retry));
    assert_eq!(url, "ws://h/ws?session_id=s&last_seq=7");
}

#[test]
fn replayed_frames_already_delivered_are_dropped() {
    let mut sim = Sim::connected(quiet_options());
    assert!(sim.transport.on_numbered_frame(1));
    assert!(sim.transport.on_numbered_frame(2));
    // After a reconnect the server replays from what it believes we have.
    assert!(!sim.transport.on_numbered_frame(2));
    assert!(!sim.transport.on_numbered_frame(1));
    assert!(sim.transport.on_numbered_frame(3));
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
            Action::ResolveUrl { attempt } => Some(*attempt),
            _ => None,
        })
        .unwrap();
    sim.transport
        .on_url_resolved(sim.now, attempt, Ok("ws://h/ws?token=a&last_seq=99".into()));
    sim.take();
    sim.open();
    sim.transport.on_numbered_frame(4);
    sim.close(1006);
    let attempt = resolve_request(&sim.fire(TimerKind::Retry));
    sim.transport
        .on_url_resolved(sim.now, attempt, Ok("ws://h/ws?token=b&last_seq=99".into()));
    // Ours replaces whatever the function put there.
    assert_eq!(
        open_url(&sim.take()),
        "ws://h/ws?token=b&session_id=s&last_seq=4"
    );
}
