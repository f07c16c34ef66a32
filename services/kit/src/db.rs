//! One SQLite file per service.
//!
//! SQLite allows one writer at a time, so every write goes to a dedicated writer thread; reads go
//! to a few reader threads on their own connections (WAL lets them run beside the writer).
//! Callers hand a closure over and await its result, so a slow query never holds an async
//! worker. The exceptions are [`Db::read_here`], for reads an index bounds to a few pages, and
//! [`Db::write_here`], for a short write on the message path that finds the writer idle. The
//! writer commits whatever arrived together in one transaction (each job in its own
//! savepoint; a job alone is the transaction), so a burst costs one commit instead of one per
//! job.
//!
//! A write can publish events: they are inserted into the outbox in the same transaction and handed
//! to the relay right after the commit (see [`crate::outbox`]), so a state change and the event
//! announcing it are never one without the other.

use crate::config::Synchronous;
use crate::outbox::{Delivered, OutboxRow, OutboxSink};
use checkpoint::Checkpoints;
use gochat_proto::events::{Envelope, EventData};
use gochat_proto::ids::EventId;
use rusqlite::{Connection, OpenFlags, params};
use rusqlite_migration::{M, Migrations};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use writer::{Finisher, SharedWriter, WriteJob};

/// How long a connection waits for another's lock: the writer for another process's write
/// lock (Litestream checkpointing, `gochat dead-letters requeue`), a reader for a checkpoint
/// that resets the log.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reader threads per database.
const READERS: usize = 2;

/// Tables every service database has, outside the service's own migrations.
///
/// Outbox ids must keep growing while the process runs, also after the table was emptied: the
/// relay takes a row handed over at or below the last id it published as already published.
/// `AUTOINCREMENT` guarantees that, at the price of writing the table's high mark to
/// `sqlite_sequence` in every transaction that publishes (a page of the log). The writer hands
/// the ids out itself ([`Write::keep`]), so a service whose commits are the message path drops
/// that page with [`OUTBOX_WITHOUT_AUTOINCREMENT`].
const KIT_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    event_id TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("database {0} is closed")]
    Closed(String),
    /// The write's own code panicked (a bug); its changes were rolled back.
    #[error("the write failed on a bug and was rolled back")]
    Panicked,
    /// The write never ran: SQLite rolled back the group it was queued in (a full disk, an I/O
    /// error) before its turn.
    #[error("the write was dropped with its group, which failed before it ran")]
    RolledBack,
}

impl DbError {
    /// The database or the disk under it failed, not what was asked of it: the disk is full or
    /// failing (a disk remounted read-only fails writes as I/O errors), the file cannot be
    /// opened, another process holds its lock past the busy timeout, or the write was rolled
    /// back with a group that failed so. The same request may work later. A closed database
    /// (its thread is gone) and a panic are bugs, not this.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Sqlite(e) => sqlite_unavailable(e),
            Self::RolledBack => true,
            Self::Closed(_) | Self::Panicked => false,
        }
    }
}

/// SQLite's codes for the storage failing. `SQLITE_ABORT` is also what a job of a group is
/// told when SQLite rolled the whole group back because of another job (see the writer).
fn sqlite_unavailable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{CannotOpen, DatabaseBusy, DiskFull, OperationAborted, SystemIoFailure};
    matches!(
        e.sqlite_error_code(),
        Some(DiskFull | SystemIoFailure | CannotOpen | DatabaseBusy | OperationAborted)
    )
}

/// Whether anything in `error`'s chain is the storage failing rather than the request or the
/// event: a database that is unavailable ([`DbError::is_unavailable`]), or a file refused by a
/// full or read-only disk. Consumers retry such failures as long as they last; requests are
/// answered `unavailable` (503), to be tried again later.
pub fn storage_unavailable(error: &anyhow::Error) -> bool {
    use std::io::ErrorKind::{ReadOnlyFilesystem, StorageFull};
    error.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<DbError>() {
            e.is_unavailable()
        } else if let Some(e) = cause.downcast_ref::<rusqlite::Error>() {
            sqlite_unavailable(e)
        } else {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| matches!(e.kind(), StorageFull | ReadOnlyFilesystem))
        }
    })
}

/// Work to do once a write is committed (see [`Write::after_commit`]).
type AfterCommit = Box<dyn FnOnce() + Send>;

/// A write in progress: its transaction (or its savepoint in a group's) and the events it
/// publishes.
pub struct Write<'c> {
    tx: writer::Scope<'c>,
    /// The id the next outbox row gets (see [`KIT_SCHEMA`]).
    next_outbox_id: &'c mut i64,
    published: Vec<OutboxRow>,
    after_commit: Vec<AfterCommit>,
    /// The event being applied was refused (see [`Write::mark_refused`]).
    refused: bool,
}

impl std::ops::Deref for Write<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

