//! The accept loop: what happens to a TCP connection before any HTTP.
//!
//! `axum::serve` takes every connection and waits for headers for ever, so a
//! few hundred slowloris connections hold the server. This loop caps
//! connections in total and per IP address (more get a short HTTP answer
//! saying so, then are closed: [`refuse`]), gives each one a header-read
//! timeout (also for the next request on a kept-alive connection), turns
//! Nagle off, and shuts down gracefully.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::connect_info::ConnectInfo;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::Limits;
use crate::faults::lock;
use crate::write_timeout::WriteTimeout;

/// Counts open connections, in total and per IP address.
#[derive(Debug)]
pub struct ConnectionLimiter {
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    max_total: usize,
    max_per_ip: usize,
}

/// One counted connection; dropping it gives the place back. Requests carry
/// it (as an `Arc` extension) so that a WebSocket, which outlives the HTTP
/// connection it was upgraded from, keeps counting until it closes.
#[derive(Debug)]
pub struct ConnectionSlot {
    limiter: Arc<ConnectionLimiter>,
    ip: IpAddr,
}

impl ConnectionLimiter {
    /// A limiter for `limits`.
    pub fn new(limits: &Limits) -> Arc<Self> {
        Arc::new(Self {
            total: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            max_total: limits.max_connections,
            max_per_ip: limits.max_connections_per_ip,
        })
    }

    /// A place for a connection from `ip`, or `None` when a cap is reached.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionSlot> {
        let ip = counted_as(ip);
        let mut per_ip = lock(&self.per_ip);
        let from_ip = per_ip.entry(ip).or_insert(0);
        if *from_ip >= self.max_per_ip || self.total.load(Ordering::Relaxed) >= self.max_total {
            if *from_ip == 0 {
                per_ip.remove(&ip);
            }
            return None;
        }
        *from_ip += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(ConnectionSlot {
            limiter: Arc::clone(self),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut per_ip = lock(&self.limiter.per_ip);
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.limiter.total.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The address a connection counts against: IPv4 as is (IPv4-mapped IPv6
/// too), IPv6 by its /64 prefix (one subscriber's whole allocation, so a
/// client cannot take fresh addresses to get past the per-IP cap).
fn counted_as(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
        },
    }
}

/// Refused connections answered at once; past this many, one is closed
/// without an answer (an answer must not become a way to hold the server).
const MAX_ANSWERED_REFUSALS: usize = 64;

/// How long a refused connection may take to send its request, and to take
/// the answer, before it is closed.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// The answer to a connection past a cap: what the client's HTTP stack can
/// show (a reset says nothing), in the JSON every error body is.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 107\r\n\r\n{\"error\":\"too many connections, from this address or in all (--max-connections-per-ip, --max-connections)\"}";

/// Answers a connection past a cap with [`REFUSAL`] and closes it: its
/// request is read first (up to the end of its headers, within
/// [`REFUSAL_TIME`]), so that closing does not reset the answer away. At
/// most [`MAX_ANSWERED_REFUSALS`] at once; past that it is closed at once.
fn refuse(stream: TcpStream, refusals: &Arc<AtomicUsize>, tasks: &TaskTracker) {
    if refusals.fetch_add(1, Ordering::Relaxed) >= MAX_ANSWERED_REFUSALS {
        refusals.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let refusals = Arc::clone(refusals);
    tasks.spawn(async move {
        let mut stream = stream;
        let mut request = [0u8; 4096];
        let mut seen = 0;
        let _ = tokio::time::timeout(REFUSAL_TIME, async {
            while let Ok(read @ 1..) = stream.read(&mut request[seen..]).await {
                seen = (seen + read).min(request.len() - 1);
                let headers_ended = request[..seen].windows(4).any(|end| end == b"\r\n\r\n");
                if headers_ended || seen == request.len() - 1 {
                    break;
                }
            }
        })
        .await;
        let _ = tokio::time::timeout(REFUSAL_TIME, async {
            stream.write_all(REFUSAL).await?;
            stream.shutdown().await
        })
        .await;
        refusals.fetch_sub(1, Ordering::Relaxed);
    });
}

/// How long accepting pauses after an error such as "too many open files",
/// so the loop does not spin while descriptors are short.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting and waits up to `grace` for open HTTP connections to finish
/// (the caller closes WebSockets and event streams, e.g. with
/// [`Resocket::shutdown`](crate::Resocket::shutdown)).
pub async fn serve_router(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) {
    let limiter = ConnectionLimiter::new(limits);
    let refusals = Arc::new(AtomicUsize::new(0));
    let stopping = CancellationToken::new();
    let tasks = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    eprintln!("resocket-server: accept failed: {error}");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = limiter.try_acquire(peer.ip()) else {
            refuse(stream, &refusals, &tasks);
            continue;
        };
        // No Nagle: a small reply must not wait for the client's delayed ACK
        // of the previous one (with many frames in flight that stalls ~40 ms).
        let _ = stream.set_nodelay(true);
        let slot = Arc::new(slot);
        let service = app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(Arc::clone(&slot));
                request
            });
        let stream = WriteTimeout::new(stream, limits.send_timeout);
        let connection = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let stopping = stopping.clone();
        tasks.spawn(async move {
            tokio::pin!(connection);
            // An error here is the client's (reset, bad request, timeout).
            tokio::select! {
                _ = connection.as_mut() => return,
                () = stopping.cancelled() => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    drop(listener);
    // Kept-alive connections finish their request in flight, then close.
    stopping.cancel();
    tasks.close();
    let _ = tokio::time::timeout(grace, tasks.wait()).await;
}

/// The peer address the accept loop recorded, if the request came through it.
pub fn peer_of(request_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    request_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_ip_and_in_total_and_free_on_drop() {
        let limits = Limits {
            max_connections: 3,
            max_connections_per_ip: 2,
            ..Limits::default()
        };
        let limiter = ConnectionLimiter::new(&limits);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let first = limiter.try_acquire(a).unwrap();
        let _second = limiter.try_acquire(a).unwrap();
        assert!(limiter.try_acquire(a).is_none(), "per IP");
        let _third = limiter.try_acquire(b).unwrap();
        assert!(limiter.try_acquire(b).is_none(), "in total");
        drop(first);
        assert_eq!(limiter.open(), 2);
        assert!(limiter.try_acquire(a).is_some());
        assert_eq!(limiter.open(), 2, "the temporary slot was dropped at once");
    }

    #[test]
    fn the_refusal_is_one_whole_http_answer_with_a_json_body() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        let length = format!("content-length: {}", body.len());
        assert!(head.split("\r\n").any(|line| line == length), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["error"]
            .as_str()
            .unwrap()
            .contains("--max-connections-per-ip"));
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_prefix() {
        let limits = Limits {
            max_connections_per_ip: 1,
            ..Limits::default()
        };
        let limiter = ConnectionLimiter::new(&limits);
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_prefix: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_prefix: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let _held = limiter.try_acquire(first).unwrap();
        assert!(limiter.try_acquire(same_prefix).is_none());
        assert!(limiter.try_acquire(other_prefix).is_some());
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let _v4 = limiter.try_acquire(mapped).unwrap();
        assert!(
            limiter.try_acquire([10, 0, 0, 1].into()).is_none(),
            "mapped is the same address"
        );
    }
}
