//! Electing the leader tab without Web Locks: a lease over the tabs'
//! channel (docs/shared-connection.md).
//!
//! Where `navigator.locks` exists the browser elects (it grants the lock to
//! one waiting tab when the holder goes). Elsewhere (a page on `http://` by
//! LAN address has `BroadcastChannel` but no Web Locks) the tabs elect
//! themselves with these rules:
//!
//! - the leader posts a `Lease` every [`LEASE_BEAT`];
//! - a follower that hears no lease for [`LEASE_TIMEOUT`] stands: it posts a
//!   `Claim` for the next term and leads if no better claim or live lease is
//!   heard within [`CLAIM_WINDOW`];
//! - a better claim is a higher term, or the same term from a lower tab id,
//!   so two tabs standing at once agree on one winner without a round more;
//! - a leader that hears a better lease (two leaders, after a tab was
//!   throttled past the timeout) steps down; one that hears a claim posts
//!   its lease at once, so a leader that answers within the claim window
//!   keeps leading;
//! - a leader that leaves (closed, frozen) posts `Resign`, and its followers
//!   stand at once instead of waiting out the timeout (a resignation from
//!   any other tab than the leader they follow, or of an older term, is
//!   stale and ignored);
//! - a new tab posts `Hello` and a leader answers with its lease, so joining
//!   takes one round trip, not a beat; with no answer within [`JOIN_WAIT`]
//!   the new tab stands.

use crate::core::time::{Duration, Instant};
use crate::prelude::*;

use super::{TabId, Term};

/// How often the leader says it is alive.
pub const LEASE_BEAT: Duration = Duration::from_ms(250.0);
/// Silence from the leader after which a follower stands (four beats).
pub const LEASE_TIMEOUT: Duration = Duration::from_ms(1000.0);
/// How long a standing tab listens for a better claim before it leads.
pub const CLAIM_WINDOW: Duration = Duration::from_ms(100.0);
/// How long a new tab listens for a leader before it stands.
pub const JOIN_WAIT: Duration = Duration::from_ms(300.0);

/// What a ballot says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BallotKind {
    /// A new tab asks who leads (its term is the highest it has seen: 0).
    Hello,
    /// The tab stands for the term.
    Claim,
    /// The tab leads in the term and is alive.
    Lease,
    /// The tab, leader of the term, leaves.
    Resign,
}

/// What tabs post to each other about the election: three numbers, so it
/// crosses a `BroadcastChannel` as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ballot {
    /// What it says.
    pub kind: BallotKind,
    /// The tab that posts it.
    pub tab: TabId,
    /// The term it is about.
    pub term: Term,
}

/// What the election asks of the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Post this to the other tabs.
    Post(Ballot),
    /// This tab leads now, in this term: open the connection.
    Lead(Term),
    /// This tab no longer leads: close its connection, another tab has it.
    StepDown,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Another tab leads (`leader`, with its term, once heard); stand at `stand_at`.
    Following {
        stand_at: Instant,
        leader: Option<(TabId, Term)>,
    },
    /// Standing for `term`; lead at `lead_at` unless outbid.
    Standing { term: Term, lead_at: Instant },
    /// Leading in `term`; the next lease is due at `beat_at`.
    Leading { term: Term, beat_at: Instant },
    /// This tab left (frozen, closed, freed): it takes no part until it joins.
    Away,
}

/// One tab's part in the lease election.
#[derive(Debug, Clone)]
pub struct Lease {
    me: TabId,
    state: State,
    /// The highest term this tab has seen: a claim is always for a higher one.
    term: Term,
    verdicts: Vec<Verdict>,
}

/// Whether `(term, tab)` wins over `(other_term, other_tab)`: the higher
/// term, or for the same term the lower tab id.
fn outranks(term: Term, tab: TabId, other_term: Term, other_tab: TabId) -> bool {
    term > other_term || (term == other_term && tab < other_tab)
}

impl Lease {
    /// Tab `me` joins at `now`: it asks who leads and stands after
    /// [`JOIN_WAIT`] without an answer.
    pub fn join(me: TabId, now: Instant) -> Self {
        let mut lease = Self {
            me,
            state: State::Away,
            term: 0,
            verdicts: Vec::new(),
        };
        lease.rejoin(now);
        lease
    }

    /// Takes part again after [`leave`](Self::leave) (a page back from the
    /// back/forward cache or unfrozen).
    pub fn rejoin(&mut self, now: Instant) {
        if self.state != State::Away {
            return;
        }
        self.state = State::Following {
            stand_at: now + JOIN_WAIT,
            leader: None,
        };
        self.verdicts.push(Verdict::Post(Ballot {
            kind: BallotKind::Hello,
            tab: self.me,
            term: self.term,
        }));
    }

