//! Slow or silent connections cannot take the server's sockets: a header-read timeout, an idle
//! timeout and a connection cap, on the all-in-one server built from its settings.
//!
//! Its own test binary: a process has one listener configuration, set by its runtime.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use gochat_kit::testing::TestServer;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(20);
const CAP: usize = 12;

async fn healthz(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gochat\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    let mut chunk = [0u8; 512];
    tokio::time::timeout(WAIT, async {
        while !String::from_utf8_lossy(&response).ends_with("\r\n\r\nok") {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed before answering");
            response.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("an answer in time");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn slow_header_connections_are_closed_and_cannot_starve_health_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = TestServer::settings(dir.path(), None);
    settings.connections.header_timeout_secs = Some(1);
    settings.connections.max_connections = Some(CAP);
    let server = TestServer::start(settings, None, |rt| gochat::app(rt, common::fast_settings()))
        .await
        .unwrap();

    // An operator's monitor holds a keep-alive connection.
    let mut monitor = TcpStream::connect(server.addr).await.unwrap();
    assert!(healthz(&mut monitor).await.starts_with("HTTP/1.1 200"));

    // Every other slot is taken by a connection that sends its headers a line at a time.
    let mut slow = Vec::new();
    for _ in 0..CAP - 1 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: gochat\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    // The monitor's connection keeps working at the cap.
    assert!(healthz(&mut monitor).await.starts_with("HTTP/1.1 200"));

    // The slow ones are closed once they have had their second for the headers…
    for stream in &mut slow {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(WAIT, stream.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0) | Err(_))), "a slow connection was closed");
    }
    // …which lets a new connection in.
    let mut newcomer = TcpStream::connect(server.addr).await.unwrap();
    assert!(healthz(&mut newcomer).await.starts_with("HTTP/1.1 200"));
    server.stop().await.unwrap();
}

/// A request whose body stops halfway is refused once it has paused for the body timeout, and
/// its connection closed. (A body that trickles a byte within each timeout still holds its
/// connection as long as it lasts, as a slow upload does: the connection cap bounds those.)
#[tokio::test]
async fn a_body_that_stops_halfway_is_refused_after_the_body_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = TestServer::settings(dir.path(), None);
    settings.connections.body_timeout_secs = Some(1);
    let server = TestServer::start(settings, None, |rt| gochat::app(rt, common::fast_settings()))
        .await
        .unwrap();
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let host = server.addr.to_string();
    let head = format!(
        "POST /api/auth/signin HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"user"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .expect("answered and closed in time")
        .unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 4"), "{response}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "after the pause, not before"
    );
    server.stop().await.unwrap();
}

/// A URL far past hyper's own limit (64 KiB) is answered with the contract's error body, not
/// hyper's empty 414, and its connection closed.
#[tokio::test]
async fn a_url_too_long_gets_the_contracts_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let settings = TestServer::settings(dir.path(), None);
    let server = TestServer::start(settings, None, |rt| gochat::app(rt, common::fast_settings()))
        .await
        .unwrap();
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET /api/users?q={} HTTP/1.1\r\nHost: {}\r\n\r\n",
        "a".repeat(100_000),
        server.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .expect("answered and closed in time")
        .unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 414 "), "{head}");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"]["code"], "invalid_input", "{body}");
    server.stop().await.unwrap();
}
