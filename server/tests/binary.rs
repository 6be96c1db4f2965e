//! The `resocket-server` binary itself: flags, the address line, signals.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use futures_util::StreamExt;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// Starts the binary on a free port and returns it with its printed address.
fn spawn_server() -> (Child, String) {
    spawn_server_with(&[])
}

/// [`spawn_server`] with more flags.
fn spawn_server_with(flags: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_resocket-server"))
        .args(["--port", "0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reads the first line");
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, address)
}

fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn prints_its_address_and_exits_0_on_sigterm_closing_sockets_with_1001() {
    let (mut child, address) = spawn_server();
    assert!(address.starts_with("http://127.0.0.1:"), "{address}");
    let health: serde_json::Value = reqwest::get(format!("{address}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let ws_url = format!("{}/ws?session_id=bin", address.replacen("http", "ws", 1));
    let (mut client, _) = connect_async(ws_url).await.unwrap();
    send_signal(&child, "-TERM");
    let close = tokio::time::timeout(common::PROMPTLY, client.next())
        .await
        .unwrap();
    match close {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a 1001 close frame, got {other:?}"),
    }
    drop(client);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn exits_0_on_sigint() {
    let (mut child, _) = spawn_server();
    send_signal(&child, "-INT");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn rejects_unknown_flags_with_usage_and_status_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_resocket-server"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: resocket-server"));
}

#[test]
fn an_unreachable_redis_at_start_is_a_clear_error_and_a_failure_exit() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}/");
    let output = Command::new(env!("CARGO_BIN_EXE_resocket-server"))
        .args(["--port", "0", "--redis", &url])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains("listening on"),
        "it never takes clients: {stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("--redis {url}: cannot reach Redis: redis: ")),
        "{stderr}"
    );
}

#[tokio::test]
async fn with_redis_it_serves_and_health_names_the_engine_and_says_degraded_without_it() {
    let redis = common::redis::RedisServer::start();
    let url = redis.url();
    let (mut child, address) = spawn_server_with(&["--redis", &url, "--redis-prefix", "test"]);
    let health: serde_json::Value = reqwest::get(format!("{address}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["engine"], serde_json::json!({"redis": "ok"}));
    assert_eq!(health["status"], "ok");
    // Redis lost while running: the balancer's check takes the node out.
    drop(redis);
    let response = reqwest::get(format!("{address}/health")).await.unwrap();
    assert_eq!(response.status(), 503);
    let health: serde_json::Value = response.json().await.unwrap();
    assert_eq!(health["status"], "degraded");
    assert_eq!(
        health["engine"],
        serde_json::json!({"redis": "unreachable"})
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// A refused upgrade is written to the log with its reason: the browser
/// tells the page nothing, so the log is where a deployer finds out that a
/// proxy rewrote `Host` or that an origin is missing from `--allow-origin`.
#[tokio::test]
async fn a_refused_origin_is_logged_with_the_origin_and_the_host() {
    let log = std::env::temp_dir().join(format!("resocket-refusal-{}.log", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_resocket-server"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("a log file"))
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("reads the first line");
    let address = line.trim().trim_start_matches("listening on ").to_owned();
    let authority = address.trim_start_matches("http://").to_owned();
    // What nginx's `proxy_set_header Host $host;` sends: the port is gone.
    let host = authority.split(':').next().expect("a host").to_owned();
    let request = reqwest::Client::new()
        .get(format!("{address}/ws?session_id=s"))
        .header("Origin", format!("http://{authority}"))
        .header("Host", &host);
    let refused = common::as_upgrade(request).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    send_signal(&child, "-TERM");
    child.wait().expect("exits");
    let written = std::fs::read_to_string(&log).expect("the log");
    let _ = std::fs::remove_file(&log);
    let expected = format!("refused GET /ws: this origin is not allowed (see --allow-origin): origin \"http://{authority}\"");
    assert!(written.contains(&expected), "{written}");
    assert!(
        written.contains(&format!("Host was \"{host}\"")),
        "{written}"
    );
}
