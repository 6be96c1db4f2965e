//! The echo phase: every connection keeps a window of messages in flight,
//! sending the next as soon as an answer comes, for a fixed time.

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

/// What the echo phase measured.
#[derive(Debug, Default)]
pub struct EchoReport {
    /// Connections asked for.
    pub requested: usize,
    /// Connections opened.
    pub opened: usize,
    /// Messages each connection kept in flight.
    pub window: usize,
    /// Length of the measured window, in seconds.
    pub seconds: f64,
    /// Correct answers received inside the window.
    pub replies_in_window: u64,
    /// Messages sent, in and after the window.
    pub sent: u64,
    /// Correct answers received, in and after the window.
    pub replies: u64,
    /// The server's RSS after the phase, in KiB.
    pub rss_after_kib: Option<u64>,
    /// Every answer's latency inside the window, sorted (µs).
    pub latencies_us: Vec<u32>,
    /// Everything that went wrong.
    pub problems: Problems,
}

impl EchoReport {
    /// Correct answers per second over the measured window.
    pub fn messages_per_s(&self) -> f64 {
        self.replies_in_window as f64 / self.seconds.max(f64::EPSILON)
    }

    /// The latency below which `fraction` of the answers came, in ms.
    pub fn latency_ms(&self, fraction: f64) -> Option<f64> {
        let last = self.latencies_us.len().checked_sub(1)?;
        let index = ((last as f64) * fraction).round() as usize;
        Some(f64::from(self.latencies_us[index.min(last)]) / 1000.0)
    }

    /// The figures for the JSON line.
    pub fn to_json(&self) -> Value {
        json!({
            "requested": self.requested,
            "opened": self.opened,
            "window": self.window,
            "seconds": self.seconds,
            "replies_in_window": self.replies_in_window,
            "messages_per_s": self.messages_per_s(),
            "p50_ms": self.latency_ms(0.5),
            "p99_ms": self.latency_ms(0.99),
            "sent": self.sent,
            "replies": self.replies,
            "rss_after_kib": self.rss_after_kib,
            "problems": self.problems.to_json(),
        })
    }
}

/// One connection's share of the report.
#[derive(Debug, Default)]
struct Outcome {
    sent: u64,
    replies: u64,
    replies_in_window: u64,
    /// Each answer's time from its message being sent, inside the window (µs).
    latencies_us: Vec<u32>,
    problems: Problems,
}

/// What every connection shares.
#[derive(Debug, Clone, Copy)]
struct Loop {
    target: Target,
    window: usize,
    timeout: Duration,
}

/// When the measured window ends, the same for every connection; `None`
/// until every connection is open.
type Window = Option<Instant>;

/// Runs the phase; prints progress as it goes.
pub async fn run(args: &Args) -> EchoReport {
    let mut report = EchoReport {
        requested: args.echo_connections,
        window: args.window,
        ..EchoReport::default()
    };
    let settings = Loop {
        target: args.target,
        window: args.window,
        timeout: args.timeout,
    };
    let (window_tx, window_rx) = watch::channel::<Window>(None);
    println!(
        "echo: opening {} connections, {} at a time",
        args.echo_connections, args.concurrency
    );
    let (url, target, run_id) = (args.url.clone(), args.target, args.run.clone());
    let fleet = fleet::open_all(
        args.echo_connections,
        args.concurrency,
        args.timeout,
        move |i| format!("{url}{}", target.query(&format!("load-{run_id}-echo-{i}"))),
        move |i, socket| echo(i, socket, window_rx.clone(), settings),
    )
    .await;
    report.opened = fleet.opened;
    println!(
        "echo: {} of {} open in {:.1} s; {} messages in flight on each for {:.1} s",
        fleet.opened,
        args.echo_connections,
        fleet.open_time.as_secs_f64(),
        args.window,
        args.echo.as_secs_f64()
    );

    // Nobody listening only means every connection has already ended.
    let _ = window_tx.send(Some(Instant::now() + args.echo));
    // Each connection ends by itself: the window, then the answers still due.
    let (outcomes, problems) = fleet
        .join(args.echo + args.timeout + Duration::from_secs(5))
        .await;
    report.seconds = args.echo.as_secs_f64();
    report.rss_after_kib = sample_rss(args.server_pid);
    report.problems.merge(problems);
    for outcome in outcomes {
        report.sent += outcome.sent;
        report.replies += outcome.replies;
        report.replies_in_window += outcome.replies_in_window;
        report.latencies_us.extend(outcome.latencies_us);
        report.problems.merge(outcome.problems);
    }
    report.latencies_us.sort_unstable();
    println!(
        "echo: {} answers in {:.1} s: {:.0} messages/s, p99 {:.2} ms ({} sent, {} answered in all); {}",
        report.replies_in_window,
        report.seconds,
        report.messages_per_s(),
        report.latency_ms(0.99).unwrap_or(f64::NAN),
        report.sent,
        report.replies,
        report.problems.summary()
    );
    report
}

