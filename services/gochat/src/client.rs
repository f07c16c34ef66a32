//! Serves the built web client.

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get_service};
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Static files of `dir`; unknown paths get `index.html` so client-side routes survive a reload.
/// Vite puts content-hashed files under `assets/`, which never change and are cached for a
/// year; everything else is revalidated.
pub fn service(dir: &Path) -> MethodRouter {
    if !dir.join("index.html").exists() {
        tracing::warn!(dir = %dir.display(), "web client not built (make run builds it); serving the API only");
        let message = format!(
            "The GoChat web client is not built in {}. Build it with `make run` (or `npm run build` in client/).\n",
            dir.display()
        );
        return axum::routing::get(move || {
            std::future::ready((axum::http::StatusCode::NOT_FOUND, message).into_response())
        });
    }
    let index = ServeFile::new(dir.join("index.html"));
    let files = ServeDir::new(dir).fallback(index);
    get_service(files).layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        cache_control,
    ))
}

fn cache_control<B>(response: &axum::http::Response<B>) -> Option<HeaderValue> {
    let immutable = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| !t.as_bytes().starts_with(b"text/html"));
    Some(HeaderValue::from_static(if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }))
}
