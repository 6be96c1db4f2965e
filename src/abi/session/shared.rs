//! The calls of a connection shared across tabs (`shared-tabs`): a tab's
//! side (`core::tabs::Follower`: which published frames it delivers, the
//! mirror of every tab's unsettled messages) and the leader's (relaying
//! another tab's envelope, announcing where the session stands, adopting
//! the session on taking over). The JavaScript half (`src/browser/tabs.js`)
//! moves the messages between tabs; every decision is here or in the core.

use crate::prelude::*;

use super::super::calls::{Call, DELIVER, THROW};
use super::super::records::{self, Op, Reader, Writer};
use super::{Clock, Session};
use crate::core::stream_position;
use crate::core::tabs::{Ballot, BallotKind, Lease, Mirrored, SessionPoint, Verdict};
use crate::core::{Input, InputError};

impl Session {
    /// One of the calls from [`Call::Relay`] on.
    pub(super) fn shared_call(
        &mut self,
        call: Call,
        a: f64,
        b: f64,
        clock: &mut Clock,
        input: &[u8],
        writer: &mut Writer,
    ) -> u32 {
        let text = records::utf8(input).unwrap_or_default();
        match call {
            Call::Relay => {
                let Some((number, bytes)) = self.next_number(a, b, writer) else {
                    return THROW;
                };
                let id = Some(text.to_owned());
                return self.hand_to_core(clock, number, bytes, Some(number), id, writer);
            }
            Call::Point => {
                writer
                    .op(Op::Point)
                    .str(self.core.session_id())
                    .str(self.core.epoch().unwrap_or_default())
                    .maybe(self.core.last_seq().map(|seq| seq as f64))
                    .len(self.core.config().queue_capacity);
            }
            Call::Lead => {
                let takeover = self.tab.takeover();
                let adopt = Input::Adopt {
                    session_id: takeover.session_id.to_owned(),
                    epoch: takeover.epoch.map(ToOwned::to_owned),
                    resume_after: takeover.resume_after,
                };
                for message in takeover.resend {
                    write_mirrored(message, writer);
                }
                // A session id the core refuses (another tab's, which its own
                // core accepted: a tab of another version) leaves this tab
                // with its own session; the re-sends above still go.
                if let Err(InputError::BadSession(error)) = self.input(clock, adopt) {
                    writer.op(Op::Error).str(&error.message());
                }
            }
            Call::TabFrame => {
                return if self.tab.frame(stream_position(a)) {
                    DELIVER
                } else {
                    0
                };
            }
            Call::TabReset => {
                if let Some(first) = stream_position(a) {
                    self.tab.stream_reset(first);
                }
            }
            Call::TabPosted => {
                let (id, frame) = text.split_once(' ').unwrap_or((text, ""));
                let message = Mirrored {
                    tab: a as u64,
                    id: id.to_owned(),
                    frame: frame.to_owned(),
                    awaits_ack: b == 1.0,
                };
                if let Some(evicted) = self.tab.posted(message) {
                    write_mirrored(&evicted, writer);
                }
            }
            Call::TabSettled => return u32::from(self.tab.settled(text).is_some()),
            Call::TabAnnounced => {
                let (session_id, epoch) = text.split_once(' ').unwrap_or((text, ""));
                let point = SessionPoint {
                    session_id: session_id.to_owned(),
                    epoch: (!epoch.is_empty()).then(|| epoch.to_owned()),
                    last_seq: stream_position(a),
                    mirror_capacity: b as usize,
                };
                for evicted in self.tab.announced(point) {
                    write_mirrored(&evicted, writer);
                }
            }
            Call::TabJoined => {
                for evicted in self.tab.joined(read_mirrored(input)) {
                    write_mirrored(&evicted, writer);
                }
            }
            Call::TabMirror => {
                for message in self.tab.takeover().resend {
                    write_mirrored(message, writer);
                }
            }
            Call::TabPresence => {
                let now = clock.now();
                match (&mut self.lease, b == 1.0) {
                    (None, true) => self.lease = Some(Lease::join(a as u64, now)),
                    (Some(lease), true) => lease.rejoin(now),
                    (Some(lease), false) => lease.leave(),
                    (None, false) => {}
                }
                self.write_election(clock, writer);
            }
            Call::TabBallot => {
                let now = clock.now();
                let kind = BALLOT_KINDS.get((b % 4.0) as usize).copied();
                if let (Some(lease), Some(kind)) = (&mut self.lease, kind) {
                    let tab = a as u64;
                    let term = (b / 4.0) as u64;
                    lease.handle_ballot(now, Ballot { kind, tab, term });
                }
                self.write_election(clock, writer);
            }
            Call::TabTimeout => {
                let now = clock.now();
                if let Some(lease) = &mut self.lease {
                    lease.handle_timeout(now);
                }
                self.write_election(clock, writer);
            }
            _ => {}
        }
        0
    }

