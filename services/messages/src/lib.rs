//! The messages service: direct conversations, their messages numbered by `seq`, the members'
//! delivered and read watermarks, the conversation list and history pages.
//!
//! Layout
//! - `store`: the tables and their queries (users replica, conversations and watermarks,
//!   messages and pages), plain synchronous functions tested on in-memory SQLite.
//! - `events`: the consumer of `messages.events`: stores `message.sent`, applies
//!   `message.delivered` / `message.read`, keeps the users replica; publishes `message.stored`,
//!   `message.rejected`, `receipt.updated` and `conversation.created` through the outbox.
//! - `routes`: `GET/POST /api/conversations` and `GET /api/conversations/{id}/messages`, with
//!   history pages cached in moka.
//!
//! Single writer of its SQLite file: run one instance. `seq` is assigned inside the write
//! transaction that stores the message, which is what makes 1, 2, 3… gap-free.

mod events;
mod routes;
mod store;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::Queue;
use gochat_kit::db::Db;
use gochat_proto::dto::MessagesPage;
use gochat_proto::ids::ConversationId;
use gochat_proto::topology::MESSAGES;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8083);

/// Settings of the messages service.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "messages")]
#[command(next_help_heading = "Messages service")]
pub struct Settings {
    /// History pages kept in the cache. [default: 10000]
    #[arg(long, env = "GOCHAT_MESSAGES_CACHE_PAGES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_cache_pages: Option<u64>,
}

/// Cache key of a history page: (conversation, window, limit).
type PageKey = (ConversationId, store::messages::Window, u32);

/// A cached page and the `last_seq` of its conversation when it was read. A page is served only
/// while `last_seq` is still that value: every stored message moves `last_seq`, so a write to a
/// conversation invalidates all its cached pages at once, with no window in which a page read
/// before the write could be put back after it.
#[derive(Clone)]
struct CachedPage {
    last_seq: i64,
    page: Arc<MessagesPage>,
}

#[derive(Clone)]
pub struct AppState {
    db: Db,
    sessions: Sessions,
    /// Hot history pages (typically the newest page of busy conversations, opened by every tab).
    pages: moka::sync::Cache<PageKey, CachedPage>,
}

impl axum::extract::FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

/// Opens the database, starts the consumer and returns the service's router.
pub async fn build(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    let db = runtime.open_db("messages", store::MIGRATIONS)?;
    let sessions = runtime.sessions("messages", &db).await?;
    let pages = moka::sync::Cache::new(settings.messages_cache_pages.unwrap_or(10_000));
    let state = AppState { db, sessions, pages };
    runtime.bus.consume(
        Queue::Shared(&MESSAGES),
        events::handler(state.db.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    Ok(runtime.api_layers(routes::router(state)))
}
