//! The command line: where the deployment is (global options), one subcommand per scenario,
//! and `report`, which puts several runs beside the project's targets.

use crate::api::Api;
use crate::report::{Bus, Outcome};
use crate::scenario::{burst, fanout, history, idle, roundtrip, search, seq, signin};
use crate::target::TargetArgs;
use crate::targets::ReportArgs;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "gochat-load",
    version,
    about = "Load generator for GoChat: drives a deployment over HTTP and WebSocket as the web client does, \
             and measures latency, throughput, and the server's CPU time and memory."
)]
pub struct Cli {
    #[command(flatten)]
    pub target: TargetArgs,
    /// What this run is against, as `report`'s table names its column.
    #[arg(long, global = true, default_value = "GoChat")]
    pub label: String,
    /// How the deployment's services talk; decides which targets `report` holds it to.
    #[arg(long, global = true, value_enum, default_value_t = Bus::Unknown)]
    pub bus: Bus,
    /// Write the run's JSON document to this file (`-`: to standard output, the table to stderr).
    #[arg(long, global = true)]
    pub json: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Pairs of users, one message at a time: send → accepted and send → receive latency.
    Seq(seq::SeqArgs),
    /// Pairs sending with a window of messages in flight: delivered messages per second and latency.
    Burst(burst::BurstArgs),
    /// Many idle authenticated sockets: the server's memory per socket.
    Idle(idle::IdleArgs),
    /// One message delivered to many sockets: deliveries per second.
    Fanout(fanout::FanoutArgs),
    /// History pages over many stored messages (seeded through WebSocket when missing).
    History(history::HistoryArgs),
    /// Search over many stored messages (skipped when the server has no search).
    Search(search::SearchArgs),
    /// Sign-ins per second and their latency at the server's argon2 settings.
    Signin(signin::SigninArgs),
    /// The floor under the other latencies: an empty HTTP request and a socket's ping.
    Roundtrip(roundtrip::RoundtripArgs),
    /// The project's targets beside the figures of runs' JSON documents.
    Report(ReportArgs),
    /// Starts the services behind nginx over a RabbitMQ node and breaks them in turn under
    /// steady traffic; fails on any message lost, duplicated, out of place or not pushed.
    Chaos(crate::chaos::ChaosArgs),
    /// Holds idle sockets for `idle` (started by it, one per 18,000 sockets or so).
    #[command(hide = true)]
    IdleChild,
}

/// Runs the scenario `command` names against `api`'s deployment.
pub async fn run(api: &Api, command: &Command) -> anyhow::Result<Vec<Outcome>> {
    Ok(match command {
        Command::Seq(args) => vec![Outcome::Seq(seq::run(api, args).await?)],
        Command::Burst(args) => burst::run(api, args).await?.into_iter().map(Outcome::Burst).collect(),
        Command::Idle(args) => vec![Outcome::Idle(idle::run(api, args).await?)],
        Command::Fanout(args) => vec![Outcome::Fanout(fanout::run(api, args).await?)],
        Command::History(args) => vec![Outcome::History(history::run(api, args).await?)],
        Command::Search(args) => vec![search::run(api, args).await?],
        Command::Signin(args) => vec![Outcome::Signin(signin::run(api, args).await?)],
        Command::Roundtrip(args) => vec![Outcome::Roundtrip(roundtrip::run(api, args).await?)],
        Command::Report(_) | Command::Chaos(_) | Command::IdleChild => anyhow::bail!("not a scenario"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("gochat-load").chain(args.iter().copied())).expect("parses")
    }

    #[test]
    fn scenarios_have_the_documented_defaults() {
        let Command::Burst(b) = parse(&["burst"]).command else {
            panic!("burst")
        };
        assert_eq!((b.pairs, b.messages, b.window.as_slice()), (10, 1000, &[32, 1][..]));
        let Command::Fanout(f) = parse(&["fanout"]).command else {
            panic!("fanout")
        };
        assert_eq!((f.sockets, f.sockets_per_user, f.group), (5000, None, false));
        let Command::History(h) = parse(&["history"]).command else {
            panic!("history")
        };
        assert_eq!((h.seed.stored, h.pages, h.page_size), (1_000_000, 2000, 50));
    }

    #[test]
    fn global_options_go_before_or_after_the_scenario() {
        let cli = parse(&[
            "seq",
            "--messages",
            "5",
            "--url",
            "http://127.0.0.1:9",
            "--bus",
            "rabbitmq",
        ]);
        assert_eq!(cli.target.url.as_str(), "http://127.0.0.1:9/");
        assert_eq!(cli.bus, Bus::Rabbitmq);
        let cli = parse(&["--label", "five services", "burst", "--window", "64,8,1"]);
        assert_eq!(cli.label, "five services");
        let Command::Burst(b) = cli.command else {
            panic!("burst")
        };
        assert_eq!(b.window, vec![64, 8, 1]);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(Cli::try_parse_from(["gochat-load", "seq", "--messages", "many"]).is_err());
        assert!(Cli::try_parse_from(["gochat-load", "fanout", "--delivered", "sometimes"]).is_err());
        assert!(Cli::try_parse_from(["gochat-load", "dance"]).is_err());
    }
}
