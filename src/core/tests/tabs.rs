//! The shared connection's rules between tabs (`core::tabs`), on a
//! simulated clock: the lease election among tabs that join, crash, freeze
//! and leave; the mirror outbox and the frame de-duplication through a
//! hand-over.

use proptest::prelude::*;

use super::delivery::{at_least_once, lost, send};
use super::*;
use crate::core::tabs::*;

/// One simulated tab: its election, and whether it runs.
struct Tab {
    lease: Lease,
    /// Closed or crashed: it does nothing and hears nothing any more.
    gone: bool,
    /// Frozen by the browser: it runs nothing; what is posted to it waits.
    frozen: bool,
    waiting: Vec<Ballot>,
    /// `Lead` verdicts it got, with their terms.
    leads: Vec<Term>,
    step_downs: u32,
}

/// Tabs on one channel: a post reaches every other running tab at once
/// (and a frozen one when it thaws), as `BroadcastChannel` does.
struct Tabs {
    now: Instant,
    tabs: Vec<(TabId, Tab)>,
    /// How long a post takes to reach the other tabs (the same for all, so
    /// one tab's posts keep their order, as `BroadcastChannel` keeps them).
    latency: f64,
    /// Posts on their way: when they arrive, from whom, what.
    in_flight: Vec<(f64, TabId, Ballot)>,
    /// Every post made, in order.
    posted: Vec<Ballot>,
}

/// Ticks of the simulated clock: finer than every election constant.
const TICK: f64 = 5.0;

impl Tabs {
    fn new() -> Self {
        Self::with_latency(0.0)
    }

    fn with_latency(latency: f64) -> Self {
        Self {
            now: Instant::ZERO,
            tabs: Vec::new(),
            latency,
            in_flight: Vec::new(),
            posted: Vec::new(),
        }
    }

    fn join(&mut self, id: TabId) {
        let tab = Tab {
            lease: Lease::join(id, self.now),
            gone: false,
            frozen: false,
            waiting: Vec::new(),
            leads: Vec::new(),
            step_downs: 0,
        };
        self.tabs.push((id, tab));
        self.settle();
    }

    fn tab(&mut self, id: TabId) -> &mut Tab {
        &mut self
            .tabs
            .iter_mut()
            .find(|(tab, _)| *tab == id)
            .expect("a tab the test joined")
            .1
    }

    /// Delivers every post that has arrived, and what they make tabs say
    /// that arrives at once, until nothing more does (a rule that makes tabs
    /// answer each other for ever fails here, not by hanging).
    fn settle(&mut self) {
        for _round in 0..10 {
            for (id, tab) in &mut self.tabs {
                if tab.gone || tab.frozen {
                    continue;
                }
                for verdict in tab.lease.take_verdicts() {
                    match verdict {
                        Verdict::Post(ballot) => {
                            self.posted.push(ballot);
                            self.in_flight
                                .push((self.now.as_ms() + self.latency, *id, ballot))
                        }
                        Verdict::Lead(term) => tab.leads.push(term),
                        Verdict::StepDown => tab.step_downs += 1,
                    }
                }
            }
            let now = self.now.as_ms();
            let (arrived, on_the_way): (Vec<_>, Vec<_>) =
                self.in_flight.drain(..).partition(|(at, _, _)| *at <= now);
            self.in_flight = on_the_way;
            if arrived.is_empty() {
                return;
            }
            for (_, from, ballot) in arrived {
                for (id, tab) in &mut self.tabs {
                    if *id == from || tab.gone {
                        continue;
                    }
                    if tab.frozen {
                        tab.waiting.push(ballot);
                    } else {
                        tab.lease.handle_ballot(self.now, ballot);
                    }
                }
            }
        }
        panic!(
            "the tabs were still posting after 10 rounds at {:?}",
            self.now
        );
    }

    /// Tabs `ids` that joined together, two seconds on: the lowest id leads.
    fn settled(ids: &[TabId]) -> Self {
        let mut tabs = Self::new();
        for &id in ids {
            tabs.join(id);
        }
        tabs.run(2_000.0);
        tabs
    }

