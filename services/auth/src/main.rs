//! `gochat-auth`: the auth service on its own, over RabbitMQ.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    gochat_kit::service::main("auth", gochat_auth::DEFAULT_LISTEN, gochat_auth::build).await
}
