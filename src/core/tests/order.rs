//! The server's stream reaches the application in `seq` order (PROTOCOL.md
//! §4): a frame above a missing number is held until the missing one comes,
//! the server says it is gone, or the client gives up on it after
//! `HOLE_WAIT` of being connected and says so itself.

use super::*;
use crate::core::HOLE_WAIT;

/// A numbered envelope from `source`: what the core answered.
fn numbered(sim: &mut Sim, source: FrameSource, seq: u64) -> Handled {
    let frame = InboundFrame {
        seq: seq as f64,
        ..InboundFrame::of_kind(source, FrameKind::Envelope)
    };
    sim.transport
        .handle_input(Instant::from_ms(sim.now), Input::Frame(frame))
        .expect("a frame is never refused")
}

/// What the application is told about the stream, in order: `"seq"` for a
/// held frame delivered, `"gap a..b"`, `"reset a→b"`.
fn told(actions: &[Output<Payload>]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|action| match action {
            Output::Emit(Event::Deliver(seq)) => Some(seq.to_string()),
            Output::Emit(Event::Gap { after, first }) => Some(format!("gap {after}..{first}")),
            Output::Emit(Event::StreamReset { previous, first }) => {
                Some(format!("reset {previous}→{first}"))
            }
            _ => None,
        })
        .collect()
}

const DELIVER: Handled = Handled::Frame { deliver: true };
const DROP: Handled = Handled::Frame { deliver: false };
const WS: FrameSource = FrameSource::Socket;

#[test]
fn frames_out_of_order_on_a_socket_are_delivered_in_order() {
    let mut sim = Sim::connected(quiet_options());
    assert_eq!(numbered(&mut sim, WS, 1), DELIVER);
    for seq in [5, 3, 4] {
        assert_eq!(numbered(&mut sim, WS, seq), Handled::Held);
        assert_eq!(told(&sim.take()), Vec::<String>::new());
    }
    assert_eq!(numbered(&mut sim, WS, 2), Handled::Held);
    assert_eq!(told(&sim.take()), ["2", "3", "4", "5"]);
    assert_eq!(sim.transport.last_seq(), Some(5));
    assert_eq!(sim.transport.stats().received, 5);
    assert_eq!(sim.transport.deadline(Deadline::Hole), None);
}

#[test]
fn a_reply_that_overtakes_a_push_waits_for_it() {
    // Over the HTTP fallback a POST's answer (15) can come before the push
    // numbered 14 on the event stream.
    let mut sim = Sim::connected(quiet_options());
    for seq in 1..=13 {
        assert_eq!(numbered(&mut sim, FrameSource::Events, seq), DELIVER);
    }
    assert_eq!(
        numbered(&mut sim, FrameSource::PostReply, 15),
        Handled::Held
    );
    assert_eq!(numbered(&mut sim, FrameSource::Events, 14), Handled::Held);
    assert_eq!(told(&sim.take()), ["14", "15"]);
    assert_eq!(numbered(&mut sim, FrameSource::Events, 15), DROP, "a copy");
}

#[test]
fn a_hole_that_stays_open_is_given_up_after_the_wait_and_reported() {
    let mut sim = Sim::connected(OptionValues {
        heartbeat_interval: Some(0.0),
        min_uptime: Some(0.0),
        ..quiet_options()
    });
    sim.at(1000.0);
    numbered(&mut sim, WS, 1);
    assert_eq!(numbered(&mut sim, WS, 3), Handled::Held);
    assert_eq!(
        sim.transport.deadline(Deadline::Hole),
        Some(Instant::from_ms(1000.0) + HOLE_WAIT)
    );
    assert_eq!(
        sim.transport.poll_timeout(),
        sim.transport.deadline(Deadline::Hole)
    );
    // More frames do not push the wait back.
    sim.at(3000.0);
    assert_eq!(numbered(&mut sim, WS, 4), Handled::Held);
    assert_eq!(told(&sim.run_until(5999.0)), Vec::<String>::new());
    assert_eq!(told(&sim.run_until(6000.0)), ["gap 1..3", "3", "4"]);
    assert_eq!(sim.transport.deadline(Deadline::Hole), None);
    assert_eq!(numbered(&mut sim, WS, 2), DROP, "given up on, and said so");
    assert_eq!(sim.transport.last_seq(), Some(4));
}

