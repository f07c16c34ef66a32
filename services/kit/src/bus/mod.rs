//! The event bus: one interface over RabbitMQ or an in-process broker with the same semantics.
//!
//! - Topic exchanges route by event type; durable shared queues (see `gochat_proto::topology`)
//!   are consumed by competing instances; each instance also has its own fan-out queue.
//! - A publish resolves its confirm once the event is safe: the broker's publisher confirm, or,
//!   in process, once every durable queue's consumer has acknowledged it (the in-process broker
//!   keeps nothing on disk, so the producer's outbox row stays until then).
//! - A consumer acknowledges only after its handler returned `Ok` (which, for handlers that change
//!   state, means after their commit). A failing handler is retried in place with backoff, then
//!   the event goes to the queue's dead letters, never into a hot loop.

mod amqp;
mod memory;

use crate::db::{Db, DbError, Write};
use futures_util::future::BoxFuture;
use gochat_proto::events::{Envelope, Event, EventData, EventKind};
use gochat_proto::topology::SharedQueue;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TrackedFuture;

/// Attempts a handler gets for one event before it is dead-lettered, and the longest pause
/// between two: about two minutes in all, so a database or disk hiccup is outlived.
const MAX_ATTEMPTS: u32 = 12;
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Events a consumer may hold unacknowledged.
const PREFETCH: u16 = 64;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("not connected to the broker")]
    NotConnected,
    #[error("the broker refused the event")]
    Nacked,
    #[error(transparent)]
    Amqp(#[from] lapin::Error),
}

/// Resolves when the published event is safe. `Sync` so a relay holding many of them can be
/// spawned on the multi-threaded runtime.
pub type Confirm = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), BusError>> + Send + Sync>>;

/// Applies one event. `Err` means "try again later".
pub type Handler = Arc<dyn Fn(Arc<Envelope>) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// Wraps an async function as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Arc<Envelope>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    Arc::new(move |envelope| Box::pin(f(envelope)))
}