impl Write<'_> {
    /// Records `event` in the outbox; it is published once this write commits.
    pub fn publish<E: EventData>(&mut self, event: &E) -> rusqlite::Result<EventId> {
        let (envelope, json) = encode(event)?;
        let id = envelope.id;
        self.keep(Arc::new(envelope), json, None)?;
        Ok(id)
    }

    /// Like [`Write::publish`], and says when the event is confirmed (see [`Delivered`]).
    pub fn publish_delivered<E: EventData>(&mut self, event: &E) -> rusqlite::Result<Delivered> {
        let (envelope, json) = encode(event)?;
        let (tx, rx) = oneshot::channel();
        self.keep(Arc::new(envelope), json, Some(tx))?;
        Ok(Delivered(rx))
    }

    /// Records an encoded event in the outbox; it is published once this write commits.
    pub(crate) fn keep(
        &mut self,
        envelope: Arc<Envelope>,
        json: Vec<u8>,
        confirmed: Option<oneshot::Sender<()>>,
    ) -> rusqlite::Result<()> {
        let id = *self.next_outbox_id;
        self.tx
            .prepare_cached("INSERT INTO outbox (id, payload) VALUES (?1, ?2)")?
            .execute(params![id, json])?;
        // Taken even if this job is rolled back: ids may skip, never repeat.
        *self.next_outbox_id += 1;
        self.published.push(OutboxRow {
            id: Some(id),
            envelope,
            json,
            confirmed,
        });
        Ok(())
    }

    /// Publishes an ephemeral `event` (typing) once this write commits, without recording it:
    /// lost if the process stops first or the bus is down, which is what ephemeral means.
    pub fn announce<E: EventData>(&mut self, event: &E) -> rusqlite::Result<()> {
        let (envelope, json) = encode(event)?;
        self.published.push(OutboxRow {
            id: None,
            envelope: Arc::new(envelope),
            json,
            confirmed: None,
        });
        Ok(())
    }

    /// Runs `f` once this write is committed, never if it is rolled back: for effects outside
    /// the database that must follow only what was really kept (handing work to a task that
    /// then reads it back). Runs on the thread that committed (the writer's, or a caller's with
    /// [`Db::write_here`]): keep it short and never block in it.
    pub fn after_commit(&mut self, f: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(f));
    }

    /// Lets threads waiting for this core run before the job goes on. A long job off everyone's
    /// critical path (a batch of notifications) calls it between items: on two cores the
    /// kernel may queue a thread of the message path behind this writer rather than move it
    /// to the other core, and it would wait for the whole batch (over a millisecond). Costs one
    /// system call when nothing waits. Never call it on the message path's own writer, nor in
    /// a write that may run on an async worker ([`Db::write_here`]).
    pub fn let_others_run(&self) {
        std::thread::yield_now();
    }

    /// Says that the event being applied is refused (its refusal is published in this write).
    /// A consumer of the bus ([`crate::bus::applying_once`]) passes that on to the event's
    /// publisher in this process once the write commits, with the event's confirm (see
    /// [`crate::record::Outcome`]).
    pub fn mark_refused(&mut self) {
        self.refused = true;
    }

    /// Whether the event applied since the last call was refused, and forgets it.
    pub(crate) fn take_refused(&mut self) -> bool {
        std::mem::take(&mut self.refused)
    }

    /// Records that this event is being applied; false when it already was (a redelivery).
    pub fn first_delivery(&self, event: EventId) -> rusqlite::Result<bool> {
        let inserted = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO inbox (event_id, applied_at) VALUES (?1, unixepoch())")?
            .execute(params![event.to_string()])?;
        Ok(inserted == 1)
    }
}

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// A service's database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    path: PathBuf,
    /// Jobs for the writer thread.
    jobs: flume::Sender<WriteJob>,
    writer: Arc<SharedWriter>,
    readers: flume::Sender<ReadJob>,
    /// Reader connections for [`Db::read_here`]: opened when every one is in use, so there are
    /// as many as threads that ever read at once (the async workers).
    here: std::sync::Mutex<Vec<Connection>>,
    synchronous: Synchronous,
    outbox: OutboxSink,
}

