//! RabbitMQ through lapin.
//!
//! A supervisor task owns the connection: it connects with backoff, declares the topology
//! (exchanges, shared queues, their dead-letter queues and bindings), opens the publishing
//! channel with confirms, and announces the link; when the connection or the publishing channel
//! fails it withdraws the link and starts over. Consumers and publishers follow the announced
//! link, so a service that starts before the broker keeps serving and catches up once the
//! broker is there.
//!
//! Nothing waits on a connection for longer than the supervisor keeps it: lapin reports most
//! failures, but not every one reaches whoever waits (an error event sent before anyone listens
//! is dropped, a channel closed on our side raises none, and a request or confirm whose answer
//! never comes is never failed). So the supervisor also looks at the connection and its
//! publishing channel every second, and once it gives a link up, every publish, confirm and
//! consumer still waiting on it stops and starts over on the next one.
//!
//! A broker account with least privilege (see [`super::accounts`]) may not declare the shared
//! topology: then it only checks that it exists, as `gochat rabbitmq-setup`'s definitions
//! create it. Every account declares its own fan-out queues.

mod bundle;
mod operator;

pub(super) use bundle::{MAX_BYTES as BUNDLE_MAX_BYTES, MAX_EVENTS as BUNDLE_MAX_EVENTS};

pub use operator::{BrokerDeadLetter, list_dead_letters, requeue_dead_letters};

use super::{
    BusError, Confirm, Disposition, Handler, MAX_BATCH, PREFETCH, Queue, Tls, consumed_counter, dead_lettered, deliver,
};
use crate::backoff::Backoff;
use futures_util::FutureExt;
use futures_util::StreamExt;
use gochat_proto::events::{Envelope, Exchange};
use gochat_proto::topology::{DEAD_LETTER_EXCHANGE, SHARED_QUEUES, dead_letter_queue};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ErrorKind, ExchangeKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest a stopping process keeps the connection for its relays to flush.
const FLUSH_WAIT: Duration = Duration::from_secs(5);
/// The longest pause between two attempts to reach RabbitMQ. A refused connection costs next
/// to nothing, and a longer pause is how late this process notices that the broker is back:
/// at 5 s, a broker stopped for 3 s took 3.2 s more after its start to serve every service.
const RECONNECT_AT_MOST_EVERY: Duration = Duration::from_secs(1);
/// AMQP delivery modes: messages that survive a broker restart, and those not worth a disk
/// write (typing, heartbeats).
const PERSISTENT: u8 = 2;
const TRANSIENT: u8 = 1;
/// How often a consumer of a shared queue reads how many dead letters it has.
const DEAD_LETTERS_EVERY: Duration = Duration::from_secs(30);
/// How often the supervisor looks whether its connection and publishing channel are still open.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Longest a connection attempt (the handshake and declaring the topology), a consumer's set-up
/// and a closing connection may take: the broker answers them in milliseconds when it answers.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);
/// Longest the broker may take to confirm a publish before its channel is taken for broken.
const CONFIRM_WITHIN: Duration = Duration::from_secs(60);
/// AMQP reply codes this module acts on.
const ACCESS_REFUSED: u16 = 403;
const NOT_FOUND: u16 = 404;

#[derive(Clone)]
pub struct AmqpBus {
    link: watch::Receiver<Option<Link>>,
    /// The outbox relays publishing through this connection: on shutdown it stays open until
    /// they have flushed (or given up), so what was accepted while draining is still published.
    publishers: TaskTracker,
    /// How many of the consumers started are not consuming (yet, or since their channel was
    /// lost): a service is ready only when none is. A chat instance that took sockets before its
    /// fan-out queue was bound would have them miss what is routed meanwhile.
    idle_consumers: Arc<AtomicUsize>,
}

/// A consumer consuming: counted out of the idle ones while it lives.
struct Consuming(Arc<AtomicUsize>);

impl Consuming {
    fn start(idle: &Arc<AtomicUsize>) -> Self {
        idle.fetch_sub(1, Ordering::SeqCst);
        Self(idle.clone())
    }
}

