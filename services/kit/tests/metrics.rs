//! `/metrics` of a service that has just started and is idle: every series it has created is
//! there already (the recorder is installed before the bus makes its counters), each with HELP,
//! with `gochat_build_info` and the `process_*` series; `GOCHAT_METRICS_LISTEN` moves the route
//! to its own address.
//!
//! One test in its own binary: the metrics recorder is process-wide, so the first server this
//! process starts is the one that shows whether start-up order is right.

#![allow(clippy::unwrap_used)] // test code fails loudly by design

use gochat_kit::bus::{Queue, handler};
use gochat_kit::testing::TestServer;

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn an_idle_service_shows_every_series_with_help_from_its_first_second() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = TestServer::settings(dir.path(), None);
    settings.metrics_listen = Some(format!("127.0.0.1:{metrics_port}").parse().unwrap());
    let server = TestServer::start(settings, None, |runtime| async move {
        // What every service does while it is built: open its database and consume a queue.
        runtime.open_db("idle", &["CREATE TABLE t (x INTEGER);"])?;
        let queue = Queue::fanout("idle", "test", "events", &[]);
        runtime.bus.consume(
            queue,
            handler(|_| async { Ok(()) }),
            &runtime.tasks,
            runtime.shutdown.clone(),
        );
        Ok(axum::Router::new())
    })
    .await
    .unwrap();

    // Not on the application's port: on its own address.
    assert_eq!(get(&server.url("/metrics")).await.0, 404);
    let (status, text) = get(&format!("http://127.0.0.1:{metrics_port}/metrics")).await;
    assert_eq!(status, 200);

    // Made while the service was built, before anything was served or consumed.
    assert!(
        text.contains("gochat_events_consumed_total{queue=\"idle.test.events\"} 0"),
        "{text}"
    );
    assert!(text.contains("gochat_outbox_depth{db=\"idle\"} 0"), "{text}");
    let build = format!("gochat_build_info{{version=\"{}\",commit=\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&build), "{text}");
    for process in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
    ] {
        assert!(text.contains(&format!("\n{process} ")), "{process} missing:\n{text}");
    }
    // Every series has HELP and TYPE; names follow Prometheus's conventions.
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(text.contains(&format!("# HELP {name} ")), "{name} has no HELP:\n{text}");
        if line.ends_with(" counter") {
            assert!(name.ends_with("_total"), "{name}");
        }
    }
    assert!(!text.contains("gochat_http_request_seconds"));
    server.stop().await.unwrap();
}