impl Db {
    /// Opens (creating if needed) `<dir>/<name>.db`, applies migrations, starts the threads.
    /// `outbox` receives the events of every committed write.
    pub fn open(
        dir: &Path,
        name: &str,
        migrations: &[&'static str],
        synchronous: Synchronous,
        outbox: OutboxSink,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.db"));
        let mut conn = open_connection(&path, synchronous, false)?;
        kit_tables(&conn)?;
        // A migration that rebuilds a table (the only way SQLite changes a column's constraints)
        // drops the old one while others still refer to it: foreign keys are checked once the
        // migrations are done instead of during them.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        let steps: Vec<M<'static>> = migrations.iter().map(|sql| M::up(sql).foreign_key_check()).collect();
        // A database with only the kit's tables (a socket gateway's session replica) has none.
        if !steps.is_empty() {
            Migrations::new(steps).to_latest(&mut conn)?;
        }
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Rows left from a previous run keep their ids (the relay publishes them first); new
        // ones follow.
        let (next_outbox_id, stored) =
            conn.query_row("SELECT coalesce(max(id), 0) + 1, count(*) FROM outbox", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })?;
        outbox.opened(name, usize::try_from(stored).unwrap_or_default());

        let checkpoints = Checkpoints::start(&conn, open_connection(&path, synchronous, false)?, name)?;
        let writer = Arc::new(SharedWriter::new(conn, next_outbox_id, outbox.clone(), checkpoints));
        let (jobs, queued) = flume::unbounded::<WriteJob>();
        std::thread::Builder::new().name(format!("{name}-db-writer")).spawn({
            let span = tracing::info_span!("database", db = name);
            let writer = writer.clone();
            move || span.in_scope(|| writer::write_loop(&writer, queued))
        })?;

        let (readers, read_jobs) = flume::unbounded::<ReadJob>();
        for i in 0..READERS {
            let conn = open_connection(&path, synchronous, true)?;
            let jobs = read_jobs.clone();
            std::thread::Builder::new()
                .name(format!("{name}-db-reader-{i}"))
                .spawn(move || {
                    for job in jobs.iter() {
                        job(&conn);
                    }
                })?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                path,
                jobs,
                writer,
                readers,
                here: std::sync::Mutex::new(Vec::new()),
                synchronous,
                outbox,
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in a write transaction on the writer thread; commits when it returns `Ok`,
    /// rolls back when it returns `Err`.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Write<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<rusqlite::Error> + Send + 'static,
    {
        let (job, answer) = write_job(f);
        self.queue(job)?;
        answer.await.map_err(|_| E::from(self.closed()))?
    }

    /// Like [`Db::write`], run here, on the calling async worker, when the writer is idle: for
    /// a short write on the message path (a consumer's batch of a few events). Handing it to
    /// the writer thread and back costs two thread wake-ups, and on an idle server the
    /// scheduler wakes a second async worker for the answer too; here the worker is held for
    /// the transaction (about a tenth of a millisecond for a message). It goes to the writer
    /// thread instead when that has jobs queued or running (so it never overtakes them), when
    /// another process holds the database's write lock (the worker never waits for a lock),
    /// when the log is due for the writer's own checkpoint, and always with
    /// `synchronous = full` (every commit would wait for the disk).
    pub async fn write_here<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Write<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<rusqlite::Error> + Send + 'static,
    {
        let (job, answer) = write_job(f);
        let left = match self.inner.synchronous {
            Synchronous::Normal => self.inner.writer.commit_here(job),
            Synchronous::Full => Some(job),
        };
        if let Some(job) = left {
            self.queue(job)?;
        }
        answer.await.map_err(|_| E::from(self.closed()))?
    }

    /// Hands `job` to the writer thread.
    fn queue(&self, job: WriteJob) -> Result<(), DbError> {
        self.inner.writer.queueing();
        self.inner.jobs.send(job).map_err(|_| {
            self.inner.writer.not_queued();
            self.closed()
        })
    }

    /// Resolves once this database's outbox has room: a consumer awaits it before applying a
    /// batch, so that when downstream consumers fall behind, upstream ones slow down instead of
    /// piling committed events up.
    pub async fn outbox_room(&self) {
        self.inner.outbox.room().await
    }

    /// Whether every committed event has been handed to the bus, so that one published
    /// directly now cannot overtake an earlier one still in the outbox.
    pub fn outbox_idle(&self) -> bool {
        self.inner.outbox.is_idle()
    }

    /// Runs `f` on a reader connection.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        self.inner.readers.send(job).map_err(|_| E::from(self.closed()))?;
        answer.await.map_err(|_| E::from(self.closed()))?
    }

    /// Runs `f` on a reader connection here, on the calling async worker, for a read that an
    /// index bounds to a few pages (a page of history). A trip to a reader thread and back costs
    /// two thread wake-ups, more than such a query (15 % of a history page's CPU); the worker is
    /// held for tens of microseconds, and the other workers take its queued tasks meanwhile.
    /// Anything that may scan goes to [`Db::read`].
    pub fn read_here<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E>,
        E: From<DbError>,
    {
        let idle = self.inner.here.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_connection(&self.inner.path, self.inner.synchronous, true).map_err(DbError::from)?,
        };
        let outcome = f(&conn);
        self.inner.here.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        outcome
    }

    /// True when a reader can run a query: the readiness probe.
    pub async fn is_healthy(&self) -> bool {
        self.read(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map_err(DbError::from)
        })
        .await
        .is_ok()
    }

    fn closed(&self) -> DbError {
        DbError::Closed(self.inner.name.clone())
    }
}

