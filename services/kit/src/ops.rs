//! Operations endpoints and serving: `/healthz`, `/readyz`, `/metrics`, request metrics, and
//! graceful shutdown.

use crate::runtime::Runtime;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The process-wide metrics recorder (one per process, shared by every service in it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .expect("bucket list is not empty")
                .install_recorder()
                .expect("the metrics recorder is installed once per process");
            metrics::describe_counter!("gochat_http_requests_total", "HTTP requests by route and status");
            metrics::describe_histogram!("gochat_http_request_seconds", "HTTP request latency by route");
            metrics::describe_gauge!(
                "gochat_outbox_depth",
                "Outbox rows published but not yet confirmed, or confirmed and awaiting their batched delete"
            );
            metrics::describe_gauge!("gochat_open_sockets", "Open WebSockets by path");
            metrics::describe_counter!("gochat_events_published_total", "Events published from outboxes");
            handle
        })
        .clone()
}

/// `/healthz`, `/readyz` and `/metrics` for the databases and bus of `runtime`.
pub fn router(runtime: Runtime) -> Router {
    let handle = metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .with_state(runtime)
}

async fn readyz(State(runtime): State<Runtime>) -> Response {
    let mut problems = Vec::new();
    for db in runtime.databases() {
        if !db.is_healthy().await {
            problems.push(format!("database {} is not readable", db.name()));
        }
    }
    if !runtime.bus.is_connected() {
        problems.push(format!("{} bus is not connected", runtime.bus.kind()));
    }
    if problems.is_empty() {
        (
            StatusCode::OK,
            Json(serde_json::json!({"status": "ready", "bus": runtime.bus.kind()})),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "unavailable", "reasons": problems})),
        )
            .into_response()
    }
}

/// Middleware: counts requests and times them by matched route (not raw path, which would
/// make one series per id).
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("gochat_http_requests_total", "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("gochat_http_request_seconds", "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// Serves `app` on `listener` until `shutdown`, then stops accepting and lets requests finish.
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) -> std::io::Result<()> {
    crate::listener::serve(listener, app, shutdown).await
}

/// Cancels `shutdown` on SIGTERM or Ctrl-C.
pub fn cancel_on_signal(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed at startup");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("shutting down");
        shutdown.cancel();
    });
}
