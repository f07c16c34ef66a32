//! The drain of the search backlog: indexes the messages stored, edited or deleted since the
//! last drain (all of them when the index's database is new), a batch per write of the index's
//! own database, off the commit path of the messages themselves. FTS5 flushes a segment and
//! rewrites its structure record at every commit that changes the index, so one write for a
//! batch costs a fraction of one per message; it merges segments in some of those commits too
//! (now and then for tens of milliseconds), which is why the index is a database of its own:
//! its writer is not the messages writer.
//!
//! Woken after a commit that queued a message, the drain lingers a little ([`LINGER`]) so that
//! the messages of a burst are indexed together, unless [`FULL`] of them arrived first. Each
//! batch is read on a reader of the messages database, written to the index, then (for edits
//! and deletions) taken off the backlog by the messages writer. Searches find waiting messages
//! all the same (see [`crate::store::search`]), so the linger only decides how much the index
//! lags, never what a search finds.

use crate::store::search;
use gochat_kit::Runtime;
use gochat_kit::db::{Db, DbError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long the drain waits, after the first message queued, for more to share its write.
const LINGER: Duration = Duration::from_millis(100);
/// Messages queued that start the drain before the linger is over.
const FULL: usize = 256;
/// Most messages in one write of the index: a rebuild's batches (about 5 ms of inserts each)
/// leave room between them for the index's other work, and read at most this many bodies.
const BATCH: usize = 1024;
/// How often a long drain (an index being rebuilt) reports how many messages still wait.
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// What the drain is told: messages were queued.
#[derive(Default)]
pub struct Backlog {
    /// Woken by the first message queued since the drain last looked.
    wake: Notify,
    /// Woken when [`FULL`] messages are queued.
    full: Notify,
    /// Messages queued since the drain last started a write.
    queued: AtomicUsize,
}

impl Backlog {
    /// Tells the drain, once `w` commits, that it stored, edited or deleted a message (which
    /// then waits for the index, see [`search`]).
    pub fn queued(self: &Arc<Self>, w: &mut gochat_kit::db::Write<'_>) {
        let backlog = self.clone();
        w.after_commit(move || {
            if backlog.queued.fetch_add(1, Ordering::Relaxed) + 1 == FULL {
                backlog.full.notify_one();
            }
            backlog.wake.notify_one();
        });
    }
}

/// Opens the index's database beside `messages`. An index that does not belong with the
/// messages (one of the two files was put back to another state, see [`search::stale`]) is
/// emptied, to be filled again.
pub async fn open(runtime: &Runtime, messages: &Db) -> anyhow::Result<Db> {
    let index = runtime.open_db(search::DB, search::MIGRATIONS)?;
    let stored = messages
        .read(|c| search::stored_progress(c).map_err(DbError::from))
        .await?;
    index
        .write(move |w| {
            // What a deletion takes out of the index is overwritten, as in the messages'.
            w.pragma_update(None, "secure_delete", "ON")?;
            let indexed = search::indexed_progress(w)?;
            if search::stale(indexed, stored) {
                tracing::warn!(
                    ?indexed,
                    ?stored,
                    "the search index does not belong with the messages: indexing them again"
                );
                search::reset(w, stored)?;
            }
            Ok::<_, DbError>(())
        })
        .await?;
    Ok(index)
}

/// Runs until `shutdown`: drains what waits, then waits to be woken.
pub async fn run(messages: Db, index: Db, backlog: Arc<Backlog>, shutdown: CancellationToken) {
    // How far a rebuilt index has come, for operators.
    let waiting = metrics::gauge!("gochat_search_backlog", "db" => messages.name().to_owned());
    // The drain is the index's only writer: its cursor is read once.
    let mut cursor = None;
    loop {
        backlog.queued.store(0, Ordering::Relaxed);
        let mut reported: Option<Instant> = None;
        loop {
            match drain_batch(&messages, &index, &mut cursor).await {
                Ok(true) => {
                    waiting.set(0.0);
                    break;
                }
                Ok(false) if reported.is_none_or(|at| at.elapsed() >= REPORT_EVERY) => {
                    reported = Some(Instant::now());
                    let from = cursor.unwrap_or_default();
                    if let Ok(left) = messages
                        .read(move |c| search::backlog_len(c, from).map_err(DbError::from))
                        .await
                    {
                        waiting.set(left as f64);
                        if left > FULL as i64 {
                            tracing::info!(left, "indexing messages for search");
                        }
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "search indexing paused");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(5)) => {}
                        () = shutdown.cancelled() => return,
                    }
                }
            }
            if shutdown.is_cancelled() {
                return;
            }
        }
        tokio::select! {
            () = backlog.wake.notified() => {}
            () = shutdown.cancelled() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(LINGER) => {}
            () = backlog.full.notified() => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Indexes one batch of what waits; returns whether nothing waited beyond it.
async fn drain_batch(messages: &Db, index: &Db, cursor: &mut Option<i64>) -> Result<bool, DbError> {
    let from = match *cursor {
        Some(at) => at,
        None => index.read(|c| search::cursor(c).map_err(DbError::from)).await?,
    };
    *cursor = Some(from);
    let batch = messages
        .read(move |c| search::waiting_batch(c, from, BATCH).map_err(DbError::from))
        .await?;
    if batch.is_empty() {
        return Ok(batch.last);
    }
    let batch = index
        .write(move |w| search::apply(w, &batch).map(|()| batch).map_err(DbError::from))
        .await?;
    *cursor = Some(batch.cursor);
    let last = batch.last;
    if batch.has_queued() {
        messages
            .write(move |w| search::drained(w, &batch).map_err(DbError::from))
            .await?;
    }
    Ok(last)
}
