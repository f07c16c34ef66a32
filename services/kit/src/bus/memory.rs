//! The in-process broker of the all-in-one binary: RabbitMQ's routing and queue semantics
//! without a network hop. Queues are in memory; durability comes from the producers' outboxes,
//! whose rows stay until every durable queue's consumer (and every awaited fan-out queue's,
//! see [`Queue::awaited`]) has acknowledged the event, and from
//! the consumers' databases, which keep what they can never apply as dead letters.

use super::{Confirm, Disposition, Handler, MAX_BATCH, Queue, consumed_counter, dead_letters, deliver};
use crate::backoff::Backoff;
use gochat_proto::events::{Envelope, EventKind};
use gochat_proto::topology::SHARED_QUEUES;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};

/// Events a durable queue holds before its publishers wait: the bound that turns a slow
/// consumer into slower publishers (and, through chat, slower senders) instead of a queue that
/// grows without limit.
const DURABLE_CAPACITY: usize = 1024;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

struct Inner {
    queues: RwLock<HashMap<String, Arc<MemQueue>>>,
    /// Queues bound to each event type.
    routes: RwLock<HashMap<EventKind, Vec<Arc<MemQueue>>>>,
}

struct MemQueue {
    name: String,
    durable: bool,
    /// Publishers' confirms wait for this queue's acknowledgements (see [`Queue::awaited`]).
    awaited: bool,
    items: Mutex<VecDeque<Item>>,
    ready: Notify,
    /// Durable queues: a permit per event the queue may still take.
    room: Option<Arc<Semaphore>>,
}

struct Item {
    envelope: Arc<Envelope>,
    /// Set for awaited queues: the publisher's confirm waits for this acknowledgement.
    ack: Option<Arc<PendingAcks>>,
    /// The item's place in a bounded queue, given back when the item is dropped.
    _room: Option<OwnedSemaphorePermit>,
}

/// Acknowledgements still owed for one publish; the confirm fires when the last one arrives.
struct PendingAcks {
    remaining: AtomicUsize,
    confirm: Mutex<Option<oneshot::Sender<()>>>,
}

impl PendingAcks {
    fn ack(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1
            && let Some(tx) = self.confirm.lock().expect("confirm lock poisoned").take()
        {
            let _ = tx.send(());
        }
    }
}

impl MemoryBus {
    pub fn new() -> Self {
        let bus = Self {
            inner: Arc::new(Inner {
                queues: RwLock::default(),
                routes: RwLock::default(),
            }),
        };
        for queue in SHARED_QUEUES {
            bus.declare(queue.name, true, true, queue.events);
        }
        bus
    }

    fn declare(&self, name: &str, durable: bool, awaited: bool, events: &[EventKind]) -> Arc<MemQueue> {
        let mut queues = self.inner.queues.write().expect("queues lock poisoned");
        if let Some(q) = queues.get(name) {
            return q.clone();
        }
        let queue = Arc::new(MemQueue {
            name: name.to_owned(),
            durable,
            awaited,
            items: Mutex::default(),
            ready: Notify::new(),
            room: durable.then(|| Arc::new(Semaphore::new(DURABLE_CAPACITY))),
        });
        queues.insert(name.to_owned(), queue.clone());
        let mut routes = self.inner.routes.write().expect("routes lock poisoned");
        for kind in events {
            routes.entry(*kind).or_default().push(queue.clone());
        }
        queue
    }

    fn remove(&self, queue: &Arc<MemQueue>) {
        self.inner
            .queues
            .write()
            .expect("queues lock poisoned")
            .remove(&queue.name);
        for bound in self.inner.routes.write().expect("routes lock poisoned").values_mut() {
            bound.retain(|q| !Arc::ptr_eq(q, queue));
        }
    }

