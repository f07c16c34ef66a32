//! Dead letters of the in-process bus, kept in the consuming service's own database.
//!
//! An event that a consumer of a shared queue can never apply is written to the
//! `dead_letters` table of that consumer's database, through its writer like any effect, and
//! acknowledged once that commit is done: its publisher's confirm then succeeds (so nothing
//! replays it at every start) and the event is kept for an operator instead of lost.
//!
//! `gochat dead-letters list` reads the table of every database of a data directory;
//! `gochat dead-letters requeue` marks rows and leaves a flag file beside the database
//! ([`requeue_flag`]); the service that owns the database (within seconds if it runs, else when
//! it next starts) moves each marked row into its outbox in one transaction, so the event is
//! published again exactly as it was (same id: consumers that applied it already skip it). The
//! running service only looks for the flag file: an idle server reads and writes nothing.
//! Over RabbitMQ, dead letters live in `<queue>.dead` instead (see the `amqp` module).

use crate::db::{Db, DbError, Write};
use chrono::{DateTime, Utc};
use gochat_proto::events::Envelope;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The kit table of dead letters, created in every service database.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- The envelope as it was published (JSON).
    payload BLOB NOT NULL,
    -- Why it could not be applied: the handler's last error.
    reason TEXT NOT NULL,
    dead_at INTEGER NOT NULL,
    -- 1 once an operator asked for it to be published again; the owning service then moves it
    -- to its outbox.
    requeue INTEGER NOT NULL DEFAULT 0
);
";

/// How often a running service looks for the flag of a requeue.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// The file `gochat dead-letters requeue` creates beside a database whose dead letters it marked.
pub fn requeue_flag(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push("-requeue");
    database.with_file_name(name)
}

/// One dead letter, as `gochat dead-letters list` shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub id: i64,
    pub queue: String,
    pub event_id: String,
    pub kind: String,
    pub reason: String,
    pub dead_at: DateTime<Utc>,
    /// Marked for requeue, not yet published again by its service.
    pub requeue_pending: bool,
    /// The event's envelope (JSON text).
    pub payload: String,
}

/// Keeps `envelope` as a dead letter of `queue` in `db`; resolves once committed.
pub(super) async fn keep(db: &Db, queue: &str, envelope: &Envelope, reason: &str) -> Result<(), DbError> {
    let payload = envelope
        .to_json()
        .map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
    let (queue, id, kind, reason) = (
        queue.to_owned(),
        envelope.id.to_string(),
        envelope.kind.routing_key().to_owned(),
        reason.to_owned(),
    );
    db.write(move |w| {
        w.execute(
            "INSERT INTO dead_letters (queue, event_id, kind, payload, reason, dead_at)
             VALUES (?1, ?2, ?3, ?4, ?5, unixepoch())",
            params![queue, id, kind, payload, reason],
        )?;
        Ok(())
    })
    .await
}

/// The dead letters of a database (of `queue` only, when given), oldest first. A database
/// made before dead letters were kept there has none.
pub fn list(conn: &Connection, queue: Option<&str>) -> rusqlite::Result<Vec<DeadLetter>> {
    if !has_table(conn)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(
        "SELECT id, queue, event_id, kind, reason, dead_at, requeue, payload FROM dead_letters
         WHERE ?1 IS NULL OR queue = ?1 ORDER BY id",
    )?;
    stmt.query_map([queue], |r| {
        Ok(DeadLetter {
            id: r.get("id")?,
            queue: r.get("queue")?,
            event_id: r.get("event_id")?,
            kind: r.get("kind")?,
            reason: r.get("reason")?,
            dead_at: DateTime::from_timestamp(r.get("dead_at")?, 0).unwrap_or_default(),
            requeue_pending: r.get("requeue")?,
            payload: String::from_utf8_lossy(&r.get::<_, Vec<u8>>("payload")?).into_owned(),
        })
    })?
    .collect()
}

/// Marks the dead letters of a database (of `queue` only, when given) for requeue; returns how
/// many were marked.
pub fn mark_for_requeue(conn: &Connection, queue: Option<&str>) -> rusqlite::Result<usize> {
    if !has_table(conn)? {
        return Ok(0);
    }
    conn.execute(
        "UPDATE dead_letters SET requeue = 1 WHERE requeue = 0 AND (?1 IS NULL OR queue = ?1)",
        [queue],
    )
}

