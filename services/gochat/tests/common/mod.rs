//! What the integration tests share: starting GoChat on port 0 and a small HTTP client that
//! keeps the session cookie like a browser would.

#![allow(dead_code)]

pub mod files;
pub mod fuzz;
pub mod site;

use gochat_kit::bus::Bus;
use gochat_kit::testing::TestServer;
use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Cheap argon2 for tests (the real cost is measured in the benchmark, not here), and room
/// for the many sign-ups a test makes from one address (the sign-up limit's own test sets it).
pub fn fast_settings() -> gochat::Settings {
    let mut settings = gochat::Settings::default();
    settings.auth.argon2_memory_kib = Some(1024);
    settings.auth.argon2_iterations = Some(1);
    settings.auth.signup_per_minute = Some(100_000);
    settings
}

/// GoChat all in one (every service) on an in-process bus, or on `bus`.
pub async fn start_all_in_one(dir: &Path, amqp_url: Option<&str>, bus: Option<Bus>) -> TestServer {
    let settings = TestServer::settings(dir, amqp_url);
    TestServer::start(settings, bus, |rt| gochat::app(rt, fast_settings()))
        .await
        .expect("server starts")
}

/// GoChat all in one behind a trusted reverse proxy (`GOCHAT_TRUST_PROXY`): requests from this
/// machine are the proxy's, so their `X-Forwarded-*` headers count.
pub async fn start_behind_proxy(dir: &Path) -> TestServer {
    let mut settings = TestServer::settings(dir, None);
    settings.trust_proxy = Some(true);
    TestServer::start(settings, None, |rt| gochat::app(rt, fast_settings()))
        .await
        .expect("server starts")
}

/// The text of the server's `/metrics`.
pub async fn metrics(server: &TestServer) -> String {
    let answer = reqwest::get(server.url("/metrics")).await.expect("/metrics answers");
    answer.text().await.expect("/metrics is text")
}

/// A counter or gauge of `/metrics`, summed over the series of `name` whose labels contain
/// `labels`.
pub async fn metric(server: &TestServer, name: &str, labels: &str) -> f64 {
    metrics(server)
        .await
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next())
        .map(|value| value.parse::<f64>().expect("a metric's value is a number"))
        .sum()
}

/// GoChat all in one on an in-process bus with these service settings.
pub async fn start_all_in_one_with(dir: &Path, services: gochat::Settings) -> TestServer {
    let settings = TestServer::settings(dir, None);
    TestServer::start(settings, None, |rt| gochat::app(rt, services))
        .await
        .expect("server starts")
}

/// A browser-like client: one session cookie, sends JSON.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
}

impl Client {
    pub fn new(server: &TestServer) -> Self {
        Self::for_base(server.url(""))
    }

    pub fn for_base(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::new(),
            cookie: None,
        }
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: HeaderMap,
    ) -> (u16, HeaderMap, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .headers(headers);
        if let Some(cookie) = &self.cookie {
            req = req.header(COOKIE, format!("auth={cookie}"));
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        if let Some(set) = headers.get(SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let value = set
                .split(';')
                .next()
                .and_then(|kv| kv.strip_prefix("auth="))
                .unwrap_or_default();
            self.cookie = (!value.is_empty()).then(|| value.to_owned());
        }
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, headers, body)
    }

    /// The status of `GET path`, or `None` when nothing answers.
    pub async fn get_status(&self, path: &str) -> Option<u16> {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    pub async fn get(&mut self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.request("GET", path, None, HeaderMap::new()).await;
        (status, body)
    }

    pub async fn post(&mut self, path: &str, body: Value) -> (u16, Value) {
        let (status, _, body) = self.request("POST", path, Some(body), HeaderMap::new()).await;
        (status, body)
    }

    /// Signs up `name` (email `<name>@example.org`, password `password-<name>`); returns the user id.
    pub async fn signup(&mut self, name: &str) -> String {
        let (status, body) = self
            .post("/api/auth/signup", json!({"email": format!("{name}@example.org"), "username": name, "password": format!("password-{name}")}))
            .await;
        assert_eq!(status, 201, "signup of {name}: {body}");
        body["user"]["id"].as_str().expect("user id").to_owned()
    }
}

/// A new user `name`, signed up on `server`: their id and their client.
pub async fn signed_up(server: &TestServer, name: &str) -> (String, Client) {
    let mut client = Client::new(server);
    let id = client.signup(name).await;
    (id, client)
}

/// `client`'s socket at `path` on `server`.
pub async fn socket(server: &TestServer, path: &str, client: &Client) -> Socket {
    connect_ws(&server.url(""), path, client.cookie.as_deref(), None)
        .await
        .expect("the socket opens")
}

/// Retries `check` until it returns `Some`, for effects that travel through the bus. Bounded:
/// fails the test after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// The usernames of a user-list response.
pub fn usernames(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_owned())
        .collect()
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the socket at `path` as a browser on the server's own origin would (`origin` overrides
/// it; an empty one sends none).
pub async fn connect_ws(
    base: &str,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let host = base.trim_start_matches("http://");
    let mut request = format!("ws://{host}{path}").into_client_request().expect("a valid URL");
    let origin = origin.unwrap_or(base);
    if !origin.is_empty() {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("origin header"));
    }
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", format!("auth={cookie}").parse().expect("cookie header"));
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

/// The next JSON frame of `type` on `socket` (any type when empty), skipping others; fails
/// after `timeout`.
pub async fn next_of(socket: &mut Socket, kind: &str, timeout: Duration) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    tokio::time::timeout(timeout, async {
        loop {
            match socket.next().await.expect("socket open").expect("frame") {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).expect("JSON frame");
                    if kind.is_empty() || frame["type"] == kind {
                        return frame;
                    }
                }
                Message::Close(frame) => panic!("closed while waiting for {kind}: {frame:?}"),
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} frame within {timeout:?}"))
}

/// How `socket` ends, skipping frames before it: its close frame's (code, reason), or `None`
/// when the connection ends without one; fails after `timeout`.
pub async fn closing(socket: &mut Socket, timeout: Duration) -> Option<(u16, String)> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    tokio::time::timeout(timeout, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not closed within {timeout:?}"))
}

/// Sends one JSON frame.
pub async fn send_frame(socket: &mut Socket, frame: Value) {
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(frame.to_string().into()))
        .await
        .expect("frame sent");
}

/// A variable `make test` exports for the RabbitMQ node it started.
pub fn broker_env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests through `make test`, which starts RabbitMQ"))
}

/// Runs `rabbitmqctl` against the test node.
pub fn rabbitmqctl(args: &[&str]) {
    let status = std::process::Command::new(broker_env("GOCHAT_TEST_RABBITMQCTL"))
        .args(["-n", &broker_env("GOCHAT_TEST_RABBITMQ_NODE")])
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("rabbitmqctl runs");
    assert!(status.success(), "rabbitmqctl {args:?} failed");
}

/// The URL of a fresh virtual host, so tests never see each other's queues; `None` (and the test
/// named as skipped) when no RabbitMQ node runs for the tests.
pub fn vhost_url() -> Option<String> {
    let base = gochat_kit::testing::rabbitmq_or_skip()?;
    let vhost = format!("t-{}", uuid::Uuid::new_v4().simple());
    rabbitmqctl(&["add_vhost", &vhost]);
    rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", ".*", ".*", ".*"]);
    let root = base.rsplit_once('/').expect("URL has a vhost part").0;
    Some(format!("{root}/{vhost}"))
}
