//! Plain HTTP endpoints: health, CORS, static files, shutdown.

mod common;

use std::path::PathBuf;

use common::{wait_for_end, TestServer};
use resocket_server::static_files::StaticMount;

#[tokio::test]
async fn health_reports_status_connections_uptime_and_time() {
    let server = TestServer::start().await;
    let health = server.get_json("/health").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["websocket"]["connections"], 0);
    assert_eq!(health["websocket"]["accepted"], 0);
    assert!(health["uptimeSeconds"].is_u64());
    assert!(health["timestamp"].as_str().unwrap().ends_with('Z'));
    let _client = server.connect("health").await;
    common::eventually("the connection is counted", || async {
        server.get_json("/health").await["websocket"]["connections"] == 1
    })
    .await;
    assert_eq!(server.get_json("/health").await["websocket"]["accepted"], 1);
}

#[tokio::test]
async fn cors_names_allowed_origins_and_answers_their_preflights() {
    let mut config = common::test_config();
    config.origins.allow("http://127.0.0.1:*").unwrap();
    let server = TestServer::start_configured(config, &[]).await;
    for (method, path) in [
        (reqwest::Method::GET, "/health"),
        (reqwest::Method::POST, "/control/cors/delay-pongs?ms=0"),
    ] {
        let response = server
            .http
            .request(method, server.url(path))
            .header("Origin", "http://127.0.0.1:9")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "http://127.0.0.1:9",
            "{path}"
        );
    }
    // A preflight for a POST with a JSON body is allowed too.
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/messages"))
        .header("Origin", "http://127.0.0.1:9")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://127.0.0.1:9"
    );
}

#[tokio::test]
async fn unknown_session_log_is_404() {
    let server = TestServer::start().await;
    let response = server
        .http
        .get(server.url("/control/nobody/log"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn static_directories_are_served_under_their_prefixes() {
    let root = std::env::temp_dir().join(format!("resocket-static-{}", std::process::id()));
    let www = root.join("www");
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").unwrap();
    std::fs::write(pkg.join("resocket_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let server = TestServer::start_with(&[
        StaticMount {
            prefix: "/".into(),
            dir: www.clone(),
        },
        StaticMount {
            prefix: "/pkg".into(),
            dir: PathBuf::from(&pkg),
        },
    ])
    .await;

    let index = server.http.get(server.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert_eq!(index.text().await.unwrap(), "<h1>demo</h1>");
    let wasm = server
        .http
        .get(server.url("/pkg/resocket_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    // WebAssembly.instantiateStreaming requires this exact type.
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        server
            .http
            .get(server.url("/missing"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // API routes still win over the static fallback.
    assert_eq!(server.get_json("/health").await["status"], "ok");
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn shutdown_closes_open_sockets_with_1001() {
    let server = TestServer::start().await;
    let mut client = server.connect("shutdown").await;
    let (stopped, end) = tokio::join!(server.stop(), wait_for_end(&mut client));
    stopped.unwrap();
    assert_eq!(end.map(|(code, _)| code), Some(1001));
}

/// Some error bodies were plain text (axum's rejections: a body past the
/// limit, a query without `session_id`, a request to /ws that is no
/// upgrade), so a client had to special-case them. Every one is JSON now,
/// with its status and its text kept.
#[tokio::test]
async fn every_error_body_is_json() {
    let server = TestServer::start().await;
    let too_big = server
        .http
        .post(server.url("/messages?session_id=big"))
        .header("content-type", "application/json")
        .body(format!("[\"{}\"]", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    let no_session = server.http.get(server.url("/events")).send().await.unwrap();
    let no_upgrade = server
        .http
        .get(server.url("/ws?session_id=plain"))
        .send()
        .await
        .unwrap();
    for (response, status, says) in [
        (too_big, 413, "length limit"),
        (no_session, 400, "session_id"),
        (no_upgrade, 400, "upgrade"),
    ] {
        assert_eq!(response.status(), status);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body: serde_json::Value = response.json().await.unwrap();
        let error = body["error"].as_str().unwrap().to_lowercase();
        assert!(error.contains(says), "{status}: {error}");
    }
}

/// Session ids with control characters were taken (the client refuses
/// them), and bytes that are not UTF-8 were decoded lossily, so two ids
/// could meet in one session. Both are refused now, on every channel.
#[tokio::test]
async fn session_ids_are_checked_as_the_client_checks_them() {
    let server = TestServer::start().await;
    for (query, says) in [
        ("session_id=a%0D%0Ab", "control characters"),
        ("session_id=a%00", "control characters"),
        ("session_id=caf%E9", "UTF-8"),
        (&*format!("session_id={}", "x".repeat(129)), "1 to 128"),
    ] {
        for path in ["/events", "/ws"] {
            let request = server.http.get(server.url(&format!("{path}?{query}")));
            let response = common::as_upgrade(request).send().await.unwrap();
            assert_eq!(response.status(), 400, "{path}?{query}");
            let body: serde_json::Value = response.json().await.unwrap();
            let error = body["error"].as_str().unwrap();
            assert!(error.contains(says), "{path}?{query}: {error}");
        }
    }
    // 128 characters of two bytes each are an id, as the client takes it.
    let mut client = server.connect(&"é".repeat(128)).await;
    common::send_json(
        &mut client,
        serde_json::json!({"type": "message", "id": "m"}),
    )
    .await;
    assert_eq!(common::next_json(&mut client).await["replyTo"], "m");
}
