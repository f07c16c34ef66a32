//! Serves the built web client, and the contract's 404 for paths no service has.
//!
//! - `/assets/*`: Vite's content-hashed files, which never change: cached for a year, sent
//!   precompressed (`.br`, `.gz` beside each file, written by the client build) to browsers that
//!   accept it. A missing asset is a 404, never `index.html`: a tab of an older release asking
//!   for its old bundle must fail loudly, not parse HTML as JavaScript.
//! - `/api/*`, `/ws/*` not routed by any service: 404 with the contract's JSON error body.
//! - Any other path: the file of that name (revalidated on every use: `index.html`, a service
//!   worker and the manifest must never be stale), or `index.html` for the client's own routes
//!   (paths without a file extension), or 404.
//!
//! Every response carries the security headers: a Content-Security-Policy that allows only what
//! the client uses (its own scripts and styles, same-origin API and WebSocket, images from
//! itself, `data:` and `blob:` for upload previews, its own service worker and manifest), no
//! framing, no MIME sniffing, and no referrer to other sites.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use gochat_kit::http::ApiError;
use std::convert::Infallible;
use std::path::Path;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// What the client may load and connect to. `connect-src 'self'` covers the same-origin
/// WebSockets (CSP 3 matches ws: and wss: to 'self').
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self'; \
    manifest-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
];

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The client of `dir`, the JSON 404 of unknown API paths, and the security headers.
pub fn router(dir: &Path) -> Router {
    let not_routed = || any(|| async { ApiError::NotFound.into_response() });
    let router = Router::new()
        .route("/api", not_routed())
        .route("/api/", not_routed())
        .route("/api/{*path}", not_routed())
        .route("/ws", not_routed())
        .route("/ws/", not_routed())
        .route("/ws/{*path}", not_routed());
    let router = if dir.join("index.html").exists() {
        router
            .nest_service("/assets", assets(&dir.join("assets")))
            .fallback_service(pages(dir))
    } else {
        tracing::warn!(dir = %dir.display(), "web client not built (make run builds it); serving the API only");
        let message = format!(
            "The GoChat web client is not built in {}. Build it with `make run` (or `npm run build` in client/).\n",
            dir.display()
        );
        router.fallback(move || std::future::ready((StatusCode::NOT_FOUND, message).into_response()))
    };
    router.layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Hashed assets: precompressed, immutable, 404 when missing.
fn assets(dir: &Path) -> Router {
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            cache_immutable,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

/// A year for a found asset; nothing for a 404 (the file may appear with the next release).
fn cache_immutable<B>(response: &axum::http::Response<B>) -> Option<HeaderValue> {
    Some(
        if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
            IMMUTABLE
        } else {
            REVALIDATE
        },
    )
}

/// Files at the root (`index.html`, a service worker, the manifest) and the client's routes.
fn pages(dir: &Path) -> Router {
    let index = ServeFile::new(dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let client_route = tower::service_fn(move |request: Request<Body>| {
        let index = index.clone();
        async move {
            // `/conversations/abc` is a route of the client; `/missing.js` is a file that is not there.
            let last = request.uri().path().rsplit('/').next().unwrap_or_default();
            if last.contains('.') {
                return Ok::<_, Infallible>(StatusCode::NOT_FOUND.into_response());
            }
            Ok(index.oneshot(request).await.into_response())
        }
    });
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true)
        .fallback(client_route);
    Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, REVALIDATE))
}
