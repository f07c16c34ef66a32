//! The chat service: `/ws/chat`. A gateway without conversation state of its own: it takes the
//! sender from the socket's verified session, checks what it can check alone (sizes, shapes),
//! records what the user did for the messages service (the owner of conversations, membership
//! and messages), answers `accepted` once a message is safe, and pushes what the messages
//! service announces to the open sockets of the members it names.
//!
//! Layout
//! - `socket`: the upgrade (Origin and cookie checked first); the socket loop and the hub of
//!   open sockets are `gochat_kit::ws`'s.
//! - `frames`: what each client frame does.
//! - `events`: this instance's fan-out consumer: messages, updates, receipts, conversations,
//!   typing, refusals.
//!
//! Scales out: every instance has its own fan-out queue, and every event names the members it
//! concerns, so an instance knows whom to push to without having seen anything before.

mod events;
mod frames;
mod socket;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::{Bus, Queue};
use gochat_kit::http::Origins;
use gochat_kit::record::Recorder;
use gochat_proto::topology::CHAT_PUSH;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8084);

/// The chat database holds only the outbox (what was recorded while the broker was away) and
/// the revoked sessions; migration 2 drops the membership replica that v1 kept.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE conversation_members (
        conversation_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
    ) WITHOUT ROWID;",
    "DROP TABLE conversation_members;",
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
    recorder: Recorder,
    bus: Bus,
    sessions: Sessions,
    origins: Origins,
    hub: Arc<gochat_kit::ws::Hub>,
    /// Names this instance in the origin of what its sockets send, so refusals come back here.
    instance: Arc<str>,
    queue_len: usize,
    idle: Duration,
    shutdown: CancellationToken,
    /// Background work the process waits for when stopping (the sockets among it).
    tasks: tokio_util::task::TaskTracker,
}

pub async fn build(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    let db = runtime.open_db("chat", MIGRATIONS)?;
    let sessions = runtime.sessions("chat", &db).await?;
    let state = AppState {
        recorder: Recorder::new(runtime.bus.clone(), db),
        bus: runtime.bus.clone(),
        sessions,
        origins: runtime.origins.clone(),
        hub: Arc::new(gochat_kit::ws::Hub::new("/ws/chat")),
        instance: runtime.instance.clone(),
        queue_len: settings.chat_socket_queue.unwrap_or(256).max(1),
        idle: Duration::from_secs(settings.chat_idle_secs.unwrap_or(75).max(1)),
        shutdown: runtime.shutdown.clone(),
        tasks: runtime.tasks.clone(),
    };
    runtime.bus.consume(
        Queue::fanout("chat", &runtime.instance, "push", CHAT_PUSH),
        events::handler(state.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    let router = axum::Router::new()
        .route("/ws/chat", axum::routing::get(socket::upgrade))
        .with_state(state);
    Ok(router.layer(axum::middleware::from_fn(gochat_kit::ops::track_requests)))
}
