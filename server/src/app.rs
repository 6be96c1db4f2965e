//! [`Resocket`]: the server as a library. Build one with your handler, auth
//! hook and limits; mount its [`router`](Resocket::router) in your axum app;
//! publish from your own code with its [`publisher`](Resocket::publisher).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::auth::{AllowAll, Authorize, DynAuthorize};
use crate::config::Config;
use crate::engine::Engine;
use crate::handler::{DynHandler, Echo, Handler};
use crate::listener::serve_router;
use crate::publish::Publisher;
use crate::router::router;
use crate::state::{AppState, SharedState};

/// How long shutdown waits for sockets to finish their closing handshake.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// A resocket server: the protocol's endpoints around your [`Handler`].
///
/// ```no_run
/// use resocket_server::{Config, Resocket};
/// use resocket_server::handler::Echo;
///
/// # async fn run() -> std::io::Result<()> {
/// let resocket = Resocket::builder().config(Config::default()).handler(Echo).build();
/// let publisher = resocket.publisher();
/// let app = axum::Router::new()
///     .nest("/realtime", resocket.router())
///     .route("/", axum::routing::get(|| async { "my app" }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// // Connection caps and header timeouts apply to everything `app` serves.
/// resocket.serve(listener, app, async { let _ = tokio::signal::ctrl_c().await; }).await;
/// # let _ = publisher;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Resocket {
    state: SharedState,
}

/// Sets up a [`Resocket`]: defaults are [`Config::default`] (safe limits,
/// same-origin pages only, no control endpoints), the [`Echo`] handler and
/// no auth ([`AllowAll`]).
pub struct Builder {
    config: Config,
    handler: Arc<dyn DynHandler>,
    auth: Arc<dyn DynAuthorize>,
    engine: Engine,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Limits, origins and switches.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The application's handler.
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.handler = Arc::new(handler);
        self
    }

    /// The auth hook.
    pub fn auth(mut self, auth: impl Authorize) -> Self {
        self.auth = Arc::new(auth);
        self
    }

    /// Where sessions' streams live: [`Engine::Memory`] (the default) or a
    /// Redis shared by several nodes ([`Engine::redis`]).
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The server (no task is started until a socket or stream opens).
    pub fn build(self) -> Resocket {
        Resocket {
            state: AppState::new(self.config, self.handler, self.auth, self.engine),
        }
    }
}

impl Resocket {
    /// A builder with the defaults.
    pub fn builder() -> Builder {
        Builder {
            config: Config::default(),
            handler: Arc::new(Echo),
            auth: Arc::new(AllowAll),
            engine: Engine::Memory,
        }
    }

    /// The endpoints, to serve or to `nest` in an app: `/ws`, `/messages`,
    /// `/events`, `/health` (and `/control/…` when enabled).
    pub fn router(&self) -> Router {
        router(Arc::clone(&self.state))
    }

    /// Publishes to sessions and rooms, and manages rooms, from anywhere.
    pub fn publisher(&self) -> Publisher {
        self.state.publisher.clone()
    }

    /// Closes every socket with 1001 ("going away": clients reconnect
    /// elsewhere or later) and ends every event stream.
    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
    }

    /// Waits until every socket closed after [`shutdown`](Self::shutdown), at most `grace`.
    pub async fn closed(&self, grace: Duration) {
        self.state.connections.close();
        let _ = tokio::time::timeout(grace, self.state.connections.wait()).await;
    }

    /// Serves `app` (which should contain [`router`](Self::router)) on
    /// `listener` with this server's connection caps and timeouts, until
    /// `shutdown` resolves; then closes sockets and streams and waits for
    /// them (a few seconds at most).
    pub async fn serve(
        &self,
        listener: TcpListener,
        app: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) {
        let state = Arc::clone(&self.state);
        let stopping = async move {
            shutdown.await;
            state.shutdown.cancel();
        };
        serve_router(listener, app, &self.state.limits, stopping, SHUTDOWN_GRACE).await;
        self.closed(SHUTDOWN_GRACE).await;
    }
}
