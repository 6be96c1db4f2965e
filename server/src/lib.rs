//! resocket-server: the server side of the resocket protocol (PROTOCOL.md),
//! as a library you mount in your own axum app and as a binary.
//!
//! - [`Resocket`] serves `/ws`, the HTTP fallback (`/messages`, `/events`)
//!   and `/health`, and does the protocol: acknowledgements, duplicate
//!   suppression, numbered frames with replay and stream epochs, heartbeats.
//! - Your [`Handler`](handler::Handler) gets each client envelope once and
//!   answers with envelopes; an [`Authorize`](auth::Authorize) hook sees every
//!   request before anything is accepted; a [`Publisher`] sends to a session
//!   or a room from anywhere in your code.
//! - Every resource a client can make the server hold is bounded
//!   ([`Limits`]); browser origins are checked ([`OriginPolicy`]).
//! - The binary (`main.rs`) is the demo and test server built on it, with
//!   fault injection behind `--enable-control`, and a gateway mode for
//!   backends in other languages ([`gateway`]).

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod control;
pub mod demo;
pub mod engine;
pub mod exchange;
pub mod faults;
pub mod gateway;
pub mod handler;
pub mod health;
pub mod http_fallback;
pub mod json_errors;
pub mod listener;
pub mod log_budget;
pub mod origin;
pub mod protocol;
pub mod publish;
pub mod queue;
pub mod random;
pub mod rate;
pub mod request;
pub mod router;
pub mod session_id;
pub mod session_log;
pub mod sessions;
pub mod state;
pub mod static_files;
pub mod stream;
pub mod write_timeout;
pub mod ws;

pub use app::{Builder, Resocket};
pub use config::{Config, Limits};
pub use origin::OriginPolicy;
pub use publish::{PublishError, Publisher};

use std::future::Future;

use tokio::net::TcpListener;

use crate::static_files::StaticMount;

/// Serves the demo/test server (the [`Demo`](demo::Demo) handler: the
/// reference replies and streamed replies; or the
/// gateway when `gateway` is given) with `config` and static mounts on
/// `listener` until `shutdown` resolves; then every open WebSocket is closed
/// with 1001 ("going away") and the function returns once they are done.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    static_mounts: &[StaticMount],
    gateway: Option<gateway::GatewayConfig>,
    engine: engine::Engine,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = Resocket::builder().config(config).engine(engine);
    let (resocket, extra) = match gateway {
        Some(gateway) => {
            let mut builder = builder.handler(gateway::Webhook::new(&gateway)?);
            match gateway::AuthWebhook::new(&gateway)? {
                Some(auth) => builder = builder.auth(auth),
                None => eprintln!(
                    "resocket-server: warning: gateway mode without --auth-webhook: anyone who knows a session id can use the session"
                ),
            }
            let resocket = builder.build();
            let api = gateway::publish_api(resocket.publisher(), &gateway);
            (resocket, Some(api))
        }
        None => (builder.handler(demo::Demo::default()).build(), None),
    };
    let mut app = resocket.router();
    if let Some(api) = extra {
        app = app.merge(api);
    }
    let app = static_files::mount(app, static_mounts);
    resocket.serve(listener, app, shutdown).await;
    Ok(())
}
