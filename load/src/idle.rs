//! The idle phase: many connections that only keep their heartbeat, held for
//! a while, and the server's memory before and while they are open.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::sleep;
use tokio_tungstenite::tungstenite::Message;

use crate::cli::Args;
use crate::envelope::{classify, Answer, InFlight, Sent, Target};
use crate::fleet;
use crate::memory::sample_rss;
use crate::problems::{Kind, Problems};
use crate::socket::{self, Socket};

/// Where the phase is; every connection watches it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Control {
    /// Connections are still being opened: nobody pings yet.
    Opening,
    /// All are open: ping from this instant on.
    Hold(Instant),
    /// Stop pinging, wait for the pongs still due, close.
    Stop,
}

/// What the idle phase measured.
#[derive(Debug, Default)]
pub struct IdleReport {
    /// Connections asked for.
    pub requested: usize,
    /// Connections opened.
    pub opened: usize,
    /// Seconds it took to open them all.
    pub open_s: f64,
    /// Seconds they were held once all were open.
    pub hold_s: f64,
    /// Pings sent, and correct pongs received.
    pub pings: u64,
    /// Correct pongs received.
    pub pongs: u64,
    /// The server's RSS before the first connection, in KiB.
    pub rss_before_kib: Option<u64>,
    /// The server's RSS at the end of the hold, every connection open, in KiB.
    pub rss_open_kib: Option<u64>,
    /// Everything that went wrong.
    pub problems: Problems,
}

impl IdleReport {
    /// (RSS open − RSS before) / connections held, in KiB.
    pub fn kib_per_connection(&self) -> Option<f64> {
        let (before, open) = (self.rss_before_kib?, self.rss_open_kib?);
        (self.opened > 0).then(|| (open as f64 - before as f64) / self.opened as f64)
    }

    /// The figures for the JSON line.
    pub fn to_json(&self) -> Value {
        json!({
            "requested": self.requested,
            "opened": self.opened,
            "open_s": self.open_s,
            "hold_s": self.hold_s,
            "pings": self.pings,
            "pongs": self.pongs,
            "rss_before_kib": self.rss_before_kib,
            "rss_open_kib": self.rss_open_kib,
            "kib_per_connection": self.kib_per_connection(),
            "problems": self.problems.to_json(),
        })
    }
}

/// One connection's share of the report.
#[derive(Debug, Default)]
struct Outcome {
    pings: u64,
    pongs: u64,
    problems: Problems,
}

/// The heartbeat settings every connection shares.
#[derive(Debug, Clone, Copy)]
struct Heartbeat {
    target: Target,
    interval: Duration,
    /// The first pings are spread over this span, as real clients that
    /// connected at different times would be, instead of all at once.
    spread: Duration,
    count: usize,
    timeout: Duration,
}

/// Runs the phase; prints progress as it goes.
pub async fn run(args: &Args) -> IdleReport {
    let mut report = IdleReport {
        requested: args.idle,
        ..IdleReport::default()
    };
    report.rss_before_kib = sample_rss(args.server_pid);
    let heartbeat = Heartbeat {
        target: args.target,
        interval: args.heartbeat,
        spread: args.heartbeat.min(args.hold),
        count: args.idle,
        timeout: args.timeout,
    };
    let (control_tx, control_rx) = watch::channel(Control::Opening);
    println!(
        "idle: opening {} connections, {} at a time",
        args.idle, args.concurrency
    );
    let (url, target, run_id) = (args.url.clone(), args.target, args.run.clone());
    let fleet = fleet::open_all(
        args.idle,
        args.concurrency,
        args.timeout,
        move |i| format!("{url}{}", target.query(&format!("load-{run_id}-{i}"))),
        move |i, socket| hold(i, socket, control_rx.clone(), heartbeat),
    )
    .await;
    report.opened = fleet.opened;
    report.open_s = fleet.open_time.as_secs_f64();
    println!(
        "idle: {} of {} open in {:.1} s ({:.0} connections/s)",
        fleet.opened,
        args.idle,
        report.open_s,
        fleet.opened as f64 / report.open_s.max(f64::EPSILON)
    );

    let held_from = Instant::now();
    // Nobody listening only means every connection has already ended (each
    // one's own problem is in its outcome).
    let _ = control_tx.send(Control::Hold(held_from));
    // Nothing to hold if every connection was refused.
    if fleet.opened > 0 {
        tokio::time::sleep(args.hold).await;
    }
    report.rss_open_kib = sample_rss(args.server_pid);
    report.hold_s = held_from.elapsed().as_secs_f64();
    let _ = control_tx.send(Control::Stop);

    // Room for the pongs still due and the closing handshakes.
    let (outcomes, problems) = fleet.join(args.timeout + Duration::from_secs(5)).await;
    report.problems.merge(problems);
    for outcome in outcomes {
        report.pings += outcome.pings;
        report.pongs += outcome.pongs;
        report.problems.merge(outcome.problems);
    }
    println!(
        "idle: held {} for {:.1} s: {} pings, {} pongs; {}",
        report.opened,
        report.hold_s,
        report.pings,
        report.pongs,
        report.problems.summary()
    );
    if let (Some(before), Some(open)) = (report.rss_before_kib, report.rss_open_kib) {
        println!(
            "idle: server RSS {:.1} MiB before, {:.1} MiB with {} open: {:.1} KiB per connection",
            before as f64 / 1024.0,
            open as f64 / 1024.0,
            report.opened,
            report.kib_per_connection().unwrap_or(f64::NAN)
        );
    }
    report
}