    /// Puts the event in every queue bound to its type, waiting while a durable one is full.
    pub async fn publish(&self, envelope: Arc<Envelope>) -> Confirm {
        let queues = self
            .inner
            .routes
            .read()
            .expect("routes lock poisoned")
            .get(&envelope.kind)
            .cloned()
            .unwrap_or_default();
        let mut places = Vec::with_capacity(queues.len());
        for queue in &queues {
            places.push(match &queue.room {
                Some(room) => Some(
                    room.clone()
                        .acquire_owned()
                        .await
                        .expect("queue semaphores are never closed"),
                ),
                None => None,
            });
        }
        let awaited = queues.iter().filter(|q| q.awaited).count();
        let (pending, confirmed) = if awaited > 0 {
            let (tx, rx) = oneshot::channel();
            let acks = Arc::new(PendingAcks {
                remaining: AtomicUsize::new(awaited),
                confirm: Mutex::new(Some(tx)),
            });
            (Some(acks), Some(rx))
        } else {
            (None, None)
        };
        for (queue, room) in queues.iter().zip(places) {
            let ack = if queue.awaited { pending.clone() } else { None };
            queue.items.lock().expect("queue lock poisoned").push_back(Item {
                envelope: envelope.clone(),
                ack,
                _room: room,
            });
            queue.ready.notify_one();
        }
        Box::pin(async move {
            if let Some(rx) = confirmed {
                // A dropped sender means a consumer stopped with the event unacknowledged (the
                // process is shutting down): not confirmed, so an outbox keeps it.
                rx.await.map_err(|_| super::BusError::NotConnected)?;
            }
            Ok(())
        })
    }

    pub fn consume(&self, queue: Queue, handler: Handler, tasks: &TaskTracker, shutdown: CancellationToken) {
        let mem = self.declare(queue.name(), queue.durable(), queue.is_awaited(), queue.events());
        let bus = self.clone();
        let consumed = consumed_counter(queue.name());
        let linger = queue.linger();
        let kept = Arc::new(Notify::new());
        let dead_letters = match &queue {
            Queue::Shared { dead_letters, .. } => {
                tasks.spawn(dead_letters::watch(
                    dead_letters.clone(),
                    mem.name.clone(),
                    kept.clone(),
                    shutdown.clone(),
                ));
                Some(dead_letters.clone())
            }
            Queue::Fanout { .. } => None,
        };
        tasks.spawn(async move {
            // Set once an event was left at the stop: what follows it is not applied before it
            // (it is published again at the next start, and so are they), only dropped
            // unacknowledged, which gives its place in the queue to the publishers waiting.
            let mut leaving = false;
            loop {
                let batch: Vec<Item> = {
                    let mut items = mem.items.lock().expect("queue lock poisoned");
                    let n = items.len().min(MAX_BATCH);
                    items.drain(..n).collect()
                };
                if batch.is_empty() {
                    tokio::select! {
                        _ = mem.ready.notified() => continue,
                        _ = shutdown.cancelled() => break,
                    }
                }
                if leaving {
                    continue;
                }
                let batch = gather(&mem, batch, linger, &shutdown).await;
                // Wake a competing consumer in case more items are waiting.
                if !mem.items.lock().expect("queue lock poisoned").is_empty() {
                    mem.ready.notify_one();
                }
                let envelopes = batch.iter().map(|item| item.envelope.clone()).collect();
                let dispositions = deliver(&handler, envelopes, &mem.name, &consumed, &shutdown).await;
                leaving = dispositions.contains(&Disposition::Left);
                for (item, disposition) in batch.into_iter().zip(dispositions) {
                    match disposition {
                        Disposition::Ack => {}
                        // Stopping: left unacknowledged, so its publisher's outbox publishes
                        // it again at the next start.
                        Disposition::Left => continue,
                        // A fan-out queue keeps no dead letters: what this instance could not
                        // apply is given up (and acknowledged, for an awaited queue).
                        Disposition::DeadLetter(reason) => {
                            if let Some(db) = &dead_letters {
                                if !keep_dead_letter(db, &mem.name, &item.envelope, &reason, &shutdown).await {
                                    continue; // stopping before the dead letter was kept: left
                                }
                                kept.notify_one();
                            }
                        }
                    }
                    if let Some(ack) = item.ack {
                        ack.ack();
                    }
                }
            }
            if !mem.durable {
                bus.remove(&mem);
            }
        });
    }
}