impl Drop for Consuming {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A live connection and its publishing channel.
#[derive(Clone)]
struct Link {
    connection: Arc<Connection>,
    publisher: Channel,
    /// Told when the publishing channel is found closed (the broker closes a channel on a
    /// refused publish): the supervisor then starts over with a new connection.
    broken: Arc<Notify>,
    /// Cancelled once the supervisor gives this connection up: whatever still waits on it (a
    /// publish, a confirm, a consumer) stops waiting then, whether or not lapin ever answers.
    given_up: CancellationToken,
}

impl Link {
    /// Whether the connection and its publishing channel are both open.
    fn is_open(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }
}

impl AmqpBus {
    pub fn start(url: &str, tls: Tls, name: &str, tasks: &TaskTracker, shutdown: CancellationToken) -> Self {
        let (announce, link) = watch::channel(None);
        let url = url.to_owned();
        let name = name.to_owned();
        let publishers = TaskTracker::new();
        tasks.spawn(supervise(url, tls, name, announce, publishers.clone(), shutdown));
        Self {
            link,
            publishers,
            idle_consumers: Arc::default(),
        }
    }

    pub fn publishers(&self) -> &TaskTracker {
        &self.publishers
    }

    /// Connected with a publishing channel open: readiness says so, and a relay waits for it.
    pub fn is_connected(&self) -> bool {
        self.link.borrow().as_ref().is_some_and(Link::is_open)
    }

    /// Connected, and every consumer started is consuming.
    pub fn is_consuming(&self) -> bool {
        self.is_connected() && self.idle_consumers.load(Ordering::SeqCst) == 0
    }

    /// Resolves once connected with a publishing channel open. A link found otherwise is
    /// replaced by the supervisor within [`CHECK_EVERY`].
    pub async fn connected(&self) {
        let mut link = self.link.clone();
        let _ = link.wait_for(|l| l.as_ref().is_some_and(Link::is_open)).await;
    }

    /// Publishes `events` (of one kind, in order) as one message: the lone event's envelope, or a
    /// bundle of them (see [`bundle`]).
    pub async fn publish(&self, events: &[(Arc<Envelope>, Vec<u8>)]) -> Result<Confirm, BusError> {
        let Some((first, _)) = events.first() else {
            return Ok(Box::pin(std::future::ready(Ok(()))));
        };
        let kind = first.kind;
        debug_assert!(events.iter().all(|(e, _)| e.kind == kind), "a bundle holds one kind");
        let Some(link) = self.link.borrow().clone() else {
            return Err(BusError::NotConnected);
        };
        if !link.publisher.status().connected() {
            link.broken.notify_one();
            return Err(BusError::NotConnected);
        }
        let mut properties = BasicProperties::default()
            .with_delivery_mode(if kind.is_ephemeral() { TRANSIENT } else { PERSISTENT })
            .with_content_type("application/json".into())
            .with_type(kind.routing_key().into());
        let body = match events {
            [(envelope, json)] => {
                properties = properties.with_message_id(envelope.id.to_string().into());
                std::borrow::Cow::Borrowed(json.as_slice())
            }
            _ => std::borrow::Cow::Owned(bundle::encode(events)),
        };
        let publishing = link.publisher.basic_publish(
            kind.exchange().name().into(),
            kind.routing_key().into(),
            BasicPublishOptions::default(),
            &body,
            properties,
        );
        let pending = tokio::select! {
            biased;
            pending = publishing => pending?,
            () = link.given_up.cancelled() => return Err(BusError::GivenUp),
        };
        Ok(Box::pin(async move {
            let confirmation = tokio::select! {
                biased;
                confirmation = pending => confirmation,
                () = link.given_up.cancelled() => return Err(BusError::GivenUp),
                () = tokio::time::sleep(CONFIRM_WITHIN) => {
                    // A confirm that does not come is one lapin lost track of: without this,
                    // the relay waiting for it would wait for as long as the connection lasts.
                    tracing::warn!(within = ?CONFIRM_WITHIN, "RabbitMQ did not confirm a publish; reconnecting");
                    link.broken.notify_one();
                    return Err(BusError::NotConfirmed(CONFIRM_WITHIN));
                }
            };
            match confirmation {
                Ok(Confirmation::Ack(_)) => Ok(()),
                Ok(Confirmation::Nack(_) | Confirmation::NotRequested) => Err(BusError::Nacked),
                Err(e) => {
                    if !link.publisher.status().connected() {
                        link.broken.notify_one();
                    }
                    Err(e.into())
                }
            }
        }))
    }