fn has_table(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dead_letters'",
        [],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// Moves the dead letters of `queue` marked for requeue into the outbox, in this write: they
/// are published once it commits. Returns how many.
fn requeue_marked(w: &mut Write<'_>, queue: &str) -> rusqlite::Result<usize> {
    let marked: Vec<(i64, Vec<u8>)> = w
        .prepare_cached("SELECT id, payload FROM dead_letters WHERE requeue = 1 AND queue = ?1 ORDER BY id")?
        .query_map([queue], |r| Ok((r.get("id")?, r.get("payload")?)))?
        .collect::<Result<_, _>>()?;
    let mut moved = 0;
    for (id, payload) in marked {
        match Envelope::from_json(&payload) {
            Ok(envelope) => {
                w.keep(Arc::new(envelope), payload, None)?;
                w.execute("DELETE FROM dead_letters WHERE id = ?1", [id])?;
                moved += 1;
            }
            // Only envelopes are ever kept here, so this is a damaged row: leave it for the operator.
            Err(e) => tracing::error!(queue, id, error = %e, "a dead letter marked for requeue is unreadable"),
        }
    }
    Ok(moved)
}

/// Run by the consumer of `queue` in process until `shutdown`: publishes again what an operator
/// marked for requeue (at start, and whenever the flag of a requeue appears), and keeps the
/// `gochat_dead_letters` gauge of `queue`, counted at start, after a requeue and whenever the
/// consumer has `kept` one (and again at the next tick while a count fails). It is the gauge's
/// only writer, and each count is read after what it counts was committed, so a count read
/// before a dead letter was kept never overwrites one read after.
pub(super) async fn watch(db: Db, queue: String, kept: Arc<Notify>, shutdown: CancellationToken) {
    let gauge = metrics::gauge!("gochat_dead_letters", "queue" => queue.clone());
    let flag = requeue_flag(db.path());
    let mut every = tokio::time::interval(WATCH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Whether the gauge may be wrong: not counted yet, or the last count failed.
    let mut stale = true;
    loop {
        let recount = tokio::select! {
            _ = every.tick() => stale,
            _ = kept.notified() => true,
            _ = shutdown.cancelled() => return,
        };
        let flagged = matches!(tokio::fs::try_exists(&flag).await, Ok(true));
        if !recount && !flagged {
            continue;
        }
        if flagged {
            let _ = tokio::fs::remove_file(&flag).await;
        }
        match requeue(&db, &queue).await {
            Ok((held, moved)) => {
                if moved > 0 {
                    tracing::info!(queue, events = moved, "dead letters requeued");
                }
                gauge.set(held as f64);
                stale = false;
            }
            Err(e) => {
                // Tried again at the next tick, the marked rows' move with it.
                tracing::warn!(queue, error = %e, "requeueing dead letters failed");
                stale = true;
            }
        }
    }
}

/// Moves the dead letters of `queue` marked for requeue to the outbox; returns how many are
/// left and how many were moved.
async fn requeue(db: &Db, queue: &str) -> Result<(i64, usize), DbError> {
    let q = queue.to_owned();
    let marked: i64 = db
        .read(move |c| -> Result<i64, DbError> {
            Ok(c.query_row(
                "SELECT count(*) FROM dead_letters WHERE queue = ?1 AND requeue = 1",
                [q],
                |r| r.get(0),
            )?)
        })
        .await?;
    let q = queue.to_owned();
    let moved = if marked > 0 {
        db.write(move |w| requeue_marked(w, &q).map_err(DbError::from)).await?
    } else {
        0
    };
    let q = queue.to_owned();
    let held = db
        .read(move |c| -> Result<i64, DbError> {
            Ok(c.query_row("SELECT count(*) FROM dead_letters WHERE queue = ?1", [q], |r| r.get(0))?)
        })
        .await?;
    Ok((held, moved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::{Bus, Queue, handler};
    use gochat_proto::events::UserOnline;
    use gochat_proto::ids::UserId;
    use gochat_proto::topology::USERS;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio_util::task::TaskTracker;

    const WAIT: Duration = Duration::from_secs(30);

    fn online() -> Arc<Envelope> {
        let data = UserOnline {
            user_id: UserId::new(),
            instance: "i".into(),
            at: Utc::now(),
        };
        Arc::new(Envelope::new(&data).unwrap())
    }

    /// A consumer of `users.events` in process whose handler cannot decode anything while
    /// `broken`, with its database's outbox relay running (it publishes what is requeued).
    struct Consumer {
        bus: Bus,
        dir: tempfile::TempDir,
        broken: Arc<AtomicBool>,
        /// The ids of the events the handler applied.
        seen: tokio::sync::mpsc::UnboundedReceiver<gochat_proto::ids::EventId>,
        stop: CancellationToken,
    }

    impl Consumer {
        fn start() -> Self {
            let bus = Bus::in_process();
            let dir = tempfile::tempdir().unwrap();
            let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
            let outbox = crate::outbox::Outbox::default();
            let db = Db::open(
                dir.path(),
                "consumer",
                &["CREATE TABLE t (x);"],
                crate::config::Synchronous::Normal,
                outbox.sink(),
            )
            .unwrap();
            tasks.spawn(outbox.relay(db.clone(), bus.clone(), stop.clone()));
            let broken = Arc::new(AtomicBool::new(true));
            let (seen_tx, seen) = tokio::sync::mpsc::unbounded_channel();
            let failing = broken.clone();
            bus.consume(
                Queue::shared(&USERS, &db),
                handler(move |envelope| {
                    let (failing, seen_tx) = (failing.clone(), seen_tx.clone());
                    async move {
                        if failing.load(Ordering::SeqCst) {
                            // Not decodable: no retry would help, so it is dead-lettered at once.
                            serde_json::from_str::<u32>("not a number")?;
                        }
                        seen_tx.send(envelope.id).unwrap();
                        Ok(())
                    }
                }),
                &tasks,
                stop.clone(),
            );
            Self {
                bus,
                dir,
                broken,
                seen,
                stop,
            }
        }

        /// Publishes `event` and waits for its confirm.
        async fn publish(&self, event: Arc<Envelope>) {
            let confirm = match &self.bus {
                Bus::Memory(memory) => memory.publish(event).await,
                Bus::Amqp(_) => unreachable!("in process"),
            };
            // Acknowledged once kept: the publisher's confirm succeeds, so no outbox replays it.
            tokio::time::timeout(WAIT, confirm).await.unwrap().unwrap();
        }

        fn database(&self) -> PathBuf {
            self.dir.path().join("consumer.db")
        }
    }

    #[tokio::test]
    async fn an_event_that_cannot_be_applied_is_kept_acknowledged_listed_and_requeued_in_process() {
        let handle = crate::ops::metrics_handle();
        let mut consumer = Consumer::start();
        let event = online();
        consumer.publish(event.clone()).await;

        let file = Connection::open(consumer.database()).unwrap();
        let letters = list(&file, Some("users.events")).unwrap();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].event_id, event.id.to_string());
        assert_eq!(letters[0].kind, "user.online");
        assert!(letters[0].reason.contains("cannot be decoded"), "{}", letters[0].reason);
        assert!(list(&file, Some("messages.events")).unwrap().is_empty());
        assert!(
            handle
                .render()
                .contains(r#"gochat_events_dead_lettered_total{queue="users.events"}"#),
            "{}",
            handle.render()
        );

        // Fixed (say by an upgrade), then requeued by the operator: applied, and gone from the table.
        consumer.broken.store(false, Ordering::SeqCst);
        assert_eq!(mark_for_requeue(&file, None).unwrap(), 1);
        std::fs::write(requeue_flag(&consumer.database()), b"").unwrap();
        let applied = tokio::time::timeout(WAIT, consumer.seen.recv()).await.unwrap().unwrap();
        assert_eq!(applied, event.id, "the same event, with its id");
        // Moved to the outbox in the transaction that deleted it, before it was published.
        assert!(list(&file, None).unwrap().is_empty());
        consumer.stop.cancel();
    }

    #[tokio::test]
    async fn a_requeue_that_fails_is_tried_again_at_the_next_tick() {
        let mut consumer = Consumer::start();
        let event = online();
        consumer.publish(event.clone()).await;
        consumer.broken.store(false, Ordering::SeqCst);
        let file = Connection::open(consumer.database()).unwrap();
        assert_eq!(mark_for_requeue(&file, None).unwrap(), 1);

        // The table out of the way (as a database error would be), then the flag: the watcher
        // takes the flag, and its requeue fails.
        file.execute_batch("ALTER TABLE dead_letters RENAME TO dead_letters_away")
            .unwrap();
        let flag = requeue_flag(&consumer.database());
        std::fs::write(&flag, b"").unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        while flag.exists() {
            assert!(tokio::time::Instant::now() < deadline, "the flag was never taken");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The requeue runs right after the flag is taken; this leaves it time to fail (were it
        // to run after the table is back, the test would pass without checking the retry).
        tokio::time::sleep(Duration::from_millis(500)).await;
        file.execute_batch("ALTER TABLE dead_letters_away RENAME TO dead_letters")
            .unwrap();

        // No new flag: the watcher tries again by itself.
        let applied = tokio::time::timeout(WAIT, consumer.seen.recv()).await.unwrap().unwrap();
        assert_eq!(applied, event.id);
        assert!(list(&file, None).unwrap().is_empty());
        consumer.stop.cancel();
    }

    #[test]
    fn a_database_from_before_dead_letters_lists_none() {
        let conn = Connection::open_in_memory().unwrap();
        assert!(list(&conn, None).unwrap().is_empty());
        assert_eq!(mark_for_requeue(&conn, None).unwrap(), 0);
    }
}
