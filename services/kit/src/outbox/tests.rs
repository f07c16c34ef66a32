//! The relay over a real database file and the in-process bus, with consumers the test can
//! hold (so confirms stop coming) and make refuse an event (so its publish is not confirmed,
//! which the relay sees as it sees a broker failure).
//!
//! The event used throughout, `user.online`, is routed to exactly one durable queue
//! (`users.events`), whose only consumers are the test's. In process a refused event is
//! confirmed once its dead letter is kept, so a refusal here is the one way an in-process
//! confirm fails: the consumer stops before its dead letter is safe (its dead-letter table is
//! gone). Tests of refusals start a second consumer, which takes what the relay publishes again.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use super::*;
use crate::bus::{Queue, handler};
use crate::config::Synchronous;
use futures_util::FutureExt;
use gochat_proto::events::{Event, UserOnline};
use gochat_proto::ids::{EventId, UserId};
use gochat_proto::topology::USERS;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

/// Bound of every wait on the relay: generous, as the machine may be busy; never reached when
/// the relay works.
const WAIT: Duration = Duration::from_secs(30);

struct Harness {
    db: Db,
    sink: OutboxSink,
    bus: Bus,
    /// What the consumer acknowledged, in order: each event's id and the user it names.
    acked: mpsc::UnboundedReceiver<(EventId, UserId)>,
    /// False while the consumer is held: it then waits before handling anything.
    open: Arc<watch::Sender<bool>>,
    /// Events a consumer refuses once as undecodable, stopping as it does so: their publish is
    /// not confirmed.
    refuse_once: Arc<Mutex<HashSet<EventId>>>,
    outbox: Option<Outbox>,
    relay: Option<tokio::task::JoinHandle<()>>,
    shutdown: CancellationToken,
    _tasks: TaskTracker,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    harness_with(1)
}

/// A harness whose queue has `consumers` competing consumers.
fn harness_with(consumers: usize) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::default();
    let sink = outbox.sink();
    // The relay needs only the kit's own tables; a service always brings a migration.
    let schema = &["CREATE TABLE service (id INTEGER PRIMARY KEY);"];
    let db = Db::open(dir.path(), "relay", schema, Synchronous::Normal, outbox.sink()).unwrap();
    let bus = Bus::in_process();
    let (acked_tx, acked) = mpsc::unbounded_channel();
    let open = Arc::new(watch::Sender::new(true));
    let refuse_once = Arc::new(Mutex::new(HashSet::new()));
    let (shutdown, tasks) = (CancellationToken::new(), TaskTracker::new());
    // Where the consumers would keep dead letters: a database without the table, so a refused
    // event is never safe and stays unconfirmed once its consumer stops.
    let unsafe_dead_letters = Db::open(
        dir.path(),
        "dead",
        schema,
        Synchronous::Normal,
        Outbox::default().sink(),
    )
    .unwrap();
    rusqlite::Connection::open(dir.path().join("dead.db"))
        .and_then(|c| c.execute_batch("DROP TABLE dead_letters;"))
        .unwrap();
    for _ in 0..consumers {
        let stop = shutdown.child_token();
        let (gate, refuse, acked_tx, stopping) = (open.clone(), refuse_once.clone(), acked_tx.clone(), stop.clone());
        bus.consume(
            Queue::shared(&USERS, &unsafe_dead_letters),
            handler(move |envelope| {
                let (mut gate, refuse, acked, stopping) =
                    (gate.subscribe(), refuse.clone(), acked_tx.clone(), stopping.clone());
                async move {
                    let _ = gate.wait_for(|open| *open).await;
                    if refuse.lock().unwrap().remove(&envelope.id) {
                        stopping.cancel();
                        let undecodable = serde_json::from_str::<u8>("not an event").unwrap_err();
                        return Err(anyhow::Error::from(undecodable));
                    }
                    let Event::UserOnline(online) = envelope.event()? else {
                        panic!("only user.online is published here");
                    };
                    acked.send((envelope.id, online.user_id)).unwrap();
                    Ok(())
                }
            }),
            &tasks,
            stop,
        );
    }
    Harness {
        db,
        sink,
        bus,
        acked,
        open,
        refuse_once,
        outbox: Some(outbox),
        relay: None,
        shutdown,
        _tasks: tasks,
        _dir: dir,
    }
}

fn online() -> UserOnline {
    UserOnline {
        user_id: UserId::new(),
        instance: "test".into(),
        at: chrono::Utc::now(),
    }
}

impl Harness {
    fn start_relay(&mut self) {
        let outbox = self.outbox.take().expect("one relay per harness");
        let relay = outbox.relay(self.db.clone(), self.bus.clone(), self.shutdown.clone());
        self.relay = Some(tokio::spawn(relay));
    }

