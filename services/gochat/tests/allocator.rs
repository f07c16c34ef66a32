//! The binary tunes its allocator before doing anything else (see src/allocator.rs): the
//! process that serves has mimalloc's options in its environment, and options the operator set
//! are left alone.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `gochat serve` on a free port with a fresh data directory and `env`.
fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gochat"))
        .arg("serve")
        .env("GOCHAT_LISTEN", "127.0.0.1:0")
        .env("GOCHAT_DATA_DIR", dir)
        .env("GOCHAT_LOG", "error")
        .env_remove("MIMALLOC_ARENA_EAGER_COMMIT")
        .env_remove("MIMALLOC_PURGE_DELAY")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The environment of process `pid` once it holds `wanted` (the re-executed image), bounded.
fn environment_with(pid: u32, wanted: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let vars: Vec<String> = raw
            .split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        if vars.iter().any(|v| v.starts_with(wanted)) {
            return vars;
        }
        assert!(
            Instant::now() < deadline,
            "{wanted} never in the environment of {pid}: {vars:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_serving_process_runs_with_the_allocators_options() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve(dir.path(), &[]);
    let vars = environment_with(child.id(), "MIMALLOC_PURGE_DELAY=");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(vars.contains(&"MIMALLOC_PURGE_DELAY=0".to_owned()), "{vars:?}");
    assert!(vars.contains(&"MIMALLOC_ARENA_EAGER_COMMIT=0".to_owned()), "{vars:?}");
}

#[test]
fn an_operators_own_allocator_options_are_respected() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve(dir.path(), &[("MIMALLOC_PURGE_DELAY", "250")]);
    // The data directory appears once `serve` runs: by then a re-execution would have happened.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.path().join("jwt.key").exists() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let vars = environment_with(child.id(), "MIMALLOC_PURGE_DELAY=");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(vars.contains(&"MIMALLOC_PURGE_DELAY=250".to_owned()), "{vars:?}");
    assert!(
        !vars.iter().any(|v| v.starts_with("MIMALLOC_ARENA_EAGER_COMMIT")),
        "{vars:?}"
    );
}
