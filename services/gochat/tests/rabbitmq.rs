//! The services as separate processes' worth of runtimes over a real RabbitMQ: registration and
//! revocation through events, a broker that comes up late, a broker restart mid-flight, and
//! events the broker delivers more than once.
//!
//! `make test` starts a private RabbitMQ node and exports GOCHAT_TEST_AMQP_URL,
//! GOCHAT_TEST_RABBITMQ_NODE and GOCHAT_TEST_RABBITMQCTL. Each test gets its own virtual host;
//! the tests run one at a time because some of them stop the broker. Without that node (plain
//! `cargo test`) each test says it is skipped and passes.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, eventually, rabbitmqctl, usernames, vhost_url};
use gochat_kit::testing::TestServer;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tokio::sync::Mutex;

const WAIT: Duration = Duration::from_secs(30);
static BROKER: Mutex<()> = Mutex::const_new(());

async fn start_auth(dir: &Path, url: &str) -> TestServer {
    let settings = TestServer::settings(dir, Some(url));
    let auth = common::fast_settings().auth;
    TestServer::start(settings, None, |rt| gochat_auth::build(rt, auth))
        .await
        .expect("auth starts")
}

async fn start_users(dir: &Path, url: &str) -> TestServer {
    let settings = TestServer::settings(dir, Some(url));
    TestServer::start(settings, None, |rt| gochat_users::build(rt, Default::default()))
        .await
        .expect("users starts")
}

/// Lists users through the users service with `cookie` until `want` is what it shows.
async fn wait_for_directory(users: &TestServer, cookie: &Option<String>, want: &[&str]) {
    eventually(WAIT, || {
        let mut client = Client {
            cookie: cookie.clone(),
            ..Client::new(users)
        };
        async move { (usernames(&client.get("/api/users").await.1) == want).then_some(()) }
    })
    .await;
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("database opens");
    conn.query_row(sql, [], |r| r.get(0)).expect("query runs")
}

