//! Checkpoints off the commit path.
//!
//! In WAL mode a commit appends pages to the write-ahead log; a checkpoint copies them back
//! into the database file and syncs it, which takes milliseconds. SQLite's automatic
//! checkpoint runs inside the commit that crosses its threshold, so every few dozen messages
//! one sender waited for a sync that had nothing to do with its message: that was the tail
//! of the quiet chat's latency. Here the writer only counts the log's frames after each commit
//! (a WAL hook) and, every [`CHECKPOINT_FRAMES`] new frames, asks a checkpointer thread on its
//! own connection for a PASSIVE checkpoint, which never blocks the writer.
//!
//! That threshold is a quarter of SQLite's default. A checkpoint is one piece of CPU work that
//! nothing interrupts (it copies the log's pages into the file), and on a machine of two cores
//! a thread of the message path may wait for the core it runs on: copying every 1,000 frames
//! (0.4-0.8 ms here) was behind one message in a hundred taking over a millisecond. Copying
//! every 256 keeps each piece short, for a little more work in all (a page that many commits
//! write, a conversation's head or the end of an index, is copied once per checkpoint: in
//! one-at-a-time sends the checkpointer went from 3.5 % of the server's CPU to 6 %). A burst
//! grows the log by a hundred thousand frames a second and each checkpoint also syncs the files
//! twice, so checkpoints are asked for at most every [`MIN_INTERVAL`]: no more than a hundred a
//! second whatever the rate, which an SD card can take, and in a burst about as often as with
//! SQLite's default (no CPU difference measured here, on an SSD-backed VM).
//!
//! The log starts over at the first commit after a checkpoint that copied all of it. While
//! writes keep coming that moment may not come (the writer appends during the checkpoint's
//! sync), so past [`WRITER_CHECKPOINT_FRAMES`] the writer thread checkpoints itself, after the
//! checkpointer's run if one is under way, with nothing appended meanwhile: the log stays
//! bounded, at the price of one sync per that many frames on the commit path (a write on a
//! caller's thread never waits for it: the next write goes to the writer thread). Nothing is checkpointed while nothing is written, so an idle server
//! does not touch the disk. Litestream, when it replicates the file, takes these checkpoints
//! like SQLite's own automatic ones.

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use std::cell::Cell;
use std::ffi::c_int;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// New frames in the log after which the checkpointer is asked to run (1 MiB of 4 KiB pages).
const CHECKPOINT_FRAMES: c_int = 256;
/// The shortest time between two checkpoints asked for.
const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// Frames in the log past which the writer checkpoints itself (about 40 MiB of 4 KiB pages).
const WRITER_CHECKPOINT_FRAMES: c_int = 10_000;

thread_local! {
    /// Frames in the log after this thread's last commit on a writer's connection, as the WAL
    /// hook saw them (a write may run on a caller's thread, see `Db::write_here`).
    static WAL_FRAMES: Cell<c_int> = const { Cell::new(0) };
}

/// The writer's side: when to ask for a checkpoint.
pub(super) struct Checkpoints {
    requests: flume::Sender<()>,
    /// Frames in the log when a checkpoint was last asked for.
    asked_at: c_int,
    /// When a checkpoint was last asked for.
    asked_when: Option<Instant>,
    /// Frames in the log after the last commit that wrote any.
    frames: c_int,
    /// Held by whichever thread checkpoints: SQLite refuses a checkpoint while another runs,
    /// and the writer's own must not be refused (the log would grow until one gets through).
    running: Arc<Mutex<()>>,
}

impl Checkpoints {
    /// Replaces SQLite's automatic checkpoint on the writer's connection (a WAL hook disables
    /// it) and starts the checkpointer thread on a connection of its own.
    pub(super) fn start(writer: &Connection, checkpointer: Connection, name: &str) -> std::io::Result<Self> {
        writer.wal_hook(Some(note_frames));
        let (requests, received) = flume::bounded::<()>(1);
        let running = Arc::new(Mutex::new(()));
        std::thread::Builder::new()
            .name(format!("{name}-db-checkpoint"))
            .spawn({
                let running = running.clone();
                move || {
                    for () in received.iter() {
                        let _running = running.lock().unwrap_or_else(PoisonError::into_inner);
                        checkpoint(&checkpointer);
                    }
                }
            })?;
        Ok(Self {
            requests,
            asked_at: 0,
            asked_when: None,
            frames: 0,
            running,
        })
    }

    /// Called after each commit on the writer's connection, on the thread that committed;
    /// `here` when that is a caller's thread, which leaves the writer's own checkpoint to the
    /// writer thread (see [`Checkpoints::writer_checkpoint_due`]).
    pub(super) fn after_commit(&mut self, writer: &Connection, here: bool) {
        let frames = WAL_FRAMES.replace(0);
        if frames == 0 {
            return; // nothing was written
        }
        if frames < self.asked_at {
            self.asked_at = 0; // the log started over
        }
        self.frames = frames;
        if frames >= WRITER_CHECKPOINT_FRAMES && !here {
            // After the checkpointer's, if one runs: nothing is appended meanwhile, so this
            // one copies the whole log and the next commit starts it over.
            let _running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            checkpoint(writer);
        } else if frames - self.asked_at >= CHECKPOINT_FRAMES
            && self.asked_when.is_none_or(|at| at.elapsed() >= MIN_INTERVAL)
        {
            // A request still pending will copy these frames too.
            let _ = self.requests.try_send(());
            self.asked_at = frames;
            self.asked_when = Some(Instant::now());
        }
    }

    /// The log has grown to where the writer checkpoints it itself, waiting for the syncs:
    /// writes then go to the writer thread until it has.
    pub(super) fn writer_checkpoint_due(&self) -> bool {
        self.frames >= WRITER_CHECKPOINT_FRAMES
    }
}

fn note_frames(_: &Wal, frames: c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.set(frames);
    Ok(())
}

fn checkpoint(conn: &Connection) {
    // (busy, frames in the log, frames copied): a busy or partial one is retried on a later commit.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0)) {
        tracing::warn!(error = %e, "checkpoint failed");
    }
}
