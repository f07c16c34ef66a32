//! The transactional outbox relay.
//!
//! Events are inserted into the `outbox` table in the same transaction as the change they
//! announce. After the commit, the thread that committed hands the rows straight to the relay
//! task (no polling); the relay publishes them in commit order with confirms and deletes the
//! confirmed rows. Whatever is still in the table when the process starts, or when the broker comes back,
//! is published again: consumers deduplicate by event id, so at-least-once is enough.
//!
//! The relay also reports how far behind it is: whether everything committed has been handed
//! to the bus ([`OutboxSink::is_idle`], so a direct publish cannot overtake an outbox row), and
//! whether too many events wait for their confirm ([`OutboxSink::room`], the backpressure of
//! the consumers that write to this database).

use crate::backoff::Backoff;
use crate::bus::Bus;
use crate::db::{Db, DbError};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use gochat_proto::events::Envelope;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Rows handed over in memory before the relay falls back to reading the table.
const HANDOFF_CAPACITY: usize = 4096;
/// Publishes awaiting their confirm at once.
const MAX_IN_FLIGHT: usize = 1024;
/// How long a stopping relay waits for outstanding confirms.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Confirmed rows deleted in one transaction at most, and how long a confirmed row may wait
/// for its batch.
const DELETE_BATCH: usize = 256;
const DELETE_DELAY: Duration = Duration::from_millis(200);
/// Rows read per scan of the table.
const SCAN_BATCH: i64 = 512;
/// Events awaiting their confirm beyond which the consumers writing to this database wait.
const HIGH_WATER: usize = 1024;
/// How long events may wait for a confirm, none coming, before the relay says so (and again
/// as often while it lasts): a stalled relay is otherwise silent.
const CONFIRM_STALL: Duration = Duration::from_secs(30);

/// A committed event waiting to be published.
pub struct OutboxRow {
    /// Its row in the outbox; `None` for an ephemeral event, published once and never stored.
    pub id: Option<i64>,
    pub envelope: Arc<Envelope>,
    pub json: Vec<u8>,
    /// Told once the event is confirmed, for a writer that waits for it (see [`Delivered`]).
    pub confirmed: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Resolves once an event is confirmed: in process, applied by every durable consumer and every
/// awaited fan-out consumer (each service's sessions); over
/// RabbitMQ, persisted by the broker, so that anything published after it into the same queues
/// is consumed after it. A route awaits this when what it changed must be seen by the next
/// request to another service (a new user being messaged, a revoked session refused).
pub struct Delivered(pub(crate) tokio::sync::oneshot::Receiver<()>);

impl Delivered {
    /// Waits for the confirm, at most `bound`: the change is committed either way, only how soon
    /// other services see it is at stake. True when confirmed in time.
    pub async fn within(self, bound: Duration) -> bool {
        matches!(tokio::time::timeout(bound, self.0).await, Ok(Ok(())))
    }
}

/// The writer's side of the hand-off to the relay, and what the relay tells about its progress.
#[derive(Clone)]
pub struct OutboxSink {
    rows: flume::Sender<OutboxRow>,
    progress: Arc<Progress>,
}

struct Progress {
    /// Set when a row could not be handed over; the relay then reads the table instead.
    overflowed: AtomicBool,
    /// Rows handed over and not yet handed to the bus.
    unpublished: AtomicUsize,
    /// The relay is (re)reading the table: rows there may not be published yet.
    scanning: AtomicBool,
    /// False while too many events await their confirm.
    room: watch::Sender<bool>,
    /// Rows in the outbox table: events committed and not yet confirmed, or confirmed and not
    /// yet deleted (in batches). It grows while the bus is away; `gochat_outbox_depth` shows it.
    stored: AtomicUsize,
    /// That gauge, labelled with the database's name once it is open.
    depth: OnceLock<metrics::Gauge>,
}

impl Progress {
    fn rows_stored(&self, rows: usize) {
        self.show_depth(self.stored.fetch_add(rows, Ordering::AcqRel) + rows);
    }