/// Adds to `batch` what arrives within `linger` (see [`Queue::gathering`]), up to a full batch.
async fn gather(mem: &MemQueue, mut batch: Vec<Item>, linger: Duration, shutdown: &CancellationToken) -> Vec<Item> {
    if linger.is_zero() {
        return batch;
    }
    let deadline = tokio::time::Instant::now() + linger;
    while batch.len() < MAX_BATCH {
        tokio::select! {
            _ = mem.ready.notified() => {}
            _ = tokio::time::sleep_until(deadline) => break,
            _ = shutdown.cancelled() => break,
        }
        let mut items = mem.items.lock().expect("queue lock poisoned");
        let n = items.len().min(MAX_BATCH - batch.len());
        batch.extend(items.drain(..n));
    }
    batch
}

/// Keeps a dead letter in the consumer's database, retrying (a database hiccup passes) until
/// it is committed or the process stops. True once it is kept.
async fn keep_dead_letter(
    db: &crate::db::Db,
    queue: &str,
    envelope: &Envelope,
    reason: &str,
    shutdown: &CancellationToken,
) -> bool {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        match dead_letters::keep(db, queue, envelope, reason).await {
            Ok(()) => return true,
            Err(e) => tracing::error!(queue, event = %envelope.id, error = %e, "cannot keep a dead letter; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_pause()) => {}
            _ = shutdown.cancelled() => return false,
        }
    }
}

#[cfg(test)]
pub(in crate::bus) mod tests {
    use super::*;
    use crate::bus::handler;
    use gochat_proto::events::UserOnline;
    use gochat_proto::ids::UserId;
    use gochat_proto::topology::USERS;

    /// A consumer's database in a fresh directory (kept alive by the returned guard).
    pub(in crate::bus) fn database() -> (crate::db::Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let outbox = crate::outbox::Outbox::default();
        let db = crate::db::Db::open(
            dir.path(),
            "test",
            &["CREATE TABLE t (x);"],
            crate::config::Synchronous::Normal,
            outbox.sink(),
        )
        .unwrap();
        (db, dir)
    }

    /// An event bound to exactly one shared queue (users.events).
    fn online() -> Arc<Envelope> {
        let data = UserOnline {
            user_id: UserId::new(),
            instance: "i".into(),
            at: chrono::Utc::now(),
        };
        Arc::new(Envelope::new(&data).unwrap())
    }

    /// A consumer of users.events that reports each event's id; stopped by the token.
    fn users_consumer(
        bus: &MemoryBus,
    ) -> (
        tokio::sync::mpsc::UnboundedReceiver<gochat_proto::ids::EventId>,
        CancellationToken,
        tempfile::TempDir,
    ) {
        let (seen_tx, seen) = tokio::sync::mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let (db, dir) = database();
        bus.consume(
            Queue::shared(&USERS, &db),
            handler(move |e| {
                let seen_tx = seen_tx.clone();
                async move {
                    seen_tx.send(e.id).unwrap();
                    Ok(())
                }
            }),
            &TaskTracker::new(),
            stop.clone(),
        );
        (seen, stop, dir)
    }

    #[tokio::test]
    async fn a_publish_is_confirmed_only_after_the_durable_consumer_acks() {
        let bus = MemoryBus::new();
        let confirm = bus.publish(online()).await;
        let confirm = tokio::spawn(confirm);
        tokio::task::yield_now().await;
        assert!(!confirm.is_finished(), "no consumer yet, so no confirm");

        let (mut seen, stop, _dir) = users_consumer(&bus);
        seen.recv().await.unwrap();
        confirm.await.unwrap().unwrap();
        stop.cancel();
    }