    /// Runs the clock for `ms`, tick by tick.
    fn run(&mut self, ms: f64) {
        let end = self.now.as_ms() + ms;
        while self.now.as_ms() < end {
            self.now = Instant::from_ms(self.now.as_ms() + TICK);
            for (_, tab) in &mut self.tabs {
                if !tab.gone && !tab.frozen && is_due(tab.lease.poll_timeout(), self.now) {
                    tab.lease.handle_timeout(self.now);
                }
            }
            self.settle();
        }
    }

    /// Runs the clock until a tab other than those in `not` leads; returns how long it took.
    fn run_until_led(&mut self, not: &[TabId], limit: f64) -> Option<f64> {
        let start = self.now.as_ms();
        while self.now.as_ms() - start < limit {
            self.run(TICK);
            if self.leaders().iter().any(|id| !not.contains(id)) {
                return Some(self.now.as_ms() - start);
            }
        }
        None
    }

    fn crash(&mut self, id: TabId) {
        self.tab(id).gone = true;
    }

    fn leave(&mut self, id: TabId) {
        self.tab(id).lease.leave();
        self.settle();
    }

    fn freeze(&mut self, id: TabId) {
        self.tab(id).frozen = true;
    }

    fn thaw(&mut self, id: TabId) {
        let now = self.now;
        let tab = self.tab(id);
        tab.frozen = false;
        for ballot in std::mem::take(&mut tab.waiting) {
            tab.lease.handle_ballot(now, ballot);
        }
        if is_due(tab.lease.poll_timeout(), now) {
            tab.lease.handle_timeout(now);
        }
        self.settle();
    }

    /// The running tabs that think they lead.
    fn leaders(&self) -> Vec<TabId> {
        self.tabs
            .iter()
            .filter(|(_, tab)| !tab.gone && !tab.frozen && tab.lease.is_leader())
            .map(|(id, _)| *id)
            .collect()
    }
}

const JOINED: f64 = JOIN_WAIT.as_ms() + CLAIM_WINDOW.as_ms();

#[test]
fn a_lone_tab_leads_once_nobody_answered_its_hello() {
    let mut tabs = Tabs::new();
    tabs.join(1);
    tabs.run(JOINED - TICK);
    assert!(tabs.leaders().is_empty(), "still listening for a leader");
    tabs.run(TICK);
    assert_eq!(tabs.leaders(), [1]);
    assert_eq!(tabs.tab(1).leads, [1], "term 1");
}

#[test]
fn tabs_that_join_together_agree_on_one_leader_the_lowest_id() {
    let mut tabs = Tabs::new();
    for id in [5, 3, 9] {
        tabs.join(id);
    }
    tabs.run(5_000.0);
    assert_eq!(tabs.leaders(), [3]);
    for id in [5, 9] {
        assert!(tabs.tab(id).leads.is_empty(), "tab {id} never led");
    }
}

#[test]
fn a_tab_that_joins_later_follows_the_leader_even_with_a_lower_id() {
    let mut tabs = Tabs::new();
    tabs.join(7);
    tabs.run(1_000.0);
    tabs.join(1);
    tabs.run(10_000.0);
    assert_eq!(tabs.leaders(), [7]);
    assert!(
        tabs.tab(1).leads.is_empty(),
        "the leader answered its hello"
    );
    assert_eq!(tabs.tab(7).step_downs, 0);
}

#[test]
fn a_crashed_leader_is_replaced_once_its_lease_runs_out() {
    let mut tabs = Tabs::settled(&[1, 2, 3]);
    assert_eq!(tabs.leaders(), [1]);
    tabs.crash(1);
    let took = tabs.run_until_led(&[1], 5_000.0).expect("a new leader");
    // The last lease was up to a beat old when the leader crashed.
    let bound = LEASE_TIMEOUT.as_ms() + CLAIM_WINDOW.as_ms() + 2.0 * TICK;
    assert!(took <= bound, "took {took} ms, bound {bound}");
    assert!(
        took >= LEASE_TIMEOUT.as_ms() - LEASE_BEAT.as_ms(),
        "not before the lease ran out: {took}"
    );
    tabs.run(5_000.0);
    assert_eq!(tabs.leaders(), [2]);
    assert_eq!(tabs.tab(2).leads, [2], "in a higher term");
}

