//! `gochat-chat`: the chat service on its own, over RabbitMQ.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    gochat_kit::service::main("chat", gochat_chat::DEFAULT_LISTEN, gochat_chat::build).await
}