/// One idle connection: waits for the hold, pings every interval and checks
/// the pongs, and after the stop waits for the pongs still due and closes.
async fn hold(
    i: usize,
    mut socket: Socket,
    mut control: watch::Receiver<Control>,
    heartbeat: Heartbeat,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut in_flight = InFlight::default();
    // Two timers for the connection's life, armed when their time comes
    // (a fresh timer per loop would take the runtime's timer lock each time).
    let next_ping = sleep(Duration::ZERO);
    let drain_until = sleep(Duration::ZERO);
    tokio::pin!(next_ping, drain_until);
    let (mut pinging, mut draining) = (false, false);
    let mut sent = 0u64;
    loop {
        if draining && in_flight.is_empty() {
            break;
        }
        tokio::select! {
            frame = socket.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    // tungstenite answers WebSocket-level pings by itself.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        outcome.problems.add(Kind::Wrong, 1, format!("idle {i}: a binary frame"));
                        continue;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let why = format!("idle {i}: closed by the server ({frame:?})");
                        outcome.problems.add(Kind::Dropped, 1, why);
                        return outcome;
                    }
                    Some(Err(error)) => {
                        outcome.problems.add(Kind::Dropped, 1, format!("idle {i}: {error}"));
                        return outcome;
                    }
                    None => {
                        outcome.problems.add(Kind::Dropped, 1, format!("idle {i}: connection ended"));
                        return outcome;
                    }
                };
                match classify(heartbeat.target, &mut in_flight, text.as_str()) {
                    Answer::Correct(_) => outcome.pongs += 1,
                    Answer::Ignored => {}
                    Answer::Wrong(why) => outcome.problems.add(Kind::Wrong, 1, format!("idle {i}: {why}")),
                }
            }
            () = next_ping.as_mut(), if pinging && !draining => {
                let ping = Sent::ping(format!("hb-{i}-{sent}"));
                sent += 1;
                if let Err(error) = socket.send(Message::text(ping.text.clone())).await {
                    outcome.problems.add(Kind::Dropped, 1, format!("idle {i}: ping not sent: {error}"));
                    return outcome;
                }
                in_flight.push(ping);
                outcome.pings += 1;
                let next = next_ping.deadline() + heartbeat.interval;
                next_ping.as_mut().reset(next);
            }
            changed = control.changed(), if !draining => {
                // A vanished sender means the phase is over.
                let now = if changed.is_ok() { *control.borrow_and_update() } else { Control::Stop };
                match now {
                    Control::Opening => {}
                    Control::Hold(start) => {
                        let offset = heartbeat.spread.mul_f64(i as f64 / heartbeat.count as f64);
                        next_ping.as_mut().reset((start + offset).into());
                        pinging = true;
                    }
                    Control::Stop => {
                        drain_until.as_mut().reset((Instant::now() + heartbeat.timeout).into());
                        draining = true;
                    }
                }
            }
            () = drain_until.as_mut(), if draining => break,
        }
    }
    if !in_flight.is_empty() {
        let why = format!(
            "idle {i}: {} pings unanswered {:?} after the hold",
            in_flight.len(),
            heartbeat.timeout
        );
        outcome
            .problems
            .add(Kind::Missing, in_flight.len() as u64, why);
    }
    socket::close(socket).await;
    outcome
}
