//! The notifications service: a notification per stored message for its recipient, marked read
//! when the recipient reads the conversation or through the REST route; `/ws/notifications`
//! tells every tab; the sockets of this service are what makes a user online.
//!
//! Layout
//! - `store`: the notifications table.
//! - `events`: the shared consumer (stores notifications from `message.stored`, reads them from
//!   `receipt.updated`) and this instance's push consumer (new and read notifications,
//!   presence, new users, to the sockets it holds).
//! - `presence`: claims for the users whose sockets this instance holds, heartbeats, and the
//!   coalescing of presence pushes.
//! - `routes`: `GET /api/notifications`, `POST /api/notifications/read`, `GET /ws/notifications`.
//!
//! Stored notifications have one writer: run one instance of this service per SQLite file.

mod events;
mod presence;
mod routes;
mod store;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::{Bus, Queue};
use gochat_kit::db::{Db, DbError};
use gochat_kit::http::Origins;
use gochat_kit::ws::{Hub, Limits};
use gochat_proto::topology::{NOTIFICATIONS, NOTIFICATIONS_PUSH};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8085);

/// Settings of the notifications service.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "notifications")]
#[command(next_help_heading = "Notifications service")]
pub struct Settings {
    /// Seconds between this instance's presence heartbeats. [default: 10]
    #[arg(long, env = "GOCHAT_PRESENCE_HEARTBEAT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_heartbeat_secs: Option<u64>,

    /// Milliseconds presence pushes are held to coalesce flapping (a tab reloading). [default: 300]
    #[arg(long, env = "GOCHAT_PRESENCE_COALESCE_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_coalesce_ms: Option<u64>,
}

#[derive(Clone)]
pub struct AppState {
    db: Db,
    bus: Bus,
    sessions: Sessions,
    origins: Origins,
    hub: Arc<Hub>,
    presence: Arc<presence::Presence>,
    instance: Arc<str>,
    shutdown: CancellationToken,
    /// Background work the process waits for when stopping (the sockets among it).
    tasks: tokio_util::task::TaskTracker,
}

impl axum::extract::FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

/// Sockets per user, frames they may send (only pings), and frames queued per socket before it
/// is closed as stuck (notifications are few and small).
const SOCKETS: Limits = Limits {
    sockets_per_user: 32,
    frames_per_second: 10,
    queue: 128,
};
/// A socket silent this long (no frame, no pong) is closed.
const IDLE: Duration = Duration::from_secs(75);

pub async fn build(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    let db = runtime.open_db("notifications", store::MIGRATIONS)?;
    // Notifications keep message previews: a deleted message's text is overwritten, not unlinked.
    db.write(|w| w.pragma_update(None, "secure_delete", "ON").map_err(DbError::from))
        .await?;
    let sessions = runtime.sessions("notifications", &db).await?;
    let hub = Arc::new(Hub::new("/ws/notifications", SOCKETS));
    let coalesce = Duration::from_millis(settings.presence_coalesce_ms.unwrap_or(300));
    let (presence, claims) = presence::Presence::new(hub.clone(), coalesce);
    let state = AppState {
        db,
        bus: runtime.bus.clone(),
        sessions,
        origins: runtime.origins.clone(),
        presence: Arc::new(presence),
        hub,
        instance: runtime.instance.clone(),
        shutdown: runtime.shutdown.clone(),
        tasks: runtime.tasks.clone(),
    };
    runtime.bus.consume(
        Queue::shared(&NOTIFICATIONS, &state.db),
        events::store_handler(state.db.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    runtime.bus.consume(
        Queue::fanout("notifications", &runtime.instance, "push", NOTIFICATIONS_PUSH),
        events::push_handler(state.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    let beat = Duration::from_secs(settings.presence_heartbeat_secs.unwrap_or(10).max(1));
    runtime.tasks.spawn(presence::heartbeat(state.clone(), beat));
    runtime.tasks.spawn(presence::announce(state.clone(), claims));
    runtime.tasks.spawn(presence::flush_coalesced(
        state.presence.clone(),
        runtime.shutdown.clone(),
    ));
    Ok(runtime.api_layers(routes::router(state)))
}
