//! The services as separate processes' worth of runtimes over a real RabbitMQ: registration and
//! revocation through events, a broker that comes up late, a broker restart mid-flight.
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
async fn a_broker_restart_between_signup_and_delivery_loses_nothing_and_applies_nothing_twice() {
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

    // Deliver the very same event again, as a broker does after a lost ack.
    let conn = lapin::Connection::connect(&url, lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let users_db = users_dir.path().join("users.db");
    let applied_before = count(&users_db, "SELECT count(*) FROM inbox");
    let envelope = gochat_proto::events::Envelope::new(&gochat_proto::events::UserRegistered {
        user_id: gochat_proto::ids::UserId::new(),
        username: "carol-duplicate-probe".into(),
        registered_at: chrono::Utc::now(),
    })
    .unwrap();
    let payload = envelope.to_json().unwrap();
    for body in [payload.clone(), payload] {
        channel
            .basic_publish(
                "UserEventsExchange".into(),
                "user.registered".into(),
                Default::default(),
                &body,
                lapin::BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    wait_for_directory(&users, &carol.cookie, &["carol", "carol-duplicate-probe"]).await;
    let applied_after = count(&users_db, "SELECT count(*) FROM inbox");
    assert_eq!(applied_after, applied_before + 1, "the duplicate was applied once");

    // Restarting users redelivers nothing that changes the directory.
    users.stop().await.unwrap();
    let users = start_users(users_dir.path(), &url).await;
    wait_for_directory(&users, &carol.cookie, &["carol", "carol-duplicate-probe"]).await;
    assert_eq!(
        count(&users_db, "SELECT count(*) FROM users WHERE username = 'carol'"),
        1
    );
    auth.stop().await.unwrap();
    users.stop().await.unwrap();
}
