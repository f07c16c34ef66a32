//! The socket gateway: `/ws/notifications`, the presence claims of the users whose sockets this
//! instance holds, and pushes to those sockets from its own fan-out queue. It keeps no data but
//! the session replica, so any number of gateways give the same answers behind the ingress.
//!
//! Layout
//! - `routes`: the socket route and its loop.
//! - `presence`: claims, heartbeats, and the coalescing of presence pushes.
//! - `events`: the fan-out consumer (new and read notifications, presence, new users).

mod events;
mod presence;
mod routes;

use crate::Settings;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::{Bus, Queue};
use gochat_kit::http::Origins;
use gochat_kit::ws::{Hub, Limits};
use gochat_proto::events::EventKind;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Events a gateway pushes to its sockets.
const PUSHED: &[EventKind] = &[
    EventKind::NotificationsCreated,
    EventKind::NotificationsRead,
    EventKind::PresenceChanged,
    EventKind::UserRegistered,
];

/// Sockets per user, frames they may send (only pings), and frames queued per socket before it
/// is closed as stuck (notifications are few and small).
const SOCKETS: Limits = Limits {
    sockets_per_user: 32,
    frames_per_second: 10,
    queue: 128,
};
/// A socket silent this long (no frame, no pong) is closed.
const IDLE: Duration = Duration::from_secs(75);

#[derive(Clone)]
struct Gateway {
    bus: Bus,
    sessions: Sessions,
    origins: Origins,
    hub: Arc<Hub>,
    presence: Arc<presence::Presence>,
    instance: Arc<str>,
    shutdown: CancellationToken,
    /// Background work the process waits for when stopping (the sockets among it).
    tasks: TaskTracker,
}

/// Starts the gateway's consumer and presence tasks; returns its route.
pub fn build(runtime: &Runtime, sessions: Sessions, settings: &Settings) -> axum::Router {
    let hub = Arc::new(Hub::new("/ws/notifications", SOCKETS));
    let coalesce = Duration::from_millis(settings.presence_coalesce_ms.unwrap_or(300));
    let (presence, claims) = presence::Presence::new(hub.clone(), coalesce);
    let gateway = Gateway {
        bus: runtime.bus.clone(),
        sessions,
        origins: runtime.origins.clone(),
        hub,
        presence: Arc::new(presence),
        instance: runtime.instance.clone(),
        shutdown: runtime.shutdown.clone(),
        tasks: runtime.tasks.clone(),
    };
    runtime.bus.consume(
        Queue::fanout("notifications", &runtime.instance, "push", PUSHED),
        events::push_handler(gateway.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    let beat = Duration::from_secs(settings.presence_heartbeat_secs.unwrap_or(10).max(1));
    runtime.tasks.spawn(presence::heartbeat(gateway.clone(), beat));
    runtime.tasks.spawn(presence::announce(gateway.clone(), claims));
    runtime.tasks.spawn(presence::flush_coalesced(
        gateway.presence.clone(),
        runtime.shutdown.clone(),
    ));
    routes::router(gateway)
}
