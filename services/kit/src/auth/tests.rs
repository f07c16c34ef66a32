//! Sessions against a real database and the in-process bus, with a test playing the auth
//! service's part of the ledger protocol.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::bus::{Bus, Queue, handler};
use crate::config::Synchronous;
use crate::db::Db;
use crate::outbox::Outbox;
use gochat_proto::admin::{
    AccountAccess, LedgerChange, LedgerEntry, SessionsHead, SessionsReplayRequested, SessionsReplayed, UserDisabled,
    UserEnabled, UserSessionsRevoked,
};
use gochat_proto::events::{Event, EventData, UserSignedOut};
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

struct Instance {
    sessions: Sessions,
    _tasks: TaskTracker,
    stop: CancellationToken,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn keys() -> Arc<Keys> {
    Arc::new(Keys::from_secret(b"0123456789abcdef0123456789abcdef"))
}

async fn instance(dir: &std::path::Path, bus: &Bus, name: &str) -> Instance {
    let db = Db::open(
        dir,
        "svc",
        &["CREATE TABLE t (x);"],
        Synchronous::Normal,
        Outbox::default().sink(),
    )
    .unwrap();
    let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
    let sessions = Sessions::start(keys(), &db, bus, "svc", name, &tasks, stop.clone())
        .await
        .unwrap();
    Instance {
        sessions,
        _tasks: tasks,
        stop,
    }
}

/// A consumer standing in for the notifications store, stopped when dropped.
struct Store {
    _tasks: TaskTracker,
    stop: CancellationToken,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The in-process bus, with a stand-in for the notifications store on its shared queue: that
/// queue takes the session events too (a push subscription ends with its session), and an
/// in-process publish is confirmed once every durable queue's consumer has taken it.
fn in_process_bus(dir: &std::path::Path) -> (Bus, Store) {
    let bus = Bus::in_process();
    let db = Db::open(dir, "store", &[], Synchronous::Normal, Outbox::default().sink()).unwrap();
    let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
    bus.consume(
        Queue::shared(&gochat_proto::topology::NOTIFICATIONS, &db),
        handler(|_| async { Ok(()) }),
        &tasks,
        stop.clone(),
    );
    (bus, Store { _tasks: tasks, stop })
}

/// Publishes `event` to the instances' fan-out queues.
async fn publish<E: EventData>(bus: &Bus, event: &E) {
    bus.publish_now(event).await.unwrap().await.unwrap();
}

/// Waits until `svc` has handled everything published before: a fan-out queue is handled in
/// order, so once a marker published last is known, so is the rest.
async fn handled(bus: &Bus, svc: &Instance) {
    let marker = uuid::Uuid::new_v4().to_string();
    publish(
        bus,
        &UserSignedOut {
            user_id: UserId::new(),
            jti: marker.clone(),
            expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
            seq: 0,
        },
    )
    .await;
    eventually(|| svc.sessions.replica.refusal(UserId::new(), &marker, 0).is_some()).await;
}

/// The replay requests that reached the ledger so far (a marker request, sent last, ends them).
async fn requests_so_far(bus: &Bus, requests: &mut mpsc::UnboundedReceiver<i64>) -> Vec<i64> {
    publish(
        bus,
        &SessionsReplayRequested {
            epoch: "marker".into(),
            after: -1,
        },
    )
    .await;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, requests.recv()).await.unwrap() {
            Some(-1) => return seen,
            Some(after) => seen.push(after),
            None => panic!("the ledger stopped"),
        }
    }
}

fn session(sessions: &Sessions, user: UserId) -> (String, AuthUser) {
    let (token, _) = sessions.keys().issue(user, "alice", Duration::from_secs(3600)).unwrap();
    let auth = sessions.verify(&token).unwrap();
    (token, auth)
}

/// Retries `check` until it holds; for effects that travel through the bus.
async fn eventually(mut check: impl FnMut() -> bool) {
    tokio::time::timeout(WAIT, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("condition met in time");
}

fn access(user: UserId, disabled: bool, at: chrono::DateTime<chrono::Utc>) -> AccountAccess {
    AccountAccess {
        user_id: user,
        disabled,
        sessions_before: at,
    }
}

#[tokio::test]
async fn ended_resolves_when_the_session_is_signed_out_and_verify_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let (bus, _store) = in_process_bus(dir.path());
    let svc = instance(dir.path(), &bus, "a").await;
    let user = UserId::new();
    let (token, auth) = session(&svc.sessions, user);
    let (_, other) = session(&svc.sessions, user);
    let ended = tokio::spawn(svc.sessions.ended(&auth));
    let untouched = tokio::spawn(svc.sessions.ended(&other));

    let signed_out = UserSignedOut {
        user_id: user,
        jti: auth.jti.clone(),
        expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
        seq: 1,
    };
    bus.publish_ephemeral(&signed_out).await;
    let end = tokio::time::timeout(WAIT, ended).await.unwrap().unwrap();
    assert_eq!(end, SessionEnd::Revoked);
    assert!(svc.sessions.verify(&token).is_err());
    assert!(!untouched.is_finished(), "the user's other session goes on");
    // Asked about a session that already ended, it answers at once.
    assert_eq!(
        tokio::time::timeout(WAIT, svc.sessions.ended(&auth)).await.unwrap(),
        SessionEnd::Revoked
    );
}

