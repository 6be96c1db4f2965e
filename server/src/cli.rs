//! Command-line flags: where to listen, what to serve, and every limit of
//! [`Limits`] (the one table in README "Server limits" lists them).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, Limits};
use crate::static_files::StaticMount;

/// What the server was asked to do.
#[derive(Debug, Clone)]
pub struct Args {
    /// Address to bind; loopback by default so nothing is exposed by accident.
    pub host: IpAddr,
    /// Port to bind; 0 lets the OS pick a free one (printed on start).
    pub port: u16,
    /// Directories served as static files, each under a URL prefix.
    pub static_mounts: Vec<StaticMount>,
    /// Limits, origins, control endpoints.
    pub config: Config,
    /// Gateway mode: the application URL each client envelope is POSTed to.
    pub webhook: Option<String>,
    /// Gateway mode: the application URL that authorises each channel.
    pub auth_webhook: Option<String>,
    /// How long a webhook call may take.
    pub webhook_timeout: Duration,
    /// The Redis engine: the URL of the Redis every node shares.
    pub redis: Option<String>,
    /// The prefix of the Redis engine's keys and channels.
    pub redis_prefix: String,
}

/// A flag that sets one number in [`Limits`].
struct LimitFlag {
    name: &'static str,
    unit: &'static str,
    help: &'static str,
    set: fn(&mut Limits, u64),
    get: fn(&Limits) -> u64,
}

