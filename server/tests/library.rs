//! The crate as a library: an application's handler, auth hook and
//! publisher, mounted under a prefix of its own axum app.

mod common;

use common::{next_json, send_json, wait_for_end, Client};
use resocket_server::auth::{from_fn, Identity, Rejection};
use resocket_server::handler::{Context, Handler, HandlerError, Incoming, Replies};
use resocket_server::{Config, Publisher, Resocket};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_tungstenite::connect_async;

/// Counts what it handles; fails the first time it sees `"fail-once"`;
/// holds `"slow"` messages until the test adds permits to `gate`.
struct Counting {
    handled: AtomicUsize,
    failed: AtomicUsize,
    entered_slow: AtomicUsize,
    gate: tokio::sync::Semaphore,
}

impl Default for Counting {
    fn default() -> Self {
        Self {
            handled: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            entered_slow: AtomicUsize::new(0),
            gate: tokio::sync::Semaphore::new(0),
        }
    }
}

impl Handler for Counting {
    async fn on_message(
        &self,
        context: &Context,
        message: Incoming,
    ) -> Result<Replies, HandlerError> {
        if message.message_type() == "slow" {
            self.entered_slow.fetch_add(1, Ordering::SeqCst);
            let permit = self.gate.acquire().await;
            drop(permit);
        }
        if message.message_type() == "fail-once" && self.failed.fetch_add(1, Ordering::SeqCst) == 0
        {
            return Err(HandlerError::new("busy", "try again"));
        }
        if message.message_type() == "join" {
            let room = message.data().as_str().unwrap_or("").to_owned();
            context
                .publisher
                .join(&context.session_id, &room)
                .map_err(|error| HandlerError::new("rooms", error.to_string()))?;
        }
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(vec![json!({
            "type": "handled",
            "data": {"user": context.identity.user.as_deref(), "type": message.message_type()},
            "replyTo": message.id(),
        })])
    }
}

struct App {
    addr: std::net::SocketAddr,
    handler: Arc<Counting>,
    publisher: Publisher,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl App {
    /// The application's own router with resocket nested at `/rt`; only
    /// `?token=ann|bob` gets in.
    async fn start() -> Self {
        Self::start_with(Config::default()).await
    }

    /// [`App::start`] with this configuration.
    async fn start_with(config: Config) -> Self {
        let handler = Arc::new(Counting::default());
        let resocket = Resocket::builder()
            .config(config)
            .handler(Arc::clone(&handler))
            .auth(from_fn(|request| match request.query_param("token") {
                Some(user @ ("ann" | "bob")) => Ok(Identity::user(user)),
                _ => Err(Rejection::Unauthorized("a token is required".into())),
            }))
            .build();
        let publisher = resocket.publisher();
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "the app's own page" }))
            .nest("/rt", resocket.router());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            resocket
                .serve(listener, app, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            handler,
            publisher,
            _stop: stop,
        }
    }

    async fn connect(&self, query: &str) -> Client {
        let (client, _) = connect_async(format!("ws://{}/rt/ws?{query}", self.addr))
            .await
            .expect("connects");
        client
    }
}

