//! Static files (`www/`, `pkg/`), each directory under its own URL prefix.
//!
//! Only what is inside a mount is served: a symbolic link that leads out of
//! it is not followed, and no path with a segment starting with `.`
//! (`.git`, `.env`) is served at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
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
        let files: Router = Router::new()
            .fallback(serve)
            .with_state(Arc::new(mount.dir.clone()));
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

async fn serve(State(dir): State<Arc<PathBuf>>, request: Request) -> Response {
    if !is_inside(&dir, request.uri().path()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match ServeDir::new(&*dir).oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(infallible) => match infallible {},
    }
}

/// Whether URL `path` names something inside `dir`: no dot segment, and
/// once links are resolved, still under `dir`. A path that does not exist
/// passes (the file server answers 404).
pub fn is_inside(dir: &Path, path: &str) -> bool {
    let Some(decoded) = percent_decode(path) else {
        return false;
    };
    let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    if segments
        .iter()
        .any(|segment| segment.starts_with('.') || segment.contains('\\'))
    {
        return false;
    }
    let Ok(root) = dir.canonicalize() else {
        return false;
    };
    let target = segments
        .iter()
        .fold(root.clone(), |path, segment| path.join(segment));
    match target.canonicalize() {
        Ok(resolved) => resolved.starts_with(&root),
        Err(_) => true,
    }
}

/// `%XX`-decodes a URL path; `None` when it is not valid UTF-8 afterwards
/// or has a bad escape.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = path.get(at + 1..at + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_and_bad_escapes_are_outside() {
        let dir = std::env::temp_dir();
        assert!(!is_inside(&dir, "/.env"));
        assert!(!is_inside(&dir, "/a/.git/config"));
        assert!(!is_inside(&dir, "/%2e%2e/etc/passwd"));
        assert!(!is_inside(&dir, "/%2Eenv"));
        assert!(!is_inside(&dir, "/bad%zz"));
        assert!(!is_inside(&dir, "/a%5c..%5cb"));
        assert!(is_inside(&dir, "/no-such-file-here.js"));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_mount_is_not_followed() {
        let root = std::env::temp_dir().join(format!("resocket-static-{}", std::process::id()));
        let mount = root.join("www");
        std::fs::create_dir_all(&mount).unwrap();
        std::fs::write(root.join("secret.txt"), "s").unwrap();
        std::fs::write(mount.join("page.html"), "p").unwrap();
        let _ = std::fs::remove_file(mount.join("leak.txt"));
        std::os::unix::fs::symlink(root.join("secret.txt"), mount.join("leak.txt")).unwrap();
        assert!(is_inside(&mount, "/page.html"));
        assert!(!is_inside(&mount, "/leak.txt"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
