//! The one connection that writes a database, and how its transactions are run.
//!
//! Jobs queue for the writer thread, which folds whatever is queued into one transaction (group
//! commit). A short write that finds the writer idle may instead take it on the caller's own
//! thread ([`super::Db::write_here`]); either way one transaction runs at a time, behind the
//! writer's lock, and outbox ids are handed out and their rows handed to the relay in commit
//! order.

use super::checkpoint::Checkpoints;
use super::{AfterCommit, BUSY_TIMEOUT, Write};
use crate::outbox::{OutboxRow, OutboxSink};
use rusqlite::{Connection, ErrorCode};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

/// Most jobs the writer folds into one transaction.
const MAX_GROUP: usize = 128;

/// Answers a job once the group's commit is known (`Some` error when it failed).
pub(super) type Finisher = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;
/// Runs a job's closure; says whether its changes are to be kept, and how to answer it.
pub(super) type WriteJob = Box<dyn FnOnce(&mut Write<'_>) -> (bool, Finisher) + Send>;

/// The writing connection, which the writer thread and callers' threads take turns at.
pub(super) struct SharedWriter {
    writer: Mutex<Writer>,
    /// Jobs handed to the writer thread and not yet committed: a write here waits its turn
    /// behind them, also once the thread has taken them off its queue.
    queued: AtomicUsize,
}

/// The writing connection and what every commit on it goes with.
pub(super) struct Writer {
    conn: Connection,
    /// The id the next outbox row gets (see [`super::KIT_SCHEMA`]).
    next_outbox_id: i64,
    outbox: OutboxSink,
    checkpoints: Checkpoints,
}

impl SharedWriter {
    pub(super) fn new(conn: Connection, next_outbox_id: i64, outbox: OutboxSink, checkpoints: Checkpoints) -> Self {
        Self {
            writer: Mutex::new(Writer {
                conn,
                next_outbox_id,
                outbox,
                checkpoints,
            }),
            queued: AtomicUsize::new(0),
        }
    }

    /// Counts a job about to be queued for the writer thread.
    pub(super) fn queueing(&self) {
        self.queued.fetch_add(1, Ordering::AcqRel);
    }

    /// Takes back the count of a job that could not be queued (the writer thread is gone).
    pub(super) fn not_queued(&self) {
        self.queued.fetch_sub(1, Ordering::AcqRel);
    }

    /// Commits `job` on this thread if the writer is idle: nothing queued for its thread, no
    /// transaction running, and the log short of the writer's own checkpoint (whose syncs must
    /// not hold a caller's thread). Otherwise, or when another process holds the database's
    /// write lock, gives the job back untouched, for the writer thread to wait instead.
    pub(super) fn commit_here(&self, job: WriteJob) -> Option<WriteJob> {
        if self.queued.load(Ordering::Acquire) > 0 {
            return Some(job);
        }
        let mut writer = match self.writer.try_lock() {
            Ok(writer) => writer,
            // A panic in a hook is caught where hooks run; the connection is sound either way.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Some(job),
        };
        if writer.checkpoints.writer_checkpoint_due() {
            return Some(job);
        }
        writer.commit(vec![job], Begin::WithoutWaiting)
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How a group's transaction takes the database's write lock: always at its start
/// (`BEGIN IMMEDIATE`). Taken later, at a job's first write after it read, SQLite would not
/// wait for it when another process holds it (waiting there could deadlock) but fail the job at
/// once; and this is the process's only writing connection, so taking it early costs nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Begin {
    /// Waiting up to [`BUSY_TIMEOUT`] for the lock.
    Waiting,
    /// Not waiting: if another process holds the lock, the group is given back untouched.
    WithoutWaiting,
}

/// The writer thread: takes whatever jobs are queued and commits them together.
pub(super) fn write_loop(shared: &SharedWriter, jobs: flume::Receiver<WriteJob>) {
    while let Ok(first) = jobs.recv() {
        let mut writer = shared.lock();
        let mut group = vec![first];
        group.extend(jobs.try_iter().take(MAX_GROUP - 1));
        let taken = group.len();
        let left = writer.commit(group, Begin::Waiting);
        debug_assert!(left.is_none(), "a waiting transaction takes every job");
        drop(writer);
        shared.queued.fetch_sub(taken, Ordering::AcqRel);
    }
}

impl Writer {
    /// Runs the jobs of `group` in one transaction (each in a savepoint of it, or a job alone as
    /// the transaction itself), commits once, then answers every job, hands the published
    /// events on and asks for a checkpoint if the log has grown. Gives a job alone back
    /// untouched if it begins [`Begin::WithoutWaiting`] and cannot.
    fn commit(&mut self, mut group: Vec<WriteJob>, begin: Begin) -> Option<WriteJob> {
        debug_assert!(
            begin == Begin::Waiting || group.len() == 1,
            "only a job alone is given back"
        );
        let Self {
            conn,
            next_outbox_id,
            outbox,
            checkpoints,
        } = self;
        let mut finishers: Vec<Finisher> = Vec::with_capacity(group.len());
        let mut published = Vec::new();
        let mut after_commit = Vec::new();
        let result = (|| -> rusqlite::Result<()> {
            let tx = match begin {
                Begin::Waiting => match Scope::transaction(conn, "BEGIN IMMEDIATE") {
                    Ok(tx) => tx,
                    // Still locked after the busy timeout: the jobs run all the same, and each
                    // is told by its first write why it failed.
                    Err(_) => Scope::transaction(conn, "BEGIN DEFERRED")?,
                },
                Begin::WithoutWaiting => {
                    conn.busy_timeout(Duration::ZERO)?;
                    let tx = Scope::transaction(conn, "BEGIN IMMEDIATE");
                    conn.busy_timeout(BUSY_TIMEOUT)?;
                    tx?
                }
            };
            if group.len() == 1 {
                // A job alone is its transaction: no savepoint inside it, whose sub-journal
                // (a copy of every page the job changes, to roll back to the savepoint alone)
                // was 6 % of the writer's CPU in one-at-a-time sends.
                let job = group.pop().expect("a group of one");
                return run_job(
                    tx,
                    next_outbox_id,
                    job,
                    &mut finishers,
                    &mut published,
                    &mut after_commit,
                );
            }
            for job in group.drain(..) {
                run_job(
                    Scope::savepoint(conn)?,
                    next_outbox_id,
                    job,
                    &mut finishers,
                    &mut published,
                    &mut after_commit,
                )?;
                // Some errors (disk full, I/O) make SQLite roll back the whole transaction; the
                // jobs after it must not run in autocommit mode, unseen by this group's commit.
                if tx.is_autocommit() {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                        Some("SQLite rolled the write group back".into()),
                    ));
                }
            }
            tx.keep()
        })();
        if let Err(e) = &result
            && begin == Begin::WithoutWaiting
            && let Some(job) = group.pop()
        {
            // The job did not run: the transaction could not begin here.
            if e.sqlite_error_code() != Some(ErrorCode::DatabaseBusy) {
                tracing::warn!(error = %e, "cannot begin a write here; handing it to the writer thread");
            }
            return Some(job);
        }
        let error = result.err();
        if let Some(e) = &error {
            tracing::error!(error = %e, "write transaction failed");
        }
        if error.is_none() {
            outbox.committing(&published);
            for hook in after_commit {
                caught("an after-commit hook", hook);
            }
        }
        for finish in finishers {
            caught("answering a write", || finish(error.as_ref()));
        }
        // Handed over after the answers, so that `accepted` usually reaches a sender before its
        // own `message` (docs/PROTOCOL.md allows either order).
        if error.is_none() && !published.is_empty() {
            outbox.committed(published);
        }
        checkpoints.after_commit(conn, begin == Begin::WithoutWaiting);
        None
    }
}

