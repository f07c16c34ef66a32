//! The drain of the search backlog: indexes the messages stored or edited since the last drain
//! (and those a migration left waiting), a batch per write, off the commit path of the messages
//! themselves. FTS5 flushes a segment and rewrites its structure record at every commit that
//! changes the index, so one write for a batch costs a fraction of one per message.
//!
//! Woken after a commit that queued a message, the drain lingers a little ([`LINGER`]) so that
//! the messages of a burst go in one write, unless [`FULL`] of them arrived first. Searches
//! find waiting messages all the same (see [`crate::store::search`]), so the linger only
//! decides how much the index lags, never what a search finds.

use crate::store;
use gochat_kit::db::{Db, DbError, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long the drain waits, after the first message queued, for more to share its write.
const LINGER: Duration = Duration::from_millis(100);
/// Messages queued that start the drain before the linger is over.
const FULL: usize = 256;

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
    /// Tells the drain, once `w` commits, that it queued a message (see
    /// [`store::search::queue`]).
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
        loop {
            match db
                .write(|w| store::search::reindex_some(w).map_err(DbError::from))
                .await
            {
                Ok(left) => {
                    waiting.set(left as f64);
                    if left == 0 {
                        break;
                    }
                    tracing::info!(db = db.name(), left, "indexing messages for search");
                }
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