    fn rows_deleted(&self, rows: usize) {
        // Saturating: only this relay deletes outbox rows, but a miscount must not panic.
        let before = self
            .stored
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_sub(rows)))
            .unwrap_or_default();
        self.show_depth(before.saturating_sub(rows));
    }

    fn show_depth(&self, stored: usize) {
        if let Some(depth) = self.depth.get() {
            depth.set(stored as f64);
        }
    }
}

impl OutboxSink {
    /// Takes the count of rows a previous run left in the table of database `db`, as it opens.
    pub(crate) fn opened(&self, db: &str, stored: usize) {
        let p = &self.progress;
        p.depth
            .get_or_init(|| metrics::gauge!("gochat_outbox_depth", "db" => db.to_owned()));
        p.stored.store(stored, Ordering::Release);
        p.show_depth(stored);
    }

    /// Counts `rows` just committed as unpublished, before any job of the commit is answered: a
    /// job answered may publish its next event directly when the outbox is idle, and must not
    /// find it idle while these wait to be handed over by [`OutboxSink::committed`].
    pub(crate) fn committing(&self, rows: &[OutboxRow]) {
        self.progress.unpublished.fetch_add(rows.len(), Ordering::AcqRel);
        let stored = rows.iter().filter(|row| row.id.is_some()).count();
        if stored > 0 {
            self.progress.rows_stored(stored);
        }
    }

    /// Rows in the outbox table (see [`Progress::stored`]), as the tests read it.
    #[cfg(test)]
    pub(crate) fn depth(&self) -> usize {
        self.progress.stored.load(Ordering::Acquire)
    }

    /// Hands the rows counted by [`OutboxSink::committing`] to the relay.
    pub(crate) fn committed(&self, rows: Vec<OutboxRow>) {
        for row in rows {
            if self.rows.try_send(row).is_err() {
                // Overflowed before no longer counted: never idle in between.
                self.progress.overflowed.store(true, Ordering::Release);
                self.progress.unpublished.fetch_sub(1, Ordering::AcqRel);
                self.progress
                    .room
                    .send_if_modified(|room| std::mem::replace(room, false));
            }
        }
    }

    /// Everything committed has been handed to the bus.
    pub fn is_idle(&self) -> bool {
        let p = &self.progress;
        p.unpublished.load(Ordering::Acquire) == 0
            && !p.overflowed.load(Ordering::Acquire)
            && !p.scanning.load(Ordering::Acquire)
    }

    /// Resolves once fewer than [`HIGH_WATER`] events await their confirm.
    pub async fn room(&self) {
        let mut room = self.progress.room.subscribe();
        // The sender lives as long as this sink: `wait_for` cannot fail.
        let _ = room.wait_for(|room| *room).await;
    }
}

/// The relay's side; created before the database so the writer can be given the sink.
pub struct Outbox {
    sink: OutboxSink,
    rows: flume::Receiver<OutboxRow>,
}

impl Default for Outbox {
    fn default() -> Self {
        let (tx, rx) = flume::bounded(HANDOFF_CAPACITY);
        let progress = Progress {
            overflowed: AtomicBool::new(false),
            unpublished: AtomicUsize::new(0),
            // Until the first scan, rows a previous run left behind may be waiting.
            scanning: AtomicBool::new(true),
            room: watch::Sender::new(true),
            stored: AtomicUsize::new(0),
            depth: OnceLock::new(),
        };
        Self {
            sink: OutboxSink {
                rows: tx,
                progress: Arc::new(progress),
            },
            rows: rx,
        }
    }
}

impl Outbox {
    pub fn sink(&self) -> OutboxSink {
        self.sink.clone()
    }

    /// Runs the relay until `shutdown`; then it keeps going until the table is empty or the bus
    /// is unreachable, so a draining service flushes what it accepted.
    pub async fn relay(self, db: Db, bus: Bus, shutdown: CancellationToken) {
        let name = db.name().to_owned();
        let mut relay = Relay {
            db,
            bus,
            rows: self.rows,
            progress: self.sink.progress,
            last_published: 0,
            confirmed_since_failure: false,
            deleted_since_failure: false,
            paused_since: None,
        };
        // After shutdown, confirms may never come (consumers stopping); what is not confirmed
        // within the grace period stays in the table and is published at the next start.
        let grace = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            _ = relay.run(shutdown.clone()) => {}
            _ = grace => tracing::info!(db = name, "unconfirmed outbox rows left for the next start"),
        }
    }
}

