//! Command-line flags of `resocket-load`.

use std::time::Duration;

use crate::envelope::Target;

/// Usage text printed for `--help` and after a bad flag.
pub const USAGE: &str = "\
usage: resocket-load --url ws://HOST:PORT/PATH [--target resocket|floor] [--server-pid PID]
                     [--idle N] [--heartbeat-ms MS] [--hold-s S]
                     [--echo-connections N] [--window W] [--echo-s S]
                     [--concurrency N] [--timeout-s S] [--run ID] [--short]

  --url URL               the server's WebSocket endpoint (query parameters are added)
  --target T              resocket (pongs, replyTo envelopes) or floor (verbatim echo); default resocket
  --server-pid PID        the server's process, whose RSS gives memory per connection
  --idle N                idle connections with heartbeats (default 10000; 0 skips the phase)
  --heartbeat-ms MS       ping interval per idle connection (default 25000)
  --hold-s S              how long the idle connections are held (default 30)
  --echo-connections N    connections in the echo phase (default 1000; 0 skips it)
  --window W              messages in flight per echo connection (default 4)
  --echo-s S              length of the measured echo window (default 10)
  --concurrency N         connections being opened at once (default 100)
  --timeout-s S           limit for one connect, and for the replies still due
                          after a phase (default 10)
  --run ID                names the sessions load-ID-…  (default: from pid and time)
  --short                 the test command's run: --idle 500 --heartbeat-ms 1000
                          --hold-s 3 --echo-connections 100 --echo-s 2
                          (flags given as well win, whatever their order)

Prints what it measured, then one JSON line. Exits 1 if a connection was
refused or dropped, a ping went unanswered or an echo was missing or wrong;
figures are reported, never judged.";

/// What the load run was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    /// The WebSocket endpoint, without the query the tool adds.
    pub url: String,
    /// Which server answers, and so what a correct answer is.
    pub target: Target,
    /// The server's pid, for its RSS; without it memory is not reported.
    pub server_pid: Option<u32>,
    /// Idle connections to hold (0: no idle phase).
    pub idle: usize,
    /// Ping interval of every idle connection.
    pub heartbeat: Duration,
    /// How long the idle connections are held once all are open.
    pub hold: Duration,
    /// Connections in the echo phase (0: no echo phase).
    pub echo_connections: usize,
    /// Messages each echo connection keeps in flight.
    pub window: usize,
    /// The measured echo window.
    pub echo: Duration,
    /// Connections opened at once.
    pub concurrency: usize,
    /// Limit for one connect, and for the replies due after a phase ends.
    pub timeout: Duration,
    /// Part of every session id, so two runs never share a session.
    pub run: String,
}

/// Why the flags could not be understood.
#[derive(Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// `--help` was given: print usage and exit successfully.
    Help,
    /// A flag or value was wrong; the message says which.
    Invalid(String),
}

impl Args {
    /// Parses flags (without the program name). `default_run` names the run
    /// when `--run` is not given.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        default_run: String,
    ) -> Result<Self, ArgsError> {
        let args: Vec<String> = args.into_iter().collect();
        let mut parsed = Self {
            url: String::new(),
            target: Target::Resocket,
            server_pid: None,
            idle: 10_000,
            heartbeat: Duration::from_secs(25),
            hold: Duration::from_secs(30),
            echo_connections: 1_000,
            window: 4,
            echo: Duration::from_secs(10),
            // Under the listen backlog of both servers (128: tokio binds with
            // std's value). With more handshakes pending at once, a server
            // busy elsewhere drops SYNs and each costs a 1 s retransmit: that
            // would measure the backlog, not the server.
            concurrency: 100,
            timeout: Duration::from_secs(10),
            run: default_run,
        };
        // `--short` only changes defaults, so it is applied before the other
        // flags whatever its position: `--idle 50 --short` still holds 50.
        if args.iter().any(|arg| arg == "--short") {
            parsed.idle = 500;
            parsed.heartbeat = Duration::from_secs(1);
            parsed.hold = Duration::from_secs(3);
            parsed.echo_connections = 100;
            parsed.echo = Duration::from_secs(2);
        }
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let (name, inline_value) = match flag.split_once('=') {
                Some((name, value)) if name.starts_with("--") => {
                    (name.to_owned(), Some(value.to_owned()))
                }
                _ => (flag.clone(), None),
            };
            if name == "--help" || name == "-h" {
                return Err(ArgsError::Help);
            }
            let mut value = || {
                inline_value
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| ArgsError::Invalid(format!("{name} needs a value")))
            };
            match name.as_str() {
                "--short" => {}
                "--url" => parsed.url = value()?,
                "--target" => {
                    let text = value()?;
                    parsed.target = match text.as_str() {
                        "resocket" => Target::Resocket,
                        "floor" => Target::Floor,
                        _ => {
                            return Err(ArgsError::Invalid(format!(
                                "--target: expected resocket or floor, got {text}"
                            )))
                        }
                    };
                }
                "--server-pid" => parsed.server_pid = Some(number(&name, &value()?)?),
                "--idle" => parsed.idle = number(&name, &value()?)?,
                "--heartbeat-ms" => {
                    parsed.heartbeat = Duration::from_millis(positive(&name, &value()?)?);
                }
                "--hold-s" => parsed.hold = seconds(&name, &value()?)?,
                "--echo-connections" => parsed.echo_connections = number(&name, &value()?)?,
                "--window" => parsed.window = positive(&name, &value()?)?,
                "--echo-s" => parsed.echo = seconds(&name, &value()?)?,
                "--concurrency" => parsed.concurrency = positive(&name, &value()?)?,
                "--timeout-s" => parsed.timeout = seconds(&name, &value()?)?,
                "--run" => parsed.run = value()?,
                other => return Err(ArgsError::Invalid(format!("unknown flag: {other}"))),
            }
        }
        if parsed.url.is_empty() {
            return Err(ArgsError::Invalid("--url is required".to_owned()));
        }
        if !(parsed.url.starts_with("ws://") || parsed.url.starts_with("wss://")) {
            return Err(ArgsError::Invalid(format!(
                "--url: expected ws://… or wss://…, got {}",
                parsed.url
            )));
        }
        if parsed.url.contains('?') {
            return Err(ArgsError::Invalid(
                "--url: give it without a query; the tool adds session_id and protocol".to_owned(),
            ));
        }
        Ok(parsed)
    }
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, ArgsError> {
    text.parse()
        .map_err(|_| ArgsError::Invalid(format!("{flag}: not a whole number: {text}")))
}

