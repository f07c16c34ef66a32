//! `gochat-load`: see the library's documentation, or `gochat-load --help`.

use anyhow::Context;
use clap::Parser;
use gochat_load::api::Api;
use gochat_load::cli::{Cli, Command, run};
use gochat_load::procfs;
use gochat_load::report::Document;
use gochat_load::scenario::idle;
use gochat_load::target::Target;
use gochat_load::targets;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Thousands of sockets need the whole file allowance, not the usual soft 1,024.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    match &cli.command {
        Command::IdleChild => return idle::child().await,
        Command::Report(args) => return targets::print(args),
        Command::Chaos(args) => return gochat_load::chaos::main(args).await,
        _ => {}
    }
    let mut target = Target::new(&cli.target)?;
    if cli.target.wait_ready > 0 {
        let timeout = Duration::from_secs(cli.target.wait_ready);
        target.wait_ready(&gochat_load::api::client()?, timeout).await?;
    }
    target.find_servers();
    let target = Arc::new(target);
    let api = Api::new(target.clone())?;
    if target.probe.is_empty() {
        eprintln!(
            "gochat-load: no server process found on this machine for these URLs; \
             CPU time and memory are not measured (give --server-pid)"
        );
    }
    let started_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let load_before = procfs::load_average();
    let results = run(&api, &cli.command).await?;
    let document = Document {
        tool: "gochat-load".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        label: cli.label,
        bus: cli.bus,
        target: target.info(),
        started_at,
        load_average: [load_before, procfs::load_average()],
        results,
    };
    let json = serde_json::to_string_pretty(&document)?;
    match cli.json.as_deref() {
        Some(path) if path.as_os_str() == "-" => {
            println!("{json}");
            eprint!("{}", document.table());
        }
        Some(path) => {
            std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
            print!("{}", document.table());
        }
        None => print!("{}", document.table()),
    }
    Ok(())
}
