//! `gochat`: GoChat's only executable. `gochat serve` runs every service in this process on one
//! port; `gochat <service>` runs one service over RabbitMQ (the distributed mode);
//! `gochat backup` / `gochat restore` copy the databases of a data directory out and back;
//! `gochat probe` is the health check of images that have no curl; `gochat dead-letters` and
//! `gochat rabbitmq-setup` are the operator's commands for the event bus. `--print-config` on
//! `serve` and on each service prints the settings it would run with.

mod allocator;
mod backup;
mod broker;
mod probe;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use gochat_kit::config::CommonSettings;
use gochat_kit::service::{ServiceArgs, run_one};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(version, propagate_version = true, about = "GoChat: self-hosted real-time chat")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in this process on one port (in-process bus unless GOCHAT_AMQP_URL is set).
    Serve(Box<ServeArgs>),
    /// Run the auth service alone, over RabbitMQ.
    Auth(ServiceArgs<gochat_auth::Settings>),
    /// Run the users service alone, over RabbitMQ.
    Users(ServiceArgs<gochat_users::Settings>),
    /// Run the messages service alone, over RabbitMQ.
    Messages(ServiceArgs<gochat_messages::Settings>),
    /// Run the chat service alone, over RabbitMQ.
    Chat(ServiceArgs<gochat_chat::Settings>),
    /// Run the notifications service alone, over RabbitMQ: its store, its socket gateway, or both.
    Notifications(ServiceArgs<gochat_notifications::ServiceSettings>),
    /// Copy every database of the data directory, and the attachments, into DIR: consistent,
    /// safe while serving.
    Backup(BackupArgs),
    /// Put a backup made by `gochat backup` into an empty (or missing) data directory.
    Restore(BackupArgs),
    /// Exit 0 when the GoChat process listening on GOCHAT_LISTEN answers PATH with 200.
    Probe(ProbeArgs),
    /// List or requeue the events consumers gave up on (RabbitMQ, or the data directory).
    DeadLetters(broker::DeadLettersArgs),
    /// Write RabbitMQ definitions: the topology and one least-privilege account per service.
    RabbitmqSetup(broker::RabbitmqSetupArgs),
}

#[derive(clap::Args)]
struct ProbeArgs {
    /// Address the process listens on (a wildcard address is probed on loopback).
    #[arg(long, env = "GOCHAT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Path to ask: /readyz (database and bus up) or /healthz (process up).
    #[arg(long, default_value = "/readyz")]
    path: String,
}

#[derive(clap::Args)]
struct BackupArgs {
    /// The backup directory (`backup` creates it and refuses one that is not empty).
    dir: PathBuf,
    #[command(flatten)]
    location: DataLocation,
}

/// Where the data directory is, read as `gochat serve` reads it.
#[derive(clap::Args)]
struct DataLocation {
    /// TOML file with settings; only `data_dir` and `attachments_dir` are read. [default: config/gochat.toml when present]
    #[arg(long, env = "GOCHAT_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the SQLite files. [default: ./data]
    #[arg(long, env = "GOCHAT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Directory of the attachments' files. [default: <data dir>/attachments]
    #[arg(long, env = "GOCHAT_ATTACHMENTS_DIR")]
    attachments_dir: Option<PathBuf>,
}

#[derive(clap::Args, Serialize, Deserialize)]
struct ServeArgs {
    #[command(flatten)]
    #[serde(flatten)]
    common: CommonSettings,
    #[command(flatten)]
    #[serde(flatten)]
    services: gochat::Settings,
}

fn main() -> anyhow::Result<()> {
    allocator::tune();
    let command = Cli::command();
    gochat_kit::config::check_environment(&command)?;
    let cli = Cli::from_arg_matches(&command.get_matches())?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if matches!(cli.command, Command::Serve(_)) && std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        runtime.worker_threads(all_in_one_workers());
    }
    runtime.build()?.block_on(run(cli))
}

