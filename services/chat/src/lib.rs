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
//! - `receipts`: delivered and read watermarks, gathered for a moment before they are recorded.
//! - `events`: this instance's fan-out consumer: messages, updates, receipts, conversations,
//!   typing, refusals.
//!
//! Scales out: every instance has its own fan-out queue, and every event names the members it
//! concerns, so an instance knows whom to push to without having seen anything before.

mod events;
mod frames;
mod receipts;
mod socket;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::{Bus, Queue};
use gochat_kit::http::Origins;
use gochat_kit::record::Recorder;
use gochat_kit::ws::{Hub, Limits};
use gochat_proto::ids::{ConversationId, UserId};
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

    /// Seconds without any frame (pongs included) after which a socket is closed; the server
    /// pings three times within it, at most every 25 s. [default: 75]
    #[arg(long, env = "GOCHAT_CHAT_IDLE_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_idle_secs: Option<u64>,

    /// Sockets one user may hold open on one chat instance; more are refused with 429. [default: 32]
    #[arg(long, env = "GOCHAT_CHAT_SOCKETS_PER_USER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_sockets_per_user: Option<usize>,

    /// Frames per second one user's sockets may send together (as many again in a burst);
    /// beyond, they are read more slowly, never closed. [default: 1000]
    #[arg(long, env = "GOCHAT_CHAT_FRAMES_PER_SECOND")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_frames_per_second: Option<u32>,
}

/// A user's typing frames for one conversation are passed on at most this often.
const TYPING_EVERY: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct AppState {
    recorder: Recorder,
    bus: Bus,
    sessions: Sessions,
    origins: Origins,
    hub: Arc<Hub>,
    /// Names this instance in the origin of what its sockets send, so refusals come back here.
    instance: Arc<str>,
    /// (user, conversation) pairs whose typing was passed on in the last [`TYPING_EVERY`]: a
    /// flood of typing frames costs the bus and the other members one frame per period.
    typing: moka::sync::Cache<(UserId, ConversationId), ()>,
    /// Receipts gathered for a moment before they are recorded.
    receipts: Arc<receipts::Receipts>,
    idle: Duration,
    shutdown: CancellationToken,
    /// Background work the process waits for when stopping (the sockets among it).
    tasks: tokio_util::task::TaskTracker,
}

fn limits(settings: &Settings) -> Limits {
    let defaults = Limits::default();
    Limits {
        sockets_per_user: settings
            .chat_sockets_per_user
            .unwrap_or(defaults.sockets_per_user)
            .max(1),
        frames_per_second: settings
            .chat_frames_per_second
            .unwrap_or(defaults.frames_per_second)
            .max(1),
        queue: settings.chat_socket_queue.unwrap_or(defaults.queue).max(1),
    }
}

pub async fn build(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    let db = runtime.open_db("chat", MIGRATIONS)?;
    let sessions = runtime.sessions("chat", &db).await?;
    let state = AppState {
        recorder: Recorder::new(runtime.bus.clone(), db),
        bus: runtime.bus.clone(),
        sessions,
        origins: runtime.origins.clone(),
        hub: Arc::new(Hub::new("/ws/chat", limits(&settings))),
        instance: runtime.instance.clone(),
        typing: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(TYPING_EVERY)
            .build(),
        receipts: Arc::default(),
        idle: Duration::from_secs(settings.chat_idle_secs.unwrap_or(75).max(1)),
        shutdown: runtime.shutdown.clone(),
        tasks: runtime.tasks.clone(),
    };
    let (receipts, recorder, shutdown) = (state.receipts.clone(), state.recorder.clone(), runtime.shutdown.clone());
    runtime
        .tasks
        .spawn(async move { receipts.record(recorder, shutdown).await });
    // Pushes routed while this instance's queue did not exist never reach its sockets: they
    // catch up by seq and change counter, as after a reconnect.
    let hub = state.hub.clone();
    let resync = frames::encode(&gochat_proto::frames::ChatServerFrame::Resync);
    runtime.bus.consume(
        Queue::fanout("chat", &runtime.instance, "push", CHAT_PUSH).when_missed(move || hub.push_all(&resync)),
        events::handler(state.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    let router = axum::Router::new()
        .route("/ws/chat", axum::routing::get(socket::upgrade))
        .with_state(state);
    Ok(gochat_kit::http::json_method_not_allowed(router)
        .layer(axum::middleware::from_fn(gochat_kit::ops::track_requests)))
}
