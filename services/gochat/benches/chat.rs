//! Measures GoChat as a user feels it and as an operator pays for it, against a real
//! `gochat serve` process (release build) on loopback:
//! - sign-in latency (the argon2id cost at the configured parameters),
//! - direct-message latency, sender's send → recipient's receive, p50/p99/max,
//! - server CPU per message (from /proc, so the client's own work is not counted),
//! - resident memory per idle WebSocket.
//!
//! `make bench` runs it twice: over the in-process bus, and over RabbitMQ
//! (GOCHAT_BENCH_AMQP_URL). Numbers are printed, never asserted: machines are shared and noisy.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const MESSAGES: usize = 2000;
const WARMUP: usize = 200;
const IDLE_SOCKETS: usize = 2000;

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(amqp: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = std::env::var("GOCHAT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_gochat").to_owned());
    let mut cmd = Command::new(binary);
    cmd.arg("serve")
        .env("GOCHAT_LISTEN", format!("127.0.0.1:{port}"))
        .env("GOCHAT_DATA_DIR", dir.path())
        .env("GOCHAT_CLIENT_DIR", dir.path().join("no-client"))
        .env("GOCHAT_LOG", "error")
        .env_remove("GOCHAT_AMQP_URL");
    if let Some(url) = amqp {
        cmd.env("GOCHAT_AMQP_URL", url);
    }
    let child = cmd.spawn().unwrap();
    Server {
        child,
        base: format!("127.0.0.1:{port}"),
        _dir: dir,
    }
}

async fn ready(http: &reqwest::Client, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("http://{}/readyz", server.base)).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server not ready");
}

async fn signup(http: &reqwest::Client, server: &Server, name: &str) -> (String, String) {
    let body =
        json!({"email": format!("{name}@example.org"), "username": name, "password": format!("password-{name}")});
    let r = http
        .post(format!("http://{}/api/auth/signup", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: Value = r.json().await.unwrap();
    (body["user"]["id"].as_str().unwrap().to_owned(), cookie)
}

async fn connect(server: &Server, path: &str, cookie: &str) -> Socket {
    let mut req = format!("ws://{}{path}", server.base).into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", format!("http://{}", server.base).parse().unwrap());
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

async fn next_message(socket: &mut Socket) -> Value {
    loop {
        if let Message::Text(t) = socket.next().await.unwrap().unwrap() {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "message" {
                return v;
            }
        }
    }
}

/// User + system CPU time of a process, from /proc (clock ticks of 10 ms).
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(mode: &str, amqp: Option<&str>) {
    let server = start(amqp);
    let pid = server.child.id();
    let http = reqwest::Client::new();
    ready(&http, &server).await;
    let (_, alice) = signup(&http, &server, "alice").await;
    let (bob_id, bob) = signup(&http, &server, "bob").await;

    let mut signins = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let r = http
            .post(format!("http://{}/api/auth/signin", server.base))
            .json(&json!({"username": "bob", "password": "password-bob"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        signins.push(t.elapsed());
    }
    signins.sort();

    let mut a = connect(&server, "/ws/chat", &alice).await;
    let mut b = connect(&server, "/ws/chat", &bob).await;
    let mut latencies = Vec::with_capacity(MESSAGES);
    let mut cpu_start = cpu(pid);
    for i in 0..WARMUP + MESSAGES {
        if i == WARMUP {
            cpu_start = cpu(pid);
        }
        let frame =
            json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "to": bob_id, "body": format!("message {i}")});
        let t = Instant::now();
        a.send(Message::Text(frame.to_string().into())).await.unwrap();
        next_message(&mut b).await;
        if i >= WARMUP {
            latencies.push(t.elapsed());
        }
        // Drain alice's accepted + echo so her socket never backs up.
        next_message(&mut a).await;
    }
    let cpu_per_message = (cpu(pid) - cpu_start) / MESSAGES as u32;
    latencies.sort();

    let before = rss_kib(pid);
    let mut idle = Vec::with_capacity(IDLE_SOCKETS);
    for _ in 0..IDLE_SOCKETS {
        idle.push(connect(&server, "/ws/chat", &alice).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    drop(idle);

    println!("== {mode} ==");
    println!(
        "sign-in (argon2id m=19456 KiB, t=2): p50 {:.1} ms, max {:.1} ms",
        percentile(&signins, 0.5).as_secs_f64() * 1e3,
        signins.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "direct message send→receive over {MESSAGES}: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "server CPU per message (store + both sockets + receipts): {:.3} ms",
        cpu_per_message.as_secs_f64() * 1e3
    );
    println!(
        "idle sockets: {IDLE_SOCKETS} add {} KiB RSS = {:.1} KiB per socket (server RSS {} → {} KiB)",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / IDLE_SOCKETS as f64,
        before,
        after
    );
}

#[tokio::main]
async fn main() {
    run("all in one, in-process bus", None).await;
    if let Ok(url) = std::env::var("GOCHAT_BENCH_AMQP_URL") {
        run("all in one, over RabbitMQ", Some(&url)).await;
    }
}
