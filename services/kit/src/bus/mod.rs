//! The event bus: one interface over RabbitMQ or an in-process broker with the same semantics.
//!
//! - Topic exchanges route by event type; durable shared queues (see `gochat_proto::topology`)
//!   are consumed by competing instances; each instance also has its own fan-out queue.
//! - A publish resolves its confirm once the event is safe: the broker's publisher confirm, or,
//!   in process, once every durable queue's consumer has acknowledged it (the in-process broker
//!   keeps nothing on disk, so the producer's outbox row stays until then).
//! - A consumer acknowledges only after its handler returned `Ok` (which, for handlers that change
//!   state, means after their commit). A failing handler is retried in place with backoff, then
//!   the event goes to the queue's dead letters, never into a hot loop: `<queue>.dead` on
//!   RabbitMQ, the consuming service's own database in process ([`dead_letters`]). Either way
//!   the event is acknowledged once its dead letter is safe, and an operator lists and requeues
//!   dead letters with `gochat dead-letters`.
//! - Per-instance fan-out queues outlive a lost connection (for [`FANOUT_EXPIRES`]), so what
//!   is routed while an instance reconnects waits for it; when one had to be created afresh
//!   (it expired, or the broker lost it), its owner is told it may have missed events.
//!
//! Layout: `amqp` and `memory` are the two transports; [`dead_letters`] keeps, lists and
//! requeues dead letters; [`accounts`] derives each service's broker permissions from the
//! topology.

pub mod accounts;
mod amqp;
pub mod dead_letters;
mod memory;

pub use amqp::{BrokerDeadLetter, list_dead_letters, requeue_dead_letters};

use crate::backoff::Backoff;
use crate::db::{Db, DbError, Write, storage_unavailable};
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
/// The longest pause between attempts while the consumer's own storage fails: a disk given
/// room again carries the held events on within seconds, and an attempt costs a transaction.
const MAX_STORAGE_BACKOFF: Duration = Duration::from_secs(5);
/// How long the storage may fail before that is logged as an error: about as long as an
/// event's attempts last.
const STORAGE_ALARM: Duration = Duration::from_secs(120);
/// How often that error is logged again while it lasts.
const ALARM_EVERY: Duration = Duration::from_secs(60);
/// Events a consumer may hold unacknowledged, and the most it applies as one batch.
const PREFETCH: u16 = 128;
const MAX_BATCH: usize = PREFETCH as usize;
/// How long a fan-out queue outlives its instance's connection: a broker restart or a network
/// blip is well within it; an instance gone for good leaves no queue behind for longer.
pub const FANOUT_EXPIRES: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("not connected to the broker")]
    NotConnected,
    #[error("the broker refused the event")]
    Nacked,
    #[error("the connection to the broker was given up before the broker answered")]
    GivenUp,
    #[error("the broker did not confirm the event within {0:?}")]
    NotConfirmed(Duration),
    /// The bundle the event was gathered into failed so (see `record`): its error, as text, is
    /// every event's of the bundle.
    #[error("its bundle was not published: {0}")]
    Bundle(String),
    #[error("the broker does not have {0}: import the definitions of `gochat rabbitmq-setup`")]
    Missing(String),
    #[error(transparent)]
    Amqp(#[from] lapin::Error),
}

/// Resolves when the published event is safe. `Sync` so a relay holding many of them can be
/// spawned on the multi-threaded runtime.
pub type Confirm = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), BusError>> + Send + Sync>>;

type EachFn = dyn Fn(Arc<Envelope>) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync;
type BatchFn = dyn Fn(Vec<Arc<Envelope>>) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync;

/// What a consumer does with the events of its queue. `Err` means "try again later", except
/// for an event that cannot be decoded, which no retry will fix: it is dead-lettered at once.
#[derive(Clone)]
pub enum Handler {
    /// Applies one event at a time.
    Each(Arc<EachFn>),
    /// Applies whatever arrived together as one unit (one transaction): a burst costs one
    /// commit. When a batch fails, its events are retried one by one, so one bad event never
    /// holds the others back.
    Batch(Arc<BatchFn>),
}