    /// What the election asks (ballots to post, leading or no longer), then
    /// when its timer is due.
    fn write_election(&mut self, clock: &mut Clock, writer: &mut Writer) {
        let Some(lease) = &mut self.lease else {
            return;
        };
        for verdict in lease.take_verdicts() {
            match verdict {
                Verdict::Post(Ballot { kind, tab, term }) => {
                    writer
                        .op(Op::Ballot)
                        .u32(kind as u32)
                        .f64(tab as f64)
                        .f64(term as f64);
                }
                Verdict::Lead(term) => {
                    writer.op(Op::Elected).f64(term as f64);
                }
                Verdict::StepDown => {
                    writer.op(Op::Deposed);
                }
            }
        }
        let delay = lease
            .poll_timeout()
            .map(|due| (due.as_ms() - clock.now().as_ms()).max(0.0));
        writer.op(Op::LeaseTimer).maybe(delay);
    }
}

/// Ballot kinds by the number a `TabBallot` call carries (`BallotKind as u32`).
const BALLOT_KINDS: [BallotKind; 4] = [
    BallotKind::Hello,
    BallotKind::Claim,
    BallotKind::Lease,
    BallotKind::Resign,
];

fn write_mirrored(message: &Mirrored, writer: &mut Writer) {
    writer
        .op(Op::Mirrored)
        .f64(message.tab as f64)
        .u32(message.awaits_ack.into())
        .str(&message.id)
        .str(&message.frame);
}