#[test]
fn a_leader_that_leaves_is_replaced_within_a_claim_window() {
    let mut tabs = Tabs::settled(&[1, 2, 3]);
    tabs.leave(1);
    assert_eq!(
        tabs.tab(1).step_downs,
        1,
        "the driver closes its connection"
    );
    let took = tabs.run_until_led(&[1], 5_000.0).expect("a new leader");
    assert!(took <= CLAIM_WINDOW.as_ms() + 2.0 * TICK, "took {took} ms");
    tabs.run(5_000.0);
    assert_eq!(tabs.leaders(), [2]);
}

#[test]
fn a_frozen_leader_is_replaced_and_steps_down_when_it_thaws() {
    let mut tabs = Tabs::settled(&[1, 2]);
    tabs.freeze(1);
    tabs.run(3_000.0);
    assert_eq!(tabs.leaders(), [2]);
    // It wakes up believing it leads: the newer term's leases it missed
    // reach it first, and it steps down without posting a lease of its own.
    tabs.thaw(1);
    assert_eq!(tabs.tab(1).step_downs, 1);
    tabs.run(5_000.0);
    assert_eq!(tabs.leaders(), [2]);
    assert_eq!(tabs.tab(2).step_downs, 0);
}

#[test]
fn a_stale_resignation_does_not_unseat_the_leader() {
    let mut tabs = Tabs::settled(&[1, 2, 3]);
    tabs.freeze(1);
    tabs.run(3_000.0);
    assert_eq!(tabs.leaders(), [2]);
    // Tab 1 wakes and is closed before it reads what it missed: it still
    // believes it leads term 1, and resigns.
    let tab = tabs.tab(1);
    tab.frozen = false;
    tab.waiting.clear();
    tab.lease.leave();
    let before = tabs.posted.len();
    tabs.settle();
    tabs.run(5_000.0);
    assert_eq!(tabs.leaders(), [2]);
    let claims = tabs.posted[before..]
        .iter()
        .filter(|ballot| ballot.kind == BallotKind::Claim)
        .count();
    assert_eq!(claims, 0, "nobody stood: the resignation was stale");
    assert_eq!(tabs.tab(2).step_downs, 0);
}

#[test]
fn a_tab_that_left_takes_no_part_until_it_rejoins() {
    let mut tabs = Tabs::new();
    tabs.join(1);
    tabs.join(2);
    tabs.run(2_000.0);
    tabs.leave(2);
    assert_eq!(tabs.tab(2).lease.poll_timeout(), None);
    tabs.crash(1);
    tabs.run(5_000.0);
    assert!(tabs.leaders().is_empty(), "the only other tab is away");
    let now = tabs.now;
    tabs.tab(2).lease.rejoin(now);
    tabs.settle();
    tabs.run(JOINED + TICK);
    assert_eq!(tabs.leaders(), [2]);
}

#[derive(Debug, Clone)]
enum Happening {
    Join,
    Crash(usize),
    Leave(usize),
    Freeze(usize),
    Thaw(usize),
    Wait(u16),
}

fn event() -> impl Strategy<Value = Happening> {
    prop_oneof![
        2 => Just(Happening::Join),
        1 => any::<usize>().prop_map(Happening::Crash),
        1 => any::<usize>().prop_map(Happening::Leave),
        1 => any::<usize>().prop_map(Happening::Freeze),
        1 => any::<usize>().prop_map(Happening::Thaw),
        4 => (0u16..1_500).prop_map(Happening::Wait),
    ]
}

