//! `gochat-users`: the users service on its own, over RabbitMQ.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    gochat_kit::service::main("users", gochat_users::DEFAULT_LISTEN, gochat_users::build).await
}
