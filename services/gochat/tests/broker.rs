//! The event bus over a real RabbitMQ as an operator meets it: dead letters listed without
//! being taken and requeued (`gochat dead-letters`), per-instance queues that outlive a broker
//! restart, one least-privilege account per service (`gochat rabbitmq-setup`), and AMQPS to a
//! broker whose certificate a private CA signed.
//!
//! Needs the private RabbitMQ node that `make test` starts (GOCHAT_TEST_AMQP_URL, …). The tests
//! run one at a time because some of them stop the broker.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{broker_env, eventually, rabbitmqctl, vhost_url};
use gochat_kit::bus::{Bus, Queue, Tls, handler};
use gochat_kit::config::Synchronous;
use gochat_kit::db::Db;
use gochat_kit::outbox::Outbox;
use gochat_kit::record::Recorder;
use gochat_proto::error::ErrorCode;
use gochat_proto::events::{Envelope, Event, EventData, MessageRejected, UserOnline};
use gochat_proto::ids::{EventId, UserId};
use gochat_proto::topology::{CHAT_PUSH, USERS};
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const WAIT: Duration = Duration::from_secs(30);
static BROKER: Mutex<()> = Mutex::const_new(());

/// A bus of its own, as a separate process would have, stopped with the test.
struct TestBus {
    bus: Bus,
    stop: CancellationToken,
}

impl TestBus {
    async fn connect(url: &str, tls: Tls) -> Self {
        let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
        let bus = Bus::rabbitmq(url, tls, "test", &tasks, stop.clone());
        tokio::time::timeout(WAIT, bus.connected())
            .await
            .expect("the bus connects");
        Self { bus, stop }
    }

    /// Consumes the chat push queue of `instance` on this bus: the ids of the events pushed,
    /// in order, and a `()` each time the queue had to be created (its owner may have missed
    /// events).
    fn consume_pushes(&self, instance: &str) -> (mpsc::UnboundedReceiver<EventId>, mpsc::UnboundedReceiver<()>) {
        let (pushed_tx, pushed) = mpsc::unbounded_channel();
        let (missed_tx, missed) = mpsc::unbounded_channel();
        self.bus.consume(
            Queue::fanout("chat", instance, "push", CHAT_PUSH).when_missed(move || {
                let _ = missed_tx.send(());
            }),
            handler(move |envelope| {
                let pushed_tx = pushed_tx.clone();
                async move {
                    pushed_tx.send(envelope.id).unwrap();
                    Ok(())
                }
            }),
            &TaskTracker::new(),
            self.stop.clone(),
        );
        (pushed, missed)
    }

    /// Publishes a `message.rejected` (routed to chat's push queues) and waits for the broker's
    /// confirm; its id.
    async fn publish_rejected(&self) -> EventId {
        let (envelope, json) = event(&rejected());
        let id = envelope.id;
        self.bus.publish(envelope, json).await.unwrap().await.unwrap();
        id
    }
}

