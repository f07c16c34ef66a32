//! RabbitMQ through lapin.
//!
//! A supervisor task owns the connection: it connects with backoff, declares the whole topology
//! (exchanges, shared queues, their dead-letter queues and bindings), opens the publishing
//! channel with confirms, and announces the link; when the connection fails it withdraws the
//! link and starts over. Consumers and publishers follow the announced link, so a service that
//! starts before the broker keeps serving and catches up once the broker is there.

use super::{BusError, Confirm, Disposition, Handler, MAX_BATCH, PREFETCH, Queue, consumed_counter, deliver};
use futures_util::FutureExt;
use futures_util::StreamExt;
use gochat_proto::events::{Envelope, Exchange};
use gochat_proto::topology::{SHARED_QUEUES, dead_letter_queue};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest a stopping process keeps the connection for its relays to flush.
const FLUSH_WAIT: Duration = Duration::from_secs(5);
/// AMQP delivery modes: messages that survive a broker restart, and those not worth a disk
/// write (typing, heartbeats).
const PERSISTENT: u8 = 2;
const TRANSIENT: u8 = 1;

#[derive(Clone)]
pub struct AmqpBus {
    link: watch::Receiver<Option<Link>>,
    /// The outbox relays publishing through this connection: on shutdown it stays open until
    /// they have flushed (or given up), so what was accepted while draining is still published.
    publishers: TaskTracker,
}

/// A live connection and its publishing channel.
#[derive(Clone)]
struct Link {
    connection: Arc<Connection>,
    publisher: Channel,
}

impl AmqpBus {
    pub fn start(url: &str, name: &str, tasks: &TaskTracker, shutdown: CancellationToken) -> Self {
        let (announce, link) = watch::channel(None);
        let url = url.to_owned();
        let name = name.to_owned();
        let publishers = TaskTracker::new();
        tasks.spawn(supervise(url, name, announce, publishers.clone(), shutdown));
        Self { link, publishers }
    }

    pub fn publishers(&self) -> &TaskTracker {
        &self.publishers
    }

    pub fn is_connected(&self) -> bool {
        self.link
            .borrow()
            .as_ref()
            .is_some_and(|l| l.connection.status().connected())
    }

    pub async fn connected(&self) {
        let mut link = self.link.clone();
        let _ = link.wait_for(|l| l.is_some()).await;
    }

    pub async fn publish(&self, envelope: &Envelope, json: Vec<u8>) -> Result<Confirm, BusError> {
        let Some(link) = self.link.borrow().clone() else {
            return Err(BusError::NotConnected);
        };
        let properties = BasicProperties::default()
            .with_delivery_mode(if envelope.kind.is_ephemeral() {
                TRANSIENT
            } else {
                PERSISTENT
            })
            .with_content_type("application/json".into())
            .with_message_id(envelope.id.to_string().into())
            .with_type(envelope.kind.routing_key().into());
        let pending = link
            .publisher
            .basic_publish(
                envelope.kind.exchange().name().into(),
                envelope.kind.routing_key().into(),
                BasicPublishOptions::default(),
                &json,
                properties,
            )
            .await?;
        Ok(Box::pin(async move {
            match pending.await? {
                Confirmation::Ack(_) => Ok(()),
                Confirmation::Nack(_) | Confirmation::NotRequested => Err(BusError::Nacked),
            }
        }))
    }

    pub fn consume(&self, queue: Queue, handler: Handler, tasks: &TaskTracker, shutdown: CancellationToken) {
        let mut links = self.link.clone();
        tasks.spawn(async move {
            loop {
                let link = tokio::select! {
                    link = links.wait_for(|l| l.is_some()) => match link {
                        Ok(link) => link.clone().expect("waited for Some"),
                        Err(_) => return,
                    },
                    _ = shutdown.cancelled() => return,
                };
                links.mark_unchanged();
                if let Err(e) = consume_on(&link, &queue, &handler, &shutdown).await {
                    tracing::warn!(queue = queue.name(), error = %e, "consumer lost its channel; resuming on the next connection");
                }
                if shutdown.is_cancelled() {
                    return;
                }
                // Wait for the supervisor to announce a change (a new link or none) before retrying.
                tokio::select! {
                    _ = links.changed() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.cancelled() => return,
                }
            }
        });
    }
}

