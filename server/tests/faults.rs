//! Per-session and server-wide fault injection, seen from real clients.

mod common;

use std::time::{Duration, Instant};

use common::{next_json, send_json, wait_for_end, TestServer};
use serde_json::json;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Error as WsError;

async fn ping_and_time(client: &mut common::Client, id: &str) -> Duration {
    let started = Instant::now();
    send_json(client, json!({"type":"ping","id":id})).await;
    let pong = next_json(client).await;
    assert_eq!(pong["id"], id);
    started.elapsed()
}

#[tokio::test]
async fn drop_ends_the_connection_without_a_close_frame() {
    let server = TestServer::start().await;
    let mut client = server.connect("fault-drop").await;
    let answer = server.post("/control/fault-drop/drop").await;
    assert_eq!(answer["affected"], 1);
    assert_eq!(
        wait_for_end(&mut client).await,
        None,
        "abrupt: no close frame"
    );
    common::eventually("the log shows a server drop", || async {
        server.log("fault-drop").await["connections"][0]["closedBy"] == "server-drop"
    })
    .await;
}

#[tokio::test]
async fn close_sends_the_requested_code_and_reason() {
    let server = TestServer::start().await;
    let mut client = server.connect("fault-close").await;
    server
        .post("/control/fault-close/close?code=4401&reason=token%20expired")
        .await;
    assert_eq!(
        wait_for_end(&mut client).await,
        Some((4401, "token expired".to_owned()))
    );
}