#[tokio::test]
async fn separate_services_register_and_revoke_through_rabbitmq() {
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    let (auth_dir, users_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let auth = start_auth(auth_dir.path(), &url).await;
    let users = start_users(users_dir.path(), &url).await;
    eventually(WAIT, || async {
        (Client::new(&auth).get("/readyz").await.0 == 200).then_some(())
    })
    .await;

    let mut alice = Client::new(&auth);
    alice.signup("alice").await;
    wait_for_directory(&users, &alice.cookie, &["alice"]).await;

    // Sign-out at auth revokes the token at users, through user.signed_out.
    let token = alice.cookie.clone();
    assert_eq!(alice.post("/api/auth/signout", json!({})).await.0, 204);
    eventually(WAIT, || {
        let mut replay = Client {
            cookie: token.clone(),
            ..Client::new(&users)
        };
        async move { (replay.get("/api/users").await.0 == 401).then_some(()) }
    })
    .await;
    auth.stop().await.unwrap();
    users.stop().await.unwrap();
}

#[tokio::test]
async fn services_started_before_the_broker_serve_and_catch_up_when_it_comes() {
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    rabbitmqctl(&["stop_app"]);
    let (auth_dir, users_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let auth = start_auth(auth_dir.path(), &url).await;
    let users = start_users(users_dir.path(), &url).await;

    let (status, body) = Client::new(&users).get("/readyz").await;
    assert_eq!(status, 503, "not ready without the broker: {body}");
    let mut bob = Client::new(&auth);
    bob.signup("bob").await; // accepted: the event waits in auth's outbox

    rabbitmqctl(&["start_app"]);
    wait_for_directory(&users, &bob.cookie, &["bob"]).await;
    eventually(WAIT, || async {
        (Client::new(&users).get("/readyz").await.0 == 200).then_some(())
    })
    .await;
    auth.stop().await.unwrap();
    users.stop().await.unwrap();
}

#[tokio::test]
async fn a_broker_restart_between_signup_and_delivery_loses_nothing() {
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    let (auth_dir, users_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let auth = start_auth(auth_dir.path(), &url).await;
    eventually(WAIT, || async {
        (Client::new(&auth).get("/readyz").await.0 == 200).then_some(())
    })
    .await;
    let mut carol = Client::new(&auth);
    carol.signup("carol").await;
    // Confirmed by the broker: the outbox is empty, the event sits in the durable queue.
    let auth_db = auth_dir.path().join("auth.db");
    eventually(WAIT, || async {
        (count(&auth_db, "SELECT count(*) FROM outbox") == 0).then_some(())
    })
    .await;

    rabbitmqctl(&["stop_app"]);
    rabbitmqctl(&["start_app"]);

    let users = start_users(users_dir.path(), &url).await;
    wait_for_directory(&users, &carol.cookie, &["carol"]).await;
    auth.stop().await.unwrap();
    users.stop().await.unwrap();
}

/// Publishes `event` as a service would (persistent, routed by its type), `times` times with
/// the same id: what a consumer sees when the broker redelivers.
async fn deliver<E: gochat_proto::events::EventData>(channel: &lapin::Channel, event: &E, times: usize) -> Vec<u8> {
    let payload = gochat_proto::events::Envelope::new(event).unwrap().to_json().unwrap();
    redeliver(channel, E::KIND, &payload, times).await;
    payload
}

async fn redeliver(channel: &lapin::Channel, kind: gochat_proto::events::EventKind, payload: &[u8], times: usize) {
    for _ in 0..times {
        channel
            .basic_publish(
                kind.exchange().name().into(),
                kind.routing_key().into(),
                Default::default(),
                payload,
                lapin::BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_edit_or_reaction_the_broker_delivers_twice_is_applied_once() {
    use gochat_proto::events::{MessageEdited, MessageReacted, MessageSent};
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    let (auth_dir, messages_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let auth = start_auth(auth_dir.path(), &url).await;
    let settings = TestServer::settings(messages_dir.path(), Some(&url));
    let messages = TestServer::start(settings, None, |rt| gochat_messages::build(rt, Default::default()))
        .await
        .unwrap();
    let mut alice = Client::new(&auth);
    let alice_id: gochat_proto::ids::UserId = alice.signup("alice").await.parse().unwrap();
    let bob_id = Client::new(&auth).signup("bob").await;
    // The messages service knows both once it opens their conversation.
    let cookie = alice.cookie.clone();
    let conversation: gochat_proto::ids::ConversationId = eventually(WAIT, || {
        let mut alice = Client {
            cookie: cookie.clone(),
            ..Client::new(&messages)
        };
        let bob_id = bob_id.clone();
        async move {
            let (status, body) = alice.post("/api/conversations", json!({"peerId": bob_id})).await;
            (status / 100 == 2).then(|| body["conversation"]["id"].as_str().unwrap().parse().unwrap())
        }
    })
    .await;
    let mut reader = Client {
        cookie,
        ..Client::new(&messages)
    };
    let history = format!("/api/conversations/{conversation}/messages");

    let conn = lapin::Connection::connect(&url, lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let now = chrono::Utc::now();
    let sent = MessageSent {
        sender_id: alice_id,
        sender_username: "alice".into(),
        client_id: gochat_proto::ids::ClientId::new(),
        to: None,
        conversation_id: Some(conversation),
        body: "v0".into(),
        reply_to_seq: None,
        attachment_ids: Vec::new(),
        sent_at: now,
        origin: None,
    };
    deliver(&channel, &sent, 1).await;
    let react = |emoji: &str, on| MessageReacted {
        conversation_id: conversation,
        seq: 1,
        user_id: alice_id,
        emoji: emoji.into(),
        on,
        at: now,
        origin: None,
    };
    let edit = |body: &str| MessageEdited {
        conversation_id: conversation,
        seq: 1,
        user_id: alice_id,
        body: body.into(),
        at: now,
        origin: None,
    };
    // Each of these, applied again where it is redelivered below, would undo what followed it.
    let thumbs_up = deliver(&channel, &react("👍", true), 1).await;
    deliver(&channel, &react("👍", false), 1).await;
    let first_edit = deliver(&channel, &edit("v1"), 1).await;
    deliver(&channel, &edit("v2"), 1).await;
    redeliver(&channel, gochat_proto::events::EventKind::MessageReacted, &thumbs_up, 2).await;
    redeliver(&channel, gochat_proto::events::EventKind::MessageEdited, &first_edit, 2).await;
    // The last event in the queue: once its effect shows, everything before it was applied.
    deliver(&channel, &react("🎉", true), 1).await;

    let message = eventually(WAIT, || {
        let mut reader = Client {
            cookie: reader.cookie.clone(),
            ..Client::new(&messages)
        };
        let history = history.clone();
        async move {
            let (_, page) = reader.get(&history).await;
            let message = page["messages"].get(0)?.clone();
            let marked = message["reactions"].as_array()?.iter().any(|r| r["emoji"] == "🎉");
            marked.then_some(message)
        }
    })
    .await;
    assert_eq!(message["reactions"], json!([{"emoji": "🎉", "userIds": [alice_id]}]));
    assert_eq!(message["body"], "v2");
    // Four changes before the marker and the marker itself: none counted twice.
    let (_, list) = reader.get("/api/conversations").await;
    assert_eq!(list["conversations"][0]["lastChange"], 5, "{list}");
    auth.stop().await.unwrap();
    messages.stop().await.unwrap();
}

/// Readiness is what a load balancer routes by: a service whose consumers are not all consuming
/// (a chat instance whose fan-out queue is not bound yet would have its sockets miss pushes) is
/// not ready, even with its connection up.
#[tokio::test]
async fn a_service_is_ready_only_once_every_consumer_consumes() {
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    let vhost = url.rsplit_once('/').unwrap().1.to_owned();
    let ready = |server: &TestServer| {
        let url = server.url("/readyz");
        async move {
            let response = reqwest::get(&url).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    // The shared topology is declared once, by an account that may; then the account may
    // configure nothing: a new instance connects (the topology is there) but cannot declare
    // its own instance queue, so that consumer never starts.
    let dir = tempfile::tempdir().unwrap();
    let users = start_users(dir.path(), &url).await;
    eventually(WAIT, || async { (ready(&users).await.0 == 200).then_some(()) }).await;
    users.stop().await.unwrap();
    rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", "^$", ".*", ".*"]);
    let dir = tempfile::tempdir().unwrap();
    let users = start_users(dir.path(), &url).await;
    let body = eventually(WAIT, || async {
        let (status, body) = ready(&users).await;
        (status == 503 && body.contains("not every consumer is consuming")).then_some(body)
    })
    .await;
    assert!(!body.contains("not connected"), "connected, but not consuming: {body}");

    rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", ".*", ".*", ".*"]);
    eventually(WAIT, || async { (ready(&users).await.0 == 200).then_some(()) }).await;
    users.stop().await.unwrap();
}
