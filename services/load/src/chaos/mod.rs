//! `chaos`: GoChat's five services over a private RabbitMQ behind a private nginx, with two chat
//! instances, each service on its own least-privilege broker account; several pairs send
//! steadily while, in turn,
//! (a) the messages service is SIGKILLed and restarted,
//! (b) the broker is stopped and started,
//! (c) a chat instance is SIGKILLed (its tabs open new sockets and send again what was not
//!     accepted, with the same client ids) and restarted,
//! (d) auth, users and notifications are SIGKILLed and restarted.
//!
//! Receivers keep their sockets across the broker outage and must get every message on them
//! (directly, or by the catch-up a `resync` frame asks for). At the end the suite reads every
//! conversation's history and every receiver's notifications, and prints accepted / stored /
//! lost / duplicated / gaps / not pushed / convergence time; any loss, duplicate, gap, message
//! not pushed, refusal or socket closed by the broker outage fails the run.
//!
//! One notifications instance, not two: each stores what it consumed in its own file until its
//! store and socket gateway are split (issue 10 item 6).
//!
//! Layout: `deployment` starts, kills and restarts the processes; `traffic` is the pairs at
//! work; `figures` is the verdict and its table.

pub mod deployment;
mod figures;
mod traffic;

pub use figures::Figures;

use crate::api::Api;
use crate::procfs::Probe;
use crate::target::Target;
use crate::users;
use anyhow::Context;
use clap::Args;
use deployment::{Deployment, Parts};
use figures::PhaseSpan;
use reqwest::Url;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use traffic::{Pair, Traffic};

/// Longest the suite waits, once sending stops, for everything to be stored and delivered.
const CONVERGE_WITHIN: Duration = Duration::from_secs(120);

