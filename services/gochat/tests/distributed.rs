//! The services spread out over a real RabbitMQ: two chat instances, the notifications store
//! (with a gateway of its own) and a second notifications gateway, the messages service as its
//! own process, killed with SIGKILL in the middle of a burst.
//!
//! Needs the private RabbitMQ node that `make test` starts (GOCHAT_TEST_AMQP_URL, …).

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, Socket, connect_ws, eventually, next_of, send_frame, vhost_url};
use gochat_kit::testing::{TEST_JWT_KEY, TestServer};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// One service of GoChat in this process, over RabbitMQ, as instance `instance`.
async fn service<F, Fut>(dir: &Path, url: &str, instance: &str, build: F) -> TestServer
where
    F: FnOnce(gochat_kit::Runtime) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<axum::Router>>,
{
    let mut settings = TestServer::settings(dir, Some(url));
    settings.instance_id = Some(instance.into());
    let server = TestServer::start(settings, None, build).await.unwrap();
    eventually(WAIT, || async {
        (Client::new(&server).get("/readyz").await.0 == 200).then_some(())
    })
    .await;
    server
}

/// The messages service as its own process (`gochat messages`), so it can be killed for real.
struct MessagesProcess {
    child: Child,
    base: String,
}

impl MessagesProcess {
    async fn start(dir: &Path, url: &str, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_gochat"))
            .arg("messages")
            .env("GOCHAT_AMQP_URL", url)
            .env("GOCHAT_JWT_KEY", TEST_JWT_KEY)
            .env("GOCHAT_DATA_DIR", dir)
            .env("GOCHAT_LISTEN", format!("127.0.0.1:{port}"))
            .env("GOCHAT_LOG", "warn")
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        eventually(WAIT, || {
            let base = base.clone();
            async move { (Client::for_base(base).get_status("/readyz").await == Some(200)).then_some(()) }
        })
        .await;
        Self { child, base }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL: no drain, no goodbye
        self.child.wait().unwrap();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn fast_auth() -> gochat_auth::Settings {
    common::fast_settings().auth
}

async fn chat_socket(server: &TestServer, client: &Client) -> Socket {
    connect_ws(&server.url(""), "/ws/chat", client.cookie.as_deref(), None)
        .await
        .unwrap()
}

#[tokio::test]
async fn users_on_different_instances_chat_get_receipts_and_notifications_and_a_killed_messages_service_loses_nothing()
{
    let Some(url) = vhost_url() else { return };
    let dirs: Vec<_> = (0..7).map(|_| tempfile::tempdir().unwrap()).collect();
    let auth = service(dirs[0].path(), &url, "auth-1", |rt| gochat_auth::build(rt, fast_auth())).await;
    let users = service(dirs[1].path(), &url, "users-1", |rt| {
        gochat_users::build(rt, Default::default())
    })
    .await;
    let chat_a = service(dirs[2].path(), &url, "chat-a", |rt| {
        gochat_chat::build(rt, Default::default())
    })
    .await;
    let chat_b = service(dirs[3].path(), &url, "chat-b", |rt| {
        gochat_chat::build(rt, Default::default())
    })
    .await;
    // The store with its own gateway, and a gateway alone.
    let notes_a = service(dirs[4].path(), &url, "notifications-a", |rt| {
        gochat_notifications::build(rt, Default::default())
    })
    .await;
    let notes_b = service(dirs[6].path(), &url, "notifications-b", |rt| {
        gochat_notifications::build(
            rt,
            gochat_notifications::ServiceSettings {
                role: Some(gochat_notifications::Role::Gateway),
                ..Default::default()
            },
        )
    })
    .await;
    let port = free_port();
    let messages = MessagesProcess::start(dirs[5].path(), &url, port).await;

    let mut alice = Client::new(&auth);
    alice.signup("alice").await;
    let mut bob = Client::new(&auth);
    let bob_id = bob.signup("bob").await;
    // Both registrations have reached the messages service once bob is listed by users; the
    // messages service consumes the same events, so give it the same chance: wait for the
    // conversation to be creatable.
    eventually(WAIT, || {
        let mut c = Client {
            cookie: alice.cookie.clone(),
            ..Client::for_base(messages.base.clone())
        };
        let bob_id = bob_id.clone();
        async move { (c.post("/api/conversations", json!({"peerId": bob_id})).await.0 / 100 == 2).then_some(()) }
    })
    .await;

    let mut alice_tab = chat_socket(&chat_a, &alice).await; // instance A
    let mut bob_tab = chat_socket(&chat_b, &bob).await; // instance B
    let mut alice_notes = connect_ws(&notes_a.url(""), "/ws/notifications", alice.cookie.as_deref(), None)
        .await
        .unwrap();
    let mut bob_notes = connect_ws(&notes_b.url(""), "/ws/notifications", bob.cookie.as_deref(), None)
        .await
        .unwrap();

    // A burst from alice; the messages service is killed as soon as storing is under way, and
    // the second half is accepted while it is down.
    const BURST: usize = 60;
    let send =
        |i: usize| json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "to": bob_id, "body": format!("m{i}")});
    for i in 1..=BURST / 2 {
        send_frame(&mut alice_tab, send(i)).await;
    }
    let _ = next_of(&mut bob_tab, "message", WAIT).await;
    messages.kill();
    for i in BURST / 2 + 1..=BURST {
        send_frame(&mut alice_tab, send(i)).await;
    }
    let mut accepted = 0;
    while accepted < BURST {
        if next_of(&mut alice_tab, "", WAIT).await["type"] == "accepted" {
            accepted += 1;
        }
    }
    let messages = MessagesProcess::start(dirs[5].path(), &url, port).await;

