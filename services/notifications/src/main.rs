//! `gochat-notifications`: the notifications service on its own, over RabbitMQ.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    gochat_kit::service::main(
        "notifications",
        gochat_notifications::DEFAULT_LISTEN,
        gochat_notifications::build,
    )
    .await
}