/// A whole number above zero (a zero interval or window would make no sense).
fn positive<T: std::str::FromStr + Default + PartialEq>(
    flag: &str,
    text: &str,
) -> Result<T, ArgsError> {
    let value: T = number(flag, text)?;
    if value == T::default() {
        return Err(ArgsError::Invalid(format!("{flag}: must be above 0")));
    }
    Ok(value)
}

/// Seconds, fractions allowed; above zero and finite.
fn seconds(flag: &str, text: &str) -> Result<Duration, ArgsError> {
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| {
            ArgsError::Invalid(format!("{flag}: not a number of seconds above 0: {text}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(args.iter().map(|s| s.to_string()), "r".to_owned())
    }

    #[test]
    fn defaults_are_the_full_run() {
        let args = parse(&["--url", "ws://127.0.0.1:1/ws"]).unwrap();
        assert_eq!(args.target, Target::Resocket);
        assert_eq!(args.idle, 10_000);
        assert_eq!(args.heartbeat, Duration::from_secs(25));
        assert_eq!(args.hold, Duration::from_secs(30));
        assert_eq!(args.echo_connections, 1_000);
        assert_eq!(args.window, 4);
        assert_eq!(args.echo, Duration::from_secs(10));
        assert_eq!(args.run, "r");
    }

    #[test]
    fn short_sets_defaults_that_explicit_flags_override() {
        let args = parse(&[
            "--idle=50",
            "--short",
            "--url",
            "ws://h/ws",
            "--target",
            "floor",
        ])
        .unwrap();
        assert_eq!(args.idle, 50);
        assert_eq!(args.heartbeat, Duration::from_secs(1));
        assert_eq!(args.hold, Duration::from_secs(3));
        assert_eq!(args.echo_connections, 100);
        assert_eq!(args.echo, Duration::from_secs(2));
        assert_eq!(args.target, Target::Floor);
    }

    #[test]
    fn accepts_fractional_seconds() {
        let args = parse(&["--url", "ws://h/ws", "--hold-s", "0.5"]).unwrap();
        assert_eq!(args.hold, Duration::from_millis(500));
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            &[][..],
            &["--url", "http://h/ws"],
            &["--url", "ws://h/ws?x=1"],
            &["--url", "ws://h/ws", "--target", "other"],
            &["--url", "ws://h/ws", "--window", "0"],
            &["--url", "ws://h/ws", "--hold-s", "-1"],
            &["--url", "ws://h/ws", "--echo-s", "NaN"],
            &["--url", "ws://h/ws", "--idle", "many"],
            &["--url", "ws://h/ws", "--verbose"],
            &["--url"],
        ] {
            assert!(
                matches!(parse(bad), Err(ArgsError::Invalid(_))),
                "accepted {bad:?}"
            );
        }
        assert_eq!(parse(&["--help"]), Err(ArgsError::Help));
    }
}