/// Keeps the memory SQLite holds in this process, every database together, near `bytes` (0: no
/// limit; the last call wins, for the whole process). It is SQLite's soft heap limit: past it,
/// the page caches, which are most of that memory, give up their least recently used pages
/// before taking more; sorts and temporary tables still take what they need. A page given up
/// is read again from the kernel's file cache when needed, which keeps it anyway; SQLite's own
/// copies of it, one per connection that read it, are what a small board runs out of first.
pub fn limit_memory(bytes: u64) {
    let limit = i64::try_from(bytes).unwrap_or(i64::MAX);
    let set = Connection::open_in_memory()
        .and_then(|c| c.pragma_update_and_check(None, "soft_heap_limit", limit, |r| r.get::<_, i64>(0)));
    if let Err(e) = set {
        tracing::warn!(error = %e, "SQLite's memory could not be limited");
    }
}

fn open_connection(path: &Path, synchronous: Synchronous, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    let sync = match synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Temporary tables and sorts (a migration rebuilding a table, a full-text index creating
    // its shadow tables) stay in memory: the container image has no /tmp to put their files
    // in, and an SD card is spared the writes. The largest (`VACUUM`, an index build) take
    // tens of MiB for their duration, past the limit on SQLite's memory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Creates the kit's tables (see [`KIT_SCHEMA`]) where they do not exist yet: what
/// [`Db::open`] does before the service's migrations, and what a test database of a service's
/// migrations needs too.
pub fn kit_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(KIT_SCHEMA)?;
    conn.execute_batch(crate::bus::dead_letters::SCHEMA)
}

/// A migration that rebuilds the outbox without `AUTOINCREMENT`, keeping its rows and their ids:
/// one page of the log less in every commit that publishes. Being a migration of the service, it
/// also keeps a binary from before it off the database (SQLite's `user_version` is then ahead of
/// what that binary knows), which would insert plain row ids, and those start over once the
/// table is empty: its relay would take new rows for published ones.
pub const OUTBOX_WITHOUT_AUTOINCREMENT: &str = "
ALTER TABLE outbox RENAME TO outbox_autoincrement;
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    payload BLOB NOT NULL
);
INSERT INTO outbox (id, payload) SELECT id, payload FROM outbox_autoincrement;
DROP TABLE outbox_autoincrement;
";

fn encode<E: EventData>(event: &E) -> rusqlite::Result<(Envelope, Vec<u8>)> {
    let envelope = Envelope::new(event).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let json = envelope
        .to_json()
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    Ok((envelope, json))
}

/// A write job running `f`, and where its outcome will be told.
fn write_job<T, E, F>(f: F) -> (WriteJob, oneshot::Receiver<Result<T, E>>)
where
    F: FnOnce(&mut Write<'_>) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let (reply, answer) = oneshot::channel::<Result<T, E>>();
    let reply = Unanswered(Some(reply));
    let job: WriteJob = Box::new(move |write| {
        // Caught here, where the caller can still be told what happened (the writer's own
        // catch, around hooks and answers, would leave it hearing that the database closed).
        let outcome = catch_unwind(AssertUnwindSafe(|| f(write))).unwrap_or_else(|_| {
            tracing::error!("a write job panicked; its changes were rolled back");
            Err(E::from(DbError::Panicked))
        });
        let keep = outcome.is_ok();
        let finish: Finisher = Box::new(move |commit_error: Option<&rusqlite::Error>| {
            let outcome = match (outcome, commit_error) {
                (Ok(_), Some(e)) => Err(E::from(DbError::Sqlite(clone_error(e)))),
                (outcome, _) => outcome,
            };
            reply.send(outcome);
        });
        (keep, finish)
    });
    (job, answer)
}

/// Where a write job's outcome goes. A job dropped before it ran (its group failed first) is
/// answered [`DbError::RolledBack`] when this drops, not left to look like a closed database.
struct Unanswered<T, E: From<DbError>>(Option<oneshot::Sender<Result<T, E>>>);

impl<T, E: From<DbError>> Unanswered<T, E> {
    fn send(mut self, outcome: Result<T, E>) {
        if let Some(reply) = self.0.take() {
            let _ = reply.send(outcome);
        }
    }
}

impl<T, E: From<DbError>> Drop for Unanswered<T, E> {
    fn drop(&mut self) {
        if let Some(reply) = self.0.take() {
            let _ = reply.send(Err(E::from(DbError::RolledBack)));
        }
    }
}

/// rusqlite errors are not `Clone`; a commit failure is reported to every job of the group.
fn clone_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => rusqlite::Error::SqliteFailure(*code, msg.clone()),
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

mod checkpoint;
#[cfg(test)]
mod tests;
mod writer;
