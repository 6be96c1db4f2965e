//! The HTTP fallback with a real HTTP client: POST /messages (acks, replies,
//! duplicates, faults) and the Server-Sent Events stream (push, replay,
//! Last-Event-ID, drop-events).

mod common;

use std::time::Duration;

use common::{next_json, TestServer, PROMPTLY};
use serde_json::{json, Value};

async fn post(server: &TestServer, query: &str, body: Value) -> (u16, Value) {
    let response = server
        .http
        .post(server.url(&format!("/messages?{query}")))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Reads Server-Sent Events until `count` have arrived: `(id, data)` pairs.
async fn read_events(response: &mut reqwest::Response, count: usize) -> Vec<(Option<u64>, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(PROMPTLY, response.chunk())
            .await
            .expect("an event arrives in time")
            .unwrap()
            .expect("the stream is still open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id:"))
                .map(|v| v.trim().parse().unwrap());
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                events.push((id, serde_json::from_str(data.trim()).unwrap()));
            }
        }
    }
    events
}

async fn open_events(
    server: &TestServer,
    query: &str,
    last_event_id: Option<u64>,
) -> reqwest::Response {
    let mut request = server.http.get(server.url(&format!("/events?{query}")));
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    // What proxies at their defaults need to pass the stream at once
    // (nginx buffers without the first; compressing proxies the second).
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    assert_eq!(
        response.headers()["cache-control"],
        "no-cache, no-transform"
    );
    response
}

#[tokio::test]
async fn posted_envelopes_get_acks_and_numbered_replies_in_order() {
    let server = TestServer::start().await;
    let body = json!([
        {"type": "message", "data": "one", "id": "h1"},
        {"type": "message", "data": "two", "id": "h2"},
    ]);
    let (status, answers) = post(&server, "session_id=post&ack=1", body).await;
    assert_eq!(status, 200);
    let answers = answers.as_array().unwrap();
    assert_eq!(answers[0], json!({"type": "ack", "id": "h1"}));
    assert_eq!(
        (answers[1]["replyTo"].clone(), answers[1]["seq"].clone()),
        (json!("h1"), json!(1))
    );
    assert_eq!(answers[2], json!({"type": "ack", "id": "h2"}));
    assert_eq!(
        (answers[3]["replyTo"].clone(), answers[3]["seq"].clone()),
        (json!("h2"), json!(2))
    );
    // A resend is acknowledged again, not processed again.
    let (_, again) = post(
        &server,
        "session_id=post&ack=1",
        json!([{"type": "message", "data": "one", "id": "h1"}]),
    )
    .await;
    assert_eq!(again, json!([{"type": "ack", "id": "h1"}]));
    let log = server.log("post").await;
    let frames = log["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 3);
    assert!(frames.iter().all(|f| f["via"] == "http"));
    assert_eq!(frames[2]["duplicate"], true);
}

#[tokio::test]
async fn the_same_session_numbers_frames_across_websocket_and_http() {
    let server = TestServer::start().await;
    let mut socket = server.connect("mixed").await;
    common::send_json(
        &mut socket,
        json!({"type": "message", "data": 1, "id": "w1"}),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["seq"], 1);
    let (_, answers) = post(
        &server,
        "session_id=mixed",
        json!([{"type": "message", "data": 2, "id": "p1"}]),
    )
    .await;
    assert_eq!(
        answers[0]["seq"], 2,
        "no ack without ack=1, and the numbering continues"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_and_failing_posts_are_503_for_the_given_time() {
    let server = TestServer::start().await;
    let (status, _) = post(&server, "session_id=bad", json!({"type": "message"})).await;
    assert_eq!(status, 400);
    server.post("/control/bad/fail-posts?ms=300").await;
    let (status, _) = post(&server, "session_id=bad", json!([])).await;
    assert_eq!(status, 503);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (status, answers) = post(&server, "session_id=bad", json!([])).await;
    assert_eq!((status, answers), (200, json!([])));
}

#[tokio::test]
async fn pushes_arrive_as_events_with_their_seq_as_id() {
    let server = TestServer::start().await;
    let mut events = open_events(&server, "session_id=sse", None).await;
    server.post("/control/sse/push?count=3").await;
    let received = read_events(&mut events, 3).await;
    let ids: Vec<Option<u64>> = received.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3)]);
    assert_eq!(received[2].1["type"], "push");
    assert_eq!(received[2].1["data"]["n"], 3);
    assert_eq!(received[2].1["seq"], 3);
}

