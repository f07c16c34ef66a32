//! GoChat all in one: every service in one process, on one port, over one bus, plus the web
//! client. The services run exactly the code their own binaries run.
//!
//! Layout
//! - [`Settings`]: the settings of every service, flattened into one command line.
//! - [`app`]: builds every service on a runtime and merges their routers with the client.
//! - `client`: serves the built web client (precompressed hashed assets cached for good, the
//!   SPA's index for its routes, security headers) and the JSON 404 of unknown API paths.

mod client;

use clap::Args;
use gochat_kit::Runtime;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);

/// Every service's settings, plus the client's location.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "all_in_one")]
#[command(next_help_heading = "All in one")]
pub struct Settings {
    /// Directory of the built web client. [default: client/dist]
    #[arg(long, env = "GOCHAT_CLIENT_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_dir: Option<PathBuf>,

    #[command(flatten)]
    #[serde(flatten)]
    pub auth: gochat_auth::Settings,

    #[command(flatten)]
    #[serde(flatten)]
    pub users: gochat_users::Settings,

    #[command(flatten)]
    #[serde(flatten)]
    pub messages: gochat_messages::Settings,

    #[command(flatten)]
    #[serde(flatten)]
    pub chat: gochat_chat::Settings,

    #[command(flatten)]
    #[serde(flatten)]
    pub notifications: gochat_notifications::Settings,
}

/// Every service's routes and the client, on one router.
pub async fn app(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    let auth = gochat_auth::build(runtime.clone(), settings.auth).await?;
    let users = gochat_users::build(runtime.clone(), settings.users).await?;
    let messages = gochat_messages::build(runtime.clone(), settings.messages).await?;
    let chat = gochat_chat::build(runtime.clone(), settings.chat).await?;
    let notifications = gochat_notifications::build_both(runtime.clone(), settings.notifications).await?;
    let client_dir = settings.client_dir.unwrap_or_else(|| PathBuf::from("client/dist"));
    let api = auth.merge(users).merge(messages).merge(chat).merge(notifications);
    Ok(api.fallback_service(client::router(&client_dir)))
}