fn size(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

fn bytes(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Every numeric limit, in the order the usage lists them.
const LIMIT_FLAGS: &[LimitFlag] = &[
    LimitFlag {
        name: "--max-message-bytes",
        unit: "N",
        help: "largest client message (WebSocket: close 1009; POST: 413)",
        set: |l, v| l.max_message_bytes = size(v),
        get: |l| bytes(l.max_message_bytes),
    },
    LimitFlag {
        name: "--max-id-bytes",
        unit: "N",
        help: "longest envelope id (and session id)",
        set: |l, v| l.max_id_bytes = size(v),
        get: |l| bytes(l.max_id_bytes),
    },
    LimitFlag {
        name: "--max-type-bytes",
        unit: "N",
        help: "longest envelope type",
        set: |l, v| l.max_type_bytes = size(v),
        get: |l| bytes(l.max_type_bytes),
    },
    LimitFlag {
        name: "--max-batch",
        unit: "N",
        help: "most envelopes in one POST",
        set: |l, v| l.max_batch = size(v),
        get: |l| bytes(l.max_batch),
    },
    LimitFlag {
        name: "--replay-bytes",
        unit: "N",
        help: "bytes of numbered frames kept per session for replay",
        set: |l, v| l.replay_bytes_per_session = size(v),
        get: |l| bytes(l.replay_bytes_per_session),
    },
    LimitFlag {
        name: "--seen-id-bytes",
        unit: "N",
        help: "bytes of received ids kept per session (duplicate suppression)",
        set: |l, v| l.seen_id_bytes_per_session = size(v),
        get: |l| bytes(l.seen_id_bytes_per_session),
    },
    LimitFlag {
        name: "--memory-budget-bytes",
        unit: "N",
        help: "bytes of replay logs and seen ids over all sessions",
        set: |l, v| l.memory_budget_bytes = size(v),
        get: |l| bytes(l.memory_budget_bytes),
    },
    LimitFlag {
        name: "--max-sessions",
        unit: "N",
        help: "sessions kept, live or idle",
        set: |l, v| l.max_sessions = size(v),
        get: |l| bytes(l.max_sessions),
    },
    LimitFlag {
        name: "--max-idle-sessions",
        unit: "N",
        help: "idle sessions kept",
        set: |l, v| l.max_idle_sessions = size(v),
        get: |l| bytes(l.max_idle_sessions),
    },
    LimitFlag {
        name: "--session-ttl",
        unit: "SECONDS",
        help: "an idle session is forgotten after this long",
        set: |l, v| l.session_ttl = Duration::from_secs(v),
        get: |l| l.session_ttl.as_secs(),
    },
    LimitFlag {
        name: "--send-queue",
        unit: "FRAMES",
        help: "frames queued for a socket or event stream that does not read (then 1013)",
        set: |l, v| l.send_queue_frames = size(v),
        get: |l| bytes(l.send_queue_frames),
    },
    LimitFlag {
        name: "--send-queue-bytes",
        unit: "N",
        help: "bytes queued for a socket or event stream that does not read (then 1013)",
        set: |l, v| l.send_queue_bytes = size(v),
        get: |l| bytes(l.send_queue_bytes),
    },
    LimitFlag {
        name: "--send-timeout",
        unit: "SECONDS",
        help: "a write taking longer ends the connection",
        set: |l, v| l.send_timeout = Duration::from_secs(v),
        get: |l| l.send_timeout.as_secs(),
    },
    LimitFlag {
        name: "--header-timeout",
        unit: "SECONDS",
        help: "time to send a request's headers (slowloris)",
        set: |l, v| l.header_read_timeout = Duration::from_secs(v),
        get: |l| l.header_read_timeout.as_secs(),
    },
    LimitFlag {
        name: "--idle-timeout",
        unit: "SECONDS",
        help: "a socket silent this long is closed with 1001 (pinged every third of it)",
        set: |l, v| l.idle_timeout = Duration::from_secs(v),
        get: |l| l.idle_timeout.as_secs(),
    },
    LimitFlag {
        name: "--poll-wait",
        unit: "SECONDS",
        help: "the longest a long-poll of /events is held with nothing to answer",
        set: |l, v| l.poll_wait = Duration::from_secs(v),
        get: |l| l.poll_wait.as_secs(),
    },
    LimitFlag {
        name: "--max-connections",
        unit: "N",
        help: "TCP connections at once, in total",
        set: |l, v| l.max_connections = size(v),
        get: |l| bytes(l.max_connections),
    },
    LimitFlag {
        name: "--max-connections-per-ip",
        unit: "N",
        help: "TCP connections at once from one IP address",
        set: |l, v| l.max_connections_per_ip = size(v),
        get: |l| bytes(l.max_connections_per_ip),
    },
    LimitFlag {
        name: "--message-rate",
        unit: "N",
        help: "messages per second per connection, bursts of 2x (then 1013); 0 = off",
        set: |l, v| l.message_rate = u32::try_from(v).unwrap_or(u32::MAX),
        get: |l| u64::from(l.message_rate),
    },
    LimitFlag {
        name: "--max-rooms-per-session",
        unit: "N",
        help: "rooms one session may be in",
        set: |l, v| l.max_rooms_per_session = size(v),
        get: |l| bytes(l.max_rooms_per_session),
    },
];

/// The limit flags that must not be 0 (a 0 would refuse everything or spin).
const NON_ZERO: &[&str] = &[
    "--max-message-bytes",
    "--max-id-bytes",
    "--max-type-bytes",
    "--max-batch",
    "--max-sessions",
    "--send-queue",
    "--send-queue-bytes",
    "--send-timeout",
    "--header-timeout",
    "--idle-timeout",
    "--poll-wait",
    "--max-connections",
    "--max-connections-per-ip",
];

/// Usage text printed for `--help` and after a bad flag.
pub fn usage() -> String {
    let defaults = Limits::default();
    let mut text = String::from(
        "usage: resocket-server [--host ADDR] [--port PORT] [--static-dir [MOUNT=]DIR]...
                       [--enable-control] [--allow-origin ORIGIN]... [LIMITS]
                       [--webhook URL [--auth-webhook URL] [--webhook-timeout-ms MS]]
                       [--redis URL [--redis-prefix PREFIX]]

  --host ADDR               address to bind (default 127.0.0.1)
  --port PORT               port to bind; 0 picks a free port (default 8080)
  --static-dir [MOUNT=]DIR  serve DIR under URL prefix MOUNT (default /); repeatable,
                            e.g. --static-dir www --static-dir /pkg=pkg
  --enable-control          mount /control/... (fault injection, session logs, pushes):
                            for tests and demos only, anyone reaching it controls every session
  --allow-origin ORIGIN     let pages from ORIGIN connect (repeatable): https://app.example.com,
                            http://127.0.0.1:* (one * for any run of characters but /), or *;
                            without any, only same-origin pages and non-browser clients
  --webhook URL             gateway mode: POST each client envelope to URL (http://);
                            needs RESOCKET_GATEWAY_SECRET; adds /api/publish and /api/rooms/...
  --auth-webhook URL        gateway mode: ask URL (http://) before accepting a socket, POST or
                            event stream; without it anyone who knows a session id may use it
  --webhook-timeout-ms MS   how long a webhook call may take (default 10000)
  --redis URL               keep sessions' streams, ids, owners and rooms in the Redis at URL
                            (redis://host:port/db), shared by every node of a cluster; the node
                            exits if it cannot reach it at start (default: in this process)
  --redis-prefix PREFIX     prefix of the Redis engine's keys and channels (default resocket)

limits (default in brackets):
",
    );
    for flag in LIMIT_FLAGS {
        let left = format!("  {} {}", flag.name, flag.unit);
        text.push_str(&format!(
            "{left:<36}{} [{}]\n",
            flag.help,
            (flag.get)(&defaults)
        ));
    }
    text.push_str("\nOn start it prints one line: `listening on http://HOST:PORT`.");
    text
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
    /// Parses flags (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, ArgsError> {
        let mut parsed = Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            static_mounts: Vec::new(),
            config: Config::default(),
            webhook: None,
            auth_webhook: None,
            webhook_timeout: Duration::from_secs(10),
            redis: None,
            redis_prefix: "resocket".to_owned(),
        };
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
            if let Some(limit) = LIMIT_FLAGS.iter().find(|limit| limit.name == name) {
                let text = value()?;
                let number: u64 = text.parse().map_err(|_| {
                    ArgsError::Invalid(format!("{name}: not a whole number: {text}"))
                })?;
                if number == 0 && NON_ZERO.contains(&limit.name) {
                    return Err(ArgsError::Invalid(format!("{name} must be at least 1")));
                }
                (limit.set)(&mut parsed.config.limits, number);
                continue;
            }
            match name.as_str() {
                "--host" => {
                    let text = value()?;
                    parsed.host = text.parse().map_err(|_| {
                        ArgsError::Invalid(format!("--host: not an IP address: {text}"))
                    })?;
                }
                "--port" => {
                    let text = value()?;
                    parsed.port = text.parse().map_err(|_| {
                        ArgsError::Invalid(format!("--port: not a port number: {text}"))
                    })?;
                }
                "--static-dir" => {
                    let mount = parse_mount(&value()?)?;
                    if parsed
                        .static_mounts
                        .iter()
                        .any(|m| m.prefix == mount.prefix)
                    {
                        return Err(ArgsError::Invalid(format!(
                            "--static-dir: two directories mounted at {}",
                            mount.prefix
                        )));
                    }
                    parsed.static_mounts.push(mount);
                }
                "--enable-control" => {
                    if inline_value.is_some() {
                        return Err(ArgsError::Invalid("--enable-control takes no value".into()));
                    }
                    parsed.config.enable_control = true;
                }
                "--allow-origin" => {
                    let pattern = value()?;
                    parsed
                        .config
                        .origins
                        .allow(&pattern)
                        .map_err(|why| ArgsError::Invalid(format!("--allow-origin: {why}")))?;
                }
                "--webhook" => parsed.webhook = Some(value()?),
                "--redis" => parsed.redis = Some(value()?),
                "--redis-prefix" => {
                    let prefix = value()?;
                    if prefix.is_empty() || prefix.contains(['{', '}']) {
                        return Err(ArgsError::Invalid(format!(
                            "--redis-prefix: must be non-empty and without braces, got {prefix:?}"
                        )));
                    }
                    parsed.redis_prefix = prefix;
                }
                "--auth-webhook" => parsed.auth_webhook = Some(value()?),
                "--webhook-timeout-ms" => {
                    let text = value()?;
                    let ms: u64 = text.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| {
                        ArgsError::Invalid(format!(
                            "--webhook-timeout-ms: not a positive number: {text}"
                        ))
                    })?;
                    parsed.webhook_timeout = Duration::from_millis(ms);
                }
                other => return Err(ArgsError::Invalid(format!("unknown flag: {other}"))),
            }
        }
        Ok(parsed)
    }

    /// The names of every limit flag (for the README check).
    pub fn limit_flag_names() -> impl Iterator<Item = &'static str> {
        LIMIT_FLAGS.iter().map(|flag| flag.name)
    }
}

