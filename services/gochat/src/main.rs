//! `gochat`: GoChat in one process. `gochat serve` runs every service on one port.

use clap::{Parser, Subcommand};
use gochat_kit::config::CommonSettings;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(version, about = "GoChat: self-hosted real-time chat")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in this process on one port (in-process bus unless GOCHAT_AMQP_URL is set).
    Serve(ServeArgs),
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let explicit = args.common.config.clone();
    let args: ServeArgs = gochat_kit::config::layer(&args, explicit.as_deref(), "config/gochat.toml".as_ref())?;
    let listen = args.common.listen_or(gochat::DEFAULT_LISTEN);
    let runtime = gochat_kit::service::runtime(args.common, true)?;
    gochat_kit::ops::cancel_on_signal(runtime.shutdown.clone());
    let app = gochat::app(runtime.clone(), args.services).await?;
    let listener = TcpListener::bind(listen).await?;
    gochat_kit::service::serve(runtime, listener, app).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