#[tokio::test]
async fn a_reconnecting_event_stream_resumes_after_last_event_id_or_last_seq() {
    let server = TestServer::start().await;
    server.post("/control/resume-sse/push?count=4").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut by_header = open_events(&server, "session_id=resume-sse", Some(2)).await;
    let replayed = read_events(&mut by_header, 2).await;
    assert_eq!(
        replayed.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [Some(3), Some(4)]
    );
    let mut by_query = open_events(&server, "session_id=resume-sse&last_seq=3", None).await;
    assert_eq!(read_events(&mut by_query, 1).await[0].0, Some(4));
}

#[tokio::test]
async fn drop_events_ends_the_stream_and_pushes_also_reach_sockets() {
    let server = TestServer::start().await;
    let mut socket = server.connect("both").await;
    let mut events = open_events(&server, "session_id=both", None).await;
    server.post("/control/both/push?count=1").await;
    assert_eq!(read_events(&mut events, 1).await[0].0, Some(1));
    assert_eq!(next_json(&mut socket).await["data"]["n"], 1);
    let answer = server.post("/control/both/drop-events").await;
    assert_eq!(answer["affected"], 1);
    let end = tokio::time::timeout(PROMPTLY, async {
        loop {
            match events.chunk().await {
                Ok(Some(_)) => continue, // keep-alive comments
                other => return other.map(|_| ()),
            }
        }
    })
    .await
    .expect("the stream ends promptly");
    assert!(end.is_ok(), "a clean end of the stream");
}

#[tokio::test]
async fn server_down_ends_event_streams_and_answers_503_until_it_is_back() {
    let server = TestServer::start().await;
    let mut events = open_events(&server, "session_id=outage", None).await;
    let answer = server.post("/control/down?ms=300").await;
    assert_eq!(answer["dropped"], 1, "the event stream counts as dropped");
    let end = tokio::time::timeout(PROMPTLY, async {
        while let Ok(Some(_)) = events.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ends promptly");
    let refused = server
        .http
        .get(server.url("/events?session_id=outage"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let (status, _) = post(&server, "session_id=outage", json!([])).await;
    assert_eq!(status, 503);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, _) = post(&server, "session_id=outage", json!([])).await;
    assert_eq!(status, 200, "back after the outage");
}

async fn poll(server: &TestServer, query: &str) -> Vec<Value> {
    let response = server
        .http
        .get(server.url(&format!("/events?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    body.as_array().expect("a JSON array").clone()
}

/// The downstream any proxy passes (PROTOCOL.md §6.2): `GET /events?poll=MS`
/// answers what is waiting at once, else the first frames to arrive within
/// MS, else `[]`; every answer is a complete JSON response.
#[tokio::test]
async fn a_long_poll_answers_at_once_when_frames_wait_and_otherwise_when_one_arrives() {
    let server = TestServer::start().await;
    // A v1.1 client that does not know the epoch yet: the welcome, at once.
    let first = poll(&server, "session_id=lp&protocol=1.1&poll=0").await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["type"], "welcome");
    let epoch = first[0]["data"]["epoch"].as_str().unwrap().to_owned();

    // Nothing waiting: the poll is held until a push arrives, then answers it.
    let query = format!("session_id=lp&protocol=1.1&epoch={epoch}&last_seq=0&poll=10000");
    let held = tokio::spawn({
        let url = server.url(&format!("/events?{query}"));
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!held.is_finished(), "held while nothing is waiting");
    server.post("/control/lp/push?count=2").await;
    let answer = tokio::time::timeout(PROMPTLY, held).await.unwrap().unwrap();
    let seqs: Vec<u64> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|frame| frame["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs.first() == Some(&1), "the push that woke it: {answer}");

    // Frames after last_seq are answered at once (after the welcome).
    let replay = poll(
        &server,
        &format!("session_id=lp&protocol=1.1&epoch={epoch}&last_seq=0&poll=10000"),
    )
    .await;
    assert_eq!(replay[0]["type"], "welcome");
    assert_eq!(
        replay[1..]
            .iter()
            .map(|frame| frame["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    // A wait that ends with nothing: [].
    let quiet = poll(
        &server,
        &format!("session_id=lp&protocol=1.1&epoch={epoch}&last_seq=2&poll=100"),
    )
    .await;
    assert!(quiet.is_empty());
}
