//! The load generator against a real GoChat (every service in this process, on port 0): a
//! tiny run of each scenario that needs no million messages, so none of them can rot. The
//! figures are not checked (speed is measured by `make bench`), what was delivered is. The
//! server is not stopped: its drain adds seconds and is not under test here.

use gochat_kit::testing::TestServer;
use gochat_load::api::Api;
use gochat_load::procfs::Probe;
use gochat_load::report::Outcome;
use gochat_load::scenario::{burst, fanout, history, idle, roundtrip, search, seed, seq, signin};
use gochat_load::socket::Acknowledge;
use gochat_load::target::Target;
use std::sync::Arc;

async fn start(dir: &std::path::Path) -> TestServer {
    // Cheap argon2: the real cost is what the `signin` scenario measures against a real server.
    let mut settings = gochat::Settings::default();
    settings.auth.argon2_memory_kib = Some(1024);
    settings.auth.argon2_iterations = Some(1);
    let common = TestServer::settings(dir, None);
    TestServer::start(common, None, |rt| gochat::app(rt, settings))
        .await
        .expect("server starts")
}

fn api(server: &TestServer) -> Api {
    let url = server.url("/").parse().expect("server URL");
    // The server is this very process: its CPU time and memory are ours.
    let probe = Probe {
        servers: vec![std::process::id()],
        broker: None,
    };
    Api::new(Arc::new(Target::single(url, probe))).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seq_delivers_every_message_and_measures_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let args = seq::SeqArgs {
        pairs: 2,
        messages: 5,
        warmup: 1,
        delivered: Acknowledge::All,
        trace: Some(dir.path().join("seq.trace")),
    };
    let result = seq::run(&api(&server), &args).await.expect("seq runs");
    assert_eq!(result.messages, 10);
    // One line per measured message (the warm-up is not traced), each received after sent.
    let trace = std::fs::read_to_string(dir.path().join("seq.trace")).unwrap();
    let lines: Vec<Vec<&str>> = trace.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 10, "{trace}");
    assert!(lines.iter().all(|l| l[2].parse::<u64>().unwrap() > 0), "{trace}");
    assert_eq!((result.received.count, result.accepted.count), (10, 10));
    assert!(result.received.p50_ms > 0.0 && result.received.max_ms >= result.received.p99_ms);
    let server_usage = result.server.expect("own process measured");
    assert!(server_usage.rss_after_kib > 0);
    assert!(result.cpu_per_message_ms.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_fanout_signin_roundtrip_and_idle_run_against_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let api = api(&server);

    let bursts = burst::run(
        &api,
        &burst::BurstArgs {
            pairs: 2,
            messages: 20,
            window: vec![4, 1],
            delivered: Acknowledge::None,
        },
    )
    .await
    .expect("burst runs");
    assert_eq!(bursts.len(), 2);
    for b in &bursts {
        assert_eq!((b.messages, b.refused, b.duplicates, b.out_of_order), (40, 0, 0, 0));
        assert!(b.delivered_per_second > 0.0);
    }

    let fan = fanout::run(
        &api,
        &fanout::FanoutArgs {
            sockets: 6,
            sockets_per_user: Some(4),
            messages: 3,
            warmup: 1,
            delivered: Acknowledge::OnePerUser,
            group: false,
        },
    )
    .await
    .expect("fanout runs");
    assert_eq!((fan.recipients, fan.deliveries), (2, 18));

    let signins = signin::run(
        &api,
        &signin::SigninArgs {
            users: 2,
            signins: 4,
            concurrency: 2,
        },
    )
    .await
    .expect("signin runs");
    assert_eq!(signins.signins, 4);

    let floor = roundtrip::run(&api, &roundtrip::RoundtripArgs { rounds: 5, warmup: 1 })
        .await
        .expect("roundtrip runs");
    assert_eq!((floor.rounds, floor.http.count, floor.ws.count), (5, 5, 5));
    assert!(floor.ws.p50_ms > 0.0 && floor.http.max_ms >= floor.http.p99_ms);

    // Idle sockets are held by child processes of the gochat-load binary: 2 per process here.
    let idle = idle::run(
        &api,
        &idle::IdleArgs {
            chat: 3,
            notifications: 2,
            sockets_per_user: 2,
            sockets_per_process: 2,
            program: Some(env!("CARGO_BIN_EXE_gochat-load").into()),
        },
    )
    .await
    .expect("idle runs");
    assert_eq!((idle.held, idle.failed, idle.processes, idle.users), (5, 0, 3, 3));
    assert!(idle.kib_per_socket.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_fanout_fails_clearly_where_groups_are_missing_and_runs_where_they_exist() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let args = fanout::FanoutArgs {
        sockets: 4,
        sockets_per_user: Some(2),
        messages: 2,
        warmup: 0,
        delivered: Acknowledge::All,
        group: true,
    };
    match fanout::run(&api(&server), &args).await {
        Ok(result) => assert_eq!((result.group, result.deliveries), (true, 8)),
        Err(e) => assert!(
            format!("{e:#}").contains("does not support group conversations yet"),
            "{e:#}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_seeds_once_and_search_is_skipped_or_measured() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let api = api(&server);
    let seed = seed::SeedArgs {
        stored: 130,
        conversations: 2,
        seed_window: 8,
        seed_name: "smoke".into(),
    };
    let args = history::HistoryArgs {
        seed: seed.clone(),
        pages: 10,
        page_size: 50,
    };
    let first = history::run(&api, &args).await.expect("history runs");
    assert_eq!((first.stored, first.seeded_now, first.pages), (130, 130, 10));
    // A second run finds the messages there and sends none.
    let again = history::run(&api, &args).await.expect("history runs again");
    assert_eq!((again.stored, again.seeded_now), (130, 0));

    let search = search::SearchArgs { seed, queries: 10 };
    match search::run(&api, &search).await.expect("search runs") {
        Outcome::Skipped { name, reason } => assert!(name == "search" && reason.contains("404"), "{reason}"),
        Outcome::Search(s) => assert_eq!((s.stored, s.queries), (130, 10)),
        other => panic!("unexpected outcome {other:?}"),
    }
}
