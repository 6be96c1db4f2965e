//! Static files (`www/`, `pkg/`), each directory under its own URL prefix.

use std::path::PathBuf;

use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// A directory served under a URL prefix (`/` for the site root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticMount {
    /// URL prefix without a trailing slash, or `/`.
    pub prefix: String,
    /// The directory on disk.
    pub dir: PathBuf,
}

/// Adds the mounts to `router`. Responses say `no-cache` so a rebuilt `pkg/`
/// is picked up on reload (browsers still revalidate with ETags).
pub fn mount<S: Clone + Send + Sync + 'static>(
    mut router: Router<S>,
    mounts: &[StaticMount],
) -> Router<S> {
    for mount in mounts {
        let files = ServeDir::new(&mount.dir);
        router = if mount.prefix == "/" {
            router.fallback_service(files)
        } else {
            router.nest_service(&mount.prefix, files)
        };
    }
    router.layer(SetResponseHeaderLayer::if_not_present(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    ))
}