/// Wraps an async function of one event as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Arc<Envelope>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    Handler::Each(Arc::new(move |envelope| Box::pin(f(envelope))))
}

/// A handler that applies each batch of events to `db` in one write job: decoding, `apply`
/// and the events it publishes commit together, and the deliveries are acknowledged only after
/// that commit. For effects that are idempotent by their natural keys (a unique row, a
/// monotonic watermark): no inbox row is written, so a redelivery that changes nothing costs a
/// transaction that writes nothing. Before taking a batch it waits while `db`'s outbox holds
/// too many unconfirmed events, so a slow downstream consumer slows this one down instead of
/// growing its backlog. An event that `apply` refuses ([`Write::mark_refused`]) is marked so on
/// its envelope once the write commits, before it is acknowledged: a publisher in this process
/// learns it with the event's confirm ([`crate::record::Outcome`]).
pub fn applying_idempotent<F>(db: Db, writes: Writes, apply: F) -> Handler
where
    F: Fn(&mut Write<'_>, Event) -> rusqlite::Result<()> + Send + Sync + 'static,
{
    apply_in_transaction(db, writes, |_| false, apply)
}

/// Like [`applying_idempotent`], with an inbox row for the kinds in `once`, which are not
/// idempotent by nature (an edit, a reaction): a redelivered one (same id) changes nothing.
pub fn applying_once<F>(db: Db, writes: Writes, once: &'static [EventKind], apply: F) -> Handler
where
    F: Fn(&mut Write<'_>, Event) -> rusqlite::Result<()> + Send + Sync + 'static,
{
    apply_in_transaction(db, writes, move |kind| once.contains(&kind), apply)
}

/// Where a consumer's write jobs run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writes {
    /// On the database's writer thread, committed with whatever else is queued.
    OnTheWriter,
    /// A batch of at most [`Writes::FEW`] events on the consumer's own async worker when the
    /// writer is idle ([`Db::write_here`]), otherwise on the writer: for the message path,
    /// where every event is a short transaction and an idle server's messages come one at a
    /// time. Not for events that each write much (a notification per member of a group).
    HereWhenIdle,
}

impl Writes {
    /// The most events a batch written here holds: a few tenths of a millisecond of a worker.
    pub const FEW: usize = 4;
}

fn apply_in_transaction<I, F>(db: Db, writes: Writes, inbox: I, apply: F) -> Handler
where
    I: Fn(EventKind) -> bool + Send + Sync + 'static,
    F: Fn(&mut Write<'_>, Event) -> rusqlite::Result<()> + Send + Sync + 'static,
{
    let (inbox, apply) = (Arc::new(inbox), Arc::new(apply));
    Handler::Batch(Arc::new(move |batch| {
        let (db, inbox, apply) = (db.clone(), inbox.clone(), apply.clone());
        Box::pin(async move {
            let events = batch
                .into_iter()
                .map(|envelope| Ok((envelope.event()?, envelope)))
                .collect::<Result<Vec<_>, serde_json::Error>>()?;
            db.outbox_room().await;
            let here = writes == Writes::HereWhenIdle && events.len() <= Writes::FEW;
            let write = move |w: &mut Write<'_>| -> Result<(), DbError> {
                for (event, envelope) in events {
                    if !inbox(envelope.kind) || w.first_delivery(envelope.id)? {
                        apply(w, event)?;
                        if w.take_refused() {
                            // Before the acknowledgement, so before the publisher's confirm.
                            w.after_commit(move || envelope.mark_refused());
                        }
                    }
                }
                Ok(())
            };
            if here {
                db.write_here(write).await?;
            } else {
                db.write(write).await?;
            }
            Ok(())
        })
    }))
}

/// Told that a fan-out queue may have missed events (see [`Queue::when_missed`]).
pub type Missed = Arc<dyn Fn() + Send + Sync>;

/// Which queue a consumer reads.
pub enum Queue {
    /// A durable queue of the topology, shared by every instance of a service. In process, its
    /// dead letters are kept in `dead_letters`, the consuming service's database.
    Shared {
        queue: &'static SharedQueue,
        dead_letters: Db,
        linger: Duration,
    },
    /// This instance's own queue for `events`, gone some time after the instance.
    Fanout {
        name: String,
        events: &'static [EventKind],
        missed: Option<Missed>,
        awaited: bool,
    },
}

impl Queue {
    /// The shared queue `queue`, whose consumer keeps its dead letters in `db` (in process).
    pub fn shared(queue: &'static SharedQueue, db: &Db) -> Self {
        Self::Shared {
            queue,
            dead_letters: db.clone(),
            linger: Duration::ZERO,
        }
    }

    /// Lets the consumer wait up to `linger` after an event for more to apply with it (up to a
    /// full batch): for a consumer off everyone's critical path, whose commits then each cost
    /// one transaction for many events even when they come one at a time.
    pub fn gathering(mut self, linger: Duration) -> Self {
        if let Self::Shared { linger: slot, .. } = &mut self {
            *slot = linger;
        }
        self
    }

    /// How long a consumer waits for more events after one (see [`Queue::gathering`]).
    pub fn linger(&self) -> Duration {
        match self {
            Self::Shared { linger, .. } => *linger,
            Self::Fanout { .. } => Duration::ZERO,
        }
    }

    /// The fan-out queue of `service` on `instance` for one `purpose` (a service may have several).
    pub fn fanout(service: &str, instance: &str, purpose: &str, events: &'static [EventKind]) -> Self {
        Self::Fanout {
            name: format!("{service}.{instance}.{purpose}"),
            events,
            missed: None,
            awaited: false,
        }
    }

    /// In process, makes the confirms of events routed to this fan-out queue wait until its
    /// consumer has handled them, as they wait for every shared queue's: for a queue whose
    /// events must be applied by every service before their publisher answers (a revoked
    /// session is refused everywhere once signing out is answered). Over RabbitMQ a confirm
    /// means the broker has the event, whatever the queue.
    pub fn awaited(mut self) -> Self {
        if let Self::Fanout { awaited, .. } = &mut self {
            *awaited = true;
        }
        self
    }

    /// Whether a publisher's confirm waits for this queue's consumer (in process).
    pub(crate) fn is_awaited(&self) -> bool {
        match self {
            Self::Shared { .. } => true,
            Self::Fanout { awaited, .. } => *awaited,
        }
    }

    /// Calls `missed` whenever this fan-out queue had to be created while the instance was
    /// running: events routed while it did not exist are lost to it, so whatever it keeps in
    /// step from them (open sockets) must catch up another way.
    pub fn when_missed(mut self, missed: impl Fn() + Send + Sync + 'static) -> Self {
        if let Self::Fanout { missed: slot, .. } = &mut self {
            *slot = Some(Arc::new(missed));
        }
        self
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Shared { queue, .. } => queue.name,
            Self::Fanout { name, .. } => name,
        }
    }

    pub fn events(&self) -> &'static [EventKind] {
        match self {
            Self::Shared { queue, .. } => queue.events,
            Self::Fanout { events, .. } => events,
        }
    }

    pub fn durable(&self) -> bool {
        matches!(self, Self::Shared { .. })
    }

    /// Tells the owner of a fan-out queue that it may have missed events.
    fn missed(&self) {
        if let Self::Fanout {
            name,
            missed: Some(missed),
            ..
        } = self
        {
            tracing::warn!(queue = %name, "fan-out queue was created afresh: events routed before may be missed");
            missed();
        }
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
    /// `tls`: how to trust an `amqps://` broker (see [`Tls`]).
    pub fn rabbitmq(url: &str, tls: Tls, name: &str, tasks: &TaskTracker, shutdown: CancellationToken) -> Self {
        Self::Amqp(amqp::AmqpBus::start(url, tls, name, tasks, shutdown))
    }

    /// Publishes an event; returns once it is handed to the transport (so successive publishes
    /// keep their order), with a future that resolves when it is safe.
    pub async fn publish(&self, envelope: Arc<Envelope>, json: Vec<u8>) -> Result<Confirm, BusError> {
        match self {
            Self::Memory(bus) => Ok(bus.publish(envelope).await),
            Self::Amqp(bus) => bus.publish(&[(envelope, json)]).await,
        }
    }

    /// Publishes events of one kind, in order, as one unit of at most [`Bus::bundle_limit`];
    /// the confirm resolves once every one of them is safe.
    pub async fn publish_all(&self, events: Vec<(Arc<Envelope>, Vec<u8>)>) -> Result<Confirm, BusError> {
        match self {
            Self::Memory(bus) => {
                let mut confirms = Vec::with_capacity(events.len());
                for (envelope, _) in events {
                    confirms.push(bus.publish(envelope).await);
                }
                if confirms.len() == 1 {
                    return Ok(confirms.pop().expect("one"));
                }
                Ok(Box::pin(async move {
                    for confirm in confirms {
                        confirm.await?;
                    }
                    Ok(())
                }))
            }
            Self::Amqp(bus) => bus.publish(&events).await,
        }
    }

    /// How many events of one kind [`Bus::publish_all`] should be given at once. Over RabbitMQ,
    /// a bundle is one message, whose cost to the broker hardly depends on its size (see
    /// `amqp::bundle`). In process each event is routed on its own anyway, and a bundle would
    /// only make the first event's confirm wait for the last one's consumers.
    pub fn bundle_limit(&self) -> BundleLimit {
        match self {
            Self::Memory(_) => BundleLimit { events: 1, bytes: 0 },
            Self::Amqp(_) => BundleLimit {
                events: amqp::BUNDLE_MAX_EVENTS,
                bytes: amqp::BUNDLE_MAX_BYTES,
            },
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
        metrics::describe_counter!(
            "gochat_events_dead_lettered_total",
            "Events dead-lettered by this process's consumers"
        );
        metrics::describe_gauge!(
            "gochat_dead_letters",
            "Dead letters waiting for an operator (`gochat dead-letters`), by queue"
        );
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

    /// Connected, and every consumer started is consuming (over RabbitMQ: its queue is bound
    /// and its channel set up). What readiness asks.
    pub fn is_consuming(&self) -> bool {
        match self {
            Self::Memory(_) => true,
            Self::Amqp(bus) => bus.is_consuming(),
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

/// The most events, and bytes of their envelopes, that one [`Bus::publish_all`] takes; a lone
/// event is taken whatever its size.
#[derive(Clone, Copy, Debug)]
pub struct BundleLimit {
    pub events: usize,
    pub bytes: usize,
}

impl BundleLimit {
    /// Whether an event of `kind`, `len` bytes long, joins a bundle of `events` events of
    /// `bundled` holding `bytes` bytes: of one kind (routed alike) and within the limit.
    pub fn admits(&self, bundled: EventKind, events: usize, bytes: usize, kind: EventKind, len: usize) -> bool {
        kind == bundled && events < self.events && bytes + len <= self.bytes
    }
}

/// How a broker with a self-signed certificate is trusted over `amqps://`.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    /// PEM certificates (a private CA) trusted besides the usual public roots.
    pub ca_pem: Option<String>,
}

/// What became of a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Disposition {
    Ack,
    /// Kept aside for an operator, with why.
    DeadLetter(String),
    /// Not applied before the consumer stopped: left unacknowledged, so it comes again (from
    /// the broker, or in process from its publisher's outbox at the next start).
    Left,
}

impl Disposition {
    fn is_ack(&self) -> bool {
        matches!(self, Self::Ack)
    }
}

/// Applies a batch with `handler`; one disposition per event, in order. Shared by both
/// transports so they cannot differ in how failures are treated.
async fn deliver(
    handler: &Handler,
    batch: Vec<Arc<Envelope>>,
    queue: &str,
    consumed: &metrics::Counter,
    stopping: &CancellationToken,
) -> Vec<Disposition> {
    let count = batch.len();
    let dispositions = match handler {
        Handler::Batch(apply) if count > 1 => match apply(batch.clone()).await {
            Ok(()) => vec![Disposition::Ack; count],
            Err(e) => {
                tracing::warn!(
                    queue,
                    events = count,
                    error = format!("{e:#}"),
                    "batch failed; applying its events one by one"
                );
                one_by_one(batch, queue, stopping, |e| apply(vec![e])).await
            }
        },
        Handler::Batch(apply) => one_by_one(batch, queue, stopping, |e| apply(vec![e])).await,
        Handler::Each(apply) => one_by_one(batch, queue, stopping, |e| apply(e)).await,
    };
    let acked = dispositions.iter().filter(|d| d.is_ack()).count();
    consumed.increment(acked as u64);
    dispositions
}

async fn one_by_one<F>(
    batch: Vec<Arc<Envelope>>,
    queue: &str,
    stopping: &CancellationToken,
    attempt: F,
) -> Vec<Disposition>
where
    F: Fn(Arc<Envelope>) -> BoxFuture<'static, anyhow::Result<()>>,
{
    let mut dispositions = Vec::with_capacity(batch.len());
    for envelope in batch {
        // Once one is left, so are the rest: they would only be tried while stopping.
        let disposition = match dispositions.last() {
            Some(Disposition::Left) => Disposition::Left,
            _ => retrying(envelope, queue, stopping, &attempt).await,
        };
        dispositions.push(disposition);
    }
    dispositions
}

/// Runs `attempt` on one event with backoff: until it succeeds, until it has failed
/// [`MAX_ATTEMPTS`] times (then it is dead-lettered), or until the consumer stops (then it is
/// left). Failures of the consumer's own database or disk ([`storage_unavailable`]) are not the
/// event's: they are retried as long as they last and never dead-letter it, so a disk that
/// filled up for an hour delays messages by an hour and loses none, and needs no operator to
/// requeue them once it has room again (they are tried at least every [`MAX_STORAGE_BACKOFF`]).
async fn retrying<F>(envelope: Arc<Envelope>, queue: &str, stopping: &CancellationToken, attempt: &F) -> Disposition
where
    F: Fn(Arc<Envelope>) -> BoxFuture<'static, anyhow::Result<()>>,
{
    let mut backoff = Backoff::new(Duration::from_millis(100), MAX_BACKOFF);
    let mut storage_backoff = Backoff::new(Duration::from_millis(100), MAX_STORAGE_BACKOFF);
    let mut failed = 0;
    let mut unavailable_since = None;
    let mut last_alarm: Option<tokio::time::Instant> = None;
    let reason = loop {
        let pause = match attempt(envelope.clone()).await {
            Ok(()) => return Disposition::Ack,
            Err(e) if is_poison(&e) => {
                tracing::error!(queue, event = %envelope.id, kind = ?envelope.kind, error = format!("{e:#}"),
                    "event cannot be decoded; dead-lettered");
                break format!("cannot be decoded: {e:#}");
            }
            Err(e) if storage_unavailable(&e) => {
                // An error once it has lasted as long as an event's attempts, then once a
                // minute: an operator should look (a full disk does not empty itself).
                let since = *unavailable_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= STORAGE_ALARM {
                    if last_alarm.is_none_or(|at| at.elapsed() >= ALARM_EVERY) {
                        last_alarm = Some(tokio::time::Instant::now());
                        tracing::error!(queue, event = %envelope.id, error = format!("{e:#}"),
                            "the consumer's database is still unavailable; retrying until it is back");
                    }
                } else {
                    tracing::warn!(queue, event = %envelope.id, error = format!("{e:#}"),
                        "the consumer's database is unavailable; retrying until it is back");
                }
                storage_backoff.next_pause()
            }
            Err(e) => {
                failed += 1;
                if failed == MAX_ATTEMPTS {
                    tracing::error!(queue, event = %envelope.id, kind = ?envelope.kind, error = format!("{e:#}"),
                        "event failed every attempt; dead-lettered");
                    break format!("failed {MAX_ATTEMPTS} attempts: {e:#}");
                }
                tracing::warn!(queue, event = %envelope.id, attempt = failed, error = format!("{e:#}"), "event handler failed; retrying");
                backoff.next_pause()
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stopping.cancelled() => return Disposition::Left,
        }
    };
    dead_lettered(queue);
    Disposition::DeadLetter(reason)
}

/// Counts a dead letter of `queue`.
fn dead_lettered(queue: &str) {
    metrics::counter!("gochat_events_dead_lettered_total", "queue" => queue.to_owned()).increment(1);
}

/// An event whose payload does not decode will not decode on the next attempt either.
fn is_poison(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<serde_json::Error>())
}