proptest! {
    /// Whatever tabs join, crash, leave, freeze and thaw, and however long a
    /// post takes (up to 40 ms: well within the claim window), once things
    /// have been quiet for two lease timeouts exactly one running tab leads
    /// (when any takes part), and it keeps leading while nothing happens.
    #[test]
    fn after_any_history_one_running_tab_leads(
        events in proptest::collection::vec(event(), 1..40),
        latency in prop_oneof![Just(0.0), 1.0..40.0f64],
    ) {
        let mut tabs = Tabs::with_latency(latency);
        let mut next_id: TabId = 100;
        for happening in events {
            let count = tabs.tabs.len().max(1);
            match happening {
                Happening::Join => {
                    // Ids are random in the browser: not in joining order.
                    next_id = next_id.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) % 1000;
                    if tabs.tabs.iter().all(|(id, _)| *id != next_id) {
                        tabs.join(next_id);
                    }
                }
                Happening::Crash(n) if !tabs.tabs.is_empty() => { let id = tabs.tabs[n % count].0; tabs.crash(id) }
                Happening::Leave(n) if !tabs.tabs.is_empty() => {
                    let id = tabs.tabs[n % count].0;
                    if !tabs.tab(id).gone && !tabs.tab(id).frozen { tabs.leave(id) }
                }
                Happening::Freeze(n) if !tabs.tabs.is_empty() => { let id = tabs.tabs[n % count].0; tabs.freeze(id) }
                Happening::Thaw(n) if !tabs.tabs.is_empty() => {
                    let id = tabs.tabs[n % count].0;
                    if tabs.tab(id).frozen { tabs.thaw(id) }
                }
                Happening::Wait(ms) => tabs.run(f64::from(ms)),
                _ => {}
            }
        }
        tabs.run(2.0 * LEASE_TIMEOUT.as_ms() + JOINED);
        let taking_part = tabs.tabs.iter()
            .filter(|(_, tab)| !tab.gone && !tab.frozen && tab.lease.poll_timeout().is_some())
            .count();
        let leaders = tabs.leaders();
        prop_assert_eq!(leaders.len(), usize::from(taking_part > 0), "leaders {:?}", leaders);
        tabs.run(3.0 * LEASE_TIMEOUT.as_ms());
        prop_assert_eq!(tabs.leaders(), leaders, "and it stays");
    }
}

// ---- the mirror outbox and frames through a hand-over ----

fn message(tab: TabId, n: u32, awaits_ack: bool) -> Mirrored {
    let id = format!("t{tab}-{n}");
    Mirrored {
        tab,
        frame: format!("{{\"type\":\"message\",\"data\":{n},\"id\":\"{id}\"}}"),
        id,
        awaits_ack,
    }
}

#[test]
fn the_mirror_keeps_unsettled_messages_in_posting_order_and_each_once() {
    let mut mirror = Mirror::new(3, OverflowPolicy::DropOldest);
    assert_eq!(mirror.posted(message(1, 1, true)), None);
    assert_eq!(mirror.posted(message(2, 1, false)), None);
    assert_eq!(mirror.posted(message(1, 2, true)), None);
    // A tab re-posting after a hand-over: the message keeps its first place.
    assert_eq!(mirror.posted(message(1, 1, true)), None);
    let ids = |mirror: &Mirror| {
        mirror
            .to_resend()
            .iter()
            .map(|m| m.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&mirror), ["t1-1", "t2-1", "t1-2"]);
    assert_eq!(mirror.settled("t2-1").map(|m| m.tab), Some(2));
    assert_eq!(mirror.settled("t2-1"), None, "settled once");
    assert_eq!(ids(&mirror), ["t1-1", "t1-2"]);
    mirror.posted(message(3, 1, true));
    // Full: the oldest goes, and its tab is told (its promise rejects).
    assert_eq!(
        mirror.posted(message(3, 2, true)).map(|m| m.id),
        Some("t1-1".to_owned())
    );
    assert_eq!(ids(&mirror), ["t1-2", "t3-1", "t3-2"]);
    assert_eq!(mirror.len(), 3);
}

#[test]
fn a_full_mirror_lets_go_of_the_message_the_queues_policy_names() {
    for policy in [OverflowPolicy::DropNewest, OverflowPolicy::Error] {
        let mut mirror = Mirror::new(2, policy);
        mirror.posted(message(1, 1, true));
        mirror.posted(message(1, 2, true));
        let refused = mirror.posted(message(2, 1, true));
        assert_eq!(
            refused.map(|m| m.id),
            Some("t2-1".to_owned()),
            "{policy:?}: the new one"
        );
        let ids: Vec<_> = mirror.to_resend().iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids, ["t1-1", "t1-2"], "{policy:?}: the held ones stay");
    }
}

