//! What an operator sees of `gochat serve`: how the client is served (precompressed, cached by
//! kind, 404s that say what is missing, security headers), log lines in files and as JSON, the
//! strict configuration and `--print-config`.

#![allow(clippy::unwrap_used)] // test code fails loudly by design

mod common;

use gochat_kit::testing::TestServer;
use reqwest::header::{ACCEPT_ENCODING, HeaderMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const BUNDLE: &str = "console.log('the client');\n";

/// A built client: index.html, one hashed bundle with its precompressed copies, a service worker.
fn client_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join("dist");
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html><body>GoChat</body></html>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/index-abc123.js"), BUNDLE).unwrap();
    std::fs::write(dir.join("assets/index-abc123.js.br"), b"brotli bytes").unwrap();
    std::fs::write(dir.join("assets/index-abc123.js.gz"), b"gzip bytes").unwrap();
    std::fs::write(dir.join("sw.js"), "self.addEventListener('fetch', () => {});").unwrap();
    dir
}

async fn serve_client(root: &Path) -> TestServer {
    let mut settings = common::fast_settings();
    settings.client_dir = Some(client_dir(root));
    let data = root.join("data");
    TestServer::start(TestServer::settings(&data, None), None, |rt| gochat::app(rt, settings))
        .await
        .unwrap()
}

