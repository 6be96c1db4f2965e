//! Command-line flags: `--host`, `--port`, `--static-dir [MOUNT=]DIR` (repeatable).

use std::net::IpAddr;
use std::path::PathBuf;

use crate::static_files::StaticMount;

/// What the server was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    /// Address to bind; loopback by default so nothing is exposed by accident.
    pub host: IpAddr,
    /// Port to bind; 0 lets the OS pick a free one (printed on start).
    pub port: u16,
    /// Directories served as static files, each under a URL prefix.
    pub static_mounts: Vec<StaticMount>,
}

/// Usage text printed for `--help` and after a bad flag.
pub const USAGE: &str = "\
usage: resocket-server [--host ADDR] [--port PORT] [--static-dir [MOUNT=]DIR]...

  --host ADDR               address to bind (default 127.0.0.1)
  --port PORT               port to bind; 0 picks a free port (default 8080)
  --static-dir [MOUNT=]DIR  serve DIR under URL prefix MOUNT (default /); repeatable,
                            e.g. --static-dir www --static-dir /pkg=pkg

On start it prints one line: `listening on http://HOST:PORT`.";

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
                other => return Err(ArgsError::Invalid(format!("unknown flag: {other}"))),
            }
        }
        Ok(parsed)
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
        assert_eq!(parse(&["--help"]), Err(ArgsError::Help));
    }
}
