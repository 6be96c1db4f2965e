//! Opening and closing one client WebSocket.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A client connection.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Read buffer per client connection. tungstenite's default (128 KiB) is
/// filled with zeros on the first read, so 10,000 idle clients would hold
/// over a gigabyte on a machine they share with the server being measured;
/// the frames here are under 200 bytes.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// How long a closing handshake may take before the socket is just dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens `url`, giving up after `timeout`. Nagle is off, as on both servers:
/// with several small frames in flight it would hold them back.
pub async fn open(url: &str, timeout: Duration) -> Result<Socket, String> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let connect = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok((socket, _response))) => Ok(socket),
        Ok(Err(Error::Http(response))) => {
            Err(format!("connect refused with HTTP {}", response.status()))
        }
        Ok(Err(error)) => Err(format!("connect failed: {error}")),
        Err(_) => Err(format!("connect timed out after {timeout:?}")),
    }
}

/// Closes with a closing handshake, so the server sees a clean close and not
/// a broken connection; a server that does not answer gets [`CLOSE_TIMEOUT`].
pub async fn close(mut socket: Socket) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        if socket.close(None).await.is_ok() {
            // The server's close frame (or the end of the stream) completes it.
            while let Some(Ok(_)) = socket.next().await {}
        }
    })
    .await;
}
