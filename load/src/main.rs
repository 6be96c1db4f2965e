//! `resocket-load --url ws://HOST:PORT/ws [--target resocket|floor] …`: what
//! one server node holds. Two phases, each skipped when its count is 0:
//!
//! - idle: N connections that only keep their heartbeat, held for a while;
//!   the server's memory per connection from its RSS;
//! - echo: C connections, each keeping W messages in flight, for S seconds;
//!   correct answers per second.
//!
//! Prints what it measured, then one JSON line for scripts (`scripts/load`).
//! Exits 1 if anything was incorrect (a connection refused or dropped, a
//! ping unanswered, an echo missing or wrong) or the machine's limits cannot
//! hold the run; figures are printed, never judged.

mod cli;
mod echo;
mod envelope;
mod fleet;
mod idle;
mod limits;
mod memory;
mod problems;
mod socket;

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::cli::{Args, ArgsError, USAGE};

fn main() -> ExitCode {
    // Names this run's sessions: pid and time never repeat on one machine
    // soon enough to meet sessions a running server still remembers.
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let default_run = format!("{since_epoch:x}{:x}", std::process::id());
    let args = match Args::parse(std::env::args().skip(1), default_run) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(ArgsError::Invalid(message)) => {
            eprintln!("resocket-load: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(message) = check_limits(&args) {
        eprintln!("resocket-load: {message}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("resocket-load: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if runtime.block_on(run(&args)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Raises our open-files limit and checks that ours, the server's and the
/// local port range can hold the largest phase, so a limit is reported as
/// such instead of as thousands of refused connections.
fn check_limits(args: &Args) -> Result<(), String> {
    let sockets = args.idle.max(args.echo_connections) as u64;
    let needed = sockets + limits::SPARE_FDS;
    let ours = limits::raise_open_files()
        .map_err(|error| format!("cannot raise the open-files limit: {error}"))?;
    if needed > ours {
        return Err(format!(
            "{sockets} connections need about {needed} open files, but this process may \
             open {ours} (its hard limit): use fewer connections, or raise the hard limit \
             (`ulimit -Hn`, as root)"
        ));
    }
    if let Some(pid) = args.server_pid {
        match limits::open_files_of(pid) {
            Ok(Some(theirs)) if needed > theirs => {
                return Err(format!(
                    "{sockets} connections need about {needed} open files in the server, but \
                     pid {pid} may open {theirs}: start it after `ulimit -n {needed}`"
                ));
            }
            Ok(_) => {}
            Err(error) => return Err(format!("cannot read the limits of pid {pid}: {error}")),
        }
    }
    let ports = limits::local_ports()
        .map_err(|error| format!("cannot read the local port range: {error}"))?;
    if sockets > ports {
        return Err(format!(
            "{sockets} connections from one address need as many local ports, but \
             net.ipv4.ip_local_port_range has {ports}"
        ));
    }
    Ok(())
}

/// Both phases and the report; `true` if nothing was incorrect.
async fn run(args: &Args) -> bool {
    println!(
        "resocket-load: {} at {} (run {})",
        args.target.name(),
        args.url,
        args.run
    );
    let idle = if args.idle > 0 {
        Some(idle::run(args).await)
    } else {
        None
    };
    let echo = if args.echo_connections > 0 {
        Some(echo::run(args).await)
    } else {
        None
    };
    let problems = idle
        .iter()
        .map(|r| &r.problems)
        .chain(echo.iter().map(|r| &r.problems));
    let mut ok = true;
    for problem in problems {
        if !problem.is_empty() {
            ok = false;
            for sample in problem.samples() {
                eprintln!("resocket-load: {sample}");
            }
        }
    }
    println!(
        "{}",
        json!({
            "target": args.target.name(),
            "url": args.url,
            "run": args.run,
            "ok": ok,
            "idle": idle.as_ref().map(idle::IdleReport::to_json),
            "echo": echo.as_ref().map(echo::EchoReport::to_json),
        })
    );
    ok
}