/// One echo connection: waits for the window, keeps `window` messages in
/// flight until it closes, then waits for the answers still due and closes.
async fn echo(
    i: usize,
    mut socket: Socket,
    mut window: watch::Receiver<Window>,
    settings: Loop,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut in_flight = InFlight::default();
    let mut next = 0u64;
    let message = |n: u64| Sent::message(format!("{i}-{n}"), n);
    let mut stop_sending: Option<Instant> = None;
    // One timer for the whole loop, armed when the window starts: a new
    // timer per message would take the runtime's timer lock twice a message.
    let give_up = sleep(Duration::ZERO);
    tokio::pin!(give_up);
    loop {
        if stop_sending.is_some_and(|end| Instant::now() >= end) && in_flight.is_empty() {
            break;
        }
        tokio::select! {
            frame = socket.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    // tungstenite answers WebSocket-level pings by itself.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        outcome.problems.add(Kind::Wrong, 1, format!("echo {i}: a binary frame"));
                        continue;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let why = format!("echo {i}: closed by the server ({frame:?})");
                        return dropped(outcome, &in_flight, why);
                    }
                    Some(Err(error)) => return dropped(outcome, &in_flight, format!("echo {i}: {error}")),
                    None => return dropped(outcome, &in_flight, format!("echo {i}: connection ended")),
                };
                match classify(settings.target, &mut in_flight, text.as_str()) {
                    Answer::Ignored => continue,
                    Answer::Wrong(why) => {
                        outcome.problems.add(Kind::Wrong, 1, format!("echo {i}: {why}"));
                        continue;
                    }
                    Answer::Correct(latency) => {
                        outcome.replies += 1;
                        if stop_sending.is_some_and(|end| Instant::now() < end) {
                            outcome.latencies_us.push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
                        }
                    }
                }
                if stop_sending.is_some_and(|end| Instant::now() < end) {
                    outcome.replies_in_window += 1;
                    let sent = message(next);
                    next += 1;
                    if let Err(error) = socket.send(Message::text(sent.text.clone())).await {
                        return dropped(outcome, &in_flight, format!("echo {i}: send failed: {error}"));
                    }
                    in_flight.push(sent);
                    outcome.sent += 1;
                }
            }
            changed = window.changed(), if stop_sending.is_none() => {
                let Some(end) = changed.ok().and_then(|()| *window.borrow_and_update()) else {
                    // The phase ended before it started: nothing to measure.
                    break;
                };
                stop_sending = Some(end);
                give_up.as_mut().reset((end + settings.timeout).into());
                // The whole window at once, flushed once.
                for _ in 0..settings.window {
                    let sent = message(next);
                    next += 1;
                    if let Err(error) = socket.feed(Message::text(sent.text.clone())).await {
                        return dropped(outcome, &in_flight, format!("echo {i}: send failed: {error}"));
                    }
                    in_flight.push(sent);
                    outcome.sent += 1;
                }
                if let Err(error) = socket.flush().await {
                    return dropped(outcome, &in_flight, format!("echo {i}: send failed: {error}"));
                }
            }
            () = give_up.as_mut(), if stop_sending.is_some() => break,
        }
    }
    if !in_flight.is_empty() {
        let why = format!(
            "echo {i}: {} messages unanswered {:?} after the window",
            in_flight.len(),
            settings.timeout
        );
        outcome
            .problems
            .add(Kind::Missing, in_flight.len() as u64, why);
    }
    socket::close(socket).await;
    outcome
}

/// A connection lost mid-phase: that is one problem; the messages it had in
/// flight are not counted as missing as well.
fn dropped(mut outcome: Outcome, in_flight: &InFlight, why: String) -> Outcome {
    let why = format!("{why} ({} messages in flight)", in_flight.len());
    outcome.problems.add(Kind::Dropped, 1, why);
    outcome
}
