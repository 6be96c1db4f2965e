//! `floor-echo [--port PORT]`: the floor `scripts/load` measures resocket-server
//! against. A plain tokio-tungstenite echo server on 127.0.0.1: every text and
//! binary frame goes back as it came, with no protocol, sessions or logging,
//! so the difference to resocket-server is what the protocol costs.
//!
//! Prints `listening on http://127.0.0.1:PORT` first; exits on SIGINT/SIGTERM.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio_tungstenite::tungstenite::Message;

const USAGE: &str = "usage: floor-echo [--port PORT]   (0, the default, picks a free port)";

#[tokio::main]
async fn main() -> ExitCode {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(Some(port)) => port,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("floor-echo: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("floor-echo: cannot bind 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (mut terminate, mut interrupt) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("floor-echo: cannot install signal handlers: {error}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        // The one machine-readable line scripts wait for, as resocket-server's.
        Ok(address) => println!("listening on http://{address}"),
        Err(error) => {
            eprintln!("floor-echo: {error}");
            return ExitCode::FAILURE;
        }
    }
    let _ = std::io::stdout().flush();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    tokio::spawn(echo(tcp));
                }
                // Out of file descriptors, typically: keep serving the
                // connections already open, and say so.
                Err(error) => {
                    eprintln!("floor-echo: accept failed: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    ExitCode::SUCCESS
}

/// `--port PORT` (or `--port=PORT`); `Ok(None)` for `--help`.
fn parse_port(args: impl Iterator<Item = String>) -> Result<Option<u16>, String> {
    let mut port = 0;
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let text = match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--port" => args.next().ok_or("--port needs a value")?,
            _ => match flag.strip_prefix("--port=") {
                Some(text) => text.to_owned(),
                None => return Err(format!("unknown flag: {flag}")),
            },
        };
        port = text
            .parse()
            .map_err(|_| format!("--port: not a port number: {text}"))?;
    }
    Ok(Some(port))
}

/// One connection: the handshake, then every data frame straight back.
/// tungstenite answers WebSocket pings and the closing handshake itself.
async fn echo(tcp: TcpStream) {
    // Nagle off, as on resocket-server: small replies must not wait for ACKs.
    let _ = tcp.set_nodelay(true);
    let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    while let Some(Ok(message)) = socket.next().await {
        if matches!(message, Message::Text(_) | Message::Binary(_))
            && socket.send(message).await.is_err()
        {
            return;
        }
    }
}