#[tokio::test]
async fn close_rejects_codes_a_browser_could_not_receive() {
    let server = TestServer::start().await;
    let response = server
        .http
        .post(server.url("/control/x/close?code=1005"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn refuse_answers_503_for_the_given_time_then_accepts() {
    let server = TestServer::start().await;
    server.post("/control/fault-refuse/refuse?ms=300").await;
    let url = format!("ws://{}/ws?session_id=fault-refuse", server.addr);
    match connect_async(&url).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 503),
        other => panic!("expected HTTP 503, got {other:?}"),
    }
    // Another session is not affected.
    server.connect("fault-refuse-other").await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    server.connect("fault-refuse").await;
    let log = server.log("fault-refuse").await;
    assert_eq!(log["connections"][0]["outcome"], "refused");
    assert_eq!(log["connections"][1]["outcome"], "accepted");
    assert_eq!(log["connectionCount"], 1);
}

#[tokio::test]
async fn delay_pongs_holds_each_pong_back() {
    let server = TestServer::start().await;
    let mut client = server.connect("fault-delay").await;
    assert!(ping_and_time(&mut client, "fast").await < Duration::from_millis(150));
    server.post("/control/fault-delay/delay-pongs?ms=250").await;
    assert!(ping_and_time(&mut client, "slow").await >= Duration::from_millis(250));
    // Only pongs are delayed: an echo still comes back at once.
    let started = Instant::now();
    send_json(&mut client, json!({"type":"message","data":1,"id":"m"})).await;
    next_json(&mut client).await;
    assert!(started.elapsed() < Duration::from_millis(150));
    server.post("/control/fault-delay/delay-pongs?ms=0").await;
    assert!(ping_and_time(&mut client, "fast-again").await < Duration::from_millis(150));
}

#[tokio::test]
async fn delay_pongs_can_be_set_by_query_parameter() {
    let server = TestServer::start().await;
    let mut client = server
        .connect_query("session_id=fault-q&delay_pongs=200")
        .await;
    assert!(ping_and_time(&mut client, "q").await >= Duration::from_millis(200));
}

#[tokio::test]
async fn mute_pings_leaves_the_socket_open_but_silent_to_pings() {
    let server = TestServer::start().await;
    let mut client = server
        .connect_query("session_id=fault-mute&mute_pings=1")
        .await;
    send_json(&mut client, json!({"type":"ping","id":"unanswered"})).await;
    send_json(
        &mut client,
        json!({"type":"message","data":"still here","id":"m1"}),
    )
    .await;
    // The first thing back is the echo, not a pong: the ping was swallowed.
    let first = next_json(&mut client).await;
    assert_eq!(first["replyTo"], "m1");
    server
        .post("/control/fault-mute/mute-pings?enabled=false")
        .await;
    assert!(ping_and_time(&mut client, "answered").await < Duration::from_secs(1));
    // And the endpoint can switch it back on.
    server.post("/control/fault-mute/mute-pings").await;
    send_json(&mut client, json!({"type":"ping","id":"swallowed"})).await;
    send_json(&mut client, json!({"type":"message","data":0,"id":"m2"})).await;
    assert_eq!(next_json(&mut client).await["replyTo"], "m2");
}

#[tokio::test]
async fn reset_clears_the_session_faults() {
    let server = TestServer::start().await;
    let mut client = server
        .connect_query("session_id=fault-reset&delay_pongs=400")
        .await;
    server.post("/control/fault-reset/reset").await;
    assert!(ping_and_time(&mut client, "r").await < Duration::from_millis(300));
}

#[tokio::test]
async fn faults_are_isolated_per_session() {
    let server = TestServer::start().await;
    let mut victim = server.connect("iso-victim").await;
    let mut bystander = server.connect("iso-bystander").await;
    server.post("/control/iso-victim/drop").await;
    assert_eq!(wait_for_end(&mut victim).await, None);
    assert!(ping_and_time(&mut bystander, "alive").await < Duration::from_secs(1));
}

#[tokio::test]
async fn server_down_drops_everyone_and_refuses_until_it_is_back() {
    let server = TestServer::start().await;
    let mut first = server.connect("down-a").await;
    let mut second = server.connect("down-b").await;
    let answer = server.post("/control/down?ms=300").await;
    assert_eq!(answer["dropped"], 2);
    assert_eq!(wait_for_end(&mut first).await, None);
    assert_eq!(wait_for_end(&mut second).await, None);
    let url = format!("ws://{}/ws?session_id=down-c", server.addr);
    assert!(matches!(connect_async(&url).await, Err(WsError::Http(r)) if r.status() == 503));
    tokio::time::sleep(Duration::from_millis(350)).await;
    server.connect("down-c").await;
}

#[tokio::test]
async fn blackhole_kills_open_sockets_silently_and_spares_later_ones() {
    let server = TestServer::start().await;
    let mut client = server.connect("fault-blackhole").await;
    server
        .post("/control/fault-blackhole/blackhole?ms=300")
        .await;
    send_json(
        &mut client,
        json!({"type":"message","data":"lost","id":"a"}),
    )
    .await;
    send_json(&mut client, json!({"type":"ping","id":"p"})).await;
    server.post("/control/fault-blackhole/push?count=1").await;
    let nothing = tokio::time::timeout(Duration::from_millis(250), next_json(&mut client)).await;
    assert!(
        nothing.is_err(),
        "no echo, pong or push came back: {nothing:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Past the window the old socket is still open, and still dead.
    send_json(
        &mut client,
        json!({"type":"message","data":"late","id":"b"}),
    )
    .await;
    let nothing = tokio::time::timeout(Duration::from_millis(200), next_json(&mut client)).await;
    assert!(
        nothing.is_err(),
        "a dead socket never comes back: {nothing:?}"
    );
    // A new one works, and gets the lost push by replay.
    let mut fresh = server
        .connect_query("session_id=fault-blackhole&last_seq=0")
        .await;
    assert_eq!(next_json(&mut fresh).await["data"]["n"], 1);
    send_json(&mut fresh, json!({"type":"message","data":"kept","id":"c"})).await;
    let echo = next_json(&mut fresh).await;
    assert_eq!(echo["replyTo"], "c");
    assert_eq!(echo["seq"], 2);
    let log = server.log("fault-blackhole").await;
    let frames = log["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 1, "the lost frames never reached the session");
    assert_eq!(frames[0]["data"], "kept");
}
