//! The connection's life: which phase it is in, the attempt counters behind
//! the backoff and the fallback, and the deadlines of an attempt (connect
//! timeout, next retry, minimum uptime). The public state is derived here.

use super::snapshot::DisconnectReason;
use super::state::ConnectionState;
use super::time::{Duration, Instant};

/// Where the transport is in its life. The phase is about the channel in use:
/// the WebSocket, or the HTTP fallback's event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Down, and staying down until asked.
    Idle,
    /// Waiting for the URL function of attempt `attempt`.
    Resolving {
        /// The attempt the answer must carry.
        attempt: u64,
    },
    /// A socket (or event stream) was created and has not opened yet.
    Opening,
    /// Connected.
    Open,
    /// Between attempts: the retry is scheduled, or paused while offline.
    Waiting,
    /// Closed for the back/forward cache; reopens on `pageshow`.
    Suspended,
}

/// The connection's phase, counters and deadlines.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Where it is.
    pub phase: Phase,
    /// Identifies the current attempt (or probe), so stale URL answers are ignored.
    pub attempt_serial: u64,
    /// Consecutive failed attempts since the last reset.
    pub retry: u32,
    /// Consecutive WebSocket attempts that never opened (for the fallback).
    pub websocket_failures: u32,
    /// Set when a connection was lost or an attempt failed; cleared on open.
    pub recovering: bool,
    /// What the browser last said about the network.
    pub online: bool,
    /// Why it is down, when it is.
    pub disconnect_reason: Option<DisconnectReason>,
    /// When the scheduled retry starts, and the delay drawn for it.
    pub retry_at: Option<(Instant, Duration)>,
    /// When the attempt under way is abandoned.
    pub connect_deadline: Option<Instant>,
    /// When the attempt counter resets, once connected.
    pub uptime_deadline: Option<Instant>,
    /// When held messages that wait for the server's message rate may go
    /// (`Pacer`); set only while some may wait on an open channel, and while
    /// it is set nothing overtakes them.
    pub pace_at: Option<Instant>,
    /// The least the next wait may be, in ms: what a server asked for with
    /// `Retry-After` (taken by the next wait).
    pub retry_floor: f64,
}

impl Default for Connection {
    fn default() -> Self {
        Self {
            phase: Phase::Idle,
            attempt_serial: 0,
            retry: 0,
            websocket_failures: 0,
            recovering: false,
            online: true,
            disconnect_reason: None,
            retry_at: None,
            connect_deadline: None,
            uptime_deadline: None,
            pace_at: None,
            retry_floor: 0.0,
        }
    }
}

impl Connection {
    /// The state the application sees.
    pub fn state(&self) -> ConnectionState {
        match self.phase {
            Phase::Idle | Phase::Suspended => ConnectionState::Disconnected,
            Phase::Open => ConnectionState::Connected,
            Phase::Waiting => ConnectionState::Reconnecting,
            Phase::Resolving { .. } | Phase::Opening if self.recovering => {
                ConnectionState::Reconnecting
            }
            Phase::Resolving { .. } | Phase::Opening => ConnectionState::Connecting,
        }
    }

    /// Whether a channel is being opened or is open.
    pub fn is_live(&self) -> bool {
        matches!(self.phase, Phase::Opening | Phase::Open)
    }

    /// Whether it is down and staying down (idle, or suspended for the cache).
    pub fn is_down(&self) -> bool {
        matches!(self.phase, Phase::Idle | Phase::Suspended)
    }

    /// A fresh attempt number (stale URL answers carry older ones).
    pub fn next_attempt(&mut self) -> u64 {
        self.attempt_serial += 1;
        self.attempt_serial
    }

    /// The delay of the scheduled retry, while one is scheduled.
    pub fn next_retry_in(&self) -> Option<Duration> {
        self.retry_at.map(|(_, delay)| delay)
    }

    /// Stops the deadlines of the attempt or connection under way.
    pub fn stop_deadlines(&mut self) {
        self.connect_deadline = None;
        self.uptime_deadline = None;
        self.pace_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_state_follows_the_phase_and_recovery() {
        let mut connection = Connection::default();
        assert_eq!(connection.state(), ConnectionState::Disconnected);
        connection.phase = Phase::Opening;
        assert_eq!(connection.state(), ConnectionState::Connecting);
        connection.recovering = true;
        assert_eq!(connection.state(), ConnectionState::Reconnecting);
        connection.phase = Phase::Open;
        assert_eq!(connection.state(), ConnectionState::Connected);
        connection.phase = Phase::Suspended;
        assert_eq!(connection.state(), ConnectionState::Disconnected);
        assert!(connection.is_down());
    }

    #[test]
    fn stopping_an_attempts_deadlines_keeps_the_scheduled_retry() {
        let mut connection = Connection {
            retry_at: Some((Instant::from_ms(30.0), Duration::from_ms(30.0))),
            connect_deadline: Some(Instant::from_ms(50.0)),
            uptime_deadline: Some(Instant::from_ms(70.0)),
            ..Connection::default()
        };
        connection.stop_deadlines();
        assert_eq!(
            (connection.connect_deadline, connection.uptime_deadline),
            (None, None)
        );
        assert_eq!(connection.next_retry_in(), Some(Duration::from_ms(30.0)));
    }
}