#[derive(Args, Clone, Debug)]
pub struct ChaosArgs {
    /// Pairs of users sending at once.
    #[arg(long, default_value_t = 8)]
    pub pairs: usize,
    /// Messages per second each pair sends.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Seconds of steady traffic before each fault.
    #[arg(long, default_value_t = 4.0)]
    pub settle: f64,
    /// Seconds a killed service, or the stopped broker, stays down.
    #[arg(long, default_value_t = 3.0)]
    pub down: f64,
    /// The gochat binary. [default: the one beside this program]
    #[arg(long)]
    pub gochat: Option<PathBuf>,
    /// nginx. [default: /usr/sbin/nginx]
    #[arg(long, default_value = "/usr/sbin/nginx")]
    pub nginx: PathBuf,
    /// The nginx configuration to run (its addresses are changed). [default: the repository's config/nginx.conf]
    #[arg(long)]
    pub nginx_conf: Option<PathBuf>,
    /// The RabbitMQ node's URL (scripts/with-rabbitmq.sh exports it).
    #[arg(long, env = "GOCHAT_TEST_AMQP_URL")]
    pub amqp_url: Url,
    /// A rabbitmqctl that reaches the node.
    #[arg(long, env = "GOCHAT_TEST_RABBITMQCTL")]
    pub rabbitmqctl: PathBuf,
    /// The node's name.
    #[arg(long, env = "GOCHAT_TEST_RABBITMQ_NODE")]
    pub rabbitmq_node: String,
    /// Keep the data, logs and configuration in this directory. [default: a temporary one, removed]
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

/// What breaks in a phase.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Steady traffic, nothing broken: the baseline.
    None,
    /// SIGKILL an instance, then start it again.
    Kill(&'static str),
    /// Stop the broker, then start it again.
    Broker,
}

const PLAN: &[(&str, Fault)] = &[
    ("steady", Fault::None),
    ("messages SIGKILLed", Fault::Kill("messages")),
    ("broker stopped", Fault::Broker),
    ("chat-a SIGKILLed", Fault::Kill("chat-a")),
    ("auth SIGKILLed", Fault::Kill("auth")),
    ("users SIGKILLed", Fault::Kill("users")),
    ("notifications SIGKILLed", Fault::Kill("notifications")),
];

/// The phase in which receivers must keep their sockets.
const BROKER_PHASE: &str = "broker stopped";

/// Runs the suite; the figures say whether it passed ([`Figures::failures`]).
pub async fn run(args: &ChaosArgs) -> anyhow::Result<Figures> {
    let temporary = tempfile::tempdir()?;
    let dir = args.keep.clone().unwrap_or_else(|| temporary.path().to_owned());
    let gochat = match &args.gochat {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this program is in a directory")?
            .join("gochat"),
    };
    let nginx_conf = args
        .nginx_conf
        .clone()
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/nginx.conf")));
    let mut deployment = Deployment::start(Parts {
        gochat,
        nginx: args.nginx.clone(),
        nginx_conf,
        amqp_url: args.amqp_url.clone(),
        rabbitmqctl: args.rabbitmqctl.clone(),
        rabbitmq_node: args.rabbitmq_node.clone(),
        dir: dir.clone(),
    })
    .await?;
    // Interrupted, the deployment is still dropped: its processes are stopped, its virtual host
    // deleted.
    let outcome = tokio::select! {
        outcome = exercise(args, &mut deployment) => outcome,
        signal = interrupted() => Err(anyhow::anyhow!("chaos: interrupted by {signal}")),
    };
    if outcome.as_ref().map_or(true, |f| !f.failures().is_empty()) {
        eprintln!("chaos: the services' last log lines:\n{}", deployment.logs());
        if args.keep.is_some() {
            eprintln!("chaos: everything is kept in {}", deployment.dir().display());
        }
    }
    outcome
}

async fn exercise(args: &ChaosArgs, deployment: &mut Deployment) -> anyhow::Result<Figures> {
    let probe = Probe {
        servers: Vec::new(),
        broker: None,
    };
    let api = Api::new(Arc::new(Target::single(deployment.base.clone(), probe)))?;
    let prefix = users::run_prefix();
    let senders = users::accounts(&api, users::names(&prefix, "s", args.pairs)).await?;
    let receivers = users::accounts(&api, users::names(&prefix, "r", args.pairs)).await?;
    let mut pairs = Vec::new();
    for (sender, receiver) in senders.into_iter().zip(receivers) {
        let conversation = api.open_direct(&sender, &receiver.id).await?;
        pairs.push(Pair {
            sender,
            receiver,
            conversation,
        });
    }
    let traffic = Traffic::start(&api, pairs, args.rate, CONVERGE_WITHIN).await?;
    let settle = Duration::from_secs_f64(args.settle);
    let down = Duration::from_secs_f64(args.down);
    let mut spans = Vec::new();
    for (phase, (name, fault)) in PLAN.iter().enumerate() {
        traffic.enter(phase);
        let started = Instant::now();
        tokio::time::sleep(settle).await;
        // From the moment the broken part is started again until every instance is ready.
        let recovered = match fault {
            Fault::None => None,
            Fault::Kill(instance) => {
                deployment.kill(instance)?;
                tokio::time::sleep(down).await;
                let restarted = Instant::now();
                deployment.restart(instance).await?;
                Some(restarted.elapsed())
            }
            Fault::Broker => {
                deployment.stop_broker()?;
                tokio::time::sleep(down).await;
                let restarted = Instant::now();
                deployment.start_broker()?;
                deployment.wait_all_ready().await?;
                Some(restarted.elapsed())
            }
        };
        eprintln!("chaos: {name}: {:.1} s", started.elapsed().as_secs_f64());
        spans.push(PhaseSpan {
            name,
            seconds: started.elapsed().as_secs_f64(),
            recovered,
            keeps_receivers: *name == BROKER_PHASE,
        });
    }
    // The last fault's aftermath, under traffic too.
    tokio::time::sleep(settle).await;
    let (stopped, logs) = traffic.finish(CONVERGE_WITHIN).await?;
    figures::judge(&api, args, spans, stopped, logs, CONVERGE_WITHIN).await
}

/// Waits for SIGINT or SIGTERM; names it.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

/// `gochat-load chaos`: runs the suite, prints its table, and fails when it found anything.
pub async fn main(args: &ChaosArgs) -> anyhow::Result<()> {
    let figures = run(args).await?;
    print!("{}", figures.table());
    let failures = figures.failures();
    anyhow::ensure!(failures.is_empty(), "chaos: {}", failures.join("; "));
    Ok(())
}
