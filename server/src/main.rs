//! `resocket-server [--host ADDR] [--port PORT] [--static-dir [MOUNT=]DIR]... [LIMITS]
//! [--enable-control] [--allow-origin ORIGIN]... [--webhook URL]`: the demo
//! and test server (the reference `Echo` replies, and streamed replies: `demo.rs`), or a gateway to another
//! backend, built on the library (`resocket-server --help` lists the flags).

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use resocket_server::cli::{usage, Args, ArgsError};
use resocket_server::engine::redis::RedisOptions;
use resocket_server::engine::Engine;
use resocket_server::gateway::{GatewayConfig, SECRET_VARIABLE};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(ArgsError::Invalid(message)) => {
            eprintln!("resocket-server: {message}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let gateway = match args.webhook.clone() {
        Some(webhook) => match GatewayConfig::new(
            webhook,
            args.auth_webhook.clone(),
            std::env::var(SECRET_VARIABLE).ok(),
            args.webhook_timeout,
            args.config.limits.max_message_bytes,
        ) {
            Ok(gateway) => Some(gateway),
            Err(message) => {
                eprintln!("resocket-server: {message}");
                return ExitCode::from(2);
            }
        },
        None if args.auth_webhook.is_some() => {
            eprintln!("resocket-server: --auth-webhook needs --webhook (gateway mode)");
            return ExitCode::from(2);
        }
        None => None,
    };
    // Before listening: a node that cannot reach its cluster's Redis must
    // not take clients (and a supervisor sees it fail at once).
    let engine = match &args.redis {
        None => Engine::Memory,
        Some(url) => {
            let options = RedisOptions::for_limits(&args.config.limits, &args.redis_prefix);
            match Engine::redis(url, options).await {
                Ok(engine) => engine,
                Err(error) => {
                    eprintln!("resocket-server: --redis {url}: cannot reach Redis: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    for mount in &args.static_mounts {
        if !mount.dir.is_dir() {
            eprintln!(
                "resocket-server: warning: {} is not a directory (yet)",
                mount.dir.display()
            );
        }
    }
    let listener = match TcpListener::bind(SocketAddr::new(args.host, args.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "resocket-server: cannot bind {}:{}: {error}",
                args.host, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("resocket-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = match shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(error) => {
            eprintln!("resocket-server: cannot install signal handlers: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The one machine-readable line scripts wait for.
    println!("listening on http://{address}");
    let _ = std::io::stdout().flush();
    match resocket_server::serve(
        listener,
        args.config,
        &args.static_mounts,
        gateway,
        engine,
        shutdown,
    )
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("resocket-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Registers the SIGINT and SIGTERM handlers now (so a signal arriving right
/// after the address line is printed is not fatal) and returns a future that
/// resolves when either arrives.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("resocket-server: shutting down");
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("resocket-server: shutting down");
    })
}