async fn get(server: &TestServer, path: &str, encoding: Option<&str>) -> (u16, HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new().get(server.url(path));
    if let Some(encoding) = encoding {
        request = request.header(ACCEPT_ENCODING, encoding);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

fn assert_security_headers(path: &str, headers: &HeaderMap) {
    let csp = header(headers, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{path}: CSP {csp:?} lacks {directive}");
    }
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{path}");
    assert_eq!(header(headers, "x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header(headers, "referrer-policy"), "same-origin", "{path}");
}

#[tokio::test]
async fn assets_are_sent_precompressed_and_cached_for_good_and_a_missing_one_is_404() {
    let root = tempfile::tempdir().unwrap();
    let server = serve_client(root.path()).await;
    let path = "/assets/index-abc123.js";

    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), "br", &b"brotli bytes"[..]),
        (Some("gzip"), "gzip", &b"gzip bytes"[..]),
        (None, "", BUNDLE.as_bytes()),
    ] {
        let (status, headers, bytes) = get(&server, path, accept).await;
        assert_eq!(status, 200, "{accept:?}");
        assert_eq!(header(&headers, "content-encoding"), encoding, "{accept:?}");
        assert_eq!(bytes, body, "{accept:?}");
        assert!(
            header(&headers, "content-type").starts_with("text/javascript"),
            "{headers:?}"
        );
        assert_eq!(header(&headers, "cache-control"), "public, max-age=31536000, immutable");
        assert_eq!(header(&headers, "vary"), "accept-encoding");
        assert_security_headers(path, &headers);
    }

    // An old tab asking for the bundle of a previous release gets a 404, not index.html.
    let (status, headers, body) = get(&server, "/assets/index-old999.js", Some("br")).await;
    assert_eq!(status, 404);
    assert!(!String::from_utf8_lossy(&body).contains("<html"));
    assert_ne!(header(&headers, "cache-control"), "public, max-age=31536000, immutable");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn pages_are_revalidated_and_client_routes_get_the_index() {
    let root = tempfile::tempdir().unwrap();
    let server = serve_client(root.path()).await;
    for path in ["/", "/index.html", "/conversations/0193-abc"] {
        let (status, headers, body) = get(&server, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert!(String::from_utf8_lossy(&body).contains("GoChat"), "{path}");
        assert_eq!(header(&headers, "cache-control"), "no-cache", "{path}");
        assert_security_headers(path, &headers);
    }
    // A service worker must never be stuck in a cache.
    let (status, headers, _) = get(&server, "/sw.js", None).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    // A file that is not there is not the index either.
    let (status, headers, _) = get(&server, "/favicon.ico", None).await;
    assert_eq!(status, 404);
    assert_security_headers("/favicon.ico", &headers);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_api_and_socket_paths_get_the_contracts_json_404() {
    let root = tempfile::tempdir().unwrap();
    let server = serve_client(root.path()).await;
    let http = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/api/nothing-here"),
        ("POST", "/api/auth/nothing"),
        ("GET", "/api"),
        ("GET", "/api/"),
        ("GET", "/ws/"),
        ("GET", "/ws/nothing"),
        ("DELETE", "/api/users/x/y/z"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = http.request(method.clone(), server.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "{method} {path}");
        assert!(header(response.headers(), "content-type").starts_with("application/json"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{method} {path}: {body}");
    }
    server.stop().await.unwrap();
}

/// API answers are someone's own data: kept out of caches and never sniffed (an attachment
/// keeps its own caching, checked in attachments.rs).
#[tokio::test]
async fn api_answers_are_not_cached_nor_sniffed() {
    let root = tempfile::tempdir().unwrap();
    let server = serve_client(root.path()).await;
    let http = reqwest::Client::new();
    // Signed out: answered (200 and 401) by the routes, through their layers.
    for path in ["/api/auth/currentuser", "/api/users"] {
        let response = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(header(response.headers(), "cache-control"), "no-store", "{path}");
        assert_eq!(
            header(response.headers(), "x-content-type-options"),
            "nosniff",
            "{path}"
        );
    }
    server.stop().await.unwrap();
}

/// A request to a socket's path that is not an upgrade (a plain GET, a WebSocket version
/// other than 13) gets the contract's JSON error, not axum's text.
#[tokio::test]
async fn a_socket_path_asked_without_an_upgrade_gets_the_contracts_json_400() {
    let root = tempfile::tempdir().unwrap();
    let server = serve_client(root.path()).await;
    let http = reqwest::Client::new();
    let version_8 = [
        ("connection", "upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "8"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    for path in ["/ws/chat", "/ws/notifications"] {
        for headers in [&[][..], &version_8[..]] {
            let mut request = http.get(server.url(path));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 400, "{path} {headers:?}");
            assert!(header(response.headers(), "content-type").starts_with("application/json"));
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "invalid_input", "{path}: {body}");
        }
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_method_a_route_does_not_take_gets_the_contracts_json_405_with_allow() {
    let root = tempfile::tempdir().unwrap();
    let server = serve_client(root.path()).await;
    let http = reqwest::Client::new();
    for (method, path, allowed) in [
        ("POST", "/healthz", "GET"),
        ("DELETE", "/api/conversations", "POST"),
        ("PUT", "/api/auth/currentuser", "GET"),
        ("POST", "/api/conversations/x/messages", "GET"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = http.request(method.clone(), server.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        assert!(
            header(response.headers(), "allow").contains(allowed),
            "{method} {path}: {:?}",
            response.headers()
        );
        assert!(header(response.headers(), "content-type").starts_with("application/json"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed", "{method} {path}: {body}");
    }
    // The answer passes through the routes' layers like any other: a foreign origin is still
    // refused first, and the answer is counted.
    let foreign = http
        .delete(server.url("/api/conversations"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 403);
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for route in ["/healthz", "/api/conversations", "/api/auth/currentuser"] {
        let counted = format!("gochat_http_requests_total{{route=\"{route}\",status=\"405\"}}");
        assert!(metrics.contains(&counted), "{counted} in {metrics}");
    }
    server.stop().await.unwrap();
}

/// `gochat` with a clean environment (no GOCHAT_* of the caller) plus `env`, in `dir`.
fn gochat(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gochat"));
    for (name, _) in std::env::vars() {
        if name.starts_with("GOCHAT_") || name == "RUST_LOG" || name == "NO_COLOR" {
            command.env_remove(name);
        }
    }
    command
        .current_dir(dir)
        .args(args)
        .env("GOCHAT_LISTEN", "127.0.0.1:0")
        .env("GOCHAT_DATA_DIR", dir.join("data"))
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
}

/// Runs `gochat serve` until it logs that it serves; returns every line up to then.
fn lines_until_serving(dir: &Path, env: &[(&str, &str)]) -> Vec<String> {
    let mut child = gochat(dir, &["serve"], env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let serving = line.contains("\"message\":\"serving\"") || line.contains(" INFO serving ");
        lines.push(line);
        if serving {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    lines
}

#[test]
fn logs_written_to_a_pipe_have_no_colour_and_name_each_database() {
    let dir = tempfile::tempdir().unwrap();
    let lines = lines_until_serving(dir.path(), &[]);
    let text = lines.join("\n");
    assert!(!text.contains('\u{1b}'), "escape codes in {text:?}");
    for db in ["auth", "users", "messages", "chat", "notifications"] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("database{{db=\"{db}\"}}: Database migrated"))),
            "no migration line naming {db}:\n{text}"
        );
    }
}

#[test]
fn json_logs_are_one_object_per_line_with_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let lines = lines_until_serving(dir.path(), &[("GOCHAT_LOG_FORMAT", "json")]);
    let objects: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        objects
            .iter()
            .all(|o| o["service"] == "gochat" && o["level"].is_string())
    );
    let migrations: Vec<_> = objects
        .iter()
        .filter(|o| o["message"].as_str().unwrap().starts_with("Database migrated"))
        .map(|o| o["db"].as_str().unwrap())
        .collect();
    // Each service's database, and the messages service's search index.
    assert_eq!(
        migrations,
        ["auth", "users", "messages", "messages-search", "chat", "notifications"],
        "{lines:?}"
    );
    assert_eq!(objects.last().unwrap()["message"], "serving");
}

#[test]
fn unknown_settings_are_refused_by_name_and_nothing_is_started() {
    let dir = tempfile::tempdir().unwrap();
    let out = gochat(dir.path(), &["serve"], &[("GOCHAT_LISEN", "0.0.0.0:8080")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GOCHAT_LISEN"));

    std::fs::write(dir.path().join("typo.toml"), "data_dir = \"x\"\nsesion_hours = 2\n").unwrap();
    let out = gochat(dir.path(), &["users", "--config", "typo.toml"], &[])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown setting `sesion_hours`"));
    assert!(!dir.path().join("data").exists() && !dir.path().join("x").exists());
}

#[test]
fn print_config_shows_what_serve_would_run_with_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(dir.path().join("config/gochat.toml"), "session_hours = 12\n").unwrap();
    let secret = "a-session-key-that-must-never-be-printed-0123";
    let out = gochat(
        dir.path(),
        &["serve", "--print-config", "--users-cache-mib", "7"],
        &[("GOCHAT_JWT_KEY", secret), ("GOCHAT_TRUST_PROXY", "true")],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("session_hours = 12\n"), "{text}");
    assert!(text.contains("trust_proxy = true\n"), "{text}");
    assert!(text.contains("users_cache_mib = 7\n"), "{text}");
    assert!(text.contains("listen = \"127.0.0.1:0\"\n"), "{text}");
    assert!(text.contains("jwt_key = \"<redacted>\"\n"), "{text}");
    assert!(text.contains("# chat_idle_secs: 75 (default)\n"), "{text}");
    assert!(!text.contains(secret));
    assert!(!dir.path().join("data").exists(), "printing starts nothing");
}