#[test]
fn a_mirror_remembers_a_bounded_number_of_settlements() {
    let mut mirror = Mirror::new(usize::MAX, OverflowPolicy::DropOldest);
    for n in 0..(SETTLED_MEMORY as u32 + 50) {
        mirror.settled(&format!("gone-{n}"));
    }
    // The oldest settlement is forgotten: a late copy holding it brings it back.
    let stale = Mirrored {
        id: "gone-0".into(),
        ..message(1, 0, true)
    };
    let recent = Mirrored {
        id: format!("gone-{}", SETTLED_MEMORY as u32 + 49),
        ..message(1, 1, true)
    };
    mirror.joined(vec![stale, recent]);
    let ids: Vec<_> = mirror.to_resend().iter().map(|m| m.id.clone()).collect();
    assert_eq!(
        ids,
        ["gone-0"],
        "only the last SETTLED_MEMORY settlements are remembered"
    );
}

#[test]
fn a_new_session_or_epoch_numbers_the_frames_afresh() {
    let point = |session: &str, epoch: &str, last_seq| SessionPoint {
        session_id: session.into(),
        epoch: Some(epoch.into()),
        last_seq,
        mirror_capacity: 10,
    };
    let mut tab = Follower::new("own", 10, OverflowPolicy::DropOldest);
    tab.announced(point("a", "e1", None));
    for seq in 1..=500 {
        assert!(tab.frame(Some(seq)));
    }
    // The same session: frames it had are dropped.
    tab.announced(point("a", "e1", Some(500)));
    assert!(!tab.frame(Some(7)));
    // A leader that never heard session "a" started its own: seq 1 is new.
    tab.announced(point("b", "e9", None));
    assert!(tab.frame(Some(1)), "the new session's first frame");
    assert!(!tab.frame(Some(1)), "and once");
    // The server started the stream over in a new epoch.
    tab.announced(point("b", "e10", None));
    assert!(tab.frame(Some(1)));
    assert_eq!(tab.takeover().resume_after, Some(1));
}

#[test]
fn every_mirror_takes_the_leaders_capacity_and_a_late_tab_the_leaders_messages() {
    let ids = |mirror: &[Mirrored]| mirror.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
    // This tab's own queue size is 5; the leader's is 2.
    let mut tab = Follower::new("own", 5, OverflowPolicy::DropOldest);
    for n in 1..=3 {
        tab.posted(message(1, n, true));
    }
    let evicted = tab.announced(SessionPoint {
        session_id: "shared".into(),
        epoch: None,
        last_seq: None,
        mirror_capacity: 2,
    });
    assert_eq!(
        ids(&evicted),
        ["t1-1"],
        "the oldest goes, as in every other tab"
    );
    assert_eq!(ids(tab.takeover().resend), ["t1-2", "t1-3"]);

    // A tab that joined late: it heard one post after its hello; the leader
    // answers with its mirror, which has that post too, and an older one.
    let mut late = Follower::new("own", 10, OverflowPolicy::DropOldest);
    late.posted(message(2, 7, true));
    let evicted = late.joined(vec![message(1, 4, true), message(2, 7, true)]);
    assert!(evicted.is_empty());
    assert_eq!(
        ids(late.takeover().resend),
        ["t1-4", "t2-7"],
        "the leader's order, each once"
    );
    // One it heard that the leader's copy did not have yet comes after.
    late.posted(message(3, 1, false));
    late.joined(vec![message(1, 4, true)]);
    assert_eq!(ids(late.takeover().resend), ["t1-4", "t2-7", "t3-1"]);
    // The leader's copy can be older than a settlement this tab heard: a
    // settled message does not come back with it.
    late.settled("t1-4");
    late.joined(vec![message(1, 4, true), message(2, 7, true)]);
    assert_eq!(ids(late.takeover().resend), ["t2-7", "t3-1"]);
}