    pub fn consume(&self, queue: Queue, handler: Handler, tasks: &TaskTracker, shutdown: CancellationToken) {
        let mut links = self.link.clone();
        let idle = self.idle_consumers.clone();
        idle.fetch_add(1, Ordering::SeqCst);
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
                // A consumer whose channel died without lapin ending its deliveries (or whose
                // handler waits on something that will not come over this connection) would
                // otherwise hold on to it for good.
                tokio::select! {
                    biased;
                    consumed = consume_on(&link, &queue, &handler, &idle, &shutdown) => if let Err(e) = consumed {
                        tracing::warn!(queue = queue.name(), error = %e, "consumer lost its channel; resuming on the next connection");
                    },
                    () = link.given_up.cancelled() => {
                        tracing::warn!(queue = queue.name(), "the consumer's connection was given up; resuming on the next connection");
                    }
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
async fn consume_on(
    link: &Link,
    queue: &Queue,
    handler: &Handler,
    idle: &Arc<AtomicUsize>,
    shutdown: &CancellationToken,
) -> lapin::Result<()> {
    // Nothing is taken before the consumer is set up, so a shutdown meanwhile returns at once:
    // the supervisor is closing the connection, and an answer it would wait for may never come.
    let setup = async {
        let fresh = match queue {
            Queue::Fanout { name, events, .. } => !declare_fanout(&link.connection, name, events).await?,
            Queue::Shared { .. } => false,
        };
        let channel = link.connection.create_channel().await?;
        channel.basic_qos(PREFETCH, BasicQosOptions::default()).await?;
        let deliveries = channel
            .basic_consume(
                queue.name().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        lapin::Result::Ok((fresh, deliveries, DeadLetterGauge::new(link, queue).await))
    };
    let (fresh, mut deliveries, mut dead_letters) = tokio::select! {
        set_up = tokio::time::timeout(ANSWER_WITHIN, setup) => set_up.map_err(|_| no_answer("setting the consumer up"))??,
        _ = shutdown.cancelled() => return Ok(()),
    };
    let _consuming = Consuming::start(idle);
    if fresh {
        // Bound and consumed from now on: whatever the owner catches up on now is not missed.
        queue.missed();
    }
    let consumed = consumed_counter(queue.name());
    let mut count_dead_letters = tokio::time::interval(DEAD_LETTERS_EVERY);
    loop {
        // Whatever is already here (up to a batch) is applied together.
        let first = tokio::select! {
            next = deliveries.next() => match next {
                Some(delivery) => delivery,
                None => return Ok(()),
            },
            _ = count_dead_letters.tick() => {
                tokio::select! {
                    () = dead_letters.refresh() => continue,
                    _ = shutdown.cancelled() => return Ok(()),
                }
            }
            _ = shutdown.cancelled() => return Ok(()),
        };
        let mut batch = Batch::default();
        batch.push(first?);
        while batch.events < MAX_BATCH {
            match deliveries.next().now_or_never() {
                Some(Some(delivery)) => batch.push(delivery?),
                _ => break,
            }
        }
        // A consumer that gathers waits a little for more (see `Queue::gathering`).
        let deadline = tokio::time::Instant::now() + queue.linger();
        while batch.events < MAX_BATCH && !queue.linger().is_zero() {
            tokio::select! {
                next = deliveries.next() => match next {
                    Some(delivery) => batch.push(delivery?),
                    None => break,
                },
                _ = tokio::time::sleep_until(deadline) => break,
                _ = shutdown.cancelled() => break,
            }
        }
        if settle(link, queue, handler, &consumed, batch, shutdown).await? {
            dead_letters.refresh().await;
        }
        if shutdown.is_cancelled() {
            // A batch left unacknowledged must stay so: a later batch's acknowledgement
            // (`multiple`) would cover it too.
            return Ok(());
        }
    }
}

/// Declares this instance's fan-out queue and binds it; true when it existed already (so
/// nothing routed to it was lost while this instance was away).
///
/// The queue is durable and not exclusive, so it outlives a lost connection and a broker
/// restart; `x-expires` deletes it once unused for [`super::FANOUT_EXPIRES`] (its instance is
/// gone for good).
async fn declare_fanout(
    connection: &Connection,
    name: &str,
    events: &[gochat_proto::events::EventKind],
) -> lapin::Result<bool> {
    let existed = queue_exists(connection, name).await?;
    let channel = connection.create_channel().await?;
    let mut arguments = FieldTable::default();
    let expires = i32::try_from(super::FANOUT_EXPIRES.as_millis()).unwrap_or(i32::MAX);
    arguments.insert("x-expires".into(), AMQPValue::LongInt(expires));
    let options = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel.queue_declare(name.into(), options, arguments).await?;
    for kind in events {
        channel
            .queue_bind(
                name.into(),
                kind.exchange().name().into(),
                kind.routing_key().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    let _ = channel.close(200, "declared".into()).await;
    Ok(existed)
}

/// Whether `queue` exists (a passive declaration, which needs no permission on it).
async fn queue_exists(connection: &Connection, queue: &str) -> lapin::Result<bool> {
    let channel = connection.create_channel().await?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    match channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
    {
        Ok(_) => {
            let _ = channel.close(200, "checked".into()).await;
            Ok(true)
        }
        Err(e) if reply_code(&e) == Some(NOT_FOUND) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The error of a request the broker did not answer within [`ANSWER_WITHIN`].
fn no_answer(what: &str) -> lapin::Error {
    lapin::Error::from(std::io::Error::other(format!(
        "RabbitMQ did not answer {what} within {ANSWER_WITHIN:?}"
    )))
}

/// The AMQP reply code of a channel or connection error the broker sent.
fn reply_code(error: &lapin::Error) -> Option<u16> {
    match error.kind() {
        ErrorKind::ProtocolError(e) => Some(e.get_id()),
        _ => None,
    }
}

/// The `gochat_dead_letters` gauge of a shared queue: the depth of `<queue>.dead`, read on a
/// channel of its own (a failure there must not stop the consumer).
struct DeadLetterGauge {
    probe: Option<(Channel, String, metrics::Gauge)>,
}

impl DeadLetterGauge {
    async fn new(link: &Link, queue: &Queue) -> Self {
        let probe = match queue {
            Queue::Shared { queue, .. } => match link.connection.create_channel().await {
                Ok(channel) => Some((
                    channel,
                    dead_letter_queue(queue.name),
                    metrics::gauge!("gochat_dead_letters", "queue" => queue.name),
                )),
                Err(e) => {
                    tracing::warn!(queue = queue.name, error = %e, "cannot count dead letters");
                    None
                }
            },
            Queue::Fanout { .. } => None,
        };
        Self { probe }
    }

    async fn refresh(&mut self) {
        let Some((channel, dead, gauge)) = &self.probe else {
            return;
        };
        let passive = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        match channel
            .queue_declare(dead.as_str().into(), passive, FieldTable::default())
            .await
        {
            Ok(q) => gauge.set(f64::from(q.message_count())),
            Err(e) => {
                tracing::warn!(queue = %dead, error = %e, "cannot count dead letters");
                self.probe = None;
            }
        }
    }
}

/// Deliveries taken together, and their events (a delivery holds one, or a bundle of them).
#[derive(Default)]
struct Batch {
    deliveries: Vec<(Delivery, Vec<bundle::Item>)>,
    /// Events in all of them: a batch is bounded by its events, not its deliveries.
    events: usize,
}

impl Batch {
    fn push(&mut self, delivery: Delivery) {
        let items = bundle::decode(&delivery.data);
        self.events += items.len();
        self.deliveries.push((delivery, items));
    }
}

/// Applies a batch of deliveries, dead-letters the events that can never be applied (each
/// published alone to the dead-letter exchange with a confirm: a dead letter is never
/// dropped), then acknowledges the whole batch at once. True when something was dead-lettered.
/// A batch the consumer stopped applying is left unacknowledged whole: the broker delivers it
/// again once this channel closes, and what was applied of it is applied again idempotently.
async fn settle(
    link: &Link,
    queue: &Queue,
    handler: &Handler,
    consumed: &metrics::Counter,
    batch: Batch,
    stopping: &CancellationToken,
) -> lapin::Result<bool> {
    let mut decoded = Vec::with_capacity(batch.events);
    // Each event with the delivery it came in, and whether it came alone.
    let mut events = Vec::with_capacity(batch.events);
    let mut deliveries = Vec::with_capacity(batch.deliveries.len());
    for (delivery, items) in batch.deliveries {
        let alone = items.len() == 1;
        for item in items {
            if let bundle::Item::Event(envelope) = &item {
                decoded.push(envelope.clone());
            }
            if let bundle::Item::Undecodable { reason, .. } = &item {
                tracing::error!(queue = queue.name(), error = %reason, "undecodable event; dead-lettered");
                dead_lettered(queue.name());
            }
            events.push((deliveries.len(), alone, item));
        }
        deliveries.push(delivery);
    }
    let fates = deliver(handler, decoded, queue.name(), consumed, stopping).await;
    if fates.contains(&Disposition::Left) {
        return Ok(false);
    }
    let mut fates = fates.into_iter();
    let mut any_dead = false;
    for (at, alone, item) in events {
        let delivery = &deliveries[at];
        let (reason, letter) = match item {
            bundle::Item::Undecodable { body, reason } => (reason, Letter::new(body, &delivery.properties)),
            bundle::Item::Event(envelope) => {
                let fate = fates
                    .next()
                    .unwrap_or_else(|| Disposition::DeadLetter("no disposition".into()));
                let Disposition::DeadLetter(reason) = fate else {
                    continue;
                };
                // An event that came alone is kept as it came; one of a bundle as its envelope.
                let letter = if alone {
                    Letter::new(delivery.data.clone(), &delivery.properties)
                } else {
                    Letter::of_bundled(&envelope, &delivery.properties)
                };
                (reason, letter)
            }
        };
        // A fan-out queue's events are pushes to this instance's sockets: nothing to keep once
        // they cannot be pushed.
        let Queue::Shared { queue, .. } = queue else {
            continue;
        };
        let confirm = link
            .publisher
            .basic_publish(
                DEAD_LETTER_EXCHANGE.into(),
                queue.name.into(),
                BasicPublishOptions::default(),
                &letter.body,
                with_reason(&letter.properties, queue.name, &reason),
            )
            .await?;
        match confirm.await? {
            Confirmation::Ack(_) => any_dead = true,
            _ => {
                // Not kept: leave it unacknowledged, so the broker delivers it again after
                // this channel closes.
                return Err(lapin::Error::from(std::io::Error::other("dead letter not confirmed")));
            }
        }
    }
    if let Some(last) = deliveries.last() {
        last.ack(BasicAckOptions { multiple: true }).await?;
    }
    Ok(any_dead)
}

/// What is dead-lettered for one event: its body and the properties it is published with.
struct Letter {
    body: Vec<u8>,
    properties: BasicProperties,
}

impl Letter {
    fn new(body: Vec<u8>, properties: &BasicProperties) -> Self {
        Self {
            body,
            properties: properties.clone(),
        }
    }

    /// An event of a bundle, as it would have been published alone.
    fn of_bundled(envelope: &Envelope, properties: &BasicProperties) -> Self {
        Self {
            body: envelope.to_json().unwrap_or_default(),
            properties: properties.clone().with_message_id(envelope.id.to_string().into()),
        }
    }
}

/// Header names of a dead letter: its queue, why it could not be applied, and when.
pub(super) const REASON_HEADER: &str = "x-gochat-reason";
pub(super) const QUEUE_HEADER: &str = "x-gochat-queue";
pub(super) const DEAD_AT_HEADER: &str = "x-gochat-dead-at";
/// Longest reason kept in a header.
const MAX_REASON: usize = 1000;

fn with_reason(properties: &BasicProperties, queue: &str, reason: &str) -> BasicProperties {
    let mut headers = properties.headers().clone().unwrap_or_default();
    let mut reason = reason.to_owned();
    if reason.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    headers.insert(REASON_HEADER.into(), AMQPValue::LongString(LongString::from(reason)));
    headers.insert(QUEUE_HEADER.into(), AMQPValue::LongString(LongString::from(queue)));
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    headers.insert(DEAD_AT_HEADER.into(), AMQPValue::Timestamp(now));
    properties.clone().with_headers(headers).with_delivery_mode(PERSISTENT)
}

/// Keeps a connection up for the life of the process.
async fn supervise(
    url: String,
    tls: Tls,
    name: String,
    announce: watch::Sender<Option<Link>>,
    publishers: TaskTracker,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::new(Duration::from_millis(200), RECONNECT_AT_MOST_EVERY);
    loop {
        let attempt = tokio::time::timeout(ANSWER_WITHIN, connect(&url, &tls, &name));
        let attempt = attempt
            .await
            .unwrap_or_else(|_| Err(no_answer("the connection and its topology").into()));
        let pause = match attempt {
            Ok(link) => {
                tracing::info!("connected to RabbitMQ");
                backoff.reset();
                let mut events = link.connection.events_listener();
                announce.send_replace(Some(link.clone()));
                let mut check = tokio::time::interval(CHECK_EVERY);
                check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                // Whether the connection is still open, to be closed.
                let open = loop {
                    tokio::select! {
                        event = events.next() => match event {
                            Some(lapin::Event::Error(e)) if !link.connection.status().connected() => {
                                tracing::warn!(error = %e, "RabbitMQ connection lost");
                                break false;
                            }
                            // A channel's error (a queue that is not there, a refused publish) is
                            // reported here too; the channel's user deals with it, unless it is
                            // the publishing channel, which only a new connection replaces.
                            Some(lapin::Event::Error(e)) if !link.publisher.status().connected() => {
                                tracing::warn!(error = %e, "RabbitMQ closed the publishing channel; reconnecting");
                                break true;
                            }
                            Some(_) => continue,
                            None => break true,
                        },
                        _ = link.broken.notified() => {
                            tracing::warn!("RabbitMQ closed the publishing channel; reconnecting");
                            break true;
                        }
                        // What no event told: a connection that died before it was listened to,
                        // a publishing channel closed without an error, found before the next
                        // publish would find it (none may come: an idle relay, or one waiting
                        // for confirms that the dead channel will never send).
                        _ = check.tick() => {
                            if !link.connection.status().connected() {
                                tracing::warn!("RabbitMQ connection found closed; reconnecting");
                                break false;
                            }
                            if !link.publisher.status().connected() {
                                tracing::warn!("the publishing channel was found closed; reconnecting");
                                break true;
                            }
                        }
                        _ = shutdown.cancelled() => {
                            // Let the relays flush (they give up on their own after a grace
                            // period), then close politely.
                            publishers.close();
                            let _ = tokio::time::timeout(FLUSH_WAIT, publishers.wait()).await;
                            let closing = link.connection.close(200, "shutting down".into());
                            let _ = tokio::time::timeout(FLUSH_WAIT, closing).await;
                            announce.send_replace(None);
                            link.given_up.cancel();
                            return;
                        }
                    }
                };
                // Withdrawn before anything else, so that nothing new starts on this link; then
                // whatever still waits on it stops waiting, and only then is it closed, for at
                // most as long as the broker takes to answer (a close that is never answered
                // kept this supervisor, and the dead link with it, for good).
                announce.send_replace(None);
                link.given_up.cancel();
                if open {
                    let closing = link.connection.close(200, "publishing channel closed".into());
                    if tokio::time::timeout(ANSWER_WITHIN, closing).await.is_err() {
                        tracing::warn!("RabbitMQ did not answer closing the connection; leaving it");
                    }
                }
                backoff.next_pause()
            }
            Err(e) => {
                let pause = backoff.next_pause();
                tracing::warn!(error = %e, retry_in = ?pause, "cannot reach RabbitMQ");
                pause
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Opens a connection to `url`, trusting `tls`'s certificates besides the public roots.
pub(super) async fn open(url: &str, tls: &Tls, name: &str) -> lapin::Result<Connection> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    let config = lapin::tcp::OwnedTLSConfig {
        identity: None,
        cert_chain: tls.ca_pem.clone(),
    };
    Connection::connect_with_config(url, properties, config, lapin::runtime::default_runtime()?).await
}

async fn connect(url: &str, tls: &Tls, name: &str) -> Result<Link, BusError> {
    let connection = open(url, tls, name).await?;
    declare_topology(&connection).await?;
    let channel = connection.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    Ok(Link {
        connection: Arc::new(connection),
        publisher: channel,
        broken: Arc::new(Notify::new()),
        given_up: CancellationToken::new(),
    })
}

/// Declares the shared topology, or, when this account may not, checks that it exists.
async fn declare_topology(connection: &Connection) -> Result<(), BusError> {
    let channel = connection.create_channel().await?;
    match declare_shared(&channel).await {
        Ok(()) => {
            let _ = channel.close(200, "declared".into()).await;
            return Ok(());
        }
        Err(e) if reply_code(&e) == Some(ACCESS_REFUSED) => {
            tracing::debug!("this broker account may not declare the shared topology; checking that it exists");
        }
        Err(e) => return Err(e.into()),
    }
    let channel = connection.create_channel().await?;
    let exchanges = Exchange::ALL.iter().map(|e| e.name()).chain([DEAD_LETTER_EXCHANGE]);
    for exchange in exchanges {
        let passive = ExchangeDeclareOptions {
            passive: true,
            ..Default::default()
        };
        channel
            .exchange_declare(exchange.into(), ExchangeKind::Topic, passive, FieldTable::default())
            .await
            .map_err(|e| missing(e, format!("the exchange {exchange}")))?;
    }
    for queue in SHARED_QUEUES {
        for name in [queue.name.to_owned(), dead_letter_queue(queue.name)] {
            let passive = QueueDeclareOptions {
                passive: true,
                ..Default::default()
            };
            channel
                .queue_declare(name.as_str().into(), passive, FieldTable::default())
                .await
                .map_err(|e| missing(e, format!("the queue {name}")))?;
        }
    }
    let _ = channel.close(200, "checked".into()).await;
    Ok(())
}

fn missing(error: lapin::Error, what: String) -> BusError {
    if reply_code(&error) == Some(NOT_FOUND) {
        BusError::Missing(what)
    } else {
        error.into()
    }
}

/// Declares exchanges, shared queues, dead-letter queues and bindings. Idempotent.
async fn declare_shared(channel: &Channel) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let exchanges = Exchange::ALL.iter().map(|e| e.name()).chain([DEAD_LETTER_EXCHANGE]);
    for exchange in exchanges {
        channel
            .exchange_declare(exchange.into(), ExchangeKind::Topic, durable, FieldTable::default())
            .await?;
    }
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    for queue in SHARED_QUEUES {
        let dead = dead_letter_queue(queue.name);
        channel
            .queue_declare(queue.name.into(), durable, FieldTable::default())
            .await?;
        channel
            .queue_declare(dead.as_str().into(), durable, FieldTable::default())
            .await?;
        channel
            .queue_bind(
                dead.as_str().into(),
                DEAD_LETTER_EXCHANGE.into(),
                queue.name.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
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
