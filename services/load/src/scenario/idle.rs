//! `idle`: many authenticated sockets that stay open and quiet, as background tabs do. What
//! each costs the server is its resident memory grown over the sockets opened.
//!
//! A process may hold at most 20,000 files, so the sockets are held by child processes of
//! this binary (`gochat-load idle-child`), each at most `--sockets-per-process`: the server
//! alone must hold them all. A child reads its plan (URLs, origins, cookies) as one JSON line
//! on stdin, answers one JSON line once connected, and holds its sockets, answering pings,
//! until its stdin closes.

use super::{CONNECT_CONCURRENCY, Meter, per_unit};
use crate::api::Api;
use crate::procfs::Usage;
use crate::report::{count, mib, seconds, usage_rows};
use crate::socket::{connect_url, hold};
use crate::stats::{rate, significant};
use crate::target::Service;
use crate::users;
use anyhow::{Context, bail};
use clap::Args;
use futures_util::{StreamExt, stream};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

#[derive(Args, Clone, Debug)]
pub struct IdleArgs {
    /// Idle `/ws/chat` sockets.
    #[arg(long, default_value_t = 2000)]
    pub chat: usize,
    /// Idle `/ws/notifications` sockets (each makes its user online).
    #[arg(long, default_value_t = 0)]
    pub notifications: usize,
    /// Sockets held per user (a server may cap a user's sockets).
    #[arg(long, default_value_t = 100)]
    pub sockets_per_user: usize,
    /// Sockets per load-generator process (a process may hold at most 20,000 files).
    #[arg(long, default_value_t = 18_000)]
    pub sockets_per_process: usize,
    /// The program whose `idle-child` holds the sockets: this one, unless given (tests run
    /// from another binary).
    #[arg(skip)]
    pub program: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdleResult {
    pub chat: u64,
    pub notifications: u64,
    /// Sockets open at once at the end.
    pub held: u64,
    pub failed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    pub users: u64,
    pub processes: u64,
    pub connect_seconds: f64,
    /// The server's resident memory just before the sockets opened, and its growth per socket.
    pub rss_base_kib: Option<u64>,
    pub kib_per_socket: Option<f64>,
    pub server: Option<Usage>,
    pub cpu_per_socket_ms: Option<f64>,
}

impl IdleResult {
    pub fn rows(&self) -> Vec<[String; 2]> {
        let mut rows = vec![
            [
                "sockets held".into(),
                format!(
                    "{} of {} ({} chat, {} notifications; {} users, {} client process(es))",
                    count(self.held),
                    count(self.chat + self.notifications),
                    count(self.chat),
                    count(self.notifications),
                    count(self.users),
                    self.processes
                ),
            ],
            [
                "opened in".into(),
                format!(
                    "{} ({})",
                    seconds(self.connect_seconds),
                    rate(self.held as f64 / self.connect_seconds.max(1e-9))
                ),
            ],
        ];
        if let Some(error) = &self.first_error {
            rows.push([format!("{} failed, first", self.failed), error.clone()]);
        }
        if let (Some(base), Some(per)) = (self.rss_base_kib, self.kib_per_socket) {
            rows.push([
                "server memory per idle socket".into(),
                format!("{} KiB (from {})", significant(per), mib(base)),
            ]);
        }
        rows.extend(usage_rows(
            self.server.as_ref(),
            self.cpu_per_socket_ms,
            "socket opened",
        ));
        rows
    }
}

/// One socket a child opens.
#[derive(Serialize, Deserialize)]
struct Planned {
    url: String,
    origin: String,
    cookie: String,
}

/// What a child answers once it has tried every socket.
#[derive(Serialize, Deserialize)]
struct ChildReport {
    held: u64,
    failed: u64,
    first_error: Option<String>,
}

/// How long the server is given after the last socket opened before its memory is read (its
/// allocator and the presence pushes of notification sockets settle).
const SETTLE: Duration = Duration::from_secs(1);

pub async fn run(api: &Api, args: &IdleArgs) -> anyhow::Result<IdleResult> {
    let mut meter = Meter::start(&api.target.probe);
    let total = args.chat + args.notifications;
    let per_user = args.sockets_per_user.max(1);
    let user_count = total.div_ceil(per_user);
    let people = users::accounts(api, users::names(&users::run_prefix(), "idle", user_count)).await?;

    let target = &api.target;
    let mut plan = Vec::with_capacity(total);
    for i in 0..total {
        let (service, path) = if i < args.chat {
            (Service::Chat, "/ws/chat")
        } else {
            (Service::Notifications, "/ws/notifications")
        };
        plan.push(Planned {
            url: target.ws_url(service, path)?.to_string(),
            origin: target.origin(service),
            cookie: people[i / per_user].cookie.clone(),
        });
    }
    let processes = total.div_ceil(args.sockets_per_process.max(1)).max(1);
    let chunk = total.div_ceil(processes).max(1);

    let rss_base_kib = target.probe.rss_kib();
    meter.measure();
    let started = Instant::now();
    let mut children = Vec::new();
    for part in plan.chunks(chunk) {
        children.push(spawn_child(args.program.as_deref(), part).await?);
    }
    let mut report = ChildReport {
        held: 0,
        failed: 0,
        first_error: None,
    };
    for (child, _) in &mut children {
        let r = read_report(child).await?;
        report.held += r.held;
        report.failed += r.failed;
        report.first_error = report.first_error.or(r.first_error);
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let rss_loaded = target.probe.rss_kib();
    let server = meter.usage();
    for (mut child, stdin) in children {
        drop(stdin); // the child's signal to close its sockets and exit
        child.wait().await?;
    }
    let kib_per_socket = match (rss_base_kib, rss_loaded) {
        (Some(before), Some(after)) if report.held > 0 => {
            Some(after.saturating_sub(before) as f64 / report.held as f64)
        }
        _ => None,
    };
    Ok(IdleResult {
        chat: args.chat as u64,
        notifications: args.notifications as u64,
        held: report.held,
        failed: report.failed,
        first_error: report.first_error,
        users: user_count as u64,
        processes: processes as u64,
        connect_seconds,
        rss_base_kib,
        kib_per_socket,
        cpu_per_socket_ms: per_unit(server.as_ref(), report.held),
        server,
    })
}

/// Starts a child holding `part`; the child and the stdin that keeps it alive.
async fn spawn_child(program: Option<&Path>, part: &[Planned]) -> anyhow::Result<(Child, tokio::process::ChildStdin)> {
    let exe = match program {
        Some(p) => p.to_owned(),
        None => std::env::current_exe().context("finding this program to run its children")?,
    };
    let mut child = Command::new(exe)
        .arg("idle-child")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting a child process")?;
    let mut stdin = child.stdin.take().context("child stdin")?;
    let mut line = serde_json::to_vec(part)?;
    line.push(b'\n');
    stdin.write_all(&line).await?;
    stdin.flush().await?;
    Ok((child, stdin))
}

async fn read_report(child: &mut Child) -> anyhow::Result<ChildReport> {
    let stdout = child.stdout.take().context("child stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await?;
    if line.trim().is_empty() {
        bail!(
            "a child process ended without a report (status {:?})",
            child.try_wait()?
        );
    }
    Ok(serde_json::from_str(&line)?)
}

/// The child: opens its planned sockets, reports, holds them until stdin closes.
pub async fn child() -> anyhow::Result<()> {
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut line = String::new();
    stdin.read_line(&mut line).await?;
    let plan: Vec<Planned> = serde_json::from_str(&line).context("reading the plan")?;
    let results: Vec<anyhow::Result<()>> = stream::iter(plan)
        .map(|p| async move {
            let ws = connect_url(&Url::parse(&p.url)?, &p.origin, &p.cookie).await?;
            tokio::spawn(hold(ws));
            Ok(())
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let report = ChildReport {
        held: results.iter().filter(|r| r.is_ok()).count() as u64,
        failed: results.iter().filter(|r| r.is_err()).count() as u64,
        first_error: results.iter().find_map(|r| r.as_ref().err().map(|e| format!("{e:#}"))),
    };
    let mut out = tokio::io::stdout();
    out.write_all(format!("{}\n", serde_json::to_string(&report)?).as_bytes())
        .await?;
    out.flush().await?;
    // Hold until the parent closes our stdin.
    while stdin.read_line(&mut line).await? > 0 {}
    Ok(())
}