    // Bob, on the other instance, gets every message; the store has each exactly once, in order.
    let (_, list) = Client {
        cookie: bob.cookie.clone(),
        ..Client::for_base(messages.base.clone())
    }
    .get("/api/conversations")
    .await;
    let conversation = list["conversations"][0]["id"].as_str().unwrap().to_owned();
    let reader = Client {
        cookie: bob.cookie.clone(),
        ..Client::for_base(messages.base.clone())
    };
    let stored: Vec<Value> = eventually(WAIT, || {
        let mut reader = Client {
            cookie: reader.cookie.clone(),
            ..Client::for_base(reader.base.clone())
        };
        let path = format!("/api/conversations/{conversation}/messages?after=0&limit=100");
        async move {
            let (_, page) = reader.get(&path).await;
            let messages = page["messages"].as_array()?.clone();
            (messages.len() >= BURST).then_some(messages)
        }
    })
    .await;
    let bodies: Vec<&str> = stored.iter().map(|m| m["body"].as_str().unwrap()).collect();
    let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        bodies,
        (1..=BURST).map(|i| format!("m{i}")).collect::<Vec<_>>(),
        "every accepted message once, in order"
    );
    assert_eq!(seqs, (1..=BURST as i64).collect::<Vec<_>>());

    // Receipts cross instances: bob reads on B, alice sees it on A.
    send_frame(
        &mut bob_tab,
        json!({"type": "read", "conversationId": conversation, "seq": BURST}),
    )
    .await;
    loop {
        let receipt = next_of(&mut alice_tab, "receipt", WAIT).await;
        if receipt["userId"] == json!(bob_id) && receipt["readSeq"] == BURST {
            break;
        }
    }
    // Notifications reach each user's socket on the notifications instance they are on.
    let note = next_of(&mut bob_notes, "notification", WAIT).await;
    assert_eq!(note["notification"]["from"]["username"], "alice");
    send_frame(&mut bob_tab, json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "conversationId": conversation, "body": "got them all"})).await;
    let note = next_of(&mut alice_notes, "notification", WAIT).await;
    assert_eq!(
        (
            &note["notification"]["from"]["username"],
            &note["notification"]["preview"]
        ),
        (&json!("bob"), &json!("got them all"))
    );

    messages.kill();
    for server in [auth, users, chat_a, chat_b, notes_a, notes_b] {
        server.stop().await.unwrap();
    }
}
