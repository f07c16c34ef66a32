//! Changing one's password (`POST /api/auth/password`) and setting a forgotten one with an
//! admin's reset link (`POST /api/auth/password-reset`), all in one process over the in-process
//! bus: either ends every other session of the account in every service by the time it is
//! answered, keeps the tab that asked signed in, and guessing through it is limited like
//! signing in.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, Socket, connect_ws, signed_up, socket, start_all_in_one, start_all_in_one_with};
use futures_util::StreamExt;
use gochat_kit::testing::TestServer;
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);
/// A route of each service that needs a session (chat has only its socket).
const ROUTES: [&str; 4] = [
    "/api/auth/currentuser",
    "/api/users",
    "/api/conversations",
    "/api/notifications",
];

fn change(current: &str, new: &str) -> Value {
    json!({"currentPassword": current, "newPassword": new})
}

async fn sign_in(server: &TestServer, name: &str, password: &str) -> (u16, Client, Value) {
    let mut client = Client::new(server);
    let (status, body) = client
        .post("/api/auth/signin", json!({"username": name, "password": password}))
        .await;
    (status, client, body)
}

/// Whether every service takes `client`'s session.
async fn accepted_everywhere(server: &TestServer, client: &mut Client) -> bool {
    for route in ROUTES {
        let (status, body) = client.get(route).await;
        // `currentuser` answers 200 either way, naming nobody for a refused session.
        if status != 200 || body.get("currentUser") == Some(&Value::Null) {
            return false;
        }
    }
    connect_ws(&server.url(""), "/ws/chat", client.cookie.as_deref(), None)
        .await
        .is_ok()
}

/// Every service refuses `client`'s session: 401 (or no current user) on each route, and no socket.
async fn refused_everywhere(server: &TestServer, client: &mut Client) {
    assert_eq!(
        client.get("/api/auth/currentuser").await.1,
        json!({"currentUser": null})
    );
    for route in &ROUTES[1..] {
        assert_eq!(client.get(route).await.0, 401, "{route}");
    }
    assert!(
        connect_ws(&server.url(""), "/ws/chat", client.cookie.as_deref(), None)
            .await
            .is_err(),
        "the chat socket is refused"
    );
}

/// The code `socket` is closed with.
async fn close_code(socket: &mut Socket) -> u16 {
    tokio::time::timeout(WAIT, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map_or(0, |f| u16::from(f.code)),
                Some(Ok(_)) => {}
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("the socket is closed")
}

#[tokio::test]
async fn a_change_ends_every_other_session_everywhere_at_once_and_keeps_this_tab_signed_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (ann_id, mut laptop) = signed_up(&server, "ann").await;
    let (status, mut phone, _) = sign_in(&server, "ann", "password-ann").await;
    assert_eq!(status, 200);
    let mut phone_socket = socket(&server, "/ws/notifications", &phone).await;
    let mut laptop_before = Client {
        cookie: laptop.cookie.clone(),
        ..Client::new(&server)
    };
    let (_, mut bob) = signed_up(&server, "bob").await;
    assert!(accepted_everywhere(&server, &mut phone).await);

    let (status, body) = laptop
        .post("/api/auth/password", change("password-ann", "correct horse battery"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], json!(ann_id));
    assert_eq!(body["user"]["username"], "ann");

    // By the time the change is answered, every service refuses the sessions from before it,
    // the answering tab's old cookie included, and the other tab's open socket is closed.
    refused_everywhere(&server, &mut phone).await;
    refused_everywhere(&server, &mut laptop_before).await;
    assert_eq!(close_code(&mut phone_socket).await, 4001);
    // The tab that asked got a new session that every service takes.
    assert_ne!(laptop.cookie, laptop_before.cookie);
    assert!(accepted_everywhere(&server, &mut laptop).await);
    // Nobody else's sessions ended.
    assert!(accepted_everywhere(&server, &mut bob).await);

    let (status, _, body) = sign_in(&server, "ann", "password-ann").await;
    assert_eq!((status, &body["error"]["code"]), (401, &json!("invalid_credentials")));
    let (status, mut again, _) = sign_in(&server, "ann", "correct horse battery").await;
    assert_eq!(status, 200);
    assert!(accepted_everywhere(&server, &mut again).await);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_refused_change_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (_, mut ann) = signed_up(&server, "ann").await;
    let (_, mut phone, _) = sign_in(&server, "ann", "password-ann").await;

    let (status, body) = ann
        .post("/api/auth/password", change("not-my-password", "a fine new one"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("invalid_credentials")),
        "{body}"
    );
    let too_long = "x".repeat(129);
    for bad in [
        change("password-ann", "short"),
        change("password-ann", &too_long),
        change("password-ann", ""),
        change("", "a fine new one"),
        change(&too_long, "a fine new one"),
        json!({"currentPassword": "password-ann"}),
        json!({"current_password": "password-ann", "new_password": "a fine new one"}),
        json!("password-ann"),
    ] {
        let (status, body) = ann.post("/api/auth/password", bad.clone()).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_input")),
            "{bad}: {body}"
        );
    }

    let (status, body) = Client::new(&server)
        .post("/api/auth/password", change("password-ann", "a fine new one"))
        .await;
    assert_eq!((status, &body["error"]["code"]), (401, &json!("unauthenticated")));
    let mut foreign = HeaderMap::new();
    foreign.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
    let (status, _, body) = ann
        .request(
            "POST",
            "/api/auth/password",
            Some(change("password-ann", "a fine new one")),
            foreign,
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));

    // Both sessions still work, and the password is still the old one.
    assert!(accepted_everywhere(&server, &mut ann).await);
    assert!(accepted_everywhere(&server, &mut phone).await);
    assert_eq!(sign_in(&server, "ann", "password-ann").await.0, 200);
    assert_eq!(sign_in(&server, "ann", "a fine new one").await.0, 401);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_current_passwords_pay_from_the_sign_in_budgets() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (_, mut ann) = signed_up(&server, "ann").await;

    // Five failures per account and address are free, as for signing in; the sixth guess waits.
    for _ in 0..5 {
        let (status, _) = ann
            .post("/api/auth/password", change("a-guess-at-it", "a fine new one"))
            .await;
        assert_eq!(status, 401);
    }
    let (status, headers, body) = ann
        .request(
            "POST",
            "/api/auth/password",
            Some(change("another-guess", "a fine new one")),
            HeaderMap::new(),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (429, &json!("rate_limited")));
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0);
    // The same budget as signing in to that account from this address: no fresh guesses there.
    let (status, _, _) = sign_in(&server, "ann", "yet-another-guess").await;
    assert_eq!(status, 429);
    // The session itself was never at stake.
    assert!(accepted_everywhere(&server, &mut ann).await);
    server.stop().await.unwrap();
}