#[test]
fn a_hand_over_resumes_the_last_leaders_session_and_resends_what_was_unsettled() {
    // Tab 2 follows leader 1: it hears the session, frames 1–5, three posts.
    let mut tab = Follower::new("own-session", 100, OverflowPolicy::DropOldest);
    assert_eq!(tab.session_id(), "own-session");
    tab.announced(SessionPoint {
        session_id: "shared".into(),
        epoch: Some("e1".into()),
        last_seq: Some(0),
        mirror_capacity: 100,
    });
    for seq in 1..=5 {
        assert!(tab.frame(Some(seq)));
    }
    assert!(tab.frame(None), "unnumbered frames are always delivered");
    tab.posted(message(1, 1, true));
    tab.posted(message(2, 1, true));
    tab.posted(message(1, 2, false));
    tab.settled("t1-1");
    // Leader 1 goes; tab 2 takes over.
    let takeover = tab.takeover();
    assert_eq!(takeover.session_id, "shared");
    assert_eq!(takeover.epoch, Some("e1"));
    assert_eq!(takeover.resume_after, Some(5));
    let resend: Vec<&str> = takeover.resend.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        resend,
        ["t2-1", "t1-2"],
        "oldest first, the settled one not again"
    );
}

#[test]
fn a_tab_delivers_each_frame_once_through_a_hand_over() {
    // Tab 3 heard the old leader up to 7; the new leader resumed from 5 and
    // the server replays 6, 7 before 8 and 9.
    let mut tab = Follower::new("s", 100, OverflowPolicy::DropOldest);
    let mut delivered = Vec::new();
    for seq in (1..=7).chain(6..=9) {
        if tab.frame(Some(seq)) {
            delivered.push(seq);
        }
    }
    assert_eq!(delivered, (1..=9).collect::<Vec<_>>());
    // The server's stream started over: the new numbers are new frames.
    tab.stream_reset(1);
    assert!(tab.frame(Some(1)) && tab.frame(Some(2)));
    assert!(!tab.frame(Some(2)));
    // Frames before a gap are gone: resume after it.
    tab.gap(10);
    assert_eq!(tab.takeover().resume_after, Some(9));
    assert!(tab.frame(Some(10)));
}

#[test]
fn a_tab_that_joined_after_the_last_frame_resumes_after_it_not_from_nothing() {
    // The leader had numbered up to 30 when this tab joined; nothing
    // numbered reached the tab before the leader went.
    let mut tab = Follower::new("own", 10, OverflowPolicy::DropOldest);
    tab.announced(SessionPoint {
        session_id: "shared".into(),
        epoch: None,
        last_seq: Some(30),
        mirror_capacity: 10,
    });
    assert_eq!(
        tab.takeover().resume_after,
        Some(30),
        "frames 31… are replayed"
    );
    assert!(!tab.frame(Some(30)), "not owed what came before it joined");
    assert!(tab.frame(Some(31)));
    // A later announcement does not move a position the tab has.
    tab.announced(SessionPoint {
        session_id: "shared".into(),
        epoch: None,
        last_seq: Some(40),
        mirror_capacity: 10,
    });
    assert_eq!(tab.takeover().resume_after, Some(31));
}

#[test]
fn a_tab_that_never_heard_a_leader_takes_over_with_its_own_session() {
    let tab = Follower::new("own", 10, OverflowPolicy::DropOldest);
    let takeover = tab.takeover();
    assert_eq!(
        (
            takeover.session_id,
            takeover.epoch,
            takeover.resume_after,
            takeover.resend.len()
        ),
        ("own", None, None, 0)
    );
}

// ---- a tab that becomes the leader continues the shared session ----

fn adopt(session_id: &str, epoch: Option<&str>, resume_after: Option<u64>) -> Input<Payload> {
    Input::Adopt {
        session_id: session_id.into(),
        epoch: epoch.map(str::to_owned),
        resume_after,
    }
}