#[tokio::test]
async fn disabling_ends_every_session_of_the_account_and_enabling_revives_none() {
    let dir = tempfile::tempdir().unwrap();
    let (bus, _store) = in_process_bus(dir.path());
    let svc = instance(dir.path(), &bus, "a").await;
    let user = UserId::new();
    let (old_token, auth) = session(&svc.sessions, user);
    let ended = tokio::spawn(svc.sessions.ended(&auth));
    let stranger = tokio::spawn(svc.sessions.ended(&session(&svc.sessions, UserId::new()).1));

    let now = chrono::Utc::now();
    publish(
        &bus,
        &UserDisabled {
            access: access(user, true, now),
            seq: 1,
        },
    )
    .await;
    assert_eq!(
        tokio::time::timeout(WAIT, ended).await.unwrap().unwrap(),
        SessionEnd::Disabled
    );
    assert!(svc.sessions.verify(&old_token).is_err());
    assert!(!stranger.is_finished());

    publish(
        &bus,
        &UserEnabled {
            access: access(user, false, now),
            seq: 2,
        },
    )
    .await;
    eventually(|| svc.sessions.replica.refusal(user, "x", now.timestamp() + 1).is_none()).await;
    assert!(
        svc.sessions.verify(&old_token).is_err(),
        "sessions from before stay ended"
    );
    // A session issued after the enabling works, and its watcher is not woken by old news.
    let fresh = AuthUser {
        issued_at: now.timestamp() + 1,
        ..auth.clone()
    };
    let fresh = AuthUser {
        jti: "fresh".into(),
        ..fresh
    };
    let watching = tokio::spawn(svc.sessions.ended(&fresh));
    publish(
        &bus,
        &UserEnabled {
            access: access(user, false, now),
            seq: 3,
        },
    )
    .await;
    handled(&bus, &svc).await;
    assert!(!watching.is_finished(), "woken, looked, and still valid");
}

#[tokio::test]
async fn revoking_an_accounts_sessions_ends_those_issued_up_to_that_second_only() {
    let dir = tempfile::tempdir().unwrap();
    let (bus, _store) = in_process_bus(dir.path());
    let svc = instance(dir.path(), &bus, "a").await;
    let user = UserId::new();
    let (old_token, auth) = session(&svc.sessions, user);
    let ended = tokio::spawn(svc.sessions.ended(&auth));

    let now = chrono::Utc::now();
    publish(
        &bus,
        &UserSessionsRevoked {
            access: access(user, false, now),
            seq: 1,
            renewed: None,
        },
    )
    .await;
    assert_eq!(
        tokio::time::timeout(WAIT, ended).await.unwrap().unwrap(),
        SessionEnd::Revoked,
        "ended, not disabled"
    );
    assert!(svc.sessions.verify(&old_token).is_err());
    let next_second = now.timestamp() + 1;
    assert_eq!(svc.sessions.replica.refusal(user, "new", next_second), None);
    assert_eq!(
        svc.sessions.replica.refusal(user, "same-second", now.timestamp()),
        Some(SessionEnd::Revoked)
    );
}

#[tokio::test]
async fn ended_resolves_when_the_token_expires() {
    let dir = tempfile::tempdir().unwrap();
    let (bus, _store) = in_process_bus(dir.path());
    let svc = instance(dir.path(), &bus, "a").await;
    let (token, _) = svc
        .sessions
        .keys()
        .issue(UserId::new(), "alice", Duration::from_secs(1))
        .unwrap();
    let auth = svc.sessions.verify(&token).unwrap();
    let end = tokio::time::timeout(WAIT, svc.sessions.ended(&auth)).await.unwrap();
    assert_eq!(end, SessionEnd::Expired);
}