/// Runs `f`, logging a panic instead of unwinding: after a commit, what is left of it (handing
/// its events to the relay) must happen whatever a hook does.
fn caught(what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        tracing::error!("{what} panicked");
    }
}

/// Where a job's changes wait to be kept: its savepoint in a group's transaction, or the
/// transaction itself when the job is alone. Dropped before it is kept, it rolls its changes
/// back. Its statements are prepared once per connection (rusqlite's `Transaction` and
/// `Savepoint` prepare theirs again every time: 1 % of the CPU of a message sent alone).
pub(super) struct Scope<'c> {
    conn: &'c Connection,
    savepoint: bool,
    /// Neither kept nor rolled back yet.
    open: bool,
}

impl std::ops::Deref for Scope<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl<'c> Scope<'c> {
    /// Begins a transaction with `begin` (`BEGIN IMMEDIATE` or `BEGIN DEFERRED`).
    fn transaction(conn: &'c Connection, begin: &str) -> rusqlite::Result<Self> {
        run(conn, begin)?;
        Ok(Self {
            conn,
            savepoint: false,
            open: true,
        })
    }

    /// Opens a savepoint in the transaction running on `conn`; one at a time.
    fn savepoint(conn: &'c Connection) -> rusqlite::Result<Self> {
        run(conn, "SAVEPOINT job")?;
        Ok(Self {
            conn,
            savepoint: true,
            open: true,
        })
    }

    /// Keeps the changes: releases the savepoint, or commits the transaction. If that fails
    /// (a full disk), the scope stays open and rolls back when dropped.
    fn keep(mut self) -> rusqlite::Result<()> {
        run(self.conn, if self.savepoint { "RELEASE job" } else { "COMMIT" })?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let rolled_back = if self.conn.is_autocommit() {
            // SQLite already rolled the whole transaction back (some I/O errors do).
            Ok(())
        } else if self.savepoint {
            run(self.conn, "ROLLBACK TO job").and_then(|()| run(self.conn, "RELEASE job"))
        } else {
            run(self.conn, "ROLLBACK")
        };
        if let Err(e) = rolled_back {
            tracing::error!(error = %e, "cannot roll a write back");
        }
    }
}

/// Runs one of the statements that begin and end transactions and savepoints, prepared once.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs one job in `scope`.
fn run_job(
    scope: Scope<'_>,
    next_outbox_id: &mut i64,
    job: WriteJob,
    finishers: &mut Vec<Finisher>,
    published: &mut Vec<OutboxRow>,
    after_commit: &mut Vec<AfterCommit>,
) -> rusqlite::Result<()> {
    let mut write = Write {
        tx: scope,
        next_outbox_id,
        published: Vec::new(),
        after_commit: Vec::new(),
        refused: false,
    };
    // A panicking job must not take the writer (and so the service) down. Jobs catch their
    // own panics to answer their callers (`write_job`); this is the backstop.
    match catch_unwind(AssertUnwindSafe(|| job(&mut write))) {
        Ok((true, finish)) => {
            let Write {
                tx: scope,
                published: events,
                after_commit: hooks,
                ..
            } = write;
            // Answered whatever keeping it does: for a job alone it is the commit, which may
            // fail (a full disk), and the job is then told why.
            finishers.push(finish);
            scope.keep()?;
            published.extend(events);
            after_commit.extend(hooks);
        }
        // Failed: its scope rolls back when dropped; the job reports its own error.
        Ok((false, finish)) => finishers.push(finish),
        Err(_) => tracing::error!("a write job panicked; its changes were rolled back"),
    }
    Ok(())
}