/// Consumes `queue` on `link` until the channel fails or `shutdown`.
async fn consume_on(link: &Link, queue: &Queue, handler: &Handler, shutdown: &CancellationToken) -> lapin::Result<()> {
    let channel = link.connection.create_channel().await?;
    channel.basic_qos(PREFETCH, BasicQosOptions::default()).await?;
    if let Queue::Fanout { name, events } = queue {
        let exclusive = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..Default::default()
        };
        channel
            .queue_declare(name.as_str().into(), exclusive, FieldTable::default())
            .await?;
        for kind in *events {
            channel
                .queue_bind(
                    name.as_str().into(),
                    kind.exchange().name().into(),
                    kind.routing_key().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
    }
    let consumed = consumed_counter(queue.name());
    let mut deliveries = channel
        .basic_consume(
            queue.name().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    loop {
        // Whatever is already here (up to a batch) is applied together.
        let first = tokio::select! {
            next = deliveries.next() => match next {
                Some(delivery) => delivery?,
                None => return Ok(()),
            },
            _ = shutdown.cancelled() => return Ok(()),
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match deliveries.next().now_or_never() {
                Some(Some(delivery)) => batch.push(delivery?),
                _ => break,
            }
        }
        settle(link, queue, handler, &consumed, batch).await?;
    }
}

/// Applies a batch of deliveries, copies those that can never be applied to the dead-letter
/// queue (with a confirm), then acknowledges the whole batch at once.
async fn settle(
    link: &Link,
    queue: &Queue,
    handler: &Handler,
    consumed: &metrics::Counter,
    batch: Vec<Delivery>,
) -> lapin::Result<()> {
    let mut decoded = Vec::with_capacity(batch.len());
    let mut undecodable = Vec::new();
    for delivery in &batch {
        match Envelope::from_json(&delivery.data) {
            Ok(envelope) => decoded.push(Arc::new(envelope)),
            Err(e) => {
                tracing::error!(queue = queue.name(), error = %e, "undecodable event; dead-lettered");
                undecodable.push(delivery.delivery_tag);
            }
        }
    }
    let mut fates = deliver(handler, decoded, queue.name(), consumed).await.into_iter();
    for delivery in &batch {
        let fate = if undecodable.contains(&delivery.delivery_tag) {
            Disposition::DeadLetter
        } else {
            fates.next().unwrap_or(Disposition::DeadLetter)
        };
        if fate == Disposition::DeadLetter && queue.durable() {
            let confirm = link
                .publisher
                .basic_publish(
                    "".into(),
                    dead_letter_queue(queue.name()).into(),
                    BasicPublishOptions::default(),
                    &delivery.data,
                    delivery.properties.clone(),
                )
                .await?;
            confirm.await?;
        }
    }
    if let Some(last) = batch.last() {
        last.ack(BasicAckOptions { multiple: true }).await?;
    }
    Ok(())
}

/// Keeps a connection up for the life of the process.
async fn supervise(
    url: String,
    name: String,
    announce: watch::Sender<Option<Link>>,
    publishers: TaskTracker,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match connect(&url, &name).await {
            Ok(link) => {
                tracing::info!("connected to RabbitMQ");
                backoff = Duration::from_millis(200);
                let mut events = link.connection.events_listener();
                announce.send_replace(Some(link.clone()));
                loop {
                    tokio::select! {
                        event = events.next() => match event {
                            Some(lapin::Event::Error(e)) => {
                                tracing::warn!(error = %e, "RabbitMQ connection lost");
                                break;
                            }
                            Some(_) => continue,
                            None => break,
                        },
                        _ = shutdown.cancelled() => {
                            // Let the relays flush (they give up on their own after a grace
                            // period), then close politely.
                            publishers.close();
                            let _ = tokio::time::timeout(FLUSH_WAIT, publishers.wait()).await;
                            let _ = link.connection.close(200, "shutting down".into()).await;
                            announce.send_replace(None);
                            return;
                        }
                    }
                }
                announce.send_replace(None);
            }
            Err(e) => tracing::warn!(error = %e, retry_in = ?backoff, "cannot reach RabbitMQ"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn connect(url: &str, name: &str) -> lapin::Result<Link> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    let connection = Connection::connect(url, properties).await?;
    let channel = connection.create_channel().await?;
    declare_topology(&channel).await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    Ok(Link {
        connection: Arc::new(connection),
        publisher: channel,
    })
}

/// Declares exchanges, shared queues, dead-letter queues and bindings. Idempotent.
async fn declare_topology(channel: &Channel) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    for exchange in Exchange::ALL {
        channel
            .exchange_declare(
                exchange.name().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
    }
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    for queue in SHARED_QUEUES {
        channel
            .queue_declare(queue.name.into(), durable, FieldTable::default())
            .await?;
        channel
            .queue_declare(dead_letter_queue(queue.name).into(), durable, FieldTable::default())
            .await?;
        for kind in queue.events {
            channel
                .queue_bind(
                    queue.name.into(),
                    kind.exchange().name().into(),
                    kind.routing_key().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
    }
    Ok(())
}
