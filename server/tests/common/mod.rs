//! A real server on a free loopback port, and real clients for it.
#![allow(dead_code)] // each test file uses a different subset

pub mod redis;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for something that should happen promptly.
pub const PROMPTLY: Duration = Duration::from_secs(5);

/// What the test command's server runs with: control endpoints on (these
/// tests drive faults), default limits.
pub fn test_config() -> resocket_server::Config {
    resocket_server::Config {
        enable_control: true,
        ..resocket_server::Config::default()
    }
}

pub struct TestServer {
    pub addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    pub async fn start_with(mounts: &[resocket_server::static_files::StaticMount]) -> Self {
        Self::start_configured(test_config(), mounts).await
    }

    /// A server with these limits (control endpoints on).
    pub async fn start_limited(limits: resocket_server::Limits) -> Self {
        let mut config = test_config();
        config.limits = limits;
        Self::start_configured(config, &[]).await
    }

    pub async fn start_configured(
        config: resocket_server::Config,
        mounts: &[resocket_server::static_files::StaticMount],
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let mounts = mounts.to_vec();
        let task = tokio::spawn(async move {
            resocket_server::serve(listener, config, &mounts, None, Default::default(), async {
                let _ = stopped.await;
            })
            .await
        });
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn connect(&self, session: &str) -> Client {
        self.connect_query(&format!("session_id={session}")).await
    }

    pub async fn connect_query(&self, query: &str) -> Client {
        let url = format!("ws://{}/ws?{query}", self.addr);
        let (client, _) = connect_async(url).await.expect("websocket connects");
        client
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON body")
    }

    pub async fn post(&self, path: &str) -> Value {
        let response = self.http.post(self.url(path)).send().await.expect("POST");
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON body")
    }

    pub async fn log(&self, session: &str) -> Value {
        self.get_json(&format!("/control/{session}/log")).await
    }

    /// Asks the server to shut down and waits until `serve` has returned.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("running");
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("server stops within 10 s")
            .expect("server task did not panic")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn send_json(client: &mut Client, value: Value) {
    client
        .send(Message::Text(value.to_string().into()))
        .await
        .expect("send");
}

/// The next data frame (text parsed as JSON), skipping control frames.
pub async fn next_json(client: &mut Client) -> Value {
    loop {
        let message = tokio::time::timeout(PROMPTLY, client.next())
            .await
            .expect("a frame arrives in time")
            .expect("stream still open")
            .expect("frame is valid");
        match message {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str()).expect("server sends JSON")
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Whatever ends the stream: a close frame (`Some(code, reason)`) or an abrupt
/// end (`None`). Data frames before it are skipped.
pub async fn wait_for_end(client: &mut Client) -> Option<(u16, String)> {
    loop {
        let next = tokio::time::timeout(PROMPTLY, client.next())
            .await
            .expect("the connection ends in time");
        match next {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

/// Polls `check` until it returns true or `PROMPTLY` passes.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// `request` with the headers of a WebSocket upgrade, for asserting on the
/// HTTP answer to one (a refusal's status and body).
pub fn as_upgrade(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
}