struct Relay {
    db: Db,
    bus: Bus,
    rows: flume::Receiver<OutboxRow>,
    progress: Arc<Progress>,
    /// Highest outbox id handed to the bus in this connection epoch; rows at or below it that
    /// arrive through the hand-off were already published by a scan.
    last_published: i64,
    /// Whether an event was confirmed since the relay last failed (see [`Relay::run`]).
    confirmed_since_failure: bool,
    /// Whether confirmed rows were deleted since the relay last failed.
    deleted_since_failure: bool,
    /// When the relay first failed since its last confirm: how long its outage has lasted.
    paused_since: Option<Instant>,
}

/// Publishes awaiting their confirm (each resolving to how many events it carried and their
/// outbox ids), and how many events they carry in all.
struct InFlight<F> {
    confirms: FuturesUnordered<F>,
    events: usize,
    /// The last confirm, or when the relay started waiting for one: a stall counts from here
    /// (not from before an idle spell, which made the first publish after it look stalled).
    heard: Instant,
}

impl<F: std::future::Future<Output = (usize, anyhow::Result<Vec<i64>>)>> InFlight<F> {
    fn new() -> Self {
        Self {
            confirms: FuturesUnordered::new(),
            events: 0,
            heard: Instant::now(),
        }
    }

    fn push(&mut self, (events, confirm): (usize, F)) {
        if self.confirms.is_empty() {
            self.heard = Instant::now();
        }
        self.events += events;
        self.confirms.push(confirm);
    }

    fn is_empty(&self) -> bool {
        self.confirms.is_empty()
    }

    /// The next confirm in: the outbox ids it covers.
    async fn next(&mut self) -> Option<anyhow::Result<Vec<i64>>> {
        let (events, done) = self.confirms.next().await?;
        self.events -= events;
        self.heard = Instant::now();
        Some(done)
    }
}

