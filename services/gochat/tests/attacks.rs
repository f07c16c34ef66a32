//! Cheap attacks on sign-in, sign-up and the data files, each as it was carried out against a
//! running `gochat serve`, and what the server does about it now.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, fast_settings};
use gochat_kit::testing::TestServer;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// GoChat behind a reverse proxy on this machine (loopback is trusted), so that each request
/// can come from the client address its `X-Forwarded-For` names.
async fn behind_proxy(dir: &Path, tune: impl FnOnce(&mut gochat::Settings)) -> TestServer {
    let mut settings = TestServer::settings(dir, None);
    settings.trusted_proxies = Some(vec!["127.0.0.1".parse().unwrap()]);
    let mut services = fast_settings();
    tune(&mut services);
    TestServer::start(settings, None, |rt| gochat::app(rt, services))
        .await
        .unwrap()
}

fn from(forwarded_for: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(forwarded_for).unwrap());
    headers
}

async fn sign_in(server: &TestServer, body: Value, forwarded_for: &str) -> (u16, HeaderMap, Value) {
    Client::new(server)
        .request("POST", "/api/auth/signin", Some(body), from(forwarded_for))
        .await
}

fn wrong(username: &str) -> Value {
    json!({"username": username, "password": "not-the-password"})
}

fn retry_after(headers: &HeaderMap) -> u64 {
    headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn parallel_wrong_sign_ins_are_counted_before_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    let server = behind_proxy(dir.path(), |_| {}).await;
    Client::new(&server).signup("alice").await;
    // 60 guesses at once from one address; 5 failures per account and address are free.
    let guesses: Vec<_> = (0..60)
        .map(|_| {
            let base = server.url("");
            tokio::spawn(async move {
                let mut client = Client::for_base(base);
                let (status, _, _) = client
                    .request("POST", "/api/auth/signin", Some(wrong("alice")), from("203.0.113.1"))
                    .await;
                status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let hashed = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(hashed + limited, 60, "{statuses:?}");
    assert!(hashed <= 5, "only the free attempts were checked, not {hashed}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn nobody_can_lock_someone_else_out_of_their_account() {
    let dir = tempfile::tempdir().unwrap();
    let server = behind_proxy(dir.path(), |_| {}).await;
    Client::new(&server).signup("bob").await;
    let mut last = (0, HeaderMap::new());
    for _ in 0..30 {
        let (status, headers, _) = sign_in(&server, wrong("bob"), "203.0.113.66").await;
        last = (status, headers);
    }
    assert_eq!(last.0, 429, "the attacker is slowed down");
    assert!(retry_after(&last.1) >= 1);

    // Bob, from his own address, signs in at once.
    let (status, _, body) = sign_in(
        &server,
        json!({"username": "bob", "password": "password-bob"}),
        "198.51.100.7",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_forged_x_forwarded_for_does_not_escape_the_address_budget() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_behind_proxy(dir.path()).await;
    // The client writes any address it likes; the proxy appends the one it saw (203.0.113.9).
    // 25 different unknown accounts, so only the address budget (20) can stop them.
    let mut statuses = Vec::new();
    for i in 0..25 {
        let forged = format!("198.18.{i}.1, 203.0.113.9");
        let (status, _, _) = sign_in(&server, wrong(&format!("nobody{i}")), &forged).await;
        statuses.push(status);
    }
    assert!(statuses[..20].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn oversize_sign_in_fields_are_refused_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = behind_proxy(dir.path(), |_| {}).await;
    Client::new(&server).signup("carol").await;
    let huge = "c".repeat(60_000);
    let cases = [
        json!({"username": huge, "password": "password-carol"}),
        json!({"email": format!("{huge}@example.org"), "password": "password-carol"}),
        json!({"username": "carol", "password": "p".repeat(129)}),
        json!({"username": "carol", "password": ""}),
        json!({"username": "", "password": "password-carol"}),
    ];
    for _ in 0..6 {
        for case in &cases {
            let (status, _, body) = sign_in(&server, case.clone(), "203.0.113.3").await;
            assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid_input")));
        }
    }
    // 30 refusals later, nothing was counted against the address or the account.
    let (status, _, body) = sign_in(
        &server,
        json!({"username": "carol", "password": "password-carol"}),
        "203.0.113.3",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_flood_of_sign_ins_is_turned_away_instead_of_queueing_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let server = behind_proxy(dir.path(), |s| {
        // Slow hashes and a short queue, so that the flood overflows it.
        s.auth.argon2_memory_kib = Some(8 * 1024);
        s.auth.argon2_iterations = Some(4);
        s.auth.argon2_queue = Some(1);
    })
    .await;
    Client::new(&server).signup("dora").await;
    // Junk sign-ins from many addresses at once.
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let base = server.url("");
            tokio::spawn(async move {
                Client::for_base(base)
                    .request(
                        "POST",
                        "/api/auth/signin",
                        Some(wrong(&format!("junk{i}"))),
                        from(&format!("198.51.100.{i}")),
                    )
                    .await
            })
        })
        .collect();
    let mut busy = 0;
    for attempt in flood {
        let (status, headers, body) = attempt.await.unwrap();
        match status {
            401 => {}
            429 => {
                assert_eq!(body["error"]["code"], "rate_limited");
                assert!(retry_after(&headers) >= 1);
                busy += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(busy > 0, "the queue overflowed and said so");
    // Once it drains, a real sign-in goes through.
    let (status, _, _) = sign_in(
        &server,
        json!({"username": "dora", "password": "password-dora"}),
        "192.0.2.1",
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn sign_up_is_limited_per_client_address() {
    let dir = tempfile::tempdir().unwrap();
    // The default limit: 10 a minute.
    let server = behind_proxy(dir.path(), |s| s.auth.signup_per_minute = None).await;
    let signup = |name: String, address: &'static str| {
        let base = server.url("");
        async move {
            let body = json!({"email": format!("{name}@example.org"), "username": name, "password": "password1"});
            Client::for_base(base)
                .request("POST", "/api/auth/signup", Some(body), from(address))
                .await
        }
    };
    for i in 0..10 {
        let (status, _, body) = signup(format!("user{i}"), "203.0.113.5").await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, headers, body) = signup("user10".into(), "203.0.113.5").await;
    assert_eq!((status, &body["error"]["code"]), (429, &json!("rate_limited")));
    assert!(retry_after(&headers) >= 1 && retry_after(&headers) <= 60);
    // Nothing was stored, and another address is not affected.
    let (status, _, body) = signup("user10".into(), "203.0.113.6").await;
    assert_eq!(status, 201, "{body}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_data_directory_and_every_database_file_are_the_owners_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = common::start_all_in_one(&data, None, None).await;
    let mut alice = Client::new(&server);
    alice.signup("alice").await;
    assert_eq!(alice.get("/api/users").await.0, 200);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        // Files 0600; directories (the attachments') 0700, like the data directory.
        let private = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), private, "{}", path.display());
        files.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    for expected in [
        "auth.db",
        "auth.db-wal",
        "auth.db-shm",
        "messages.db-wal",
        "attachments",
    ] {
        assert!(files.iter().any(|f| f == expected), "{expected} in {files:?}");
    }
    assert_eq!(mode(&data.join("attachments/tmp")), 0o700);
    server.stop().await.unwrap();
}