/// Async workers (sockets, HTTP, commits of one message) of `gochat serve`: one core fewer than
/// the machine has, and at least one. The all-in-one process also runs every service's threads
/// off the runtime (five databases' writers and checkpointers, the search drain, argon2's
/// hashing), which the core left over is for. On two cores a second worker measured a quarter
/// more CPU a message in quiet chat (each message woke the idle worker two or three times to
/// take a task the busy one would have run) and no more throughput in bursts or fan-out
/// (README, "Measured"). A service alone keeps one worker per core (tokio's default): the chat
/// service's fan-out to thousands of sockets over RabbitMQ measured a tenth slower on one.
/// `TOKIO_WORKER_THREADS` overrides either.
fn all_in_one_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_sub(1).max(1)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Auth(args) => run_one("auth", args, gochat_auth::DEFAULT_LISTEN, gochat_auth::build).await,
        Command::Users(args) => run_one("users", args, gochat_users::DEFAULT_LISTEN, gochat_users::build).await,
        Command::Messages(args) => {
            run_one(
                "messages",
                args,
                gochat_messages::DEFAULT_LISTEN,
                gochat_messages::build,
            )
            .await
        }
        Command::Chat(args) => run_one("chat", args, gochat_chat::DEFAULT_LISTEN, gochat_chat::build).await,
        Command::Notifications(args) => {
            let listen = gochat_notifications::DEFAULT_LISTEN;
            run_one("notifications", args, listen, gochat_notifications::build).await
        }
        Command::Backup(args) => backup_or_restore(args, true).await,
        Command::Restore(args) => backup_or_restore(args, false).await,
        Command::Probe(args) => probe::probe(probe::target(args.listen), &args.path).await,
        Command::DeadLetters(args) => broker::dead_letters(args).await,
        Command::RabbitmqSetup(args) => broker::rabbitmq_setup(args),
    }
}

async fn backup_or_restore(args: BackupArgs, is_backup: bool) -> anyhow::Result<()> {
    // Read as `gochat serve` reads it (the same file holds every other setting too).
    let explicit = args.location.config.clone();
    let mut services = gochat::Settings::default();
    services.messages.attachments_dir = args.location.attachments_dir;
    let as_serve = ServeArgs {
        common: CommonSettings {
            data_dir: args.location.data_dir,
            ..Default::default()
        },
        services,
    };
    let layered: ServeArgs = gochat_kit::config::layer(&as_serve, explicit.as_deref(), "config/gochat.toml".as_ref())?;
    let data_dir = layered.common.data_dir();
    let attachments_dir = layered.services.messages.attachments_dir;
    let dir = args.dir;
    let manifest = tokio::task::spawn_blocking(move || {
        if is_backup {
            backup::backup(&data_dir, attachments_dir.as_deref(), &dir)
        } else {
            backup::restore(&dir, &data_dir, attachments_dir.as_deref())
        }
    })
    .await??;
    for e in manifest.databases.iter().chain(&manifest.files) {
        println!("{:<20} {:>12} bytes  sha256 {}", e.file, e.bytes, e.sha256);
    }
    let attachment_bytes: u64 = manifest.attachments.iter().map(|e| e.bytes).sum();
    println!(
        "{:<20} {attachment_bytes:>12} bytes  in {} files",
        backup::ATTACHMENTS,
        manifest.attachments.len()
    );
    let verb = if is_backup { "backed up" } else { "restored" };
    println!(
        "{verb} {} databases taken {} by gochat {}",
        manifest.databases.len(),
        manifest.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        manifest.gochat_version
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let explicit = args.common.config.clone();
    let mut layered: ServeArgs = gochat_kit::config::layer(&args, explicit.as_deref(), "config/gochat.toml".as_ref())?;
    let listen = *layered.common.listen.get_or_insert(gochat::DEFAULT_LISTEN);
    if args.common.print_config {
        print!("{}", gochat_kit::config::effective(&layered, "gochat serve")?);
        return Ok(());
    }
    let args = layered;
    let runtime = gochat_kit::service::runtime(args.common, "gochat", true)?;
    gochat_kit::ops::cancel_on_signal(runtime.shutdown.clone());
    let app = gochat::app(runtime.clone(), args.services).await?;
    let listener = TcpListener::bind(listen).await?;
    gochat_kit::service::serve(runtime, listener, app).await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn each_service_names_gochat_and_itself_in_version_and_help() {
        for service in ["auth", "users", "messages", "chat", "notifications"] {
            let version = super::Cli::command()
                .try_get_matches_from(["gochat", service, "--version"])
                .unwrap_err()
                .to_string();
            assert_eq!(
                version.trim(),
                format!("gochat-{service} {}", env!("CARGO_PKG_VERSION"))
            );
            let help = super::Cli::command()
                .try_get_matches_from(["gochat", service, "--help"])
                .unwrap_err()
                .to_string();
            assert!(help.contains(&format!("Run the {service} service alone")), "{help}");
            assert!(help.contains(&format!("Usage: gochat {service} [OPTIONS]")), "{help}");
            assert!(!help.contains("kit"), "{help}");
        }
    }
}