/// The messages of `TabMirror` records, as another tab's call wrote them;
/// reading stops at the first byte that is not one (a tab of another
/// version, or damage: what was read so far is kept).
fn read_mirrored(bytes: &[u8]) -> Vec<Mirrored> {
    let mut reader = Reader::new(bytes);
    let mut messages = Vec::new();
    while reader.u8() == Some(Op::Mirrored as u8) {
        let (Some(tab), Some(awaits_ack), Some(id), Some(frame)) =
            (reader.f64(), reader.u32(), reader.str(), reader.str())
        else {
            break;
        };
        messages.push(Mirrored {
            tab: tab as u64,
            id: id.to_owned(),
            frame: frame.to_owned(),
            awaits_ack: awaits_ack == 1,
        });
    }
    messages
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::super::super::calls::{ANSWER_MASK, FRAME, KEPT, SENT};
    use super::super::tests::{call, exchange, open, ops, session};
    use super::*;
    use crate::core::FrameKind;

    fn at_least_once() -> Session {
        session(
            &[("heartbeatInterval", 0.0)],
            &[("delivery", "at-least-once")],
        )
    }

    /// The server acknowledges `id` on the socket: the records' ops.
    fn ack(session: &mut Session, id: &str) -> Vec<Op> {
        let ack = FRAME + FrameKind::Ack as u32;
        ops(&exchange(session, ack, f64::NAN, f64::NAN, id.as_bytes()).1)
    }

    /// The `Mirrored` records of a call, as (tab, id, frame, awaits ack).
    fn mirrored(out: &[u8]) -> Vec<(u64, String, String, bool)> {
        read_mirrored(out)
            .into_iter()
            .map(|m| (m.tab, m.id, m.frame, m.awaits_ack))
            .collect()
    }

    #[test]
    fn a_relayed_envelope_is_settled_by_the_ack_of_the_id_its_tab_gave_it() {
        let mut session = at_least_once();
        open(&mut session);
        let (answer, _) = call(&mut session, Call::Relay, 1.0, 2.0, "other-tab-7");
        assert_eq!(answer & ANSWER_MASK, SENT);
        assert_ne!(answer & KEPT, 0, "held until acknowledged");
        assert_eq!(
            ack(&mut session, "other-tab-8"),
            [],
            "another id settles nothing"
        );
        let settled = ack(&mut session, "other-tab-7");
        assert!(settled.contains(&Op::Acked), "{settled:?}");
        assert!(settled.contains(&Op::Release), "{settled:?}");
    }

    #[test]
    fn the_leaders_own_envelopes_are_relayed_under_other_numbers_and_still_settle() {
        let mut session = at_least_once();
        open(&mut session);
        // Its own id's number is 1; the relay's handle is 5.
        let own = session.core.message_id(1);
        call(&mut session, Call::Relay, 5.0, 2.0, &own);
        let mut out = Vec::new();
        let ack = FRAME + FrameKind::Ack as u32;
        let mut clock = || 0.0;
        session.call(
            ack,
            f64::NAN,
            f64::NAN,
            &mut Clock::new(&mut clock),
            own.as_bytes(),
            &mut out,
        );
        let mut reader = Reader::new(&out);
        assert_eq!(reader.u8(), Some(Op::Acked as u8));
        assert_eq!(reader.f64(), Some(5.0), "the relay's number, not the id's");
    }

    #[test]
    fn a_relay_awaiting_an_ack_needs_at_least_once_delivery() {
        let mut session = session(&[], &[]);
        let (answer, ops) = call(&mut session, Call::Relay, 1.0, 2.0, "t-1");
        assert_eq!(answer & ANSWER_MASK, THROW);
        assert_eq!(ops, [Op::Throw]);
    }

    #[test]
    fn frames_are_delivered_once_per_tab() {
        let mut session = at_least_once();
        let deliver = |session: &mut Session, seq: f64| {
            call(session, Call::TabFrame, seq, 0.0, "").0 == DELIVER
        };
        assert!(deliver(&mut session, 3.0));
        assert!(!deliver(&mut session, 3.0), "a repeat");
        assert!(deliver(&mut session, f64::NAN), "unnumbered frames always");
        assert!(deliver(&mut session, 4.0));
        call(&mut session, Call::TabReset, 1.0, 0.0, "");
        assert!(deliver(&mut session, 1.0), "the stream started over");
    }

    #[test]
    fn the_new_leader_adopts_the_session_and_re_sends_what_is_unsettled() {
        let mut session = at_least_once();
        call(
            &mut session,
            Call::TabAnnounced,
            5.0,
            10.0,
            "shared-1 epoch-a",
        );
        call(
            &mut session,
            Call::TabPosted,
            7.0,
            1.0,
            "a-1 {\"type\":\"x\"}",
        );
        call(
            &mut session,
            Call::TabPosted,
            8.0,
            0.0,
            "b-1 {\"type\":\"y\"}",
        );
        call(
            &mut session,
            Call::TabPosted,
            7.0,
            1.0,
            "a-2 {\"type\":\"z\"}",
        );
        assert_eq!(call(&mut session, Call::TabSettled, 0.0, 0.0, "a-1").0, 1);
        assert_eq!(call(&mut session, Call::TabSettled, 0.0, 0.0, "a-1").0, 0);
        let (_, out) = exchange(&mut session, Call::Lead as u32, 0.0, 0.0, &[]);
        assert_eq!(
            mirrored(&out),
            [
                (8, "b-1".into(), "{\"type\":\"y\"}".into(), false),
                (7, "a-2".into(), "{\"type\":\"z\"}".into(), true),
            ]
        );
        let (_, point) = exchange(&mut session, Call::Point as u32, 0.0, 0.0, &[]);
        let mut reader = Reader::new(&point);
        assert_eq!(reader.u8(), Some(Op::Point as u8));
        assert_eq!(reader.str(), Some("shared-1"));
        assert_eq!(reader.str(), Some("epoch-a"));
        assert_eq!(reader.f64(), Some(5.0), "resumes after the announced seq");
        assert_eq!(reader.u32(), Some(100), "its own capacity");
        call(&mut session, Call::Connect, 0.0, 0.0, "");
        assert!(
            session.core.socket_url().contains("session_id=shared-1"),
            "{}",
            session.core.socket_url()
        );
    }

    #[test]
    fn a_bad_announced_session_id_is_an_error_and_the_re_sends_still_go() {
        let mut session = at_least_once();
        let own = session.core.session_id().to_owned();
        call(
            &mut session,
            Call::TabAnnounced,
            f64::NAN,
            10.0,
            "bad\u{7}id ",
        );
        call(&mut session, Call::TabPosted, 7.0, 1.0, "a-1 {}");
        let (answer, ops) = call(&mut session, Call::Lead, 0.0, 0.0, "");
        assert_eq!(answer & ANSWER_MASK, 0);
        assert_eq!(ops, [Op::Mirrored, Op::Error]);
        assert_eq!(session.core.session_id(), own, "it leads its own session");
    }

    #[test]
    fn a_late_tab_takes_the_leaders_mirror_and_the_leaders_capacity() {
        let mut leader = at_least_once();
        for (number, id) in ["a-1", "a-2", "a-3"].iter().enumerate() {
            let input = format!("{id} frame-{number}");
            call(&mut leader, Call::TabPosted, 1.0, 1.0, &input);
        }
        let (_, copy) = exchange(&mut leader, Call::TabMirror as u32, 0.0, 0.0, &[]);
        let mut late = at_least_once();
        call(&mut late, Call::TabPosted, 1.0, 1.0, "a-4 frame-3");
        assert!(call(&mut late, Call::TabAnnounced, 3.0, 2.0, "s e")
            .1
            .is_empty());
        let (_, evicted) = exchange(&mut late, Call::TabJoined as u32, 0.0, 0.0, &copy);
        let evicted: Vec<String> = mirrored(&evicted).into_iter().map(|m| m.1).collect();
        assert_eq!(evicted, ["a-1", "a-2"], "the capacity is the leader's: 2");
        let (_, kept) = exchange(&mut late, Call::TabMirror as u32, 0.0, 0.0, &[]);
        let kept: Vec<String> = mirrored(&kept).into_iter().map(|m| m.1).collect();
        assert_eq!(kept, ["a-3", "a-4"]);
    }

    /// A call at `ms` on the simulated clock: the election's records, as
    /// (op, the numbers it carries).
    fn at(session: &mut Session, ms: f64, call: Call, a: f64, b: f64) -> Vec<(Op, Vec<f64>)> {
        let mut out = Vec::new();
        let mut clock = || ms;
        session.call(
            call as u32,
            a,
            b,
            &mut Clock::new(&mut clock),
            &[],
            &mut out,
        );
        let mut reader = Reader::new(&out);
        let mut records = Vec::new();
        while let Some(op) = reader.u8() {
            let op = Op::ALL[usize::from(op)];
            let numbers = match op {
                Op::Ballot => {
                    let kind = reader.u32().map(f64::from);
                    vec![kind, reader.f64(), reader.f64()]
                }
                Op::Elected | Op::LeaseTimer => vec![reader.f64()],
                _ => vec![],
            };
            records.push((op, numbers.into_iter().map(Option::unwrap).collect()));
        }
        records
    }

    /// The ballots among `records`, as `TabBallot` arguments (tab, term × 4 + kind).
    fn ballots(records: &[(Op, Vec<f64>)]) -> Vec<(f64, f64)> {
        records
            .iter()
            .filter(|(op, _)| *op == Op::Ballot)
            .map(|(_, n)| (n[1], n[2] * 4.0 + n[0]))
            .collect()
    }

    #[test]
    fn ballot_kinds_are_numbered_as_the_enum() {
        for (number, kind) in BALLOT_KINDS.iter().enumerate() {
            assert_eq!(*kind as usize, number);
        }
    }

    #[test]
    fn two_tabs_elect_one_leader_and_the_other_takes_over_when_it_leaves() {
        let (mut a, mut b) = (at_least_once(), at_least_once());
        let hello = at(&mut a, 0.0, Call::TabPresence, 1.0, 1.0);
        assert_eq!(
            hello.last(),
            Some(&(Op::LeaseTimer, vec![300.0])),
            "{hello:?}"
        );
        // Nobody answered the hello: it claims, then leads after the claim window.
        let claim = at(&mut a, 300.0, Call::TabTimeout, 0.0, 0.0);
        assert_eq!(ballots(&claim), [(1.0, 4.0 + 1.0)], "a claim for term 1");
        let led = at(&mut a, 400.0, Call::TabTimeout, 0.0, 0.0);
        assert!(led.contains(&(Op::Elected, vec![1.0])), "{led:?}");
        // B joins: A answers its hello with a lease, and B follows.
        let hello = at(&mut b, 500.0, Call::TabPresence, 2.0, 1.0);
        for (tab, ballot) in ballots(&hello) {
            let answer = at(&mut a, 501.0, Call::TabBallot, tab, ballot);
            for (tab, ballot) in ballots(&answer) {
                let heard = at(&mut b, 502.0, Call::TabBallot, tab, ballot);
                assert_eq!(
                    heard.last(),
                    Some(&(Op::LeaseTimer, vec![1000.0])),
                    "{heard:?}"
                );
            }
        }
        assert!(at(&mut b, 900.0, Call::TabTimeout, 0.0, 0.0)
            .iter()
            .all(|(op, _)| *op != Op::Elected));
        // A leaves: it resigns; B stands at once and leads a claim window later.
        let left = at(&mut a, 1000.0, Call::TabPresence, 1.0, 0.0);
        assert!(left.contains(&(Op::Deposed, vec![])), "{left:?}");
        let (op, delay) = &left[left.len() - 1];
        assert!(
            *op == Op::LeaseTimer && delay[0].is_nan(),
            "no timer once away: {left:?}"
        );
        for (tab, ballot) in ballots(&left) {
            let heard = at(&mut b, 1001.0, Call::TabBallot, tab, ballot);
            assert_eq!(
                heard.last(),
                Some(&(Op::LeaseTimer, vec![0.0])),
                "{heard:?}"
            );
        }
        let claim = at(&mut b, 1001.0, Call::TabTimeout, 0.0, 0.0);
        assert_eq!(
            ballots(&claim),
            [(2.0, 2.0 * 4.0 + 1.0)],
            "a claim for term 2"
        );
        let led = at(&mut b, 1101.0, Call::TabTimeout, 0.0, 0.0);
        assert!(led.contains(&(Op::Elected, vec![2.0])), "{led:?}");
    }

    #[test]
    fn a_tab_outside_the_election_answers_nothing() {
        let mut session = at_least_once();
        assert_eq!(at(&mut session, 0.0, Call::TabTimeout, 0.0, 0.0), []);
        assert_eq!(at(&mut session, 0.0, Call::TabBallot, 1.0, 6.0), []);
        assert_eq!(at(&mut session, 0.0, Call::TabPresence, 1.0, 0.0), []);
    }

    #[test]
    fn a_damaged_mirror_keeps_what_was_read() {
        let mut out = Vec::new();
        let message = Mirrored {
            tab: 1,
            id: "a-1".into(),
            frame: "f".into(),
            awaits_ack: true,
        };
        write_mirrored(&message, &mut Writer::new(&mut out));
        let whole = out.len();
        write_mirrored(&message, &mut Writer::new(&mut out));
        out.truncate(whole + 5);
        assert_eq!(read_mirrored(&out), [message]);
        assert_eq!(read_mirrored(&[0xFF, 1, 2]), []);
    }
}