/// Plays auth: answers replay requests with `entries`, announces `head`.
fn serve_ledger(
    bus: &Bus,
    epoch: &str,
    entries: Vec<LedgerEntry>,
    tasks: &TaskTracker,
    stop: &CancellationToken,
) -> mpsc::UnboundedReceiver<i64> {
    let (asked, requests) = mpsc::unbounded_channel();
    let (bus2, epoch) = (bus.clone(), epoch.to_owned());
    bus.consume(
        Queue::fanout("auth", "test", "ledger", gochat_proto::topology::LEDGER_REQUESTS),
        handler(move |envelope| {
            let (bus, epoch, entries, asked) = (bus2.clone(), epoch.clone(), entries.clone(), asked.clone());
            async move {
                if let Event::SessionsReplayRequested(SessionsReplayRequested { after, .. }) = envelope.event()? {
                    asked.send(after).ok();
                    if after < 0 {
                        return Ok(()); // a marker of the test
                    }
                    let through = entries.last().map_or(0, |e| e.seq);
                    let entries = entries.into_iter().filter(|e| e.seq > after).collect();
                    bus.publish_ephemeral(&SessionsReplayed {
                        epoch,
                        after,
                        through,
                        entries,
                    })
                    .await;
                }
                Ok(())
            }
        }),
        tasks,
        stop.clone(),
    );
    requests
}

#[tokio::test]
async fn an_instance_that_missed_changes_asks_for_them_and_a_new_one_learns_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let (bus, _store) = in_process_bus(dir.path());
    let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
    let disabled = UserId::new();
    let signed_out = UserId::new();
    let svc = instance(dir.path(), &bus, "a").await;
    let (token, gone) = session(&svc.sessions, signed_out);
    let (disabled_token, _) = session(&svc.sessions, disabled);

    // What happened while the instance was away: it only sees the head.
    let entries = vec![
        LedgerEntry {
            seq: 1,
            change: LedgerChange::Revoked {
                user_id: signed_out,
                jti: gone.jti.clone(),
                expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
            },
        },
        LedgerEntry {
            seq: 2,
            change: LedgerChange::Access(access(disabled, true, chrono::Utc::now())),
        },
    ];
    let mut requests = serve_ledger(&bus, "e1", entries, &tasks, &stop);
    assert!(svc.sessions.verify(&token).is_ok());
    publish(
        &bus,
        &SessionsHead {
            epoch: "e1".into(),
            seq: 2,
        },
    )
    .await;
    eventually(|| svc.sessions.verify(&token).is_err() && svc.sessions.verify(&disabled_token).is_err()).await;
    assert_eq!(requests_so_far(&bus, &mut requests).await, [0]);

    // Up to date: the next head asks for nothing.
    publish(
        &bus,
        &SessionsHead {
            epoch: "e1".into(),
            seq: 2,
        },
    )
    .await;
    handled(&bus, &svc).await;
    assert_eq!(requests_so_far(&bus, &mut requests).await, Vec::<i64>::new());

    // A brand-new instance (empty database) learns everything from the next head.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = instance(fresh_dir.path(), &bus, "b").await;
    assert!(fresh.sessions.verify(&token).is_ok(), "not known yet");
    publish(
        &bus,
        &SessionsHead {
            epoch: "e1".into(),
            seq: 2,
        },
    )
    .await;
    eventually(|| fresh.sessions.verify(&token).is_err() && fresh.sessions.verify(&disabled_token).is_err()).await;

    // What a replica learned survives its restart, cursor included.
    drop(fresh);
    let restarted = instance(fresh_dir.path(), &bus, "c").await;
    assert!(restarted.sessions.verify(&token).is_err());
    assert!(restarted.sessions.verify(&disabled_token).is_err());
    requests_so_far(&bus, &mut requests).await;
    publish(
        &bus,
        &SessionsHead {
            epoch: "e1".into(),
            seq: 2,
        },
    )
    .await;
    handled(&bus, &restarted).await;
    assert_eq!(
        requests_so_far(&bus, &mut requests).await,
        Vec::<i64>::new(),
        "nothing asked: the cursor was stored"
    );
    stop.cancel();
}

#[tokio::test]
async fn a_new_ledger_epoch_is_followed_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let (bus, _store) = in_process_bus(dir.path());
    let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
    let svc = instance(dir.path(), &bus, "a").await;
    let mut requests = serve_ledger(&bus, "e2", Vec::new(), &tasks, &stop);
    for (epoch, seq) in [("e1", 5), ("e2", 3)] {
        publish(
            &bus,
            &SessionsHead {
                epoch: epoch.into(),
                seq,
            },
        )
        .await;
        handled(&bus, &svc).await;
    }
    // Asked e1 from its start, then e2 from its start (e1's answer never came).
    assert_eq!(requests_so_far(&bus, &mut requests).await, [0, 0]);
    stop.cancel();
}