impl Drop for TestBus {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn vhost_of(url: &str) -> String {
    url.rsplit_once('/').unwrap().1.to_owned()
}

fn database(dir: &Path) -> Db {
    Db::open(
        dir,
        "test",
        &["CREATE TABLE t (x);"],
        Synchronous::Normal,
        Outbox::default().sink(),
    )
    .unwrap()
}

/// A database whose outbox a relay the test starts publishes.
fn database_with_relay(dir: &Path) -> (Db, Outbox) {
    let outbox = Outbox::default();
    let db = Db::open(
        dir,
        "test",
        &["CREATE TABLE t (x);"],
        Synchronous::Normal,
        outbox.sink(),
    )
    .unwrap();
    (db, outbox)
}

/// Rows in `db`'s outbox: events not yet confirmed (or confirmed and not yet deleted).
async fn outbox_rows(db: &Db) -> i64 {
    db.read(|c| Ok::<_, gochat_kit::db::DbError>(c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?))
        .await
        .unwrap()
}

fn event<E: EventData>(data: &E) -> (Arc<Envelope>, Vec<u8>) {
    let envelope = Envelope::new(data).unwrap();
    let json = envelope.to_json().unwrap();
    (Arc::new(envelope), json)
}

fn online() -> UserOnline {
    UserOnline {
        user_id: UserId::new(),
        instance: "i".into(),
        at: chrono::Utc::now(),
    }
}

fn rejected() -> MessageRejected {
    MessageRejected {
        user_id: UserId::new(),
        client_id: None,
        code: ErrorCode::NotFound,
        reason: "probe".into(),
        origin: None,
    }
}

/// How many messages `queue` of `vhost` holds (ready or unacknowledged).
fn messages_in(vhost: &str, queue: &str) -> u64 {
    list_queues(vhost, &["name", "messages"])
        .iter()
        .find_map(|l| l.strip_prefix(queue)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no queue {queue} in {vhost}"))
}

/// `gochat <args>`; its standard output, or a panic with its standard error.
fn gochat(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gochat")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "gochat {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The queues of a virtual host.
fn queues(vhost: &str) -> Vec<String> {
    list_queues(vhost, &["name"])
}

/// `rabbitmqctl list_queues` of a virtual host: a line per queue with `columns`.
fn list_queues(vhost: &str, columns: &[&str]) -> Vec<String> {
    let node = broker_env("GOCHAT_TEST_RABBITMQ_NODE");
    let out = Command::new(broker_env("GOCHAT_TEST_RABBITMQCTL"))
        .args(["-n", &node, "-q", "list_queues", "-p", vhost])
        .args(columns)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty() && *l != columns.join("\t"))
        .map(str::to_owned)
        .collect()
}

fn reply_code(error: &lapin::Error) -> Option<u16> {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(e) => Some(e.get_id()),
        _ => None,
    }
}

#[tokio::test]
async fn dead_letters_over_rabbitmq_are_listed_without_being_taken_then_requeued() {
    let _broker = BROKER.lock().await;
    let metrics = gochat_kit::ops::metrics_handle();
    let Some(url) = vhost_url() else { return };
    let consumer = TestBus::connect(&url, Tls::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let broken = Arc::new(AtomicBool::new(true));
    let (applied_tx, mut applied) = mpsc::unbounded_channel();
    let failing = broken.clone();
    consumer.bus.consume(
        Queue::shared(&USERS, &db),
        handler(move |envelope| {
            let (failing, applied_tx) = (failing.clone(), applied_tx.clone());
            async move {
                if failing.load(Ordering::SeqCst) {
                    // Undecodable: no retry helps, so it is dead-lettered at once.
                    serde_json::from_str::<u32>("not a number")?;
                }
                applied_tx.send(envelope.id).unwrap();
                Ok(())
            }
        }),
        &TaskTracker::new(),
        consumer.stop.clone(),
    );

    let publisher = TestBus::connect(&url, Tls::default()).await;
    let (envelope, json) = event(&online());
    publisher
        .bus
        .publish(envelope.clone(), json)
        .await
        .unwrap()
        .await
        .unwrap();
    // And a message that is no event at all, straight onto the exchange.
    let raw = Connection::connect(&url, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = raw.create_channel().await.unwrap();
    channel.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
    channel
        .basic_publish(
            "UserEventsExchange".into(),
            "user.online".into(),
            BasicPublishOptions::default(),
            b"{not json",
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let list = || {
        gochat(&[
            "dead-letters",
            "list",
            "--amqp-url",
            &url,
            "--queue",
            "users.events",
            "--json",
        ])
    };
    let letters: Vec<serde_json::Value> = eventually(WAIT, || async {
        let letters: Vec<serde_json::Value> = list().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (letters.len() == 2).then_some(letters)
    })
    .await;
    let ours = letters
        .iter()
        .find(|l| l["eventId"] == envelope.id.to_string())
        .expect("the event is listed");
    assert_eq!(ours["kind"], "user.online");
    assert!(ours["reason"].as_str().unwrap().contains("cannot be decoded"), "{ours}");
    assert!(
        letters
            .iter()
            .any(|l| l["eventId"].is_null() && l["payload"] == "{not json")
    );
    // Listing took nothing.
    assert_eq!(list().lines().count(), 2);
    let text = gochat(&["dead-letters", "list", "--amqp-url", &url]);
    assert!(text.contains("users.events: 2 dead letters"), "{text}");
    assert!(text.contains("messages.events: 0 dead letters"), "{text}");
    eventually(WAIT, || async {
        metrics
            .render()
            .contains(r#"gochat_dead_letters{queue="users.events"} 2"#)
            .then_some(())
    })
    .await;

    // Fixed, then requeued: the event is applied, with its id; what is no event stays.
    broken.store(false, Ordering::SeqCst);
    let requeued = gochat(&["dead-letters", "requeue", "--amqp-url", &url, "--queue", "users.events"]);
    assert!(requeued.contains("users.events: 1 requeued; 1 kept"), "{requeued}");
    let id = tokio::time::timeout(WAIT, applied.recv()).await.unwrap().unwrap();
    assert_eq!(id, envelope.id);
    let left: Vec<serde_json::Value> = list().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(left.len(), 1);
    assert!(left[0]["eventId"].is_null());

    let refused = Command::new(env!("CARGO_BIN_EXE_gochat"))
        .args(["dead-letters", "list", "--amqp-url", &url, "--queue", "nope.events"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no queue nope.events"));
}

#[tokio::test]
async fn a_fanout_queue_outlives_a_broker_restart_and_a_lost_one_is_announced() {
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    let vhost = vhost_of(&url);
    let instance = TestBus::connect(&url, Tls::default()).await;
    let (mut pushed, mut missed) = instance.consume_pushes("a");
    // Created at start: a new instance had nothing to miss, but it is told all the same.
    tokio::time::timeout(WAIT, missed.recv()).await.unwrap().unwrap();

    rabbitmqctl(&["stop_app"]);
    rabbitmqctl(&["start_app"]);
    // The queue came back with the broker, before its instance reconnected: what the outboxes
    // publish now waits in it.
    assert!(queues(&vhost).contains(&"chat.a.push".to_owned()));
    let publisher = TestBus::connect(&url, Tls::default()).await;
    let mut sent = Vec::new();
    for _ in 0..20 {
        sent.push(publisher.publish_rejected().await);
    }
    for id in &sent {
        let got = tokio::time::timeout(WAIT, pushed.recv()).await.unwrap().unwrap();
        assert_eq!(got, *id, "every event, in order");
    }
    assert!(missed.try_recv().is_err(), "nothing was missed");

    // A queue that vanished anyway (expired while its instance was away, or deleted) is made
    // again, and its owner told that it may have missed events.
    rabbitmqctl(&["delete_queue", "-p", &vhost, "chat.a.push"]);
    tokio::time::timeout(WAIT, missed.recv()).await.unwrap().unwrap();
    assert!(missed.try_recv().is_err(), "told once");
    let id = publisher.publish_rejected().await;
    assert_eq!(tokio::time::timeout(WAIT, pushed.recv()).await.unwrap().unwrap(), id);
}

/// The environment files `gochat rabbitmq-setup` wrote, by account.
fn account_url(dir: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    text.trim().strip_prefix("GOCHAT_AMQP_URL=").unwrap().to_owned()
}

#[tokio::test]
async fn each_service_account_may_do_its_work_and_nothing_else() {
    use std::os::unix::fs::PermissionsExt;
    let _broker = BROKER.lock().await;
    let vhost = format!("t-{}", uuid::Uuid::new_v4().simple());
    let Some(base) = gochat_kit::testing::rabbitmq_or_skip() else {
        return;
    };
    let broker = base.split_once('@').unwrap().1.split_once('/').unwrap().0.to_owned();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("broker");
    let dir_str = dir.to_str().unwrap();
    let ctl = broker_env("GOCHAT_TEST_RABBITMQCTL");
    let setup = [
        "rabbitmq-setup",
        dir_str,
        "--broker",
        &broker,
        "--vhost",
        &vhost,
        "--apply",
        "--rabbitmqctl",
        &ctl,
    ];
    gochat(&setup);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    for file in ["definitions.json", "chat.env", "operator.env"] {
        assert_eq!(
            std::fs::metadata(dir.join(file)).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A second run keeps the passwords (services keep working), and imports again.
    let chat_url = account_url(&dir, "chat.env");
    gochat(&setup);
    assert_eq!(account_url(&dir, "chat.env"), chat_url);
    assert!(chat_url.starts_with("amqp://gochat-chat:"));

    // Every service connects with its own account: the shared topology is there already.
    for service in ["auth", "users", "messages", "chat", "notifications"] {
        let url = account_url(&dir, &format!("{service}.env"));
        let bus = TestBus::connect(&url, Tls::default()).await;
        assert!(bus.bus.is_connected(), "{service}");
    }

    // chat: publishes what users do, nothing the messages service announces.
    let chat = Connection::connect(&chat_url, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = chat.create_channel().await.unwrap();
    channel.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
    let publish = |channel: lapin::Channel, routing_key: &'static str| async move {
        let confirm = channel
            .basic_publish(
                "MessageEventsExchange".into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                b"{}",
                BasicProperties::default(),
            )
            .await?;
        confirm.await
    };
    assert!(publish(channel.clone(), "message.sent").await.is_ok());
    let refused = publish(channel, "message.stored").await.unwrap_err();
    assert_eq!(reply_code(&refused), Some(403), "{refused}");
    // It reads no shared queue, and declares only its own instances' queues.
    let channel = chat.create_channel().await.unwrap();
    let consume = channel
        .basic_consume(
            "messages.events".into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await;
    assert_eq!(reply_code(&consume.err().unwrap()), Some(403));
    let channel = chat.create_channel().await.unwrap();
    let declare = channel
        .queue_declare(
            "messages.x.sessions".into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await;
    assert_eq!(reply_code(&declare.err().unwrap()), Some(403));
    let channel = chat.create_channel().await.unwrap();
    channel
        .queue_declare(
            "chat.x.push".into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let bind = |key: &'static str| {
        channel.queue_bind(
            "chat.x.push".into(),
            "MessageEventsExchange".into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
    };
    bind("message.stored").await.unwrap();
    // Not what it is not meant to see: what other users send before it is stored.
    assert_eq!(reply_code(&bind("message.sent").await.unwrap_err()), Some(403));

    // messages: reads its own queue; cannot revoke sessions.
    let messages = Connection::connect(&account_url(&dir, "messages.env"), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = messages.create_channel().await.unwrap();
    channel
        .basic_consume(
            "messages.events".into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let channel = messages.create_channel().await.unwrap();
    channel.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
    let revoke = async {
        channel
            .basic_publish(
                "UserEventsExchange".into(),
                "user.signed_out".into(),
                BasicPublishOptions::default(),
                b"{}",
                BasicProperties::default(),
            )
            .await?
            .await
    };
    assert_eq!(reply_code(&revoke.await.unwrap_err()), Some(403));

    // The operator lists dead letters, and reads nothing else.
    let operator_url = account_url(&dir, "operator.env");
    let listed = gochat(&["dead-letters", "list", "--amqp-url", &operator_url]);
    assert!(listed.contains("messages.events: 0 dead letters"), "{listed}");
    let operator = Connection::connect(&operator_url, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = operator.create_channel().await.unwrap();
    let consume = channel
        .basic_consume(
            "notifications.events".into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await;
    assert_eq!(reply_code(&consume.err().unwrap()), Some(403));
    rabbitmqctl(&["delete_vhost", &vhost]);
}

#[tokio::test]
async fn the_bus_speaks_amqps_to_a_broker_whose_certificate_a_private_ca_signed() {
    let _broker = BROKER.lock().await;
    let Some(vhost_url) = vhost_url() else { return };
    let vhost = vhost_of(&vhost_url);
    let tls_base = broker_env("GOCHAT_TEST_AMQPS_URL");
    let url = format!("{}/{vhost}", tls_base.rsplit_once('/').unwrap().0);
    let ca = std::fs::read_to_string(broker_env("GOCHAT_TEST_AMQP_CA_FILE")).unwrap();

    // Without the CA the certificate is not trusted.
    let untrusted = Connection::connect(&url, ConnectionProperties::default()).await;
    assert!(untrusted.is_err(), "a certificate of an unknown CA was accepted");

    let instance = TestBus::connect(
        &url,
        Tls {
            ca_pem: Some(ca.clone()),
        },
    )
    .await;
    let (mut pushed, mut ready) = instance.consume_pushes("tls");
    // Told once the queue is there (a new one was created).
    tokio::time::timeout(WAIT, ready.recv()).await.unwrap().unwrap();
    let id = instance.publish_rejected().await;
    assert_eq!(tokio::time::timeout(WAIT, pushed.recv()).await.unwrap().unwrap(), id);

    // The service setting reads the same file.
    let settings = gochat_kit::config::CommonSettings {
        amqp_ca_file: Some(broker_env("GOCHAT_TEST_AMQP_CA_FILE").into()),
        ..Default::default()
    };
    assert_eq!(settings.amqp_tls().unwrap().ca_pem.as_deref(), Some(ca.as_str()));
}

#[tokio::test]
async fn in_process_dead_letters_are_kept_in_the_consumers_database_listed_and_requeued_by_the_cli() {
    // Not for the broker: the other tests run services that consume messages.events too, and
    // metrics are kept per process, so one starting meanwhile would reset the gauge read below.
    let _broker = BROKER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = common::start_all_in_one(&data, None, None).await;
    // A message.sent whose data is not one: the messages service can never apply it.
    let id = uuid::Uuid::now_v7();
    let json =
        format!(r#"{{"id":"{id}","type":"message.sent","occurredAt":"2026-01-01T00:00:00Z","data":{{"bogus":1}}}}"#);
    let envelope = Arc::new(Envelope::from_json(json.as_bytes()).unwrap());
    let confirm = server.runtime.bus.publish(envelope, json.into_bytes()).await.unwrap();
    // Confirmed once kept: its publisher would not replay it.
    tokio::time::timeout(WAIT, confirm).await.unwrap().unwrap();

    let data_dir = data.to_str().unwrap();
    let list = || gochat(&["dead-letters", "list", "--data-dir", data_dir, "--json"]);
    let letters: Vec<serde_json::Value> = list().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["eventId"], id.to_string());
    assert_eq!(letters[0]["queue"], "messages.events");
    assert_eq!(letters[0]["kind"], "message.sent");
    let text = gochat(&["dead-letters", "list", "--data-dir", data_dir]);
    assert!(
        text.contains("messages.events (in messages.db): 1 dead letters"),
        "{text}"
    );
    // Counted by the queue's watcher once the dead letter is committed, moments after.
    eventually(WAIT, || async {
        let metrics = reqwest::get(server.url("/metrics")).await.ok()?.text().await.ok()?;
        metrics
            .contains(r#"gochat_dead_letters{queue="messages.events"} 1"#)
            .then_some(())
    })
    .await;

    // Requeued while the server runs: published again (same id), and, still not applicable,
    // dead-lettered again as a new row.
    let requeued = gochat(&[
        "dead-letters",
        "requeue",
        "--data-dir",
        data_dir,
        "--queue",
        "messages.events",
    ]);
    assert!(
        requeued.contains("messages.events (in messages.db): 1 marked for requeue"),
        "{requeued}"
    );
    let first_row = letters[0]["id"].clone();
    let again = eventually(WAIT, || async {
        let letters: Vec<serde_json::Value> = list().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (letters.len() == 1 && letters[0]["id"] != first_row && letters[0]["requeuePending"] == false)
            .then(|| letters[0].clone())
    })
    .await;
    assert_eq!(again["eventId"], id.to_string());
    server.stop().await.unwrap();
}

/// A gathering consumer over RabbitMQ applies events that trickle in one at a time as one
/// batch (one transaction), and what comes after its linger as the next.
#[tokio::test]
async fn a_gathering_consumer_applies_a_trickle_as_one_batch_over_rabbitmq() {
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    let consumer = TestBus::connect(&url, Tls::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let (sizes_tx, mut sizes) = mpsc::unbounded_channel();
    consumer.bus.consume(
        Queue::shared(&USERS, &db).gathering(Duration::from_secs(2)),
        gochat_kit::bus::Handler::Batch(Arc::new(move |batch| {
            let sizes_tx = sizes_tx.clone();
            Box::pin(async move {
                sizes_tx.send(batch.len()).unwrap();
                Ok(())
            })
        })),
        &TaskTracker::new(),
        consumer.stop.clone(),
    );
    let publisher = TestBus::connect(&url, Tls::default()).await;
    let publish = || async {
        let (envelope, json) = event(&online());
        publisher.bus.publish(envelope, json).await.unwrap().await.unwrap();
    };
    // Let the consumer declare and bind its queue.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..5 {
        publish().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = tokio::time::timeout(WAIT, sizes.recv()).await.unwrap().unwrap();
    publish().await;
    let second = tokio::time::timeout(WAIT, sizes.recv()).await.unwrap().unwrap();
    assert_eq!(
        (first, second),
        (5, 1),
        "the trickle in one batch, the late event in another"
    );
    consumer.stop.cancel();
    publisher.stop.cancel();
}

#[tokio::test]
async fn events_committed_together_reach_rabbitmq_as_one_message_and_one_refused_is_dead_lettered_alone() {
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    let vhost = vhost_of(&url);
    let publisher = TestBus::connect(&url, Tls::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (db, outbox) = database_with_relay(dir.path());
    let events: Vec<UserOnline> = (0..10).map(|_| online()).collect();
    let ids = db
        .write(move |w| {
            let ids = events.iter().map(|e| w.publish(e)).collect::<Result<Vec<_>, _>>();
            ids.map_err(gochat_kit::db::DbError::from)
        })
        .await
        .unwrap();
    // The relay starts on a full outbox, as after a restart or an outage: one message for all.
    let relay = tokio::spawn(outbox.relay(db.clone(), publisher.bus.clone(), publisher.stop.clone()));
    eventually(WAIT, || async { (outbox_rows(&db).await == 0).then_some(()) }).await;
    assert_eq!(messages_in(&vhost, "users.events"), 1, "ten events, one message");

    // A consumer refuses the fifth as undecodable: it alone is dead-lettered, the others are
    // applied, in order.
    let refused = ids[4];
    let broken = Arc::new(AtomicBool::new(true));
    let (applied_tx, mut applied) = mpsc::unbounded_channel();
    let consumer = TestBus::connect(&url, Tls::default()).await;
    let failing = broken.clone();
    consumer.bus.consume(
        Queue::shared(&USERS, &database(dir.path())),
        handler(move |envelope| {
            let (failing, applied_tx) = (failing.clone(), applied_tx.clone());
            async move {
                if envelope.id == refused && failing.load(Ordering::SeqCst) {
                    serde_json::from_str::<u32>("not a number")?;
                }
                applied_tx.send(envelope.id).unwrap();
                Ok(())
            }
        }),
        &TaskTracker::new(),
        consumer.stop.clone(),
    );
    let mut got = Vec::new();
    while got.len() < 9 {
        got.push(tokio::time::timeout(WAIT, applied.recv()).await.unwrap().unwrap());
    }
    let others: Vec<_> = ids.iter().copied().filter(|id| *id != refused).collect();
    assert_eq!(got, others);
    let list = || {
        let out = gochat(&[
            "dead-letters",
            "list",
            "--amqp-url",
            &url,
            "--queue",
            "users.events",
            "--json",
        ]);
        out.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let letters = eventually(WAIT, || async { Some(list()).filter(|l| !l.is_empty()) }).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["eventId"], refused.to_string());
    assert_eq!(letters[0]["kind"], "user.online");
    let payload = letters[0]["payload"].as_str().unwrap();
    let envelope = Envelope::from_json(payload.as_bytes()).expect("kept as its own envelope");
    assert_eq!(envelope.id, refused);

    // Fixed and requeued, it is applied like the rest.
    broken.store(false, Ordering::SeqCst);
    let requeued = gochat(&["dead-letters", "requeue", "--amqp-url", &url, "--queue", "users.events"]);
    assert!(requeued.contains("users.events: 1 requeued"), "{requeued}");
    let id = tokio::time::timeout(WAIT, applied.recv()).await.unwrap().unwrap();
    assert_eq!(id, refused);
    consumer.stop.cancel();
    publisher.stop.cancel();
    let _ = relay.await;
}

#[tokio::test]
async fn events_recorded_while_one_awaits_its_confirm_go_to_rabbitmq_together_in_order() {
    let _broker = BROKER.lock().await;
    let Some(url) = vhost_url() else { return };
    let vhost = vhost_of(&url);
    let publisher = TestBus::connect(&url, Tls::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (db, outbox) = database_with_relay(dir.path());
    // Direct publishes once the relay found the outbox empty.
    tokio::spawn(outbox.relay(db.clone(), publisher.bus.clone(), publisher.stop.clone()));
    eventually(WAIT, || async { db.outbox_idle().then_some(()) }).await;
    let recorder = Recorder::new(publisher.bus.clone(), db.clone());
    let events: Vec<UserOnline> = (0..50).map(|_| online()).collect();
    // Handed on one after the other, as a chat instance's sockets do in a burst; each is safe
    // once its bundle is confirmed.
    let mut recorded = Vec::new();
    for event in &events {
        recorded.push(recorder.record(event).await.unwrap());
    }
    for safe in recorded {
        safe.await.unwrap();
    }
    let messages = messages_in(&vhost, "users.events");
    assert!(messages < 10, "50 events in {messages} messages");
    assert_eq!(outbox_rows(&db).await, 0, "every one published directly");

    let (applied_tx, mut applied) = mpsc::unbounded_channel();
    let consumer = TestBus::connect(&url, Tls::default()).await;
    consumer.bus.consume(
        Queue::shared(&USERS, &db),
        handler(move |envelope| {
            let applied_tx = applied_tx.clone();
            async move {
                let Event::UserOnline(online) = envelope.event()? else {
                    panic!("not user.online: {envelope:?}")
                };
                applied_tx.send(online.user_id).unwrap();
                Ok(())
            }
        }),
        &TaskTracker::new(),
        consumer.stop.clone(),
    );
    let mut got = Vec::new();
    while got.len() < events.len() {
        got.push(tokio::time::timeout(WAIT, applied.recv()).await.unwrap().unwrap());
    }
    let sent: Vec<_> = events.iter().map(|e| e.user_id).collect();
    assert_eq!(got, sent, "in the order recorded");
    consumer.stop.cancel();
    publisher.stop.cancel();
}