    fn hold_consumer(&self) {
        self.open.send_replace(false);
    }

    fn release_consumer(&self) {
        self.open.send_replace(true);
    }

    /// Commits one write publishing `n` events; their ids in order.
    async fn commit(&self, n: usize) -> Vec<EventId> {
        self.db
            .write(move |w| {
                (0..n)
                    .map(|_| w.publish(&online()).map_err(DbError::from))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .unwrap()
    }

    /// Ids in the outbox table, by row.
    async fn stored(&self) -> Vec<EventId> {
        let payloads = self
            .db
            .read(|c| {
                let mut stmt = c.prepare("SELECT payload FROM outbox ORDER BY id")?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, Vec<u8>>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok::<_, DbError>(rows)
            })
            .await
            .unwrap();
        payloads
            .iter()
            .map(|json| Envelope::from_json(json).unwrap().id)
            .collect()
    }

    async fn next_acked(&mut self) -> EventId {
        self.next_acked_naming().await.0
    }

    /// The next acknowledged event's id and the user it names.
    async fn next_acked_naming(&mut self) -> (EventId, UserId) {
        tokio::time::timeout(WAIT, self.acked.recv())
            .await
            .expect("an acknowledgement within the wait")
            .expect("the consumer runs")
    }

    /// Acknowledgements until every id of `want` was acknowledged at least once; how many
    /// times each id was.
    async fn acked_until_all(&mut self, want: &[EventId]) -> HashMap<EventId, usize> {
        let mut seen: HashMap<EventId, usize> = HashMap::new();
        while !want.iter().all(|id| seen.contains_key(id)) {
            *seen.entry(self.next_acked().await).or_default() += 1;
        }
        seen
    }

    /// Waits until the relay has handed everything to the bus and deleted every confirmed row.
    async fn drained(&self) {
        let deadline = Instant::now() + WAIT;
        while !(self.sink.is_idle() && self.stored().await.is_empty()) {
            assert!(Instant::now() < deadline, "the relay did not drain within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Commits one more event and returns what was acknowledged before it (it must come after
    /// everything published earlier, in order).
    async fn acked_before_marker(&mut self) -> Vec<EventId> {
        let marker = self.commit(1).await[0];
        let mut before = Vec::new();
        loop {
            match self.next_acked().await {
                id if id == marker => return before,
                id => before.push(id),
            }
        }
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(relay) = self.relay.take() {
            tokio::time::timeout(WAIT, relay).await.unwrap().unwrap();
        }
    }
}

#[tokio::test]
async fn an_overflowing_hand_off_falls_back_to_the_table_in_order_without_gaps_or_repeats() {
    let mut h = harness();
    h.start_relay();
    h.drained().await;
    h.hold_consumer();
    // The held consumer stops confirms, the bounded queue stops the relay, and the commits go
    // on until the hand-off is full and the rest exist only in the table.
    let mut committed = Vec::new();
    for _ in 0..16 {
        committed.extend(h.commit(HANDOFF_CAPACITY / 8).await);
    }
    assert!(
        h.sink.progress.overflowed.load(Ordering::Acquire),
        "the hand-off overflowed"
    );
    assert!(!h.sink.is_idle());
    assert!(
        h.sink.room().now_or_never().is_none(),
        "writers wait while rows are only in the table"
    );

    h.release_consumer();
    let mut acked = Vec::with_capacity(committed.len());
    while acked.len() < committed.len() {
        acked.push(h.next_acked().await);
    }
    assert!(
        acked == committed,
        "every row once, in commit order (first difference at {:?})",
        acked.iter().zip(&committed).position(|(a, c)| a != c)
    );
    tokio::time::timeout(WAIT, h.sink.room()).await.unwrap();
    h.drained().await;
    assert_eq!(h.acked_before_marker().await, [], "nothing published twice");
    h.stop().await;
}

#[tokio::test]
async fn after_a_failed_confirm_the_relay_publishes_again_what_was_not_confirmed() {
    let mut h = harness_with(2);
    h.start_relay();
    h.drained().await;
    h.hold_consumer();
    let events = h.commit(5).await;
    h.refuse_once.lock().unwrap().insert(events[2]);
    h.release_consumer();

    // The refused event was acknowledged only after the relay published it again.
    let seen = h.acked_until_all(&events).await;
    assert_eq!(seen[&events[2]], 1);
    h.drained().await;
    let late = h.acked_before_marker().await;
    assert!(
        late.iter().all(|id| events.contains(id)),
        "only earlier events are published again: {late:?}"
    );
    h.stop().await;
}

/// A relay that got events confirmed since its last failure starts its pauses over: the
/// failures of a long-lived process are separate outages, each retried after the first pause,
/// not after one twice as long as the last (a process that had lived through a few broker
/// restarts waited 5 s after every later one before publishing). Read from the relay's own
/// warning, which says when it retries.
#[tokio::test]
async fn after_a_recovery_the_next_failure_is_retried_after_the_first_pause_again() {
    let (log, _capturing) = capture();
    let mut h = harness_with(4);
    h.start_relay();
    h.drained().await;
    for _ in 0..3 {
        h.hold_consumer();
        let events = h.commit(2).await;
        h.refuse_once.lock().unwrap().insert(events[0]);
        h.release_consumer();
        h.acked_until_all(&events).await;
    }
    let pauses = pauses(&log);
    assert!(
        pauses.len() >= 2 && pauses.iter().all(|p| p == "100ms"),
        "{}",
        log.text()
    );
    h.stop().await;
}

/// The relay warns when confirms stop coming while events wait for them, counted from when it
/// started waiting: not from before an idle spell, after which the first publish was taken
/// for a stall at once (a server idle for minutes warned "none comes" for every database).
#[tokio::test]
async fn a_publish_after_an_idle_spell_is_not_taken_for_a_stall() {
    let (log, _capturing) = capture();
    let mut h = harness();
    h.start_relay();
    h.drained().await;
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(120)).await;
    tokio::time::resume();
    let events = h.commit(1).await;
    h.acked_until_all(&events).await;
    h.drained().await;
    assert!(!log.text().contains("none comes"), "{}", log.text());
    h.stop().await;
}

/// What this thread logs from now on, until the guard drops. The tests' runtime has one
/// thread, which runs the relay: its warnings are captured.
fn capture() -> (crate::telemetry::Captured, tracing::subscriber::DefaultGuard) {
    let log = crate::telemetry::Captured::default();
    let guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(log.clone())
            .finish(),
    );
    (log, guard)
}

/// The pauses the relay announced so far (its "outbox relay paused" warnings), in order.
/// With other tests running, tracing may miss the very first warning of a process.
fn pauses(log: &crate::telemetry::Captured) -> Vec<String> {
    log.text()
        .lines()
        .filter(|line| line.contains("outbox relay paused"))
        .filter_map(|line| line.split_whitespace().find_map(|word| word.strip_prefix("retry_in=")))
        .map(str::to_owned)
        .collect()
}

/// When the relay's own database fails (here its confirmed rows cannot be deleted, as on a
/// full disk) while the bus confirms everything, the confirms are no progress: the pauses
/// grow instead of starting over at 100 ms, which would publish the same events again ten
/// times a second for as long as the disk stays full. Once the database works again the
/// outbox drains by itself.
#[tokio::test]
async fn a_relay_whose_database_fails_backs_off_and_drains_once_it_works_again() {
    let (log, _capturing) = capture();
    let mut h = harness();
    h.start_relay();
    h.drained().await;
    let file = rusqlite::Connection::open(h._dir.path().join("relay.db")).unwrap();
    file.execute_batch("CREATE TRIGGER kept BEFORE DELETE ON outbox BEGIN SELECT RAISE(FAIL, 'disk full'); END;")
        .unwrap();
    let events = h.commit(1).await;
    let deadline = Instant::now() + WAIT;
    while pauses(&log).len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the relay did not fail three times: {}",
            log.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Each pause twice the last (not compared from 100 ms on: see `pauses`).
    let millis: Vec<f64> = pauses(&log)
        .iter()
        .map(|p| match p.strip_suffix("ms") {
            Some(ms) => ms.parse().unwrap(),
            None => p.trim_end_matches('s').parse::<f64>().unwrap() * 1000.0,
        })
        .collect();
    assert!(millis.windows(2).all(|w| w[1] == 2.0 * w[0]), "{}", log.text());
    assert_eq!(h.stored().await, events, "the row stays while it cannot be deleted");
    file.execute_batch("DROP TRIGGER kept;").unwrap();
    h.drained().await;
    h.stop().await;
}

#[tokio::test]
async fn ephemeral_events_are_published_once_and_never_stored() {
    let mut h = harness_with(2);
    h.start_relay();
    h.drained().await;
    h.hold_consumer();
    let typing = online();
    let typist = typing.user_id;
    let kept =
        h.db.write(move |w| {
            w.announce(&typing)?;
            Ok::<_, DbError>(w.publish(&online())?)
        })
        .await
        .unwrap();
    assert_eq!(h.stored().await, [kept], "the ephemeral event has no row");
    assert_eq!(h.sink.depth(), 1, "nor counts in the outbox's depth");
    // A failed confirm makes the relay publish the table again: the ephemeral event is not in it.
    h.refuse_once.lock().unwrap().insert(kept);
    h.release_consumer();
    let mut typed = 0;
    loop {
        match h.next_acked_naming().await {
            (id, _) if id == kept => break,
            (_, user) => typed += usize::from(user == typist),
        }
    }
    h.drained().await;
    let marker = h.commit(1).await[0];
    loop {
        match h.next_acked_naming().await {
            (id, _) if id == marker => break,
            (_, user) => typed += usize::from(user == typist),
        }
    }
    assert_eq!(typed, 1, "the ephemeral event was published exactly once");
    h.stop().await;
}

/// The outbox's depth is its rows: committed events not yet confirmed, counted as they commit
/// while nothing publishes them (a broker away), taken from the table when a database opens
/// with rows a previous run left, and counted down as confirmed rows are deleted.
#[tokio::test]
async fn the_depth_counts_committed_events_until_they_are_confirmed_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let schema = &["CREATE TABLE service (id INTEGER PRIMARY KEY);"];
    let open = |sink| Db::open(dir.path(), "left", schema, Synchronous::Normal, sink).unwrap();
    let first_run = Outbox::default();
    let db = open(first_run.sink());
    assert_eq!(first_run.sink().depth(), 0);
    for _ in 0..3 {
        db.write(|w| w.publish(&online()).map_err(DbError::from)).await.unwrap();
    }
    assert_eq!(
        first_run.sink().depth(),
        3,
        "counted as they commit, with nothing publishing"
    );
    drop(db);
    let next_run = Outbox::default();
    let _db = open(next_run.sink());
    assert_eq!(
        next_run.sink().depth(),
        3,
        "what a previous run left, counted at the start"
    );

    let mut h = harness();
    h.commit(5).await;
    assert_eq!(h.sink.depth(), 5);
    h.start_relay();
    h.drained().await;
    assert_eq!(h.sink.depth(), 0, "confirmed and deleted");
    h.stop().await;
}

#[tokio::test]
async fn idle_only_once_everything_committed_is_on_the_bus_and_room_only_below_high_water() {
    let mut h = harness();
    // Rows a previous run left behind: not idle before the relay has looked at the table.
    let leftovers = h.commit(3).await;
    assert!(!h.sink.is_idle());
    h.start_relay();
    let mut acked = Vec::new();
    while acked.len() < leftovers.len() {
        acked.push(h.next_acked().await);
    }
    assert_eq!(acked, leftovers);
    h.drained().await;
    assert_eq!(
        h.acked_before_marker().await,
        [],
        "rows both in the table and in the hand-off are published once"
    );

    h.hold_consumer();
    let burst = h.commit(HIGH_WATER + 100).await;
    let mut room = h.sink.progress.room.subscribe();
    tokio::time::timeout(WAIT, room.wait_for(|room| !*room))
        .await
        .expect("no room while more than the high water await their confirm")
        .unwrap();
    assert!(h.sink.room().now_or_never().is_none());
    assert!(!h.sink.is_idle(), "rows wait for the bus");

    h.release_consumer();
    tokio::time::timeout(WAIT, h.sink.room()).await.unwrap();
    let seen = h.acked_until_all(&burst).await;
    assert!(seen.values().all(|n| *n == 1));
    h.drained().await;
    h.stop().await;
}

/// From its commit on, an event counts as unpublished: a job answered, or a hook run, right
/// after the commit must not find the outbox idle and publish its next event directly, ahead of
/// this one still on its way to the relay. On the writer thread and on a caller's alike.
#[tokio::test]
async fn an_event_counts_as_unpublished_from_its_commit_on() {
    let caller = std::thread::current().id();
    for here in [false, true] {
        let mut h = harness();
        h.start_relay();
        h.drained().await;
        // A write here right after the relay's last delete may find the writer still busy
        // and go to its thread: tried until one ran here.
        let mut ran_where_asked = false;
        for _ in 0..100 {
            let (seen_tx, seen) = tokio::sync::oneshot::channel();
            let sink = h.sink.clone();
            let write = move |w: &mut crate::db::Write<'_>| {
                let id = w.publish(&online())?;
                w.after_commit(move || {
                    let _ = seen_tx.send((sink.is_idle(), std::thread::current().id()));
                });
                Ok::<_, DbError>(id)
            };
            let published = if here {
                h.db.write_here(write).await.unwrap()
            } else {
                h.db.write(write).await.unwrap()
            };
            let (idle, ran_on) = seen.await.unwrap();
            assert!(!idle, "here: {here}: idle between the commit and the hand-off");
            assert_eq!(h.next_acked().await, published);
            h.drained().await;
            if (ran_on == caller) == here {
                ran_where_asked = true;
                break;
            }
        }
        assert!(ran_where_asked, "here: {here}: never ran where asked");
        h.stop().await;
    }
}