#[tokio::test]
async fn the_handler_gets_each_message_once_and_its_failures_are_resent() {
    let app = App::start().await;
    let mut client = app.connect("token=ann&session_id=once&ack=1").await;
    send_json(&mut client, json!({"type": "message", "id": "m1"})).await;
    assert_eq!(
        next_json(&mut client).await,
        json!({"type": "ack", "id": "m1"})
    );
    let reply = next_json(&mut client).await;
    assert_eq!(reply["data"], json!({"user": "ann", "type": "message"}));
    assert_eq!(reply["seq"], 1);
    // A resend (the ack was lost): acknowledged again, not handled again.
    send_json(&mut client, json!({"type": "message", "id": "m1"})).await;
    assert_eq!(
        next_json(&mut client).await,
        json!({"type": "ack", "id": "m1"})
    );
    assert_eq!(app.handler.handled.load(Ordering::SeqCst), 1);

    // A failure: an error envelope and no ack; the resend is handled.
    send_json(&mut client, json!({"type": "fail-once", "id": "f1"})).await;
    let error = next_json(&mut client).await;
    assert_eq!(
        [&error["type"], &error["data"]["code"], &error["replyTo"]],
        [&json!("error"), &json!("busy"), &json!("f1")]
    );
    send_json(&mut client, json!({"type": "fail-once", "id": "f1"})).await;
    assert_eq!(
        next_json(&mut client).await,
        json!({"type": "ack", "id": "f1"})
    );
    assert_eq!(next_json(&mut client).await["replyTo"], "f1");
    assert_eq!(app.handler.handled.load(Ordering::SeqCst), 2);
}

/// A message still being handled when its connection drops is handled to
/// the end all the same, once: the client's resend on the next connection
/// gets the ack when it is done, and the reply is there for replay. (Before,
/// the resend was ignored as "in progress" for ever: the chaos run lost
/// messages this way.)
#[tokio::test]
async fn a_message_cut_off_by_a_dropped_connection_is_handled_once_and_acked_on_the_next() {
    let app = App::start().await;
    let mut first = app.connect("token=ann&session_id=cut&ack=1").await;
    send_json(&mut first, json!({"type": "slow", "id": "s1"})).await;
    common::eventually("the handler is working on it", || async {
        app.handler.entered_slow.load(Ordering::SeqCst) == 1
    })
    .await;
    drop(first);
    let mut second = app.connect("token=ann&session_id=cut&ack=1").await;
    send_json(&mut second, json!({"type": "slow", "id": "s1"})).await;
    // Let the second copy arrive while the first is still being handled.
    send_json(&mut second, json!({"type": "ping", "id": "p"})).await;
    assert_eq!(next_json(&mut second).await["type"], "pong");
    app.handler.gate.add_permits(10);
    assert_eq!(
        next_json(&mut second).await,
        json!({"type": "ack", "id": "s1"})
    );
    assert_eq!(
        app.handler.entered_slow.load(Ordering::SeqCst),
        1,
        "handled once"
    );
    let mut resumed = app
        .connect("token=ann&session_id=cut&ack=1&last_seq=0")
        .await;
    assert_eq!(
        next_json(&mut resumed).await["replyTo"],
        "s1",
        "its reply, by replay"
    );
}

