//! The one connection that writes a database, and how its transactions are run.
//!
//! Jobs queue for the writer thread, which folds whatever is queued into one transaction (group
//! commit). A short write that finds the writer idle may instead take it on the caller's own
//! thread ([`super::Db::write_here`]); either way one transaction runs at a time, behind the
//! [`Writer`]'s lock.

use super::checkpoint::Checkpoints;
use super::{AfterCommit, Write};
use crate::outbox::{OutboxRow, OutboxSink};
use rusqlite::{Connection, Savepoint};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Most jobs the writer folds into one transaction.
const MAX_GROUP: usize = 128;

/// Answers a job once the group's commit is known (`Some` error when it failed).
pub(super) type Finisher = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;
/// Runs a job's closure; says whether its changes are to be kept, and how to answer it.
pub(super) type WriteJob = Box<dyn FnOnce(&mut Write<'_>) -> (bool, Finisher) + Send>;

/// The writing connection and what every commit on it goes with.
pub(super) struct Writer {
    conn: Connection,
    /// The id the next outbox row gets (see [`super::KIT_SCHEMA`]).
    next_outbox_id: i64,
    outbox: OutboxSink,
    checkpoints: Checkpoints,
}

/// A [`Writer`] that the writer thread and callers' threads take turns at.
pub(super) type SharedWriter = Arc<Mutex<Writer>>;

impl Writer {
    pub(super) fn shared(
        conn: Connection,
        next_outbox_id: i64,
        outbox: OutboxSink,
        checkpoints: Checkpoints,
    ) -> SharedWriter {
        Arc::new(Mutex::new(Self {
            conn,
            next_outbox_id,
            outbox,
            checkpoints,
        }))
    }

    /// Whether a write may run on a caller's thread now: not when the log has grown to where
    /// the writer checkpoints it itself, whose syncs must not hold a caller's thread.
    pub(super) fn may_run_here(&self) -> bool {
        !self.checkpoints.writer_checkpoint_due()
    }

    /// Runs each job of `group` in a savepoint of one transaction, commits once, then answers
    /// every job, hands the published events on and asks for a checkpoint if the log has grown.
    /// `here`: on a caller's thread (see [`Writer::may_run_here`]).
    pub(super) fn commit(&mut self, mut group: Vec<WriteJob>, here: bool) {
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
            if group.len() == 1 {
                // The job's savepoint is the transaction itself (SQLite begins one for a
                // savepoint opened outside any): no sub-journal of the pages it changes, which a
                // savepoint within a transaction keeps to be able to roll back to it alone.
                let job = group.pop().expect("a group of one");
                return run_job(
                    conn.savepoint()?,
                    next_outbox_id,
                    job,
                    &mut finishers,
                    &mut published,
                    &mut after_commit,
                );
            }
            let mut tx = conn.transaction()?;
            for job in group {
                run_job(
                    tx.savepoint()?,
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
            tx.commit()
        })();
        let error = result.err();
        if let Some(e) = &error {
            tracing::error!(error = %e, "write transaction failed");
        }
        if error.is_none() {
            outbox.committing(published.len());
            for f in after_commit {
                f();
            }
        }
        for finish in finishers {
            finish(error.as_ref());
        }
        // Handed over after the answers, so that `accepted` usually reaches a sender before its
        // own `message` (docs/PROTOCOL.md allows either order).
        if error.is_none() && !published.is_empty() {
            outbox.committed(published);
        }
        checkpoints.after_commit(conn, here);
    }
}

/// Takes the writer, also after a panic in a job's answer or hook (a job's own panic is caught
/// in [`run_job`]): the connection is still sound, and the service must go on writing.
pub(super) fn lock(writer: &Mutex<Writer>) -> MutexGuard<'_, Writer> {
    writer.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer thread: takes whatever jobs are queued and commits them together.
pub(super) fn write_loop(writer: SharedWriter, jobs: flume::Receiver<WriteJob>) {
    while let Ok(first) = jobs.recv() {
        let mut writer = lock(&writer);
        let mut group = vec![first];
        group.extend(jobs.try_iter().take(MAX_GROUP - 1));
        writer.commit(group, false);
    }
}

/// Runs one job in `savepoint`: its own, in the group's transaction, or the transaction of a
/// group of one.
fn run_job(
    savepoint: Savepoint<'_>,
    next_outbox_id: &mut i64,
    job: WriteJob,
    finishers: &mut Vec<Finisher>,
    published: &mut Vec<OutboxRow>,
    after_commit: &mut Vec<AfterCommit>,
) -> rusqlite::Result<()> {
    let mut write = Write {
        tx: savepoint,
        next_outbox_id,
        published: Vec::new(),
        after_commit: Vec::new(),
    };
    // A panicking job must not take the writer thread (and so the service) down.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut write))) {
        Ok((true, finish)) => {
            let Write {
                tx: savepoint,
                published: events,
                after_commit: hooks,
                ..
            } = write;
            // Answered whatever the release does: for a group of one it is the commit, which
            // may fail (a full disk), and the job is then told why.
            finishers.push(finish);
            savepoint.commit()?;
            published.extend(events);
            after_commit.extend(hooks);
        }
        // Failed: its savepoint rolls back when dropped; the job reports its own error.
        Ok((false, finish)) => finishers.push(finish),
        Err(_) => tracing::error!("a write job panicked; its changes were rolled back"),
    }
    Ok(())
}
