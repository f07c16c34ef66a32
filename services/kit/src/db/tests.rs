//! The writer's group commit, on a real database file: jobs queued together share one
//! transaction, each in its own savepoint, and whatever happens to one job (an error, a panic,
//! a rollback of the whole transaction, a failed commit) reaches exactly the jobs it must.
//!
//! Groups are made deterministic by holding the writer thread in a job ([`Held`]) while the
//! jobs of the next group are queued: the writer takes them all at once when it is let go.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use super::*;
use crate::outbox::Outbox;
use futures_util::FutureExt;
use gochat_proto::events::UserOnline;
use gochat_proto::ids::UserId;
use std::future::Future;
use std::pin::Pin;

/// `items.parent` is checked at commit, not at each statement, so a job can break it and a
/// later job of the same transaction can mend it.
const SCHEMA: &[&str] = &["
CREATE TABLE parents (id INTEGER PRIMARY KEY);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED
);"];

struct TestDb {
    db: Db,
    _outbox: Outbox,
    _dir: tempfile::TempDir,
}

fn open() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::default();
    let db = Db::open(dir.path(), "test", SCHEMA, Synchronous::Normal, outbox.sink()).unwrap();
    TestDb {
        db,
        _outbox: outbox,
        _dir: dir,
    }
}

type Job = Pin<Box<dyn Future<Output = Result<(), DbError>> + Send>>;