    /// Whether this tab leads.
    pub fn is_leader(&self) -> bool {
        matches!(self.state, State::Leading { .. })
    }

    /// The term this tab leads in, if it leads.
    pub fn leading_term(&self) -> Option<Term> {
        match self.state {
            State::Leading { term, .. } => Some(term),
            _ => None,
        }
    }

    /// The next instant [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Following { stand_at, .. } => Some(stand_at),
            State::Standing { lead_at, .. } => Some(lead_at),
            State::Leading { beat_at, .. } => Some(beat_at),
            State::Away => None,
        }
    }

    /// What to do since the last call, oldest first.
    pub fn take_verdicts(&mut self) -> Vec<Verdict> {
        ::core::mem::take(&mut self.verdicts)
    }

    /// The clock reached [`poll_timeout`](Self::poll_timeout) (or later).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Following { stand_at, .. } if now >= stand_at => {
                let term = self.term + 1;
                self.term = term;
                self.state = State::Standing {
                    term,
                    lead_at: now + CLAIM_WINDOW,
                };
                self.say(BallotKind::Claim, term);
            }
            State::Standing { term, lead_at } if now >= lead_at => {
                self.state = State::Leading {
                    term,
                    beat_at: now + LEASE_BEAT,
                };
                self.say(BallotKind::Lease, term);
                self.verdicts.push(Verdict::Lead(term));
            }
            State::Leading { term, beat_at } if now >= beat_at => {
                self.state = State::Leading {
                    term,
                    beat_at: now + LEASE_BEAT,
                };
                self.say(BallotKind::Lease, term);
            }
            _ => {}
        }
    }

    /// Another tab posted `ballot` (a tab never hears its own).
    pub fn handle_ballot(&mut self, now: Instant, ballot: Ballot) {
        if self.state == State::Away {
            return;
        }
        let Ballot { kind, tab, term } = ballot;
        match kind {
            BallotKind::Hello => {
                if let State::Leading { term, .. } = self.state {
                    self.say(BallotKind::Lease, term);
                }
            }
            BallotKind::Claim => {
                self.term = self.term.max(term);
                match self.state {
                    // Alive: say so, and the claimant backs off.
                    State::Leading { term: mine, .. } => self.say(BallotKind::Lease, mine),
                    State::Standing { term: mine, .. } if outranks(term, tab, mine, self.me) => {
                        self.follow(now, None)
                    }
                    // Ours wins: the other tab hears it and backs off.
                    State::Standing { .. } => {}
                    // Give the claimant its window before standing too.
                    State::Following { stand_at, leader } => {
                        self.state = State::Following {
                            stand_at: stand_at.max(now + LEASE_TIMEOUT),
                            leader,
                        };
                    }
                    State::Away => {}
                }
            }
            BallotKind::Lease => {
                self.term = self.term.max(term);
                match self.state {
                    State::Leading { term: mine, .. } if outranks(term, tab, mine, self.me) => {
                        self.follow(now, Some((tab, term)));
                        self.verdicts.push(Verdict::StepDown);
                    }
                    // Two leaders: the other one hears this and steps down.
                    State::Leading { term: mine, .. } => self.say(BallotKind::Lease, mine),
                    // A live leader: follow it, whatever this tab was about to do.
                    State::Standing { .. } | State::Following { .. } => {
                        self.follow(now, Some((tab, term)))
                    }
                    State::Away => {}
                }
            }
            BallotKind::Resign => {
                self.term = self.term.max(term);
                if let State::Following { leader, .. } = self.state {
                    // The leader this tab follows (or, for a tab that has
                    // heard none yet, whoever led): stand at once, at the
                    // next timeout call.
                    let current =
                        leader.is_none_or(|(leader, since)| leader == tab && term >= since);
                    if current {
                        self.state = State::Following {
                            stand_at: now,
                            leader: None,
                        };
                    }
                }
            }
        }
    }

    /// This tab leaves (frozen, hidden in the back/forward cache, closed or
    /// freed): a leader resigns so that another tab takes over at once.
    pub fn leave(&mut self) {
        if let State::Leading { term, .. } = self.state {
            self.say(BallotKind::Resign, term);
            self.verdicts.push(Verdict::StepDown);
        }
        self.state = State::Away;
    }

    fn follow(&mut self, now: Instant, leader: Option<(TabId, Term)>) {
        self.state = State::Following {
            stand_at: now + LEASE_TIMEOUT,
            leader,
        };
    }

    /// Posts a ballot of this tab's.
    fn say(&mut self, kind: BallotKind, term: Term) {
        self.verdicts.push(Verdict::Post(Ballot {
            kind,
            tab: self.me,
            term,
        }));
    }
}
