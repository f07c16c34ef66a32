//! An idle server writes nothing to disk: presence liveness lives in memory, only changes are
//! stored. In a test binary of its own, because it reads the process's metrics (shared by every
//! server a test binary starts) to count heartbeats.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::metric;
use gochat_kit::testing::TestServer;
use std::path::Path;

/// Size, modification time and content hash of every database file (`*.db`, `-wal`, `-shm`).
fn database_files(dir: &Path) -> Vec<(String, u64, std::time::SystemTime, u64)> {
    use std::hash::{Hash, Hasher};
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".db") || name.ends_with(".db-wal") || name.ends_with(".db-shm")
        })
        .map(|p| {
            let meta = std::fs::metadata(&p).unwrap();
            let mut hash = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(&p).unwrap().hash(&mut hash);
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, meta.len(), meta.modified().unwrap(), hash.finish())
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn an_idle_server_with_users_online_writes_nothing_to_its_databases() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Heartbeats every second and sweeps every second: a minute's worth of idle traffic in seconds.
    let mut settings = common::fast_settings();
    settings.notifications.presence_heartbeat_secs = Some(1);
    settings.users.presence_timeout_secs = Some(3);
    let server = TestServer::start(TestServer::settings(&data, None), None, |rt| gochat::app(rt, settings))
        .await
        .unwrap();
    let (mut alice, mut bob) = (common::Client::new(&server), common::Client::new(&server));
    alice.signup("alice").await;
    bob.signup("bob").await;
    let base = server.url("");
    let _alice_tab = common::connect_ws(&base, "/ws/notifications", alice.cookie.as_deref(), None)
        .await
        .unwrap();
    let _bob_tab = common::connect_ws(&base, "/ws/notifications", bob.cookie.as_deref(), None)
        .await
        .unwrap();
    let wait = std::time::Duration::from_secs(30);
    common::eventually(wait, || {
        let mut alice = common::Client {
            cookie: alice.cookie.clone(),
            ..common::Client::for_base(base.clone())
        };
        async move {
            let (_, page) = alice.get("/api/users").await;
            page["users"]
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u["online"] == true)
                .then_some(())
        }
    })
    .await;
    // Users' heartbeats handled so far (each instance beats every second).
    let beats = || metric(&server, "gochat_events_consumed_total", "queue=\"users.events\"");
    let beats_past = |n: f64| common::eventually(wait, move || async move { (beats().await >= n).then_some(()) });

    // Going online is still being written for a moment (presence changes, outbox rows published
    // and deleted in batches): wait until the files stay the same across one heartbeat. On code
    // that writes every heartbeat this never happens and the test fails here.
    let deadline = tokio::time::Instant::now() + wait;
    let mut before = database_files(&data);
    loop {
        beats_past(beats().await + 1.0).await;
        let now = database_files(&data);
        if now == before {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database files never stayed unchanged across a heartbeat"
        );
        before = now;
    }
    assert!(before.iter().any(|(name, ..)| name == "users.db-wal"), "{before:?}");
    // Four more heartbeats of each instance handled by the users service, and the sweeps between.
    beats_past(beats().await + 4.0).await;
    let after = database_files(&data);
    assert_eq!(before, after, "database files changed while idle");

    // And presence is as it was: both still online.
    let (_, page) = alice.get("/api/users").await;
    assert!(
        page["users"].as_array().unwrap().iter().all(|u| u["online"] == true),
        "{page}"
    );
    server.stop().await.unwrap();
}