/// Someone who knows the old password keeps signing in while the owner changes it: no session
/// they got may work after the change is answered. (Before the sign-in checked the account again
/// in its final write, 6 of 12 such trials left one or two working sessions; real argon2 costs
/// make the window wide enough to hit.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_with_the_old_password_racing_the_change_does_not_outlive_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gochat::Settings::default();
    settings.auth.signup_per_minute = Some(100_000);
    settings.auth.argon2_memory_kib = Some(65536);
    settings.auth.argon2_iterations = Some(4);
    let server = start_all_in_one_with(dir.path(), settings).await;
    let mut survivors_total = 0;
    for trial in 0..4 {
        let name = format!("ann{trial}");
        let (_, mut laptop) = signed_up(&server, &name).await;
        let old = format!("password-{name}");
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (stop, base, name, old) = (stop.clone(), server.url(""), name.clone(), old.clone());
            workers.push(tokio::spawn(async move {
                let mut cookies = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let mut c = Client::for_base(base.clone());
                    let (status, _) = c
                        .post("/api/auth/signin", json!({"username": name, "password": old}))
                        .await;
                    if status == 200 {
                        cookies.push(c.cookie.clone());
                    } else {
                        break; // the new password is in place (or rate limited)
                    }
                }
                cookies
            }));
        }
        tokio::time::sleep(Duration::from_millis(150 + 97 * trial as u64)).await;
        let (status, body) = laptop
            .post(
                "/api/auth/password",
                json!({"currentPassword": old, "newPassword": "a brand new one"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        stop.store(true, Ordering::SeqCst);
        let mut survivors = 0;
        for w in workers {
            for cookie in w.await.unwrap() {
                let mut c = Client {
                    cookie,
                    ..Client::for_base(server.url(""))
                };
                let (status, _) = c.get("/api/users").await;
                let (_, me) = c.get("/api/auth/currentuser").await;
                if status == 200 {
                    survivors += 1;
                    eprintln!("trial {trial}: a session signed in with the old password works after the change: {me}");
                }
            }
        }
        survivors_total += survivors;
    }
    assert_eq!(
        survivors_total, 0,
        "sessions signed in with the old password outlived the change"
    );
    server.stop().await.unwrap();
}

fn reset(code: &str, new: &str) -> Value {
    json!({"code": code, "newPassword": new})
}

/// A reset link's code for `user`, made by `admin`.
async fn reset_code(admin: &mut Client, user: &str) -> String {
    let (status, body) = admin
        .post(&format!("/api/admin/users/{user}/password-reset"), json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    body["reset"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_admins_reset_link_sets_the_password_once_ends_every_session_and_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (_, mut root) = signed_up(&server, "root").await;
    let (ann_id, mut laptop) = signed_up(&server, "ann").await;
    let mut laptop_socket = socket(&server, "/ws/chat", &laptop).await;

    let (status, body) = root
        .post(&format!("/api/admin/users/{ann_id}/password-reset"), json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    let code = body["reset"]["code"].as_str().unwrap().to_owned();
    let expires: chrono::DateTime<chrono::Utc> = body["reset"]["expiresAt"].as_str().unwrap().parse().unwrap();
    let hours = (expires - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "valid for a day: {hours} h");
    // Making the link changes nothing yet: ann may still remember her password.
    assert!(accepted_everywhere(&server, &mut laptop).await);
    assert_eq!(sign_in(&server, "ann", "password-ann").await.0, 200);

    let mut browser = Client::new(&server);
    let (status, body) = browser
        .post("/api/auth/password-reset", reset(&code, "a brand new secret"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], json!(ann_id));
    // The browser that used it is signed in; every session from before ended, everywhere.
    assert!(accepted_everywhere(&server, &mut browser).await);
    refused_everywhere(&server, &mut laptop).await;
    assert_eq!(close_code(&mut laptop_socket).await, 4001);
    assert!(accepted_everywhere(&server, &mut root).await, "nobody else's");
    assert_eq!(sign_in(&server, "ann", "password-ann").await.0, 401);
    assert_eq!(sign_in(&server, "ann", "a brand new secret").await.0, 200);

    // Once.
    let (status, body) = Client::new(&server)
        .post("/api/auth/password-reset", reset(&code, "someone elses idea"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_input")),
        "{body}"
    );
    assert_eq!(sign_in(&server, "ann", "a brand new secret").await.0, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn reset_links_are_an_admins_to_make_and_a_refused_reset_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (root_id, mut root) = signed_up(&server, "root").await;
    let (ann_id, mut ann) = signed_up(&server, "ann").await;
    let reset_of = |id: &str| format!("/api/admin/users/{id}/password-reset");

    let (status, body) = ann.post(&reset_of(&root_id), json!({})).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")), "a member");
    let (status, _) = Client::new(&server).post(&reset_of(&ann_id), json!({})).await;
    assert_eq!(status, 401);
    let (status, body) = root.post(&reset_of(&root_id), json!({})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_input")),
        "one's own"
    );
    for id in [uuid::Uuid::now_v7().to_string(), "nobody".to_owned()] {
        assert_eq!(root.post(&reset_of(&id), json!({})).await.0, 404, "{id}");
    }

    // A newer link replaces the older one.
    let first = reset_code(&mut root, &ann_id).await;
    let second = reset_code(&mut root, &ann_id).await;
    let too_long = "x".repeat(129);
    let mut foreign = HeaderMap::new();
    foreign.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
    let mut stranger = Client::new(&server);
    for bad in [
        reset(&first, "a fine new one"),
        reset("not-a-code-this-server-made", "a fine new one"),
        reset("", "a fine new one"),
        reset(&"c".repeat(65), "a fine new one"),
        reset(&second, "short"),
        reset(&second, &too_long),
        json!({"code": second}),
        json!({"code": second, "new_password": "a fine new one"}),
        json!({"code": 7, "newPassword": "a fine new one"}),
        json!(second),
    ] {
        let (status, body) = stranger.post("/api/auth/password-reset", bad.clone()).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_input")),
            "{bad}: {body}"
        );
        assert_eq!(stranger.cookie, None, "nobody signed in");
    }
    let (status, _, body) = stranger
        .request(
            "POST",
            "/api/auth/password-reset",
            Some(reset(&second, "a fine new one")),
            foreign,
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")), "{body}");

    // Disabling an account voids its link: it does not let anyone in once it is enabled again.
    let admin_route = |action: &str| format!("/api/admin/users/{ann_id}/{action}");
    assert_eq!(root.post(&admin_route("disable"), json!({})).await.0, 204);
    let (status, body) = stranger
        .post("/api/auth/password-reset", reset(&second, "a fine new one"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_input")),
        "{body}"
    );
    assert_eq!(root.post(&admin_route("enable"), json!({})).await.0, 204);
    let (status, _) = stranger
        .post("/api/auth/password-reset", reset(&second, "a fine new one"))
        .await;
    assert_eq!(status, 400, "still void once enabled again");
    let second = reset_code(&mut root, &ann_id).await;
    let (status, mut ann, _) = sign_in(&server, "ann", "password-ann").await;
    assert_eq!(status, 200, "the password is what it was");
    assert!(accepted_everywhere(&server, &mut ann).await);

    // Changing one's password voids the link: whoever set it knows it.
    let (status, _) = ann
        .post("/api/auth/password", change("password-ann", "ann changed it herself"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = stranger
        .post("/api/auth/password-reset", reset(&second, "a fine new one"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(sign_in(&server, "ann", "ann changed it herself").await.0, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_reset_codes_pay_from_the_addresss_sign_in_budget() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (_, mut root) = signed_up(&server, "root").await;
    let (ann_id, _) = signed_up(&server, "ann").await;
    let code = reset_code(&mut root, &ann_id).await;
    let mut guesser = Client::new(&server);
    // 20 failures a window per address by default, as for signing in.
    for i in 0..20 {
        let (status, _) = guesser
            .post(
                "/api/auth/password-reset",
                reset(&format!("guess-{i}"), "a fine new one"),
            )
            .await;
        assert_eq!(status, 400);
    }
    let (status, headers, body) = guesser
        .request(
            "POST",
            "/api/auth/password-reset",
            Some(reset(&code, "a fine new one")),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (429, &json!("rate_limited")),
        "even the right code waits"
    );
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(sign_in(&server, "ann", "password-ann").await.0, 429, "the same budget");
    server.stop().await.unwrap();
}
