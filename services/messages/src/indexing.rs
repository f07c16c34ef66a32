//! The drain of the search backlog: indexes the messages stored or edited since the last drain
//! (and those a migration left waiting), a batch per write, off the commit path of the messages
//! themselves. FTS5 flushes a segment and rewrites its structure record at every commit that
//! changes the index, so one write for a batch costs a fraction of one per message.
//!
//! Woken after a commit that queued a message, the drain lingers a little ([`LINGER`]) so that
//! the messages of a burst are indexed together, unless [`FULL`] of them arrived first, in
//! writes of at most [`SLICE`] each so that messages stored meanwhile never wait long. Searches
//! find waiting messages all the same (see [`crate::store::search`]), so the linger only
//! decides how much the index lags, never what a search finds.

use crate::store;
use gochat_kit::db::{Db, DbError, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long the drain waits, after the first message queued, for more to share its write.
const LINGER: Duration = Duration::from_millis(100);
/// Messages queued that start the drain before the linger is over.
const FULL: usize = 256;
/// Longest the inserts of one write of the drain run. The messages writer stores nothing
/// meanwhile, so a message sent then waits for it: a drain in one write (350 messages in a busy
/// second's linger, 2-3 ms) delayed one message in a hundred by that much. Slices of this length
/// cost an index segment each, which FTS5 merges in the background of later writes. The commit
/// comes on top, and costs more than the inserts (FTS5 writes the segment and merges there; see
/// README, "Measured").
const SLICE: Duration = Duration::from_micros(250);
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
    /// Tells the drain, once `w` commits, that it stored or edited a message (which then waits
    /// for the index, see [`store::search`]).
    pub fn queued(self: &Arc<Self>, w: &mut Write<'_>) {
        let backlog = self.clone();
        w.after_commit(move || {
            if backlog.queued.fetch_add(1, Ordering::Relaxed) + 1 == FULL {
                backlog.full.notify_one();
            }
            backlog.wake.notify_one();
        });
    }
}

/// Runs until `shutdown`: drains what waits, then waits to be woken.
pub async fn run(db: Db, backlog: Arc<Backlog>, shutdown: CancellationToken) {
    // How far a rebuilt index has come (a migration queues every message), for operators.
    let waiting = metrics::gauge!("gochat_search_backlog", "db" => db.name().to_owned());
    loop {
        backlog.queued.store(0, Ordering::Relaxed);
        let mut reported: Option<Instant> = None;
        loop {
            match db
                .write(|w| store::search::reindex_some(w, SLICE).map_err(DbError::from))
                .await
            {
                Ok(true) => {
                    waiting.set(0.0);
                    break;
                }
                Ok(false) if reported.is_none_or(|at| at.elapsed() >= REPORT_EVERY) => {
                    reported = Some(Instant::now());
                    if let Ok(left) = db.read(|c| store::search::backlog_len(c).map_err(DbError::from)).await {
                        waiting.set(left as f64);
                        if left > FULL as i64 {
                            tracing::info!(db = db.name(), left, "indexing messages for search");
                        }
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(db = db.name(), error = %e, "search indexing paused");
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