#[tokio::test]
async fn the_auth_hook_decides_before_anything_and_sessions_keep_their_user() {
    let app = App::start().await;
    let mut anonymous = app.connect("session_id=locked").await;
    assert_eq!(
        wait_for_end(&mut anonymous).await,
        Some((4401, "a token is required".to_owned()))
    );
    let http = reqwest::Client::new();
    for url in [
        format!("http://{}/rt/events?session_id=locked", app.addr),
        format!("http://{}/rt/messages?session_id=locked", app.addr),
    ] {
        let status = if url.contains("events") {
            http.get(&url).send().await.unwrap().status()
        } else {
            http.post(&url).body("[]").send().await.unwrap().status()
        };
        assert_eq!(status, 401, "{url}");
    }
    let mut ann = app.connect("token=ann&session_id=owned").await;
    send_json(&mut ann, json!({"type": "message", "id": "a"})).await;
    assert_eq!(next_json(&mut ann).await["data"]["user"], "ann");
    let mut bob = app.connect("token=bob&session_id=owned").await;
    assert_eq!(
        wait_for_end(&mut bob).await.map(|(code, _)| code),
        Some(4403)
    );
    assert_eq!(
        app.handler.handled.load(Ordering::SeqCst),
        1,
        "nothing of theirs reached the handler"
    );
    // The app's own routes are untouched.
    let page = http
        .get(format!("http://{}/", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(page.text().await.unwrap(), "the app's own page");
}

#[tokio::test]
async fn the_publisher_reaches_sessions_and_rooms_and_keeps_it_for_replay() {
    let app = App::start().await;
    // Published while nobody is connected: delivered by replay on resume.
    app.publisher
        .to_session("away", json!({"type": "news", "data": 1}))
        .unwrap();
    let mut away = app.connect("token=ann&session_id=away&last_seq=0").await;
    assert_eq!(
        next_json(&mut away).await,
        json!({"type": "news", "data": 1, "seq": 1})
    );

    let mut member = app.connect("token=ann&session_id=member").await;
    let mut outsider = app.connect("token=bob&session_id=outsider").await;
    send_json(
        &mut member,
        json!({"type": "join", "data": "general", "id": "j"}),
    )
    .await;
    next_json(&mut member).await;
    assert_eq!(
        app.publisher
            .to_room("general", json!({"type": "hello"}))
            .unwrap(),
        1
    );
    assert_eq!(next_json(&mut member).await["type"], "hello");
    app.publisher
        .to_session("outsider", json!({"type": "direct"}))
        .unwrap();
    app.publisher
        .to_session("outsider", json!({"type": "second"}))
        .unwrap();
    // Its frames come in order: had the room's reached it, that came first.
    assert_eq!(next_json(&mut outsider).await["type"], "direct");
    assert_eq!(next_json(&mut outsider).await["type"], "second");
    let not_an_envelope = app.publisher.to_room("general", Value::from(5));
    assert!(not_an_envelope.is_err());
}

/// Mounted in an app that serves itself with plain `axum::serve` (no
/// accept-loop limits): the protocol works the same.
#[tokio::test]
async fn it_works_under_plain_axum_serve_too() {
    let resocket = Resocket::builder().build();
    let app = axum::Router::new().nest("/realtime", resocket.router());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let (mut client, _) = connect_async(format!(
        "ws://{addr}/realtime/ws?session_id=plain&ack=1&protocol=1.1"
    ))
    .await
    .expect("connects");
    assert_eq!(next_json(&mut client).await["type"], "welcome");
    send_json(
        &mut client,
        json!({"type": "message", "data": "hi", "id": "m"}),
    )
    .await;
    assert_eq!(
        next_json(&mut client).await,
        json!({"type": "ack", "id": "m"})
    );
    let reply = next_json(&mut client).await;
    assert_eq!([&reply["replyTo"], &reply["seq"]], [&json!("m"), &json!(1)]);
    let health: Value = reqwest::get(format!("http://{addr}/realtime/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

/// The idle timeout fired under backpressure: once the backlog of a
/// client's work was full the server stopped reading, the last read grew
/// old, and an active client was closed with 1001 "idle timeout". Now the
/// idle clock stands still while the server does not read, and the
/// client's answered work counts as activity.
#[tokio::test]
async fn a_client_whose_work_the_server_is_behind_on_is_not_idle() {
    let mut config = Config::default();
    config.limits.idle_timeout = std::time::Duration::from_secs(1);
    config.limits.message_rate = 0;
    let app = App::start_with(config).await;
    let mut client = app.connect("token=ann&session_id=behind").await;
    // More than the backlog holds: the server stops reading.
    let sent = resocket_server::ws::MAX_PENDING + 10;
    for n in 0..sent {
        send_json(&mut client, json!({"type": "slow", "id": format!("w{n}")})).await;
    }
    common::eventually("the handler holds the first", || async {
        app.handler.entered_slow.load(Ordering::SeqCst) == 1
    })
    .await;
    // Longer than the idle timeout while the handler is behind.
    tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
    app.handler.gate.add_permits(1);
    for n in 0..sent {
        let reply = next_json(&mut client).await;
        assert_eq!(reply["type"], "handled", "{reply}");
        assert_eq!(reply["replyTo"], format!("w{n}"));
    }
    assert_eq!(app.handler.handled.load(Ordering::SeqCst), sent);
}