/// A handler that applies each event once to `db`: the inbox check, `apply` and the events it
/// publishes commit in one transaction, and the delivery is acknowledged only after that commit.
/// A redelivered event (same id) changes nothing.
pub fn applying<F>(db: Db, apply: F) -> Handler
where
    F: Fn(&mut Write<'_>, Event) -> rusqlite::Result<()> + Send + Sync + 'static,
{
    apply_in_transaction(db, true, apply)
}

/// Like [`applying`], for effects that are idempotent by their natural keys (a unique row, a
/// monotonic watermark): no inbox row is written, so a redelivery that changes nothing costs a
/// transaction that writes nothing.
pub fn applying_idempotent<F>(db: Db, apply: F) -> Handler
where
    F: Fn(&mut Write<'_>, Event) -> rusqlite::Result<()> + Send + Sync + 'static,
{
    apply_in_transaction(db, false, apply)
}

fn apply_in_transaction<F>(db: Db, inbox: bool, apply: F) -> Handler
where
    F: Fn(&mut Write<'_>, Event) -> rusqlite::Result<()> + Send + Sync + 'static,
{
    let apply = Arc::new(apply);
    handler(move |envelope| {
        let (db, apply) = (db.clone(), apply.clone());
        async move {
            let event = envelope.event()?;
            let id = envelope.id;
            db.write(move |w| -> Result<(), DbError> {
                if !inbox || w.first_delivery(id)? {
                    apply(w, event)?;
                }
                Ok(())
            })
            .await?;
            Ok(())
        }
    })
}

/// Which queue a consumer reads.
pub enum Queue {
    /// A durable queue of the topology, shared by every instance of a service.
    Shared(&'static SharedQueue),
    /// This instance's own queue for `events`, gone with the instance.
    Fanout { name: String, events: &'static [EventKind] },
}

impl Queue {
    /// The fan-out queue of `service` on `instance` for one `purpose` (a service may have several).
    pub fn fanout(service: &str, instance: &str, purpose: &str, events: &'static [EventKind]) -> Self {
        Self::Fanout {
            name: format!("{service}.{instance}.{purpose}"),
            events,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Shared(q) => q.name,
            Self::Fanout { name, .. } => name,
        }
    }

    pub fn events(&self) -> &'static [EventKind] {
        match self {
            Self::Shared(q) => q.events,
            Self::Fanout { events, .. } => events,
        }
    }

    pub fn durable(&self) -> bool {
        matches!(self, Self::Shared(_))
    }
}

/// A handle to the bus. Cheap to clone.
#[derive(Clone)]
pub enum Bus {
    Memory(memory::MemoryBus),
    Amqp(amqp::AmqpBus),
}

impl Bus {
    /// The in-process broker.
    pub fn in_process() -> Self {
        Self::Memory(memory::MemoryBus::new())
    }

    /// RabbitMQ at `url`. Connects (and reconnects) in the background with backoff; until then
    /// publishes fail with [`BusError::NotConnected`] and the outbox keeps the events.
    pub fn rabbitmq(url: &str, name: &str, tasks: &TaskTracker, shutdown: CancellationToken) -> Self {
        Self::Amqp(amqp::AmqpBus::start(url, name, tasks, shutdown))
    }

    /// Publishes an event; the returned future resolves when it is safe.
    /// Publishes an event; returns once it is handed to the transport (so successive publishes
    /// keep their order), with a future that resolves when it is safe.
    pub async fn publish(&self, envelope: Arc<Envelope>, json: Vec<u8>) -> Result<Confirm, BusError> {
        match self {
            Self::Memory(bus) => Ok(bus.publish(envelope)),
            Self::Amqp(bus) => bus.publish(&envelope, json).await,
        }
    }

    /// Publishes an ephemeral event (typing, heartbeats) that no outbox keeps: lost if the bus is down.
    pub async fn publish_now<E: EventData>(&self, event: &E) -> Result<Confirm, BusError> {
        let envelope = Envelope::new(event).map_err(|_| BusError::Nacked)?;
        let json = envelope.to_json().map_err(|_| BusError::Nacked)?;
        self.publish(Arc::new(envelope), json).await
    }

    /// Publishes an ephemeral event and lets its confirm complete in the background (a dropped
    /// confirm would be kept by the AMQP client for the life of the connection). Failures are
    /// only logged: such events are either disposable (typing) or restated soon (presence).
    pub async fn publish_ephemeral<E: EventData>(&self, event: &E) {
        match self.publish_now(event).await {
            Ok(confirm) => {
                tokio::spawn(async move {
                    if let Err(e) = confirm.await {
                        tracing::debug!(error = %e, "ephemeral event not confirmed");
                    }
                });
            }
            Err(e) => tracing::debug!(error = %e, kind = ?E::KIND, "ephemeral event not sent"),
        }
    }

    /// Consumes `queue` with `handler` until `shutdown`, reconnecting as needed.
    pub fn consume(&self, queue: Queue, handler: Handler, tasks: &TaskTracker, shutdown: CancellationToken) {
        metrics::describe_counter!("gochat_events_consumed_total", "Events handled by consumers");
        match self {
            Self::Memory(bus) => bus.consume(queue, handler, tasks, shutdown),
            Self::Amqp(bus) => bus.consume(queue, handler, tasks, shutdown),
        }
    }

    /// Wraps an outbox relay so that, over RabbitMQ, a stopping process keeps its connection until
    /// the relay has flushed.
    pub fn track_publisher<F: std::future::Future>(&self, relay: F) -> TrackedFuture<F> {
        match self {
            Self::Memory(_) => TaskTracker::new().track_future(relay),
            Self::Amqp(bus) => bus.publishers().track_future(relay),
        }
    }

    pub fn is_connected(&self) -> bool {
        match self {
            Self::Memory(_) => true,
            Self::Amqp(bus) => bus.is_connected(),
        }
    }

    /// Resolves once the bus is connected.
    pub async fn connected(&self) {
        match self {
            Self::Memory(_) => {}
            Self::Amqp(bus) => bus.connected().await,
        }
    }

    /// "in-process" or "rabbitmq", for readiness reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory(_) => "in-process",
            Self::Amqp(_) => "rabbitmq",
        }
    }
}

/// The consumed-events counter of one queue (made once per consumer, not per event).
fn consumed_counter(queue: &str) -> metrics::Counter {
    metrics::counter!("gochat_events_consumed_total", "queue" => queue.to_owned())
}

/// What became of a delivery.
enum Disposition {
    Ack,
    DeadLetter,
}

/// Runs `handler` on one event with bounded retries. Shared by both transports so they cannot
/// differ in how failures are treated.
async fn deliver(handler: &Handler, envelope: Arc<Envelope>, queue: &str, consumed: &metrics::Counter) -> Disposition {
    let mut backoff = Duration::from_millis(100);
    for attempt in 1..=MAX_ATTEMPTS {
        match handler(envelope.clone()).await {
            Ok(()) => {
                consumed.increment(1);
                return Disposition::Ack;
            }
            Err(e) if attempt == MAX_ATTEMPTS => {
                tracing::error!(queue, event = %envelope.id, kind = ?envelope.kind, error = format!("{e:#}"),
                    "event failed every attempt; dead-lettered");
            }
            Err(e) => {
                tracing::warn!(queue, event = %envelope.id, attempt, error = format!("{e:#}"), "event handler failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    metrics::counter!("gochat_events_dead_lettered_total", "queue" => queue.to_owned()).increment(1);
    Disposition::DeadLetter
}
