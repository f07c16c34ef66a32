//! `gochat-messages`: the messages service on its own, over RabbitMQ.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    gochat_kit::service::main("messages", gochat_messages::DEFAULT_LISTEN, gochat_messages::build).await
}