#[test]
fn a_new_leader_opens_the_shared_session_where_the_tabs_were() {
    let mut sim = Sim::new(quiet_options());
    // What Follower::takeover handed it: the last leader's session and
    // epoch, and the last frame this tab delivered.
    sim.input(adopt("shared", Some("e1"), Some(41)));
    assert_eq!(sim.transport.session_id(), "shared");
    assert_eq!(sim.transport.last_seq(), Some(41));
    let actions = sim.connect();
    assert_eq!(
        open_url(&sim, &actions),
        "ws://h/ws?session_id=shared&protocol=1.1&epoch=e1&last_seq=41"
    );
    sim.open();
    // The server replays after 41: the stream goes on, no reset, and a
    // frame the tabs had is dropped.
    assert!(sim.transport.on_numbered_frame(sim.now, 42));
    assert!(!sim.transport.on_numbered_frame(sim.now, 41));
    assert!(!sim.transport.on_numbered_frame(sim.now, 42));
    assert_eq!(
        sim.transport.snapshot().stats.resets,
        0,
        "a continuation, not a reset"
    );
}

#[test]
fn a_tab_that_adopts_nothing_numbered_resumes_nothing() {
    let mut sim = Sim::new(quiet_options());
    sim.input(adopt("shared", Some(""), None));
    let actions = sim.connect();
    assert_eq!(
        open_url(&sim, &actions),
        "ws://h/ws?session_id=shared&protocol=1.1",
        "an empty epoch is none"
    );
}

#[test]
fn adopting_is_refused_for_a_bad_session_id_and_ignored_once_connecting() {
    let mut sim = Sim::new(quiet_options());
    let refused = sim
        .transport
        .handle_input(Instant::ZERO, adopt("a\nb", None, Some(3)));
    assert!(
        matches!(refused, Err(InputError::BadSession(_))),
        "{refused:?}"
    );
    assert_eq!(
        (sim.transport.session_id(), sim.transport.last_seq()),
        ("s", None)
    );

    sim.connect();
    sim.input(adopt("late", None, Some(9)));
    assert_eq!(
        (sim.transport.session_id(), sim.transport.last_seq()),
        ("s", None)
    );
}

// ---- the leader relays other tabs' envelopes ----

/// At-least-once (delivery.rs's options) with a queue of 3.
fn relaying() -> OptionValues {
    OptionValues {
        message_queue_size: Some(3.0),
        ..at_least_once()
    }
}

/// Another tab's envelope `payload`, which that tab numbered `id`; this
/// leader's handle for it is the payload itself.
fn relay(sim: &mut Sim, payload: Payload, id: &str) -> Result<SendOutcome, InputError> {
    let result = sim.transport.handle_input(
        Instant::from_ms(sim.now),
        Input::Relay {
            payload,
            number: payload.into(),
            id: id.into(),
            bytes: 1,
        },
    );
    match result {
        Ok(Handled::Sent(outcome)) => Ok(outcome),
        Ok(other) => panic!("a relay answers like a send, not {other:?}"),
        Err(error) => Err(error),
    }
}

/// This tab's own envelope `payload`, numbered `payload` (delivery.rs's `send`).
fn own(sim: &mut Sim, payload: Payload) {
    send(sim, payload).expect("room in the queue");
}

fn acked(actions: &[Output<Payload>]) -> Vec<u64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Output::Emit(Event::Acked(number)) => Some(*number),
            _ => None,
        })
        .collect()
}

#[test]
fn a_relayed_envelope_is_tracked_by_the_id_its_tab_gave_it() {
    let mut sim = Sim::connected(relaying());
    sim.take();
    assert_eq!(relay(&mut sim, 100, "tab9-1"), Ok(SendOutcome::Sent));
    assert_eq!(transmitted(&sim.take()), [100]);
    assert_eq!(sim.transport.queue_length(), 1, "held until the ack");
    // The server acknowledges the other tab's id.
    sim.transport.on_ack(sim.now, "tab9-1");
    assert_eq!(acked(&sim.take()), [100]);
    assert_eq!(sim.transport.queue_length(), 0);
    sim.transport.on_ack(sim.now, "tab9-1");
    assert!(sim.take().is_empty(), "a second ack is ignored");
}

