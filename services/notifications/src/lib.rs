//! The notifications service, in two roles that scale differently:
//!
//! - the **store** (one per database, like every single writer): a notification per stored
//!   message for each recipient, read when the recipient reads the conversation or through
//!   `POST /api/notifications/read`, listed by `GET /api/notifications`; it announces new and
//!   read notifications on the bus, and sends Web Push to the browsers of users who have no
//!   open `/ws/notifications` socket anywhere (it follows `presence.changed` to know who).
//! - the **gateway** (any number behind the ingress): `/ws/notifications`, whose sockets make a
//!   user online (claims and heartbeats), and pushes of new and read notifications, presence
//!   and new users to the sockets it holds, from its own fan-out queue.
//!
//! `gochat serve` and `gochat notifications` run both roles in one process; `gochat
//! notifications --role gateway` (or `store`) runs one of them.
//!
//! Layout
//! - `store`: the notifications table, the shared consumer, the REST routes, who is online.
//! - `push`: Web Push: the VAPID key, subscriptions, encryption (RFC 8291), the sender.
//! - `gateway`: the socket route, presence claims and heartbeats, the fan-out consumer.

mod gateway;
mod push;
mod store;

use clap::{Args, ValueEnum};
use gochat_kit::Runtime;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

pub use push::InsecureHost;
/// The Web Push key's file in the data directory (backups copy it).
pub use push::vapid::KEY_FILE as VAPID_KEY_FILE;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8085);

/// Settings of the notifications service (both roles; `gochat serve` has them too).
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "notifications")]
#[command(next_help_heading = "Notifications service")]
pub struct Settings {
    /// Seconds between a gateway's presence heartbeats. [default: 10]
    #[arg(long, env = "GOCHAT_PRESENCE_HEARTBEAT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_heartbeat_secs: Option<u64>,

    /// Milliseconds presence pushes are held to coalesce flapping (a tab reloading). [default: 300]
    #[arg(long, env = "GOCHAT_PRESENCE_COALESCE_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_coalesce_ms: Option<u64>,

    /// Contact for push services, the `sub` of VAPID tokens (mailto:admin@example.org or an
    /// https URL). [default: the site's origin, as the subscribing browser named it]
    #[arg(long, env = "GOCHAT_PUSH_CONTACT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_contact: Option<String>,

    /// Push service hosts that may be plain http or private addresses, comma separated: `host`
    /// for any port, `host:port` for that port only (for tests and a push service on the LAN).
    /// [default: none]
    #[arg(long, env = "GOCHAT_PUSH_INSECURE_HOSTS", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_insecure_hosts: Option<Vec<InsecureHost>>,

    /// Seconds a push service has to answer one push before it is retried later. [default: 10]
    #[arg(long, env = "GOCHAT_PUSH_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_timeout_secs: Option<u64>,

    /// Days a notification is kept, read or not; 0 keeps every one. [default: 90]
    #[arg(long, env = "GOCHAT_NOTIFICATIONS_KEEP_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications_keep_days: Option<u64>,
}

/// Which parts of the service a process runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The store and a gateway: the whole service in one process.
    #[default]
    Both,
    /// Notifications, their REST routes and Web Push: exactly one per database.
    Store,
    /// `/ws/notifications` and presence: as many as wanted, each with its own data directory.
    Gateway,
}

/// The command line of `gochat notifications`: the service's settings and its role.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
pub struct ServiceSettings {
    /// Which part to run: both, store (one per database) or gateway (scales out). [default: both]
    #[arg(long, env = "GOCHAT_NOTIFICATIONS_ROLE", value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,

    #[command(flatten)]
    #[serde(flatten)]
    pub settings: Settings,
}

/// The whole service (store and gateway) on one router, as `gochat serve` runs it.
pub async fn build_both(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    build(runtime, ServiceSettings { role: None, settings }).await
}

/// The parts of the service `role` names. The store's database also keeps the session replica
/// when both run; a gateway alone keeps it in a small database of its own, which it can always
/// rebuild (the replica follows auth's ledger from its start when it is new).
pub async fn build(runtime: Runtime, service: ServiceSettings) -> anyhow::Result<axum::Router> {
    let ServiceSettings { role, settings } = service;
    let role = role.unwrap_or_default();
    let db = match role {
        Role::Both | Role::Store => store::open(&runtime).await?,
        Role::Gateway => runtime.open_db("notifications-gateway", &[])?,
    };
    let sessions = runtime.sessions("notifications", &db).await?;
    let mut router = axum::Router::new();
    if role != Role::Gateway {
        router = router.merge(store::build(&runtime, db, sessions.clone(), &settings)?);
    }
    if role != Role::Store {
        router = router.merge(gateway::build(&runtime, sessions, &settings));
    }
    Ok(runtime.api_layers(router))
}
