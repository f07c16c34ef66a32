//! Operations endpoints and serving: `/healthz`, `/readyz`, `/metrics` (GoChat's series,
//! `gochat_build_info` and the `process_*` series), request metrics, and graceful shutdown.

use crate::runtime::Runtime;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Version and commit of this build; `GOCHAT_COMMIT` is set by the release build (scripts/dist.sh).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = match option_env!("GOCHAT_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// The process-wide metrics recorder (one per process, shared by every service in it),
/// installed on first call. [`crate::service::runtime`] calls it before anything else, so that
/// no counter is created against the no-op recorder that `metrics` uses until one is installed
/// (such a counter would never show on `/metrics`).
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
            describe_metrics();
            metrics::gauge!("gochat_build_info", "version" => VERSION, "commit" => COMMIT).set(1.0);
            // Shown from the start at 0, not only once something happened.
            metrics::counter!("gochat_events_published_total").increment(0);
            handle
        })
        .clone()
}

/// HELP text of every series GoChat records (Prometheus shows it; a series without one is
/// harder to read).
fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        "gochat_build_info",
        "Always 1; the labels name the version and commit of this build"
    );
    describe_counter!("gochat_http_requests_total", "HTTP requests by route and status");
    describe_histogram!(
        "gochat_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by route, in seconds"
    );
    describe_gauge!(
        "gochat_outbox_depth",
        "Rows of a database's outbox: events committed and not yet confirmed by the bus, or confirmed and not yet deleted; grows while the broker is away"
    );
    describe_gauge!("gochat_open_sockets", "Open WebSockets by path");
    describe_gauge!(
        "gochat_search_backlog",
        "Messages left for the search index after its last batch (a rebuild queues them all; searches find them all the same)"
    );
    describe_counter!("gochat_events_published_total", "Events published from outboxes");
    describe_counter!("gochat_events_consumed_total", "Events handled by consumers");
    describe_counter!(
        "gochat_events_dead_lettered_total",
        "Events that failed every attempt and went to the dead-letter queue, by queue"
    );
}

/// The `/metrics` route alone: the recorder's series and the process's.
pub fn metrics_router() -> Router {
    let handle = metrics_handle();
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let mut text = handle.render();
            text.push_str(&crate::process::render());
            std::future::ready(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text))
        }),
    );
    crate::http::json_method_not_allowed(router)
}

/// `/healthz` and `/readyz` for the databases and bus of `runtime`, and `/metrics` unless it is
/// served on its own address (`GOCHAT_METRICS_LISTEN`).
pub fn router(runtime: Runtime) -> Router {
    let with_metrics = runtime.settings.metrics_listen.is_none();
    let health = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(runtime);
    let health = crate::http::json_method_not_allowed(health).layer(axum::middleware::from_fn(track_requests));
    if with_metrics {
        health.merge(metrics_router())
    } else {
        health
    }
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
    } else if !runtime.bus.is_consuming() {
        problems.push(format!(
            "{} bus: not every consumer is consuming yet",
            runtime.bus.kind()
        ));
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
    metrics::histogram!("gochat_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
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