fn parse_mount(text: &str) -> Result<StaticMount, ArgsError> {
    let (prefix, dir) = match text.split_once('=') {
        Some((prefix, dir)) => (prefix, dir),
        None => ("/", text),
    };
    if !prefix.starts_with('/') || dir.is_empty() {
        return Err(ArgsError::Invalid(format!(
            "--static-dir: expected [/MOUNT=]DIR, got {text}"
        )));
    }
    let prefix = match prefix.trim_end_matches('/') {
        "" => "/".to_owned(),
        trimmed => trimmed.to_owned(),
    };
    Ok(StaticMount {
        prefix,
        dir: PathBuf::from(dir),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_to_loopback_8080_without_static_files() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.config.limits, Limits::default());
        assert_eq!(args.host.to_string(), "127.0.0.1");
        assert_eq!(args.port, 8080);
        assert!(args.static_mounts.is_empty());
    }

    #[test]
    fn reads_every_flag_in_both_spellings() {
        let args = parse(&[
            "--host",
            "::1",
            "--port=0",
            "--static-dir",
            "www",
            "--static-dir=/pkg/=out/pkg",
        ])
        .unwrap();
        assert_eq!(args.host.to_string(), "::1");
        assert_eq!(args.port, 0);
        assert_eq!(
            args.static_mounts[0],
            StaticMount {
                prefix: "/".into(),
                dir: "www".into()
            }
        );
        assert_eq!(
            args.static_mounts[1],
            StaticMount {
                prefix: "/pkg".into(),
                dir: "out/pkg".into()
            }
        );
    }

    #[test]
    fn limits_origins_and_control_have_flags() {
        let args = parse(&[
            "--enable-control",
            "--allow-origin",
            "http://127.0.0.1:*",
            "--max-message-bytes=4096",
            "--message-rate",
            "0",
            "--session-ttl",
            "30",
            "--max-connections-per-ip",
            "20000",
        ])
        .unwrap();
        assert!(args.config.enable_control);
        assert!(args
            .config
            .origins
            .permits(Some("http://127.0.0.1:5173"), None));
        assert_eq!(args.config.limits.max_message_bytes, 4096);
        assert_eq!(args.config.limits.message_rate, 0);
        assert_eq!(args.config.limits.session_ttl, Duration::from_secs(30));
        assert_eq!(args.config.limits.max_connections_per_ip, 20000);
        assert!(!parse(&[]).unwrap().config.enable_control, "off by default");
        assert!(matches!(
            parse(&["--max-connections", "0"]),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(
            parse(&["--allow-origin", "example.com"]),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(
            parse(&["--replay-bytes", "-1"]),
            Err(ArgsError::Invalid(_))
        ));
    }

    #[test]
    fn every_limit_is_in_the_usage_and_in_the_readme_table() {
        let usage = usage();
        let readme = include_str!("../../README.md");
        for name in Args::limit_flag_names() {
            assert!(usage.contains(name), "usage lacks {name}");
            assert!(
                readme.contains(&format!("`{name}")),
                "README's limits table lacks {name}"
            );
        }
    }

    #[test]
    fn rejects_bad_values_and_unknown_flags() {
        assert!(matches!(
            parse(&["--port", "70000"]),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(
            parse(&["--host", "localhost"]),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(parse(&["--port"]), Err(ArgsError::Invalid(_))));
        assert!(matches!(parse(&["--verbose"]), Err(ArgsError::Invalid(_))));
        assert!(matches!(
            parse(&["--static-dir", "pkg=x"]),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(
            parse(&["--static-dir", "a", "--static-dir", "b"]),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(parse(&["--help"]), Err(ArgsError::Help)));
    }
}
