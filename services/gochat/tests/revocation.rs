//! Sessions end everywhere over a real RabbitMQ, even for an instance that was cut off from the
//! broker when it happened, or that did not exist yet.
//!
//! Needs the private RabbitMQ node that `make test` (or `scripts/with-rabbitmq.sh`) starts.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, broker_env, connect_ws, eventually, rabbitmqctl, vhost_url};
use gochat_kit::testing::TestServer;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// A RabbitMQ account of its own for one instance, so the test can cut that instance off.
struct BrokerAccount {
    user: String,
    vhost: String,
    url: String,
}

impl BrokerAccount {
    fn new(vhost_url: &str) -> Self {
        let user = format!("u-{}", uuid::Uuid::new_v4().simple());
        let (root, vhost) = vhost_url.rsplit_once('/').unwrap();
        rabbitmqctl(&["add_user", &user, "secret"]);
        let account = Self {
            url: format!("{}/{vhost}", root.replace("guest:guest", &format!("{user}:secret"))),
            vhost: vhost.to_owned(),
            user,
        };
        account.allow();
        account
    }

    fn allow(&self) {
        rabbitmqctl(&["set_permissions", "-p", &self.vhost, &self.user, ".*", ".*", ".*"]);
    }

    /// Takes the account's permissions away and closes its connections: the instance loses its
    /// exclusive queues and cannot come back until [`Self::allow`].
    fn cut_off(&self) {
        rabbitmqctl(&["clear_permissions", "-p", &self.vhost, &self.user]);
        let listed = std::process::Command::new(broker_env("GOCHAT_TEST_RABBITMQCTL"))
            .args(["-n", &broker_env("GOCHAT_TEST_RABBITMQ_NODE")])
            .args(["list_connections", "-q", "--no-table-headers", "user", "pid"])
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&listed.stdout);
        for line in listed.lines() {
            if let Some((user, pid)) = line.split_once('\t')
                && user == self.user
            {
                rabbitmqctl(&["close_connection", pid.trim(), "cut off by the test"]);
            }
        }
    }
}

async fn start<F, Fut>(dir: &Path, url: &str, instance: &str, build: F) -> TestServer
where
    F: FnOnce(gochat_kit::Runtime) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<axum::Router>>,
{
    let mut settings = TestServer::settings(dir, Some(url));
    settings.instance_id = Some(instance.into());
    let server = TestServer::start(settings, None, build).await.unwrap();
    ready(&server, 200).await;
    server
}

async fn ready(server: &TestServer, status: u16) {
    eventually(WAIT, || async {
        (Client::new(server).get("/readyz").await.0 == status).then_some(())
    })
    .await;
}

async fn auth(dir: &Path, url: &str) -> TestServer {
    let settings = common::fast_settings().auth;
    start(dir, url, "auth-1", |rt| gochat_auth::build(rt, settings)).await
}

async fn start_chat(dir: &Path, url: &str, instance: &str) -> TestServer {
    start(dir, url, instance, |rt| gochat_chat::build(rt, Default::default())).await
}

/// Whether `chat` lets `cookie` open a socket (an upgrade is refused with 401 otherwise).
async fn chat_accepts(chat: &TestServer, cookie: &Option<String>) -> bool {
    connect_ws(&chat.url(""), "/ws/chat", cookie.as_deref(), None)
        .await
        .is_ok()
}

async fn until_chat_refuses(chat: &TestServer, cookie: &Option<String>) {
    eventually(WAIT, || async { (!chat_accepts(chat, cookie).await).then_some(()) }).await;
}