    /// A consumer that refuses an event in the commit that applies it says so on the envelope
    /// before its acknowledgement, so the publisher here reads it once confirmed (chat then
    /// answers a refused message with the refusal alone, see `record::Outcome`).
    #[tokio::test]
    async fn a_refusal_in_the_consumers_commit_is_on_the_envelope_by_its_confirm() {
        use crate::bus::{Writes, applying_idempotent};
        use gochat_proto::events::Event;
        let bus = MemoryBus::new();
        let (db, _dir) = database();
        let stop = CancellationToken::new();
        let refusing = applying_idempotent(db.clone(), Writes::HereWhenIdle, |w, event| {
            if matches!(event, Event::UserOnline(e) if e.instance == "refused") {
                w.mark_refused();
            }
            Ok(())
        });
        bus.consume(Queue::shared(&USERS, &db), refusing, &TaskTracker::new(), stop.clone());
        for instance in ["refused", "taken"] {
            let event = UserOnline {
                user_id: UserId::new(),
                instance: instance.into(),
                at: chrono::Utc::now(),
            };
            let envelope = Arc::new(Envelope::new(&event).unwrap());
            bus.publish(envelope.clone()).await.await.unwrap();
            assert_eq!(envelope.is_refused(), instance == "refused", "{instance}");
        }
        stop.cancel();
    }

