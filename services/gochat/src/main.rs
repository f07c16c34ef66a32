//! `gochat`: GoChat in one binary. `gochat serve` runs every service in this process on one
//! port; `gochat <service>` runs one service over RabbitMQ, exactly as `gochat-<service>` does.

use clap::{Parser, Subcommand};
use gochat_kit::config::CommonSettings;
use gochat_kit::service::{ServiceArgs, run_one};
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
    /// Run the auth service alone, over RabbitMQ.
    Auth(ServiceArgs<gochat_auth::Settings>),
    /// Run the users service alone, over RabbitMQ.
    Users(ServiceArgs<gochat_users::Settings>),
    /// Run the messages service alone, over RabbitMQ.
    Messages(ServiceArgs<gochat_messages::Settings>),
    /// Run the chat service alone, over RabbitMQ.
    Chat(ServiceArgs<gochat_chat::Settings>),
    /// Run the notifications service alone, over RabbitMQ.
    Notifications(ServiceArgs<gochat_notifications::Settings>),
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