#[tokio::test]
async fn a_sign_out_while_an_instance_is_cut_off_reaches_it_when_it_is_back_and_any_new_one() {
    let Some(url) = vhost_url() else { return };
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let auth = auth(dirs[0].path(), &url).await;
    let chat_account = BrokerAccount::new(&url);
    let chat = start_chat(dirs[1].path(), &chat_account.url, "chat-a").await;

    let mut alice = Client::new(&auth);
    alice.signup("alice").await;
    let token = alice.cookie.clone();
    assert!(chat_accepts(&chat, &token).await);

    chat_account.cut_off();
    ready(&chat, 503).await;
    assert_eq!(alice.post("/api/auth/signout", json!({})).await.0, 204);
    // The event went by while chat had no queue: it still takes the token…
    assert!(chat_accepts(&chat, &token).await);

    // …until it is back on the broker and has caught up with the ledger.
    chat_account.allow();
    ready(&chat, 200).await;
    until_chat_refuses(&chat, &token).await;

    // An instance that starts only now (empty database) refuses it too.
    let newcomer = start_chat(dirs[2].path(), &url, "chat-new").await;
    until_chat_refuses(&newcomer, &token).await;
    for server in [auth, chat, newcomer] {
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_in_every_service_over_rabbitmq() {
    let Some(url) = vhost_url() else { return };
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let auth = auth(dirs[0].path(), &url).await;
    let users = start(dirs[1].path(), &url, "users-1", |rt| {
        gochat_users::build(rt, Default::default())
    })
    .await;
    let chat_account = BrokerAccount::new(&url);
    let chat = start_chat(dirs[2].path(), &chat_account.url, "chat-a").await;

    let mut admin = Client::new(&auth);
    admin.signup("ada").await;
    let mut bob = Client::new(&auth);
    let bob_id = bob.signup("bob").await;
    let cookie = bob.cookie.clone();
    eventually(WAIT, || {
        let cookie = cookie.clone();
        let users = &users;
        async move {
            let mut client = Client {
                cookie,
                ..Client::new(users)
            };
            (client.get("/api/users").await.0 == 200).then_some(())
        }
    })
    .await;
    assert!(chat_accepts(&chat, &cookie).await);

    // Chat is away when bob is disabled.
    chat_account.cut_off();
    ready(&chat, 503).await;
    let (status, _) = admin
        .post(&format!("/api/admin/users/{bob_id}/disable"), json!({}))
        .await;
    assert_eq!(status, 204);
    eventually(WAIT, || {
        let cookie = cookie.clone();
        let users = &users;
        async move {
            let mut client = Client {
                cookie,
                ..Client::new(users)
            };
            (client.get("/api/users").await.0 == 401).then_some(())
        }
    })
    .await;
    let (status, body) = Client::new(&auth)
        .post(
            "/api/auth/signin",
            json!({"username": "bob", "password": "password-bob"}),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));

    chat_account.allow();
    until_chat_refuses(&chat, &cookie).await;
    for server in [auth, users, chat] {
        server.stop().await.unwrap();
    }
}

/// What the users service answers `cookie`'s `GET /api/users`.
async fn users_status(users: &TestServer, cookie: &Option<String>) -> u16 {
    let mut client = Client {
        cookie: cookie.clone(),
        ..Client::new(users)
    };
    client.get("/api/users").await.0
}

#[tokio::test]
async fn a_password_change_ends_the_accounts_other_sessions_in_every_service_over_rabbitmq() {
    let Some(url) = vhost_url() else { return };
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let auth = auth(dirs[0].path(), &url).await;
    let users = start(dirs[1].path(), &url, "users-1", |rt| {
        gochat_users::build(rt, Default::default())
    })
    .await;
    let chat = start_chat(dirs[2].path(), &url, "chat-a").await;

    let mut laptop = Client::new(&auth);
    laptop.signup("carol").await;
    let mut phone = Client::new(&auth);
    let (status, _) = phone
        .post(
            "/api/auth/signin",
            json!({"username": "carol", "password": "password-carol"}),
        )
        .await;
    assert_eq!(status, 200);
    let old = phone.cookie.clone();
    eventually(WAIT, || async {
        (users_status(&users, &old).await == 200).then_some(())
    })
    .await;
    assert!(chat_accepts(&chat, &old).await);

    let (status, body) = laptop
        .post(
            "/api/auth/password",
            json!({"currentPassword": "password-carol", "newPassword": "a new password"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually(WAIT, || async {
        (users_status(&users, &old).await == 401).then_some(())
    })
    .await;
    until_chat_refuses(&chat, &old).await;
    // The session the change gave the tab that asked is taken everywhere.
    assert_ne!(laptop.cookie, old);
    assert_eq!(users_status(&users, &laptop.cookie).await, 200);
    assert!(chat_accepts(&chat, &laptop.cookie).await);
    for server in [auth, users, chat] {
        server.stop().await.unwrap();
    }
}