    /// An awaited fan-out queue holds its publishers' confirms until its consumer has handled
    /// the event, as a shared queue does; a plain fan-out queue does not: with both consumers
    /// held, releasing the awaited one alone confirms the publish.
    #[tokio::test]
    async fn a_publish_is_confirmed_only_after_an_awaited_fan_out_consumer_handled_it() {
        let bus = MemoryBus::new();
        let (_seen, stop, _dir) = users_consumer(&bus);
        let (plain_gate, _) = tokio::sync::watch::channel(false);
        let (awaited_gate, _) = tokio::sync::watch::channel(false);
        for (instance, gate) in [("plain", &plain_gate), ("awaited", &awaited_gate)] {
            let queue = Queue::fanout("svc", instance, "test", &[EventKind::UserOnline]);
            let queue = if instance == "awaited" { queue.awaited() } else { queue };
            let open = gate.subscribe();
            bus.consume(
                queue,
                handler(move |_| {
                    let mut open = open.clone();
                    async move {
                        let _ = open.wait_for(|open| *open).await;
                        Ok(())
                    }
                }),
                &TaskTracker::new(),
                stop.clone(),
            );
        }
        let confirm = tokio::spawn(bus.publish(online()).await);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!confirm.is_finished(), "the awaited fan-out consumer is held");
        awaited_gate.send_replace(true);
        let confirmed = tokio::time::timeout(std::time::Duration::from_secs(10), confirm);
        confirmed
            .await
            .expect("confirmed with the plain one still held")
            .unwrap()
            .unwrap();
        stop.cancel();
    }

    /// Backpressure: a durable queue whose consumer is stalled holds DURABLE_CAPACITY events;
    /// the next publisher waits (slowed, not refused), and once the consumer runs every event
    /// arrives, once and in order.
    #[tokio::test]
    async fn a_full_durable_queue_slows_its_publishers_and_loses_nothing() {
        let bus = MemoryBus::new();
        let events: Vec<_> = (0..=DURABLE_CAPACITY).map(|_| online()).collect();
        let mut confirms = Vec::new();
        for e in &events[..DURABLE_CAPACITY] {
            confirms.push(bus.publish(e.clone()).await);
        }
        let last = tokio::spawn({
            let (bus, e) = (bus.clone(), events[DURABLE_CAPACITY].clone());
            async move { bus.publish(e).await.await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!last.is_finished(), "the publisher beyond the queue's capacity waits");

        let (mut seen, stop, _dir) = users_consumer(&bus);
        last.await.unwrap().unwrap();
        for confirm in confirms {
            confirm.await.unwrap();
        }
        let mut got = Vec::new();
        while let Ok(id) = seen.try_recv() {
            got.push(id);
        }
        let want: Vec<_> = events.iter().map(|e| e.id).collect();
        assert_eq!(got, want, "every event once, in order");
        stop.cancel();
    }

    /// A batch handler that reports the size of each batch it is given.
    fn batch_sizes(sizes: tokio::sync::mpsc::UnboundedSender<usize>) -> Handler {
        Handler::Batch(Arc::new(move |batch| {
            let sizes = sizes.clone();
            Box::pin(async move {
                sizes.send(batch.len()).unwrap();
                Ok(())
            })
        }))
    }

    /// Batching: what waits in a queue is handed to a batch handler together (one write group
    /// for a burst), at most MAX_BATCH at a time.
    #[tokio::test]
    async fn a_burst_reaches_a_batch_handler_in_batches() {
        let bus = MemoryBus::new();
        let count = MAX_BATCH + 10;
        let mut confirms = Vec::new();
        for _ in 0..count {
            confirms.push(bus.publish(online()).await);
        }
        let (sizes_tx, mut sizes) = tokio::sync::mpsc::unbounded_channel();
        let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
        let (db, _dir) = database();
        bus.consume(Queue::shared(&USERS, &db), batch_sizes(sizes_tx), &tasks, stop.clone());
        for confirm in confirms {
            confirm.await.unwrap();
        }
        let mut got = Vec::new();
        while let Ok(size) = sizes.try_recv() {
            got.push(size);
        }
        assert_eq!(got, vec![MAX_BATCH, 10], "two batches for the whole burst");
        stop.cancel();
    }

    /// Gathering: a consumer with a linger applies events that trickle in one at a time
    /// together, until its linger has passed since the first; what comes later is the next batch.
    #[tokio::test(start_paused = true)]
    async fn a_gathering_consumer_applies_a_trickle_as_one_batch() {
        let bus = MemoryBus::new();
        let (sizes_tx, mut sizes) = tokio::sync::mpsc::unbounded_channel();
        let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
        let (db, _dir) = database();
        bus.consume(
            Queue::shared(&USERS, &db).gathering(Duration::from_millis(100)),
            batch_sizes(sizes_tx),
            &tasks,
            stop.clone(),
        );
        let mut confirms = Vec::new();
        for _ in 0..5 {
            confirms.push(bus.publish(online()).await);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        confirms.push(bus.publish(online()).await);
        for confirm in confirms {
            confirm.await.unwrap();
        }
        let mut got = Vec::new();
        while let Ok(size) = sizes.try_recv() {
            got.push(size);
        }
        assert_eq!(got, vec![5, 1], "the trickle in one batch, the late event in another");
        stop.cancel();
    }

    #[tokio::test]
    async fn competing_consumers_each_get_an_event_once_and_fanout_queues_get_all() {
        let bus = MemoryBus::new();
        let tasks = TaskTracker::new();
        let stop = CancellationToken::new();
        let (tx, mut shared_seen) = tokio::sync::mpsc::unbounded_channel();
        let (db, _dir) = database();
        for _ in 0..2 {
            let tx = tx.clone();
            bus.consume(
                Queue::shared(&USERS, &db),
                handler(move |e| {
                    let tx = tx.clone();
                    async move {
                        tx.send(e.id).unwrap();
                        Ok(())
                    }
                }),
                &tasks,
                stop.clone(),
            );
        }
        let mut fanouts = Vec::new();
        for instance in ["a", "b"] {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            bus.consume(
                Queue::fanout("svc", instance, "test", &[EventKind::UserOnline]),
                handler(move |e| {
                    let tx = tx.clone();
                    async move {
                        tx.send(e.id).unwrap();
                        Ok(())
                    }
                }),
                &tasks,
                stop.clone(),
            );
            fanouts.push(rx);
        }
        let events: Vec<_> = (0..10).map(|_| online()).collect();
        for e in &events {
            bus.publish(e.clone()).await.await.unwrap();
        }
        let mut got: Vec<_> = (0..10).map(|_| shared_seen.try_recv().unwrap()).collect();
        got.sort();
        let mut want: Vec<_> = events.iter().map(|e| e.id).collect();
        want.sort();
        assert_eq!(got, want);
        assert!(
            shared_seen.try_recv().is_err(),
            "each event once among competing consumers"
        );
        for mut rx in fanouts {
            for _ in 0..10 {
                tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
                    .await
                    .unwrap()
                    .unwrap();
            }
        }
        stop.cancel();
    }

    /// What the disk answers when it is full, as a write job reports it.
    fn disk_full() -> anyhow::Error {
        let full = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL);
        crate::db::DbError::Sqlite(rusqlite::Error::SqliteFailure(full, None)).into()
    }

    /// Awaits `wait` for at most `bound` of real time. On a paused clock `tokio::time::timeout`
    /// cannot bound a wait on a database thread: the clock jumps to the next timer whenever
    /// every task waits, also while that thread is still working (keeping a dead letter).
    async fn within_real_time<F: std::future::Future>(bound: std::time::Duration, wait: F) -> F::Output {
        let deadline = std::time::Instant::now() + bound;
        tokio::pin!(wait);
        loop {
            tokio::select! {
                done = &mut wait => return done,
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                    assert!(std::time::Instant::now() < deadline, "not done within {bound:?}");
                }
            }
        }
    }

    /// A consumer of users.events whose handler fails with `error` on its first `fails`
    /// attempts at each event, then applies it. Counts every attempt.
    struct Failing {
        attempts: Arc<AtomicUsize>,
        applied: tokio::sync::mpsc::UnboundedReceiver<gochat_proto::ids::EventId>,
        stop: CancellationToken,
        dir: tempfile::TempDir,
    }

    impl Failing {
        fn start(bus: &MemoryBus, fails: usize, error: fn() -> anyhow::Error) -> Self {
            let (db, dir) = database();
            let (applied_tx, applied) = tokio::sync::mpsc::unbounded_channel();
            let attempts = Arc::new(AtomicUsize::new(0));
            let stop = CancellationToken::new();
            let counted = attempts.clone();
            bus.consume(
                Queue::shared(&USERS, &db),
                handler(move |e| {
                    let (counted, applied_tx) = (counted.clone(), applied_tx.clone());
                    async move {
                        if counted.fetch_add(1, Ordering::SeqCst) < fails {
                            return Err(error());
                        }
                        applied_tx.send(e.id).unwrap();
                        Ok(())
                    }
                }),
                &TaskTracker::new(),
                stop.clone(),
            );
            Self {
                attempts,
                applied,
                stop,
                dir,
            }
        }

        fn dead_letters(&self) -> i64 {
            rusqlite::Connection::open(self.dir.path().join("test.db"))
                .unwrap()
                .query_row("SELECT count(*) FROM dead_letters", [], |r| r.get(0))
                .unwrap()
        }
    }

    /// A full disk is not the event's fault: it is retried past MAX_ATTEMPTS for as long as
    /// the disk stays full (over a minute here, on the paused clock), never dead-lettered,
    /// and applied once there is room, which confirms its publish.
    #[tokio::test(start_paused = true)]
    async fn an_event_whose_database_is_full_is_retried_until_there_is_room_never_dead_lettered() {
        let bus = MemoryBus::new();
        let fails = crate::bus::MAX_ATTEMPTS as usize + 10;
        let mut consumer = Failing::start(&bus, fails, disk_full);
        let event = online();
        let started = tokio::time::Instant::now();
        bus.publish(event.clone()).await.await.unwrap();
        let applied = tokio::time::timeout(std::time::Duration::from_secs(3600), consumer.applied.recv());
        assert_eq!(applied.await.expect("applied once there is room"), Some(event.id));
        assert_eq!(consumer.attempts.load(Ordering::SeqCst), fails + 1);
        // Tried again at least every MAX_STORAGE_BACKOFF, for longer than an event's attempts.
        let elapsed = started.elapsed();
        assert!(elapsed > std::time::Duration::from_secs(60), "{elapsed:?}");
        assert!(elapsed <= crate::bus::MAX_STORAGE_BACKOFF * fails as u32, "{elapsed:?}");
        assert_eq!(consumer.dead_letters(), 0);
        consumer.stop.cancel();
    }

    /// A failure of the event itself is tried MAX_ATTEMPTS times, then the event is kept as a
    /// dead letter, which confirms its publish: it is safe, for an operator to requeue.
    #[tokio::test(start_paused = true)]
    async fn an_event_that_fails_every_attempt_is_dead_lettered_after_its_attempts() {
        let bus = MemoryBus::new();
        let consumer = Failing::start(&bus, usize::MAX, || anyhow::anyhow!("a constraint the event breaks"));
        let confirm = bus.publish(online()).await;
        within_real_time(std::time::Duration::from_secs(60), confirm)
            .await
            .unwrap();
        assert_eq!(
            consumer.attempts.load(Ordering::SeqCst),
            crate::bus::MAX_ATTEMPTS as usize
        );
        assert_eq!(consumer.dead_letters(), 1);
        consumer.stop.cancel();
    }

    /// A consumer that stops while retrying does not wait for the database to come back: it
    /// leaves the event unacknowledged (its publish fails, so its publisher keeps it for the
    /// next start), tries it no more, and keeps no dead letter.
    #[tokio::test(start_paused = true)]
    async fn a_consumer_stopping_while_retrying_leaves_the_event_unconfirmed() {
        let bus = MemoryBus::new();
        let consumer = Failing::start(&bus, usize::MAX, disk_full);
        let confirm = tokio::spawn(bus.publish(online()).await);
        while consumer.attempts.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        consumer.stop.cancel();
        let confirm = tokio::time::timeout(std::time::Duration::from_secs(3600), confirm);
        assert!(
            confirm.await.expect("settled at the stop").unwrap().is_err(),
            "never acknowledged"
        );
        let attempts = consumer.attempts.load(Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        assert_eq!(
            consumer.attempts.load(Ordering::SeqCst),
            attempts,
            "no attempt after the stop"
        );
        assert_eq!(consumer.dead_letters(), 0);
    }

    /// The disk stays full until the stop, and the queue behind the event being retried is
    /// full too, with a publisher waiting for a place (in `gochat serve`, a sender's socket).
    /// At the stop nothing after the left event is applied, the events are dropped
    /// unacknowledged (their publishes fail, so their publishers keep them), and the waiting
    /// publisher gets its place instead of waiting forever.
    #[tokio::test(start_paused = true)]
    async fn a_consumer_stopping_while_retrying_applies_nothing_after_and_frees_the_queue() {
        let bus = MemoryBus::new();
        let mut consumer = Failing::start(&bus, usize::MAX, disk_full);
        let mut confirms = Vec::new();
        for _ in 0..DURABLE_CAPACITY {
            confirms.push(bus.publish(online()).await);
        }
        let waiting = tokio::spawn({
            let bus = bus.clone();
            async move { drop(bus.publish(online()).await) }
        });
        while consumer.attempts.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(!waiting.is_finished(), "the queue is full");
        let attempts = consumer.attempts.load(Ordering::SeqCst);
        consumer.stop.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(3600), waiting)
            .await
            .expect("a place in the queue once the consumer stopped")
            .unwrap();
        for confirm in confirms {
            let confirm = tokio::time::timeout(std::time::Duration::from_secs(3600), confirm);
            assert!(confirm.await.expect("settled").is_err(), "never acknowledged");
        }
        assert_eq!(
            consumer.attempts.load(Ordering::SeqCst),
            attempts,
            "only the first was tried"
        );
        assert!(consumer.applied.try_recv().is_err(), "nothing applied");
    }
}