#[test]
fn relayed_and_own_envelopes_wait_and_go_out_again_in_one_order() {
    let mut sim = Sim::new(relaying());
    sim.connect();
    own(&mut sim, 1);
    assert_eq!(relay(&mut sim, 100, "tab9-1"), Ok(SendOutcome::Queued));
    own(&mut sim, 2);
    assert_eq!(transmitted(&sim.open()), [1, 100, 2]);
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    assert_eq!(acked(&sim.take()), [1]);
    // The socket drops before the others are acknowledged: both go again.
    sim.close(1006);
    assert_eq!(transmitted(&retry_open(&mut sim)), [100, 2]);
    sim.transport.on_ack(sim.now, "tab9-1");
    sim.transport.on_ack(sim.now, &sim.transport.message_id(2));
    assert_eq!(acked(&sim.take()), [100, 2]);
}

/// Fires the retry and opens the socket it starts; what the opening sent.
fn retry_open(sim: &mut Sim) -> Vec<Output<Payload>> {
    sim.fire(Deadline::Retry);
    sim.open()
}

#[test]
fn a_relayed_envelope_that_is_dropped_or_cleared_is_forgotten_with_its_id() {
    let mut sim = Sim::new(relaying());
    relay(&mut sim, 100, "tab9-1").unwrap();
    for n in 1..=3 {
        own(&mut sim, n);
    }
    // The queue holds 3: the relayed one was the oldest and went.
    let actions = sim.take();
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Output::Emit(Event::Dropped { payload: 100, .. }))),
        "{actions:?}"
    );
    // The number names another relayed envelope now: the dropped one's id
    // must not acknowledge it.
    relay(&mut sim, 100, "tab9-2").unwrap();
    sim.connect();
    sim.open();
    sim.take();
    sim.transport.on_ack(sim.now, "tab9-1");
    assert!(
        acked(&sim.take()).is_empty(),
        "its id means nothing any more"
    );
    sim.transport.on_ack(sim.now, "tab9-2");
    assert_eq!(acked(&sim.take()), [100]);

    relay(&mut sim, 102, "tab9-3").unwrap();
    let cleared = lost(&sim.input(Input::ClearQueue));
    assert!(
        cleared.iter().any(|(numbers, _)| numbers.contains(&102)),
        "{cleared:?}"
    );
    relay(&mut sim, 102, "tab9-4").unwrap();
    sim.transport.on_ack(sim.now, "tab9-3");
    assert!(acked(&sim.take()).is_empty(), "cleared, and its id with it");
    sim.transport.on_ack(sim.now, "tab9-4");
    assert_eq!(acked(&sim.take()), [102]);
}

#[test]
fn a_relayed_envelope_refused_by_a_full_queue_leaves_no_id_behind() {
    let mut sim = Sim::new(OptionValues {
        queue_overflow: Some("error".into()),
        ..relaying()
    });
    for n in 1..=3 {
        own(&mut sim, n);
    }
    assert_eq!(
        relay(&mut sim, 100, "tab9-1"),
        Err(InputError::QueueFull(3))
    );
    // The same number later names another relayed envelope: the old id
    // does not acknowledge it.
    sim.transport.on_ack(sim.now, &sim.transport.message_id(1));
    sim.take();
    relay(&mut sim, 100, "tab9-2").unwrap();
    sim.connect();
    sim.open();
    sim.take();
    sim.transport.on_ack(sim.now, "tab9-1");
    assert!(acked(&sim.take()).is_empty());
    sim.transport.on_ack(sim.now, "tab9-2");
    assert_eq!(acked(&sim.take()), [100]);
}

#[test]
fn without_at_least_once_a_relayed_envelope_is_sent_and_forgotten() {
    let mut sim = Sim::connected(OptionValues {
        heartbeat_interval: Some(0.0),
        ..quiet_options()
    });
    sim.take();
    assert_eq!(relay(&mut sim, 100, "tab9-1"), Ok(SendOutcome::Sent));
    assert_eq!(transmitted(&sim.take()), [100]);
    assert_eq!(sim.transport.queue_length(), 0);
    sim.transport.on_ack(sim.now, "tab9-1");
    assert!(acked(&sim.take()).is_empty());
}
