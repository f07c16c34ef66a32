//! Checkpoints off the commit path.
//!
//! In WAL mode a commit appends pages to the write-ahead log; a checkpoint copies them back
//! into the database file and syncs it, which takes milliseconds. SQLite's automatic
//! checkpoint runs inside the commit that crosses its threshold, so every few dozen messages
//! one sender waited for a sync that had nothing to do with its message: that was the tail
//! of the quiet chat's latency. Here the writer only counts the log's frames after each commit
//! (a WAL hook) and asks a checkpointer thread, on its own connection, for a PASSIVE checkpoint,
//! which never blocks the writer. Once a checkpoint has copied everything, the next commit
//! starts the log over, so it stays about [`CHECKPOINT_FRAMES`] pages long.
//!
//! Should the checkpointer fall behind (a reader pinning an old snapshot, a slow card), the
//! writer checkpoints itself past [`WRITER_CHECKPOINT_FRAMES`]: the log stays bounded. Nothing is
//! checkpointed while nothing is written, so an idle server does not touch the disk. Litestream,
//! when it replicates the file, takes these checkpoints like SQLite's own automatic ones.

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use std::cell::Cell;
use std::ffi::c_int;

/// Frames in the log past which the checkpointer is asked to run (SQLite's own default).
const CHECKPOINT_FRAMES: c_int = 1000;
/// Frames in the log past which the writer checkpoints itself (about 64 MiB of 4 KiB pages).
const WRITER_CHECKPOINT_FRAMES: c_int = 16 * CHECKPOINT_FRAMES;

thread_local! {
    /// Frames in the log after the writer thread's last commit, as the WAL hook saw them.
    static WAL_FRAMES: Cell<c_int> = const { Cell::new(0) };
}

/// Replaces SQLite's automatic checkpoint on the writer's connection (a WAL hook disables it).
pub(super) fn count_frames(writer: &Connection) {
    writer.wal_hook(Some(note_frames));
}

fn note_frames(_: &Wal, frames: c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.set(frames);
    Ok(())
}

/// Called by the writer after each commit: asks for a checkpoint when the log has grown.
pub(super) fn after_commit(writer: &Connection, checkpointer: &flume::Sender<()>) {
    let frames = WAL_FRAMES.replace(0);
    if frames >= WRITER_CHECKPOINT_FRAMES {
        checkpoint(writer);
    } else if frames >= CHECKPOINT_FRAMES {
        // A request already pending covers this one.
        let _ = checkpointer.try_send(());
    }
}

/// The checkpointer thread: one PASSIVE checkpoint per request, until the writer is gone.
pub(super) fn run(conn: Connection, requests: flume::Receiver<()>) {
    for () in requests.iter() {
        checkpoint(&conn);
    }
}

fn checkpoint(conn: &Connection) {
    // (busy, frames in the log, frames copied): a busy or partial one is retried on a later commit.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0)) {
        tracing::warn!(error = %e, "checkpoint failed");
    }
}
