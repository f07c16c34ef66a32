//! The chat service: `/ws/chat`. It accepts messages (recording `message.sent` durably before
//! answering `accepted`), forwards receipts and typing, and pushes what the messages service
//! stored to every open socket of both participants.
//!
//! Layout
//! - `socket`: the upgrade (Origin and cookie checked first); the socket loop and the hub of
//!   open sockets are `gochat_kit::ws`'s.
//! - `frames`: what each client frame does.
//! - `events`: this instance's fan-out consumer: stored messages, receipts, typing, rejections.
//! - `members`: who is in which conversation, learned from events (for typing and pushes).
//!
//! Scales out: every instance has its own fan-out queue, so users on different instances reach
//! each other.

mod events;
mod frames;
mod members;
mod socket;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::{Bus, Queue};
use gochat_kit::db::Db;
use gochat_kit::http::Origins;
use gochat_proto::events::EventKind;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8084);

/// Events this instance pushes to its sockets.
const FANOUT: &[EventKind] = &[
    EventKind::MessageStored,
    EventKind::ReceiptUpdated,
    EventKind::Typing,
    EventKind::MessageRejected,
    EventKind::ConversationCreated,
];

/// Settings of the chat service.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "chat")]
#[command(next_help_heading = "Chat service")]
pub struct Settings {
    /// Frames queued for one socket before it is considered stuck and closed. [default: 256]
    #[arg(long, env = "GOCHAT_CHAT_SOCKET_QUEUE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_socket_queue: Option<usize>,

    /// Seconds without any frame (pongs included) after which a socket is closed. [default: 75]
    #[arg(long, env = "GOCHAT_CHAT_IDLE_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_idle_secs: Option<u64>,
}

#[derive(Clone)]
pub struct AppState {
    db: Db,
    bus: Bus,
    sessions: Sessions,
    origins: Origins,
    hub: Arc<gochat_kit::ws::Hub>,
    members: members::Members,
    queue_len: usize,
    idle: Duration,
    shutdown: CancellationToken,
    /// Background work the process waits for when stopping (the sockets among it).
    tasks: tokio_util::task::TaskTracker,
}

pub async fn build(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    let db = runtime.open_db("chat", members::MIGRATIONS)?;
    let sessions = runtime.sessions("chat", &db).await?;
    let state = AppState {
        members: members::Members::new(db.clone()),
        db,
        bus: runtime.bus.clone(),
        sessions,
        origins: runtime.origins.clone(),
        hub: Arc::new(gochat_kit::ws::Hub::new("/ws/chat")),
        queue_len: settings.chat_socket_queue.unwrap_or(256).max(1),
        idle: Duration::from_secs(settings.chat_idle_secs.unwrap_or(75).max(1)),
        shutdown: runtime.shutdown.clone(),
        tasks: runtime.tasks.clone(),
    };
    runtime.bus.consume(
        Queue::fanout("chat", &runtime.instance, "push", FANOUT),
        events::handler(state.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    let router = axum::Router::new()
        .route("/ws/chat", axum::routing::get(socket::upgrade))
        .with_state(state);
    Ok(router.layer(axum::middleware::from_fn(gochat_kit::ops::track_requests)))
}