impl Relay {
    async fn run(&mut self, shutdown: CancellationToken) {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        loop {
            match self.publish_until_failure(&shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    // A relay that got events confirmed since its last failure starts its pauses
                    // over: the failures of a long-lived process are not one outage. Unless its
                    // own database failed: events confirmed whose rows cannot be deleted (a
                    // full disk) are no progress, and retrying them at the first pause would
                    // publish them all again ten times a second for as long as it lasts; rows
                    // deleted are.
                    let confirmed = std::mem::take(&mut self.confirmed_since_failure);
                    let deleted = std::mem::take(&mut self.deleted_since_failure);
                    if deleted || (confirmed && e.downcast_ref::<DbError>().is_none()) {
                        backoff.reset();
                    }
                    let pause = backoff.next_pause();
                    let paused_for = self.paused_since.get_or_insert_with(Instant::now).elapsed();
                    tracing::warn!(db = self.db.name(), error = %e, ?paused_for, retry_in = ?pause, "outbox relay paused");
                    if shutdown.is_cancelled() && !self.bus.is_connected() {
                        return;
                    }
                    // Always back off (a database error is not fixed by retrying at once); when
                    // the broker is away, also wait for it to come back.
                    tokio::time::sleep(pause).await;
                    if !self.bus.is_connected() {
                        tokio::select! {
                            _ = self.bus.connected() => {}
                            _ = shutdown.cancelled() => {}
                        }
                    }
                }
            }
        }
    }

    /// Publishes leftovers from the table, then rows as they are committed. Returns `Ok` after
    /// shutdown once everything is confirmed, `Err` when the bus failed (the caller retries,
    /// starting again with a scan of the table).
    async fn publish_until_failure(&mut self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let mut in_flight = InFlight::new();
        let mut confirmed: Vec<i64> = Vec::new();
        // Confirmed rows are deleted in batches, not one transaction per event: when a batch is
        // full, when the first confirmed row has waited DELETE_DELAY, or when stopping.
        let mut delete_due: Option<Instant> = None;
        self.last_published = 0;
        self.progress.scanning.store(true, Ordering::Release);
        let mut scan_needed = true;
        loop {
            if scan_needed || self.progress.overflowed.load(Ordering::Acquire) {
                scan_needed = false;
                // Scanning before no longer overflowed: never idle in between. An overflow
                // cleared here is read by the scan (its row was committed before it overflowed).
                self.progress.scanning.store(true, Ordering::Release);
                self.progress.overflowed.store(false, Ordering::Release);
                loop {
                    let rows = self.scan(self.last_published).await?;
                    let full = rows.len() as i64 == SCAN_BATCH;
                    for bundle in self.bundled(rows) {
                        in_flight.push(self.publish(bundle).await?);
                        while in_flight.events >= MAX_IN_FLIGHT {
                            self.confirmed(&mut confirmed, in_flight.next().await.expect("not empty")?);
                        }
                    }
                    if !full {
                        break;
                    }
                }
                self.progress.scanning.store(false, Ordering::Release);
            }
            let due = delete_due.is_some_and(|at| Instant::now() >= at) || shutdown.is_cancelled();
            if confirmed.len() >= DELETE_BATCH || (!confirmed.is_empty() && due) {
                self.delete(std::mem::take(&mut confirmed)).await?;
                self.deleted_since_failure = true;
                delete_due = None;
            } else if !confirmed.is_empty() && delete_due.is_none() {
                delete_due = Some(Instant::now() + DELETE_DELAY);
            }
            let waiting = in_flight.events + self.rows.len();
            let room = waiting < HIGH_WATER && !self.progress.overflowed.load(Ordering::Acquire);
            self.progress
                .room
                .send_if_modified(|r| std::mem::replace(r, room) != room);
            if shutdown.is_cancelled() && in_flight.is_empty() && confirmed.is_empty() && self.rows.is_empty() {
                return Ok(());
            }
            let awaiting_confirms = !in_flight.is_empty();
            let stalled_at = in_flight.heard + CONFIRM_STALL;
            let delete_at = delete_due.unwrap_or_else(|| Instant::now() + DELETE_DELAY);
            tokio::select! {
                biased;
                Some(done) = in_flight.next(), if awaiting_confirms => {
                    self.confirmed(&mut confirmed, done?);
                    // Collect every confirm that is already in.
                    while let Some(Some(done)) = futures_util::FutureExt::now_or_never(in_flight.next()) {
                        self.confirmed(&mut confirmed, done?);
                    }
                }
                _ = tokio::time::sleep_until(delete_at), if delete_due.is_some() => {}
                Ok(row) = self.rows.recv_async() => {
                    let rows = self.handed_over(row, MAX_IN_FLIGHT.saturating_sub(in_flight.events).max(1));
                    for bundle in self.bundled(rows) {
                        let count = bundle.len();
                        let published = self.publish(bundle).await;
                        // Counted down only now that the rows are in the bus (or failed, and the
                        // scan after the failure will publish them), so no direct publish
                        // overtakes them.
                        self.progress.unpublished.fetch_sub(count, Ordering::AcqRel);
                        in_flight.push(published?);
                    }
                }
                _ = shutdown.cancelled(), if !shutdown.is_cancelled() => {}
                _ = tokio::time::sleep_until(stalled_at), if awaiting_confirms => {
                    tracing::warn!(db = self.db.name(), waiting = in_flight.events, since = ?in_flight.heard.elapsed(),
                        "outbox relay: events wait for their confirm and none comes");
                    in_flight.heard = Instant::now();
                }
            }
        }
    }

    /// `first` and whatever else the hand-off holds already, up to `most` rows to publish:
    /// those not published yet. Rows skipped are counted as published (a scan published them).
    fn handed_over(&mut self, first: OutboxRow, most: usize) -> Vec<OutboxRow> {
        let mut rows = Vec::new();
        let mut next = Some(first);
        while let Some(row) = next.take() {
            // After an overflow the hand-off has a hole: publishing a later row first would move
            // `last_published` past the lost one and the scan would skip it. Stop here; the scan
            // at the top of the loop reads every row in order.
            if self.progress.overflowed.load(Ordering::Acquire) {
                self.progress.unpublished.fetch_sub(1, Ordering::AcqRel);
                break;
            }
            if row.id.is_none_or(|id| id > self.last_published) {
                rows.push(row);
            } else {
                self.progress.unpublished.fetch_sub(1, Ordering::AcqRel);
            }
            if rows.len() < most {
                next = self.rows.try_recv().ok();
            }
        }
        rows
    }

    /// `rows` (in commit order) as the bus takes them in one publish: consecutive events of one
    /// kind, within [`Bus::bundle_limit`].
    fn bundled(&self, rows: Vec<OutboxRow>) -> Vec<Vec<OutboxRow>> {
        let limit = self.bus.bundle_limit();
        let mut bundles: Vec<Vec<OutboxRow>> = Vec::new();
        let mut bytes = 0;
        for row in rows {
            let joins = bundles.last().is_some_and(|bundle| {
                limit.admits(
                    bundle[0].envelope.kind,
                    bundle.len(),
                    bytes,
                    row.envelope.kind,
                    row.json.len(),
                )
            });
            if joins {
                bytes += row.json.len();
                bundles.last_mut().expect("joined one").push(row);
            } else {
                bytes = row.json.len();
                bundles.push(vec![row]);
            }
        }
        bundles
    }

    /// Notes confirmed events: their rows are to be deleted.
    fn confirmed(&mut self, rows: &mut Vec<i64>, done: Vec<i64>) {
        self.confirmed_since_failure = true;
        self.paused_since = None;
        rows.extend(done);
    }

    /// Hands `bundle` to the bus: how many events it holds, and what resolves once it is
    /// confirmed, with their outbox ids (an ephemeral event has no row to delete).
    async fn publish(
        &mut self,
        bundle: Vec<OutboxRow>,
    ) -> anyhow::Result<(
        usize,
        impl std::future::Future<Output = (usize, anyhow::Result<Vec<i64>>)> + use<>,
    )> {
        let count = bundle.len();
        if let Some(id) = bundle.iter().filter_map(|row| row.id).max() {
            self.last_published = self.last_published.max(id);
        }
        let mut events = Vec::with_capacity(count);
        let mut done = Vec::with_capacity(count);
        for row in bundle {
            events.push((row.envelope, row.json));
            done.push((row.id, row.confirmed));
        }
        let confirm = self.bus.publish_all(events).await?;
        metrics::counter!("gochat_events_published_total").increment(count as u64);
        let confirmed = async move {
            if let Err(e) = confirm.await {
                return (count, Err(e.into()));
            }
            let mut ids = Vec::with_capacity(done.len());
            for (id, waiting) in done {
                if let Some(waiting) = waiting {
                    let _ = waiting.send(());
                }
                ids.extend(id);
            }
            (count, Ok(ids))
        };
        Ok((count, confirmed))
    }

    async fn scan(&self, after: i64) -> anyhow::Result<Vec<OutboxRow>> {
        let rows = self
            .db
            .read(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT id, payload FROM outbox WHERE id > ?1 ORDER BY id LIMIT {SCAN_BATCH}"
                ))?;
                let rows = stmt
                    .query_map([after], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok::<_, DbError>(rows)
            })
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for (id, json) in rows {
            match Envelope::from_json(&json) {
                Ok(envelope) => out.push(OutboxRow {
                    id: Some(id),
                    envelope: Arc::new(envelope),
                    json,
                    confirmed: None,
                }),
                Err(e) => {
                    let payload = String::from_utf8_lossy(&json).into_owned();
                    tracing::error!(id, error = %e, payload, "unreadable outbox row dropped");
                    unreadable.push(id);
                }
            }
        }
        if !unreadable.is_empty() {
            self.delete(unreadable).await?;
        }
        Ok(out)
    }

    async fn delete(&self, ids: Vec<i64>) -> anyhow::Result<()> {
        let deleted = self
            .db
            .write(move |w| -> Result<usize, DbError> {
                let mut stmt = w.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
                let mut deleted = 0;
                for id in ids {
                    deleted += stmt.execute([id])?;
                }
                Ok(deleted)
            })
            .await?;
        self.progress.rows_deleted(deleted);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