#[test]
fn the_wait_stands_still_while_disconnected_and_the_replay_fills_the_hole() {
    let mut sim = Sim::connected(quiet_options());
    numbered(&mut sim, WS, 1);
    assert_eq!(numbered(&mut sim, WS, 3), Handled::Held);
    sim.close(1006);
    assert_eq!(
        sim.transport.deadline(Deadline::Hole),
        None,
        "not counted while down"
    );
    // Back after far longer than the wait: it resumes after the highest
    // delivered in order, and the replay brings 2 before 3 goes out.
    sim.at(60_000.0);
    let url = retry_url(&mut sim);
    assert!(url.ends_with("&last_seq=1"), "{url}");
    sim.open();
    assert_eq!(
        sim.transport.deadline(Deadline::Hole),
        Some(Instant::from_ms(sim.now) + HOLE_WAIT),
        "timed again from the open"
    );
    assert_eq!(numbered(&mut sim, WS, 2), Handled::Held);
    assert_eq!(told(&sim.take()), ["2", "3"]);
    assert_eq!(numbered(&mut sim, WS, 3), DROP, "the replay's copy");
}

#[test]
fn a_number_far_ahead_is_a_gap_at_once_then_delivered() {
    let mut sim = Sim::connected(quiet_options());
    numbered(&mut sim, WS, 1);
    let far = 9_007_199_254_740_991;
    assert_eq!(numbered(&mut sim, WS, far), DELIVER);
    assert_eq!(told(&sim.take()), [format!("gap 1..{far}")]);
    assert_eq!(
        sim.transport.last_seq(),
        Some(far),
        "resumes after the highest delivered"
    );
    assert_eq!(numbered(&mut sim, WS, 2), DROP);
}

#[test]
fn a_reset_delivers_what_the_old_stream_held_before_it_is_reported() {
    let mut sim = Sim::connected(quiet_options());
    for seq in 1..=4 {
        numbered(&mut sim, WS, seq);
    }
    assert_eq!(numbered(&mut sim, WS, 6), Handled::Held);
    sim.close(1006);
    retry_url(&mut sim);
    sim.open();
    sim.take();
    // The restarted server numbers from 1 again.
    assert_eq!(numbered(&mut sim, WS, 1), DELIVER);
    // 5 never came: said before 6, and the reset after the old stream.
    assert_eq!(told(&sim.take()), ["gap 4..6", "6", "reset 4→1"]);
    assert_eq!(numbered(&mut sim, WS, 2), DELIVER);
    assert_eq!(sim.transport.last_seq(), Some(2));
    assert_eq!(sim.transport.deadline(Deadline::Hole), None);
}

#[test]
fn a_gap_notice_is_told_once_in_its_place_and_lets_held_frames_through() {
    let mut sim = Sim::connected(quiet_options());
    numbered(&mut sim, WS, 1);
    assert_eq!(numbered(&mut sim, WS, 7), Handled::Held);
    let gap = InboundFrame {
        first_available: 7.0,
        ..InboundFrame::of_kind(WS, FrameKind::Gap)
    };
    let handled = sim
        .transport
        .handle_input(Instant::from_ms(sim.now), Input::Frame(gap));
    assert_eq!(
        handled,
        Ok(DROP),
        "told as the client's own notice, in its place"
    );
    assert_eq!(told(&sim.take()), ["gap 1..7", "7"]);
    assert_eq!(sim.transport.last_seq(), Some(7));
}
