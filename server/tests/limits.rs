//! The probe a public endpoint gets within a day, each case a test that
//! fails without its limit: origins, control endpoints, message sizes,
//! numbers from the wire, clients that do not read, slowloris, connection
//! caps, rates, byte budgets, session caps and expiry, fault durations,
//! static files, tokens in logs.

mod common;

use std::time::Duration;

use common::{next_json, send_json, wait_for_end, TestServer};
use futures_util::{SinkExt, StreamExt};
use resocket_server::{Config, Limits, OriginPolicy};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

fn limits() -> Limits {
    Limits::default()
}

/// Whether the server closed the raw connection within `within` (EOF or reset).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn control_endpoints_do_not_exist_unless_enabled() {
    let server = TestServer::start_configured(Config::default(), &[]).await;
    for path in [
        "/control/down?ms=1000",
        "/control/s/drop",
        "/control/s/push?count=1",
    ] {
        let response = server.http.post(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let log = server
        .http
        .get(server.url("/control/s/log"))
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), 404);
    assert_eq!(server.get_json("/health").await["status"], "ok");
}

#[tokio::test]
async fn pages_from_other_origins_are_refused_before_anything_and_allowed_ones_named() {
    let mut origins = OriginPolicy::default();
    origins.allow("http://app.test").unwrap();
    let config = Config {
        origins,
        enable_control: true,
        ..Config::default()
    };
    let server = TestServer::start_configured(config, &[]).await;

    // A WebSocket from another site: 403 before the upgrade.
    let mut request = format!("ws://{}/ws?session_id=victim", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Origin", "http://evil.test".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    // A "simple" POST (text/plain, no preflight) and the control endpoints too.
    for (path, body) in [
        (
            "/messages?session_id=victim",
            r#"[{"type":"message","id":"x"}]"#,
        ),
        ("/control/victim/close?code=4401", ""),
        ("/control/down?ms=100000", ""),
    ] {
        let response = server
            .http
            .post(server.url(path))
            .header("Origin", "http://evil.test")
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        // The answer says why, naming the origin and the Host it was
        // compared with (what a proxy rewriting Host gets wrong).
        let body: serde_json::Value = response.json().await.unwrap();
        let error = body["error"].as_str().unwrap();
        assert!(error.contains("\"http://evil.test\""), "{error}");
        assert!(
            error.contains(&format!("Host was \"{}\"", server.addr)),
            "{error}"
        );
    }
    assert_eq!(
        server.get_json("/health").await["status"],
        "ok",
        "not taken down"
    );
    let log = server
        .http
        .get(server.url("/control/victim/log"))
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), 404, "the session was never touched");

    // The allowed origin, and the server's own origin, get in and are named.
    for origin in [
        "http://app.test".to_owned(),
        format!("http://{}", server.addr),
    ] {
        let response = server
            .http
            .post(server.url("/messages?session_id=friend"))
            .header("Origin", &origin)
            .header("content-type", "application/json")
            .body(r#"[{"type":"message","id":"y"}]"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{origin}");
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            origin.as_str()
        );
    }
    let mut request = format!("ws://{}/ws?session_id=friend", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Origin", "http://app.test".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_with_1009_and_a_post_is_413() {
    let server = TestServer::start_limited(Limits {
        max_message_bytes: 64 * 1024,
        ..limits()
    })
    .await;
    let mut client = server.connect("big").await;
    let big = json!({"type": "message", "data": "x".repeat(100 * 1024)}).to_string();
    client
        .send(Message::Text(big.clone().into()))
        .await
        .unwrap();
    assert_eq!(
        wait_for_end(&mut client).await.map(|(code, _)| code),
        Some(1009)
    );
    let response = server
        .http
        .post(server.url("/messages?session_id=big"))
        .header("content-type", "application/json")
        .body(format!("[{big}]"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // Just under the limit is fine.
    let mut client = server.connect("big").await;
    send_json(
        &mut client,
        json!({"type": "message", "data": "y".repeat(60 * 1024), "id": "ok"}),
    )
    .await;
    assert_eq!(next_json(&mut client).await["replyTo"], "ok");
}

#[tokio::test]
async fn a_last_seq_at_the_end_of_u64_is_a_reset_not_a_panic() {
    let server = TestServer::start().await;
    let mut client = server.connect("max").await;
    send_json(&mut client, json!({"type": "message", "id": "a"})).await;
    next_json(&mut client).await;
    let query = format!("session_id=max&protocol=1.1&last_seq={}", u64::MAX);
    let mut resumed = server.connect_query(&query).await;
    assert_eq!(next_json(&mut resumed).await["type"], "welcome");
    assert_eq!(next_json(&mut resumed).await["type"], "reset");
    assert_eq!(next_json(&mut resumed).await["seq"], 1);
    let mut v1 = server
        .connect_query(&format!("session_id=max&last_seq={}", u64::MAX))
        .await;
    send_json(&mut v1, json!({"type": "message", "id": "b"})).await;
    assert_eq!(
        next_json(&mut v1).await["seq"],
        2,
        "the v1 connection still works"
    );
    let too_big = server
        .http
        .get(server.url("/events?session_id=max&last_seq=18446744073709551616"))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 400, "not a u64: refused, not wrapped");
}

/// Pushes faster than a socket drains: the bounded queue overflows and the
/// socket is closed (1013), instead of the server buffering for it.
#[tokio::test]
async fn a_socket_whose_queue_overflows_is_closed_not_buffered() {
    let server = TestServer::start_limited(Limits {
        send_queue_frames: 16,
        // Only the overflow may end it: a write timeout would too (and
        // did, while the overflow path was broken).
        send_timeout: Duration::from_secs(600),
        ..limits()
    })
    .await;
    // Connected, then never reads: the TCP buffers fill, then the queue.
    let _reader_that_never_reads = server.connect("slow").await;
    common::eventually("the socket is open", || async {
        server.get_json("/health").await["websocket"]["connections"] == 1
    })
    .await;
    let big = "z".repeat(4096);
    for _ in 0..20 {
        server
            .post(&format!(
                "/control/slow/push?count=1000&interval_ms=0&pad={big}"
            ))
            .await;
    }
    common::eventually("the server let go of the slow client", || async {
        server.get_json("/health").await["websocket"]["connections"] == 0
    })
    .await;
    let log = server.get_json("/control/slow/log").await;
    let connection = &log["connections"][0];
    assert_eq!(connection["closeCode"], 1013, "{connection}");
    assert!(
        connection["closeReason"]
            .as_str()
            .unwrap()
            .contains("send queue full"),
        "{connection}"
    );
}

/// A client that sends and never reads: the server's writes of the echoes
/// wait on full TCP buffers; the send timeout ends the connection (the
/// queue is made huge so that only the timeout can).
#[tokio::test]
async fn a_write_the_client_never_reads_times_out() {
    let server = TestServer::start_limited(Limits {
        send_queue_frames: 1_000_000,
        send_timeout: Duration::from_secs(1),
        message_rate: 0,
        ..limits()
    })
    .await;
    let client = server.connect("deaf").await;
    let (mut sink, _stream_never_read) = client.split();
    let pad = "e".repeat(64 * 1024);
    // In a task: once the server stops reading, these sends wait too.
    let sender = tokio::spawn(async move {
        for n in 0..400 {
            let text = json!({"type": "echo-me", "data": pad, "id": n}).to_string();
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
        sink
    });
    common::eventually("the server let go of the deaf client", || async {
        server.get_json("/health").await["websocket"]["connections"] == 0
    })
    .await;
    sender.abort();
}

/// A request body sent a byte at a time holds its connection no longer
/// than headers may take.
#[tokio::test]
async fn a_post_body_that_never_arrives_is_cut_off() {
    let server = TestServer::start_limited(Limits {
        header_read_timeout: Duration::from_secs(1),
        ..limits()
    })
    .await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(
        b"POST /messages?session_id=trickle HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(6), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "still held open after 6 s");
    // Refused (the body could not be read in time), and the connection closed.
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout() {
    let server = TestServer::start_limited(Limits {
        header_read_timeout: Duration::from_secs(1),
        ..limits()
    })
    .await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(4)).await,
        "held open without headers"
    );
    // A kept-alive connection that never sends its next request goes the same way.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(4)).await);
}

#[tokio::test]
async fn connections_are_capped_per_ip_and_in_total() {
    let server = TestServer::start_limited(Limits {
        max_connections_per_ip: 3,
        ..limits()
    })
    .await;
    let mut held = Vec::new();
    for n in 0..3 {
        held.push(server.connect(&format!("cap-{n}")).await);
    }
    // The fourth gets an answer that says why (a reset said nothing, and
    // /health looked down), then is closed.
    let refused = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("too many connections"),
        "{body}"
    );
    let mut fourth = TcpStream::connect(server.addr).await.unwrap();
    fourth
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .ok();
    assert!(
        closed_within(&mut fourth, Duration::from_secs(2)).await,
        "the fourth is closed after its answer"
    );
    drop(fourth);
    // The three still work; closing one makes room.
    send_json(&mut held[0], json!({"type": "message", "id": "still"})).await;
    assert_eq!(next_json(&mut held[0]).await["replyTo"], "still");
    let first = held.remove(0);
    drop(first);
    common::eventually("a place is free again", || async {
        server.http.get(server.url("/health")).send().await.is_ok()
    })
    .await;

    let total = TestServer::start_limited(Limits {
        max_connections: 2,
        ..limits()
    })
    .await;
    let _a = total.connect("t-a").await;
    let _b = total.connect("t-b").await;
    let mut third = TcpStream::connect(total.addr).await.unwrap();
    assert!(closed_within(&mut third, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn a_flooding_client_is_closed_with_1013() {
    let server = TestServer::start_limited(Limits {
        message_rate: 10,
        ..limits()
    })
    .await;
    let mut client = server.connect("flood").await;
    for n in 0..100 {
        if client
            .send(Message::Text(
                json!({"type": "typing", "data": n}).to_string().into(),
            ))
            .await
            .is_err()
        {
            break;
        }
    }
    let end = wait_for_end(&mut client).await;
    assert_eq!(
        end,
        Some((1013, "message rate limit; retry after 1 s".to_owned()))
    );
}

#[tokio::test]
async fn posting_faster_than_the_rate_is_answered_429() {
    let server = TestServer::start_limited(Limits {
        message_rate: 10,
        ..limits()
    })
    .await;
    let batch = |n: usize| {
        let envelopes: Vec<Value> = (0..n).map(|i| json!({"type": "t", "data": i})).collect();
        Value::from(envelopes).to_string()
    };
    let post = |body: String| {
        let server = &server;
        async move {
            server
                .http
                .post(server.url("/messages?session_id=poster"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        post(batch(15)).await,
        200,
        "a burst of up to two seconds' worth"
    );
    assert_eq!(post(batch(15)).await, 429);
    assert_eq!(post(batch(5)).await, 200, "what is left of the burst");
}

#[tokio::test]
async fn long_ids_and_types_get_an_error_and_no_ack() {
    let server = TestServer::start().await;
    let mut client = server.connect_query("session_id=long&ack=1").await;
    send_json(
        &mut client,
        json!({"type": "message", "id": "i".repeat(500)}),
    )
    .await;
    let error = next_json(&mut client).await;
    assert_eq!(error["data"]["code"], "too-long");
    send_json(&mut client, json!({"type": "t".repeat(100), "id": "short"})).await;
    assert_eq!(next_json(&mut client).await["data"]["code"], "too-long");
    send_json(&mut client, json!({"type": "message", "id": "fine"})).await;
    assert_eq!(
        next_json(&mut client).await,
        json!({"type": "ack", "id": "fine"})
    );
}

#[tokio::test]
async fn replay_logs_are_bounded_in_bytes_per_session_and_in_total() {
    let server = TestServer::start_limited(Limits {
        replay_bytes_per_session: 64 * 1024,
        memory_budget_bytes: 256 * 1024,
        ..limits()
    })
    .await;
    let pad = "p".repeat(8 * 1024);
    for session in 0..10 {
        let mut client = server
            .connect_query(&format!("session_id=heavy-{session}"))
            .await;
        let mut last = Value::Null;
        for n in 0..40 {
            client
                .feed(Message::Text(
                    json!({"type": "note", "data": pad, "id": n})
                        .to_string()
                        .into(),
                ))
                .await
                .unwrap();
        }
        client.flush().await.unwrap();
        for _ in 0..40 {
            last = next_json(&mut client).await;
        }
        assert_eq!(last["seq"], 40);
        let bytes = server.get_json("/health").await["sessions"]["bytes"]
            .as_u64()
            .unwrap();
        assert!(bytes <= 256 * 1024, "over the global budget: {bytes}");
        drop(client);
    }
    let health = server.get_json("/health").await;
    // 10 sessions × 40 × 8 KiB = 3.2 MB sent; what is kept stays within budget.
    assert!(health["sessions"]["bytes"].as_u64().unwrap() <= 256 * 1024);
    // A session resuming far behind learns of the loss instead of getting it all.
    let mut resumed = server.connect_query("session_id=heavy-9&last_seq=0").await;
    let gap = next_json(&mut resumed).await;
    assert_eq!(gap["type"], "gap");
    assert!(
        gap["data"]["firstAvailable"].as_u64().unwrap() > 30,
        "{gap}"
    );
}

#[tokio::test]
async fn idle_sessions_expire_and_the_session_cap_refuses_only_when_all_are_live() {
    let server = TestServer::start_limited(Limits {
        session_ttl: Duration::from_secs(1),
        max_sessions: 2,
        ..limits()
    })
    .await;
    let post = |session: &'static str| {
        let server = &server;
        async move {
            server
                .http
                .post(server.url(&format!("/messages?session_id={session}")))
                .header("content-type", "application/json")
                .body("[]")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post("old").await, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(post("new").await, 200);
    let gone = server
        .http
        .get(server.url("/control/old/log"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404, "expired after its TTL");
    // Two live sessions fill the cap: a third is refused, not buffered.
    let _a = server.connect("live-a").await;
    let _b = server.connect("live-b").await;
    assert_eq!(post("third").await, 503);
    let refused =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?session_id=third", server.addr)).await;
    assert!(refused.unwrap_err().to_string().contains("503"));
}

#[tokio::test]
async fn fault_durations_from_the_wire_are_capped_and_health_tells_the_truth() {
    let server = TestServer::start().await;
    let max = u64::MAX;
    server
        .post(&format!("/control/f/delay-pongs?ms={max}"))
        .await;
    server.post(&format!("/control/f/refuse?ms={max}")).await;
    let too_many = server
        .http
        .post(server.url("/control/f/push?count=3000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(too_many.status(), 400);
    server.post(&format!("/control/down?ms={max}")).await;
    let health = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "degraded");
    server.post("/control/down?ms=0").await;
    assert_eq!(server.get_json("/health").await["status"], "ok");
}

#[tokio::test]
async fn a_socket_that_stays_silent_is_closed_with_1001() {
    let server = TestServer::start_limited(Limits {
        idle_timeout: Duration::from_secs(2),
        ..limits()
    })
    .await;
    let mut raw = TcpStream::connect(server.addr).await.unwrap();
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    raw.write_all(
        format!(
            "GET /ws?session_id=silent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // Never answers the server's pings, never sends: closed after ~2 s.
    assert!(closed_within(&mut raw, Duration::from_secs(6)).await);
    // A client that answers pings (tungstenite does, while reading) stays.
    let mut alive = server.connect("alive").await;
    let quiet = tokio::time::timeout(Duration::from_secs(3), alive.next()).await;
    assert!(
        quiet.is_err() || matches!(quiet, Ok(Some(Ok(Message::Ping(_))))),
        "{quiet:?}"
    );
    send_json(&mut alive, json!({"type": "message", "id": "here"})).await;
    assert_eq!(next_json(&mut alive).await["replyTo"], "here");
}

#[tokio::test]
async fn tokens_in_upgrade_queries_are_never_logged() {
    let server = TestServer::start().await;
    let _client = server
        .connect_query("session_id=tok&token=hunter2&access_token=abc")
        .await;
    let log = server.log("tok").await;
    let query = log["connections"][0]["query"].as_str().unwrap().to_owned();
    assert!(
        !query.contains("hunter2") && !query.contains("abc"),
        "{query}"
    );
    assert!(query.contains("token=[redacted]"), "{query}");
}

#[cfg(unix)]
#[tokio::test]
async fn static_files_never_leave_their_mount_nor_serve_dot_files() {
    use resocket_server::static_files::StaticMount;
    let root = std::env::temp_dir().join(format!("resocket-mount-{}", std::process::id()));
    let www = root.join("www");
    std::fs::create_dir_all(www.join(".git")).unwrap();
    std::fs::write(root.join("secret.txt"), "outside").unwrap();
    std::fs::write(www.join("index.html"), "inside").unwrap();
    std::fs::write(www.join(".env"), "API_KEY=1").unwrap();
    std::fs::write(www.join(".git").join("config"), "[core]").unwrap();
    std::os::unix::fs::symlink(root.join("secret.txt"), www.join("leak.txt")).unwrap();
    let server = TestServer::start_with(&[StaticMount {
        prefix: "/".into(),
        dir: www.clone(),
    }])
    .await;
    let status = |path: &'static str| {
        let server = &server;
        async move {
            server
                .http
                .get(server.url(path))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status("/index.html").await, 200);
    assert_eq!(status("/leak.txt").await, 404);
    assert_eq!(status("/.env").await, 404);
    assert_eq!(status("/.git/config").await, 404);
    assert_eq!(status("/%2eenv").await, 404);
    std::fs::remove_dir_all(root).unwrap();
}
