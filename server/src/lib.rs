//! resocket-server: the integration-test and demo server for the resocket SDK.
//!
//! It speaks the resocket wire protocol on `/ws` (echo, ping/pong), reports
//! `/health`, serves static files, and injects faults per session through
//! `/control/…` so browser tests can break connections on purpose.

pub mod cli;
pub mod control;
pub mod faults;
pub mod health;
pub mod http_fallback;
pub mod protocol;
pub mod random;
pub mod router;
pub mod session_log;
pub mod sessions;
pub mod state;
pub mod static_files;
pub mod stream;
pub mod ws;

use std::future::Future;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::state::AppState;
use crate::static_files::StaticMount;

/// How long shutdown waits for sockets to finish their closing handshake.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serves on `listener` until `shutdown` resolves; then every open WebSocket is
/// closed with 1001 ("going away") and the function returns once they are done.
pub async fn serve(
    listener: TcpListener,
    static_mounts: &[StaticMount],
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new();
    let app = router::router(state.clone(), static_mounts);
    let stopping = state.shutdown.clone();
    // No Nagle: a small reply must not wait for the client's delayed ACK of
    // the previous one (with many frames in flight that stalls ~40 ms at a time).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.cancel();
        })
        .await?;
    state.connections.close();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, state.connections.wait()).await;
    Ok(())
}