/// A write whose closure is `f`, not yet queued.
fn job<F>(db: &Db, f: F) -> Job
where
    F: FnOnce(&mut Write<'_>) -> Result<(), DbError> + Send + 'static,
{
    let db = db.clone();
    Box::pin(async move { db.write(f).await })
}

/// Like [`job`], with [`Db::write_here`].
fn job_here<F>(db: &Db, f: F) -> Job
where
    F: FnOnce(&mut Write<'_>) -> Result<(), DbError> + Send + 'static,
{
    let db = db.clone();
    Box::pin(async move { db.write_here(f).await })
}

fn insert_parent(id: i64) -> impl FnOnce(&mut Write<'_>) -> Result<(), DbError> + Send + 'static {
    move |w| {
        w.execute("INSERT INTO parents (id) VALUES (?1)", [id])?;
        Ok(())
    }
}

fn insert_item(id: i64, parent: i64) -> impl FnOnce(&mut Write<'_>) -> Result<(), DbError> + Send + 'static {
    move |w| {
        w.execute("INSERT INTO items (id, parent) VALUES (?1, ?2)", [id, parent])?;
        Ok(())
    }
}

fn online() -> UserOnline {
    UserOnline {
        user_id: UserId::new(),
        instance: "test".into(),
        at: chrono::Utc::now(),
    }
}

/// The writer thread, held inside a job until [`Held::release`].
struct Held {
    release: std::sync::mpsc::Sender<()>,
    done: Job,
}

impl Held {
    async fn writer(db: &Db) -> Self {
        let (entered_tx, entered) = oneshot::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let mut done = job(db, move |_| {
            entered_tx.send(()).unwrap();
            released.recv().unwrap();
            Ok(())
        });
        assert!((&mut done).now_or_never().is_none());
        entered.await.expect("the writer runs the holding job");
        Self { release, done }
    }

    /// Queues `jobs` behind the held one (each is polled once, which hands it to the writer),
    /// lets the writer go, and returns each job's outcome, in order.
    async fn then(self, jobs: Vec<Job>) -> Vec<Result<(), DbError>> {
        let mut jobs = jobs;
        for job in &mut jobs {
            assert!(job.now_or_never().is_none(), "a queued job waits for the held writer");
        }
        self.release.send(()).unwrap();
        self.done.await.unwrap();
        futures_util::future::join_all(jobs).await
    }
}

async fn ids(db: &Db, table: &'static str) -> Vec<i64> {
    db.read(move |c| {
        let mut stmt = c.prepare(&format!("SELECT id FROM {table} ORDER BY id"))?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
        Ok::<_, DbError>(ids)
    })
    .await
    .unwrap()
}

/// The event ids in the outbox table, in order.
async fn outbox_events(db: &Db) -> Vec<EventId> {
    db.read(|c| {
        let mut stmt = c.prepare("SELECT payload FROM outbox ORDER BY id")?;
        let payloads = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, DbError>(payloads)
    })
    .await
    .unwrap()
    .iter()
    .map(|json| Envelope::from_json(json).unwrap().id)
    .collect()
}

/// An error of the job's own making (a handler deciding not to keep its changes).
fn refused(why: &str) -> DbError {
    DbError::Sqlite(rusqlite::Error::InvalidParameterName(why.into()))
}

fn is_constraint_error(outcome: &Result<(), DbError>) -> bool {
    matches!(outcome, Err(DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
        if e.code == rusqlite::ErrorCode::ConstraintViolation)
}

#[tokio::test]
async fn jobs_queued_together_commit_as_one_transaction() {
    let t = open();
    // Alone, the first job could never commit (its parent does not exist yet); in the same
    // transaction as the second, the commit finds the constraint satisfied.
    let outcomes = Held::writer(&t.db)
        .await
        .then(vec![job(&t.db, insert_item(1, 7)), job(&t.db, insert_parent(7))])
        .await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(ids(&t.db, "items").await, [1]);
    assert_eq!(ids(&t.db, "parents").await, [7]);

    // The same two jobs one after the other: the first fails its own commit.
    let alone = t.db.write(insert_item(2, 8)).await;
    assert!(is_constraint_error(&alone), "{alone:?}");
}

#[tokio::test]
async fn a_failed_commit_reaches_every_job_of_the_group_and_keeps_none_of_them() {
    let t = open();
    let outcomes = Held::writer(&t.db)
        .await
        .then(vec![
            job(&t.db, insert_parent(1)),
            // Breaks the deferred constraint: every statement succeeds, the commit does not.
            job(&t.db, insert_item(2, 99)),
            job(&t.db, insert_parent(3)),
        ])
        .await;
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(is_constraint_error(outcome), "job {i}: {outcome:?}");
    }
    assert!(ids(&t.db, "parents").await.is_empty());
    assert!(ids(&t.db, "items").await.is_empty());
    // The writer goes on with the next group.
    t.db.write(insert_parent(4)).await.unwrap();
    assert_eq!(ids(&t.db, "parents").await, [4]);
}

/// A job alone whose commit fails ends its transaction rolled back, on the writer thread and
/// on the caller's (`write_here`): left open, every later write would fail to begin.
#[tokio::test]
async fn a_job_alone_whose_commit_fails_leaves_no_transaction_open() {
    let t = open();
    let failed = t.db.write(insert_item(1, 99)).await;
    assert!(is_constraint_error(&failed), "{failed:?}");
    t.db.write(insert_parent(2)).await.unwrap();
    let failed = t.db.write_here(insert_item(3, 99)).await;
    assert!(is_constraint_error(&failed), "{failed:?}");
    t.db.write_here(insert_parent(4)).await.unwrap();
    assert_eq!(ids(&t.db, "parents").await, [2, 4]);
    assert!(ids(&t.db, "items").await.is_empty());
}

#[tokio::test]
async fn a_job_alone_is_its_transaction_kept_refused_or_panicking_as_in_a_group() {
    // A group of one runs without a savepoint inside its transaction: the same outcomes.
    let t = open();
    let kept = online();
    t.db.write(move |w| {
        insert_parent(1)(w)?;
        w.publish(&kept)?;
        Ok::<(), DbError>(())
    })
    .await
    .unwrap();
    let refused_alone = t.db.write(|w| {
        insert_parent(2)(w)?;
        w.publish(&online())?;
        Err::<(), DbError>(refused("refused alone"))
    });
    assert!(matches!(refused_alone.await, Err(e) if e.to_string().contains("refused alone")));
    let panicked = t.db.write(|w| -> Result<(), DbError> {
        insert_parent(3)(w)?;
        panic!("a bug in a write job");
    });
    assert!(
        matches!(panicked.await, Err(DbError::Panicked)),
        "the panicking job's caller hears of it"
    );
    let rolled_back = t.db.write(|w| {
        insert_parent(4)(w)?;
        w.execute_batch("ROLLBACK")?;
        Ok::<(), DbError>(())
    });
    assert!(
        rolled_back.await.is_err(),
        "a job that ended its own transaction is not kept"
    );
    assert_eq!(ids(&t.db, "parents").await, [1]);
    assert_eq!(outbox_events(&t.db).await.len(), 1, "only the kept job's event");
    t.db.write(insert_parent(5)).await.unwrap();
    assert_eq!(ids(&t.db, "parents").await, [1, 5], "the writer goes on");
}

#[tokio::test]
async fn a_failing_job_is_rolled_back_alone_with_the_events_it_published() {
    let t = open();
    let (kept_a, kept_c) = (online(), online());
    let (a, c) = (kept_a.clone(), kept_c.clone());
    let outcomes = Held::writer(&t.db)
        .await
        .then(vec![
            job(&t.db, move |w| {
                insert_parent(1)(w)?;
                w.publish(&a)?;
                Ok(())
            }),
            job(&t.db, |w| {
                insert_parent(2)(w)?;
                w.publish(&online())?;
                Err(refused("refused by the job itself"))
            }),
            job(&t.db, move |w| {
                insert_parent(3)(w)?;
                w.publish(&c)?;
                Ok(())
            }),
        ])
        .await;
    assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
    assert!(
        matches!(&outcomes[1], Err(e) if e.to_string().contains("refused by the job itself")),
        "the failing job gets its own error: {:?}",
        outcomes[1]
    );
    assert_eq!(ids(&t.db, "parents").await, [1, 3]);
    let published = outbox_events(&t.db).await;
    assert_eq!(published.len(), 2, "only the kept jobs' events: {published:?}");
}

#[tokio::test]
async fn a_panicking_job_keeps_the_writer_alive_and_leaks_nothing() {
    let t = open();
    let outcomes = Held::writer(&t.db)
        .await
        .then(vec![
            job(&t.db, insert_parent(1)),
            job(&t.db, |w| {
                insert_parent(2)(w)?;
                w.publish(&online())?;
                panic!("a bug in a write job");
            }),
            job(&t.db, insert_parent(3)),
        ])
        .await;
    assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
    assert!(
        matches!(outcomes[1], Err(DbError::Panicked)),
        "the panicking job's caller hears of it: {outcomes:?}"
    );
    assert_eq!(ids(&t.db, "parents").await, [1, 3]);
    assert!(outbox_events(&t.db).await.is_empty());
    // Same thread, next group.
    t.db.write(insert_parent(4)).await.unwrap();
    assert_eq!(ids(&t.db, "parents").await, [1, 3, 4]);
}

#[tokio::test]
async fn a_job_that_rolls_the_whole_transaction_back_takes_its_group_with_it() {
    let t = open();
    // What SQLite does on some errors (disk full, I/O): the transaction is gone, not only the
    // statement. Jobs after it must not run in autocommit mode, each committing on its own.
    let outcomes = Held::writer(&t.db)
        .await
        .then(vec![
            job(&t.db, insert_parent(1)),
            job(&t.db, |w| {
                insert_parent(2)(w)?;
                w.execute_batch("ROLLBACK")?;
                Err(refused("rolled back"))
            }),
            job(&t.db, insert_parent(3)),
        ])
        .await;
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.is_err(), "job {i} cannot have been kept: {outcome:?}");
    }
    // Neither the job before the one that failed nor the one after is at fault: both are told
    // so, as a failure of the storage (a consumer retries it without counting an attempt).
    // The one after never ran, and hears it was dropped with its group, not that the
    // database closed.
    let innocent = |outcome: &Result<(), DbError>| outcome.as_ref().is_err_and(DbError::is_unavailable);
    assert!(innocent(&outcomes[0]), "{:?}", outcomes[0]);
    assert!(matches!(outcomes[2], Err(DbError::RolledBack)), "{:?}", outcomes[2]);
    assert!(!innocent(&outcomes[1]), "{:?}", outcomes[1]);
    assert!(ids(&t.db, "parents").await.is_empty(), "nothing of the group is kept");
    t.db.write(insert_parent(4)).await.unwrap();
    assert_eq!(ids(&t.db, "parents").await, [4]);
}

#[tokio::test]
async fn each_job_of_a_group_sees_what_the_earlier_ones_wrote() {
    let t = open();
    let outcomes = Held::writer(&t.db)
        .await
        .then(
            (1..=5)
                .map(|i| {
                    job(&t.db, move |w| {
                        let before: i64 = w.query_row("SELECT count(*) FROM parents", [], |r| r.get(0))?;
                        assert_eq!(before, i - 1, "job {i} runs after the ones queued before it");
                        insert_parent(i)(w)
                    })
                })
                .collect(),
        )
        .await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(ids(&t.db, "parents").await, [1, 2, 3, 4, 5]);
}

/// A job that inserts parent `id` and, once committed, reports how many parents another
/// connection sees then.
fn insert_parent_then_count(
    id: i64,
    path: std::path::PathBuf,
    seen: std::sync::mpsc::Sender<i64>,
) -> impl FnOnce(&mut Write<'_>) -> Result<(), DbError> + Send + 'static {
    move |w| {
        insert_parent(id)(w)?;
        w.after_commit(move || {
            let c = Connection::open(path).unwrap();
            seen.send(c.query_row("SELECT count(*) FROM parents", [], |r| r.get(0)).unwrap())
                .unwrap();
        });
        Ok(())
    }
}

#[tokio::test]
async fn after_commit_runs_for_kept_writes_only_and_once_they_are_committed() {
    let t = open();
    let path = t.db.path().to_owned();
    let (seen_tx, seen) = std::sync::mpsc::channel();

    // A kept write: its hook sees the committed row from another connection.
    t.db.write(insert_parent_then_count(1, path.clone(), seen_tx.clone()))
        .await
        .unwrap();
    assert_eq!(seen.try_recv(), Ok(1));

    // A job that fails is rolled back alone: its hook never runs, the other job's does.
    let outcomes = Held::writer(&t.db)
        .await
        .then(vec![
            job(&t.db, {
                let hook = insert_parent_then_count(2, path.clone(), seen_tx.clone());
                move |w| {
                    hook(w)?;
                    Err(refused("changed its mind"))
                }
            }),
            job(&t.db, insert_parent_then_count(3, path.clone(), seen_tx.clone())),
        ])
        .await;
    assert!(outcomes[0].is_err() && outcomes[1].is_ok(), "{outcomes:?}");
    assert_eq!(seen.try_recv(), Ok(2), "only job 3's hook ran, after the commit");
    assert!(seen.try_recv().is_err());

    // A group whose commit fails runs none of its hooks.
    let outcomes = Held::writer(&t.db)
        .await
        .then(vec![
            job(&t.db, insert_parent_then_count(4, path.clone(), seen_tx.clone())),
            job(&t.db, insert_item(5, 99)),
        ])
        .await;
    assert!(outcomes.iter().all(Result::is_err), "{outcomes:?}");
    assert!(seen.try_recv().is_err(), "no hook of a group that was not committed");
    assert_eq!(ids(&t.db, "parents").await, [1, 3]);
}

/// Temporary tables and sorts never need a temporary directory (the container image has none).
#[tokio::test]
async fn temporary_storage_is_in_memory_on_the_writer_and_the_readers() {
    let t = open();
    let written =
        t.db.write(|w| Ok::<i64, DbError>(w.query_row("PRAGMA temp_store", [], |r| r.get(0))?))
            .await
            .unwrap();
    let read =
        t.db.read(|c| Ok::<i64, DbError>(c.query_row("PRAGMA temp_store", [], |r| r.get(0))?))
            .await
            .unwrap();
    assert_eq!((written, read), (2, 2), "2 is MEMORY");
}

/// The limit on SQLite's memory is the process's: every connection, the writer's and the
/// readers', opened before it was set or after, reports it. (That the caches then shrink is
/// measured, not tested: reading SQLite's memory counters needs its C API.)
#[tokio::test]
async fn the_memory_limit_applies_to_every_connection() {
    let before = open();
    let cap = crate::config::CommonSettings::default().sqlite_memory_bytes();
    limit_memory(cap);
    let after = open();
    for t in [&before, &after] {
        let pragma = |c: &Connection| Ok::<i64, DbError>(c.query_row("PRAGMA soft_heap_limit", [], |r| r.get(0))?);
        let written = t.db.write(move |w| pragma(w)).await.unwrap();
        let read = t.db.read(pragma).await.unwrap();
        assert_eq!((written, read), (4 << 20, 4 << 20), "4 MiB by default");
    }
}

/// Pages committed past the checkpoint threshold reach the database file without another
/// commit (the checkpointer thread copies them), and an idle database is left alone.
#[tokio::test]
async fn a_grown_log_is_checkpointed_beside_the_writer() {
    let t = open();
    let file = t.db.path().to_owned();
    let size = move || std::fs::metadata(&file).unwrap().len();
    let before = size();
    // About 1,500 pages of rows in one commit.
    t.db.write(|w| {
        w.execute(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 600000)
             INSERT INTO parents (id) SELECT x FROM n",
            [],
        )?;
        Ok::<(), DbError>(())
    })
    .await
    .unwrap();
    // Checkpointed whole: the file holds every page the last commit left.
    let pages: i64 =
        t.db.read(|c| Ok::<i64, DbError>(c.query_row("PRAGMA page_count", [], |r| r.get(0))?))
            .await
            .unwrap();
    let pages = u64::try_from(pages).unwrap();
    assert!(pages * 4096 > before + 1000 * 4096, "{pages} pages");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while size() < pages * 4096 {
        assert!(
            std::time::Instant::now() < deadline,
            "never checkpointed: {} of {} bytes",
            size(),
            pages * 4096
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let checkpointed = size();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(size(), checkpointed, "nothing written, nothing checkpointed");
    assert_eq!(ids(&t.db, "parents").await.len(), 600_000);
}

/// Under writes that never pause (so a checkpoint beside the writer seldom catches the whole
/// log) the log still stays bounded: the writer checkpoints itself past its limit, also when
/// the writes come here (the one past the limit then goes to the writer thread).
#[tokio::test]
async fn the_log_stays_bounded_under_continuous_writes() {
    for here in [false, true] {
        let t = open();
        let wal = t.db.path().with_extension("db-wal");
        let mut largest = 0;
        for _ in 0..60 {
            // About 300 pages a commit.
            let write = |w: &mut Write<'_>| {
                w.execute_batch(
                    "CREATE TABLE IF NOT EXISTS blobs (b BLOB);
                     WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300)
                     INSERT INTO blobs (b) SELECT randomblob(4000) FROM n;",
                )?;
                Ok::<(), DbError>(())
            };
            if here {
                t.db.write_here(write).await.unwrap();
            } else {
                t.db.write(write).await.unwrap();
            }
            largest = largest.max(std::fs::metadata(&wal).unwrap().len());
        }
        // The writer's limit (10,000 frames) and a few commits: it waits for the
        // checkpointer's run to end, then copies the rest.
        let frame = 4096 + 24;
        assert!(
            largest < 13_000 * frame,
            "here: {here}: the log grew to {largest} bytes"
        );
    }
}

/// A bounded read runs on the calling thread, on a read-only connection that sees every commit,
/// and the connections are kept for the next read: one per read running at once.
#[tokio::test]
async fn reads_here_run_on_the_calling_thread_and_keep_their_connections() {
    let t = open();
    t.db.write(insert_parent(7)).await.unwrap();
    let caller = std::thread::current().id();
    let count = |c: &Connection| -> Result<i64, DbError> {
        assert_eq!(std::thread::current().id(), caller);
        Ok(c.query_row("SELECT count(*) FROM parents", [], |r| r.get(0))?)
    };
    assert_eq!(t.db.read_here(count).unwrap(), 1);
    let refused =
        t.db.read_here(|c| c.execute("DELETE FROM parents", []).map_err(DbError::from));
    assert!(refused.is_err(), "a reader connection writes nothing");
    let nested = t.db.read_here(|_| t.db.read_here(count)).unwrap();
    assert_eq!(nested, 1);
    assert_eq!(
        t.db.inner.here.lock().unwrap().len(),
        2,
        "two reads at once, two connections kept"
    );
    t.db.write(insert_parent(8)).await.unwrap();
    assert_eq!(
        t.db.read_here(count).unwrap(),
        2,
        "a kept connection sees the next commit"
    );
    assert_eq!(ids(&t.db, "parents").await, [7, 8]);
}

fn publish_one(w: &mut Write<'_>) -> Result<(), DbError> {
    w.publish(&online())?;
    Ok(())
}

/// The test schema, then the outbox rebuilt without `AUTOINCREMENT`.
fn rebuilt() -> [&'static str; 2] {
    [SCHEMA[0], OUTBOX_WITHOUT_AUTOINCREMENT]
}

/// Outbox ids never repeat while the process runs, also once the relay deleted every row (a
/// repeated id would be taken by the relay as already published), and with no `AUTOINCREMENT`
/// to see to it. Rows a previous run left keep their ids, and new rows follow them.
#[tokio::test]
async fn outbox_ids_keep_growing_after_the_table_empties_and_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::default();
    let db = Db::open(dir.path(), "test", &rebuilt(), Synchronous::Normal, outbox.sink()).unwrap();
    db.write(publish_one).await.unwrap();
    db.write(publish_one).await.unwrap();
    assert_eq!(ids(&db, "outbox").await, [1, 2]);
    db.write(|w| w.execute_batch("DELETE FROM outbox").map_err(DbError::from))
        .await
        .unwrap();
    db.write(publish_one).await.unwrap();
    assert_eq!(ids(&db, "outbox").await, [3]);
    drop(db);

    let reopened = Db::open(dir.path(), "test", &rebuilt(), Synchronous::Normal, outbox.sink()).unwrap();
    reopened.write(publish_one).await.unwrap();
    assert_eq!(ids(&reopened, "outbox").await, [3, 4]);
}

/// The rebuild keeps the waiting rows and their ids, its commits stop writing
/// `sqlite_sequence`, and a binary from before it (one migration fewer) is refused the
/// database instead of inserting row ids that start over.
#[tokio::test]
async fn the_outbox_rebuilt_without_autoincrement_keeps_its_rows_and_older_binaries_out() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::default();
    let before = Db::open(dir.path(), "test", SCHEMA, Synchronous::Normal, outbox.sink()).unwrap();
    for _ in 0..3 {
        before.write(publish_one).await.unwrap();
    }
    before
        .write(|w| {
            w.execute_batch("DELETE FROM outbox WHERE id = 2")
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    drop(before);

    let db = Db::open(dir.path(), "test", &rebuilt(), Synchronous::Normal, outbox.sink()).unwrap();
    db.write(publish_one).await.unwrap();
    let (sql, high_marks) = db
        .read(|c| {
            let sql: String = c.query_row("SELECT sql FROM sqlite_schema WHERE name = 'outbox'", [], |r| r.get(0))?;
            let high_marks: i64 = c.query_row(
                "SELECT count(*) FROM sqlite_sequence WHERE name LIKE 'outbox%'",
                [],
                |r| r.get(0),
            )?;
            Ok::<_, DbError>((sql, high_marks))
        })
        .await
        .unwrap();
    assert!(!sql.contains("AUTOINCREMENT"), "{sql}");
    assert_eq!(high_marks, 0);
    assert_eq!(ids(&db, "outbox").await, [1, 3, 4]);
    drop(db);

    let older = Db::open(dir.path(), "test", SCHEMA, Synchronous::Normal, outbox.sink());
    assert!(
        older.is_err(),
        "a binary without the rebuild must not open the database"
    );
}

/// Which thread ran a write.
fn thread(_: &mut Write<'_>) -> Result<std::thread::ThreadId, DbError> {
    Ok(std::thread::current().id())
}

/// Waits until a write here runs here: the writer thread answers a job before it lets go of
/// the writer, so right after a write on it a write here may still find it busy.
async fn writer_idle(db: &Db) {
    let caller = std::thread::current().id();
    for _ in 0..1000 {
        if db.write_here(thread).await.unwrap() == caller {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the writer never became idle");
}

/// With the writer idle, a write here runs on the calling thread, and is kept, refused or
/// caught panicking as on the writer thread; its events reach the outbox and its hooks run.
#[tokio::test]
async fn a_write_here_runs_on_the_calling_thread_when_the_writer_is_idle() {
    let t = open();
    let caller = std::thread::current().id();
    assert_ne!(
        t.db.write(thread).await.unwrap(),
        caller,
        "a write goes to the writer thread"
    );
    writer_idle(&t.db).await;

    let (hook_tx, hook) = oneshot::channel();
    t.db.write_here(move |w| {
        insert_parent(1)(w)?;
        w.publish(&online())?;
        w.after_commit(move || hook_tx.send(std::thread::current().id()).unwrap());
        Ok::<(), DbError>(())
    })
    .await
    .unwrap();
    assert_eq!(hook.await.unwrap(), caller, "its hook runs after its commit, here");
    let refused_here = t.db.write_here(|w| {
        insert_parent(2)(w)?;
        w.publish(&online())?;
        Err::<(), DbError>(refused("refused here"))
    });
    assert!(matches!(refused_here.await, Err(e) if e.to_string().contains("refused here")));
    let panicked = t.db.write_here(|w| -> Result<(), DbError> {
        insert_parent(3)(w)?;
        panic!("a bug in a write job");
    });
    assert!(
        matches!(panicked.await, Err(DbError::Panicked)),
        "the panicking job's caller hears of it"
    );
    let hook_panicked = t.db.write_here(|w| {
        insert_parent(4)(w)?;
        w.publish(&online())?;
        w.after_commit(|| panic!("a bug in a hook"));
        Ok::<(), DbError>(())
    });
    hook_panicked.await.unwrap();
    assert_eq!(ids(&t.db, "parents").await, [1, 4]);
    assert_eq!(outbox_events(&t.db).await.len(), 2, "only the kept jobs' events");
    assert_eq!(t.db.write_here(thread).await.unwrap(), caller, "and goes on here");
    t.db.write(insert_parent(5)).await.unwrap();
    assert_eq!(ids(&t.db, "parents").await, [1, 4, 5], "the writer thread goes on too");
}

/// A write here finds the writer busy: it queues behind the jobs already waiting and commits
/// after them, in their transaction, on the writer thread.
#[tokio::test]
async fn a_write_here_waits_its_turn_when_the_writer_is_busy() {
    let t = open();
    let caller = std::thread::current().id();
    let (ran_on_tx, ran_on) = oneshot::channel();
    let outcomes = Held::writer(&t.db)
        .await
        .then(vec![
            // Alone it could never commit (its parent does not exist yet).
            job(&t.db, insert_item(1, 7)),
            job_here(&t.db, move |w| {
                ran_on_tx.send(std::thread::current().id()).unwrap();
                let items: i64 = w.query_row("SELECT count(*) FROM items", [], |r| r.get(0))?;
                assert_eq!(items, 1, "the job queued before it ran first");
                insert_parent(7)(w)
            }),
        ])
        .await;
    assert!(outcomes.iter().all(Result::is_ok), "one transaction: {outcomes:?}");
    assert_ne!(ran_on.await.unwrap(), caller);
    assert_eq!(ids(&t.db, "items").await, [1]);
}

/// Another process holding the database's write lock (Litestream checkpointing) does not hold
/// the caller's thread: the write here goes to the writer thread, which waits for the lock,
/// also for a job that reads before it writes (SQLite does not wait for the lock at a write
/// that follows a read in the same transaction).
#[tokio::test]
async fn a_write_here_never_waits_for_another_process_lock() {
    let t = open();
    writer_idle(&t.db).await;
    let other = Connection::open(t.db.path()).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let mut write = Box::pin(t.db.write_here(|w| {
        let parents: i64 = w.query_row("SELECT count(*) FROM parents", [], |r| r.get(0))?;
        insert_parent(parents + 1)(w)?;
        thread(w)
    }));
    assert!((&mut write).now_or_never().is_none(), "handed to the writer thread");
    assert!(
        started.elapsed() < BUSY_TIMEOUT / 2,
        "the caller did not wait for the lock"
    );
    // Held long enough for the writer thread to try its write meanwhile (which a transaction
    // begun DEFERRED would fail at once instead of waiting).
    tokio::time::sleep(Duration::from_millis(100)).await;
    other.execute_batch("COMMIT").unwrap();
    assert_ne!(write.await.unwrap(), std::thread::current().id());
    assert_eq!(ids(&t.db, "parents").await, [1]);
    writer_idle(&t.db).await;
}

/// With `synchronous = full` a commit waits for the disk: no write runs on the caller's thread.
#[tokio::test]
async fn with_full_sync_a_write_here_goes_to_the_writer_thread() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::default();
    let db = Db::open(dir.path(), "test", SCHEMA, Synchronous::Full, outbox.sink()).unwrap();
    assert_ne!(db.write_here(thread).await.unwrap(), std::thread::current().id());
}

/// A lock another process holds past the busy timeout fails each queued write with SQLite's own
/// answer (the database is busy), not as if the database were closed.
#[tokio::test]
async fn a_write_kept_from_the_lock_too_long_is_told_why() {
    let t = open();
    let other = Connection::open(t.db.path()).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let outcome = t.db.write(insert_parent(1)).await;
    other.execute_batch("COMMIT").unwrap();
    assert!(
        matches!(&outcome, Err(DbError::Sqlite(e)) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)),
        "{outcome:?}"
    );
    t.db.write(insert_parent(2)).await.unwrap();
    assert_eq!(ids(&t.db, "parents").await, [2]);
}

/// What SQLite itself answers when a write does not fit: the database capped at its current
/// size (`max_page_count`) fails the write that needs another page as a full disk does. Such
/// an error is the storage's (a consumer retries it without counting an attempt, a request is
/// answered `unavailable`); a failing statement is not.
#[tokio::test]
async fn a_full_database_is_the_storage_failing_and_a_failing_statement_is_not() {
    let t = open();
    t.db.write(|w| {
        let pages: i64 = w.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        w.pragma_update(None, "max_page_count", pages)?;
        Ok::<_, DbError>(())
    })
    .await
    .unwrap();
    let full =
        t.db.write(|w| {
            w.execute(
                "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
                 INSERT INTO parents (id) SELECT i FROM n",
                [],
            )?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap_err();
    let full = anyhow::Error::from(full);
    assert!(storage_unavailable(&full), "a full database: {full:#}");
    let broken =
        t.db.write(|w| {
            w.execute("INSERT INTO missing (x) VALUES (1)", [])?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap_err();
    assert!(!storage_unavailable(&broken.into()), "a statement that fails");
}
