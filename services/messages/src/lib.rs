//! The messages service: conversations (direct and group) with their members, messages
//! numbered by `seq`, their edits, deletions and reactions, the members' delivered and read
//! watermarks, history and change pages, full-text search, and blocks.
//!
//! Layout
//! - `store`: the tables and their queries, plain synchronous functions tested on in-memory
//!   SQLite.
//! - `events`: the consumer of `messages.events` (what users did, as chat recorded it); it
//!   publishes `message.stored`, `message.updated`, `receipt.updated`, `conversation.updated`,
//!   `typing` and `message.rejected`.
//! - `routes`: the HTTP routes (conversations and members, history, changes, search, blocks,
//!   attachments).
//! - `attachments`: the attachments' files beside the database, images' thumbnails, and the
//!   sweep that removes uploads never sent and files no longer named.
//! - `indexing`: the search index's own database, and the background drain that indexes stored,
//!   edited and deleted messages there, a batch per write.
//!
//! Single writer of its SQLite file: run one instance. `seq` is assigned inside the write
//! transaction that stores the message, which is what makes 1, 2, 3… gap-free.

mod attachments;
mod events;
mod indexing;
mod routes;
mod store;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::Queue;
use gochat_kit::db::{Db, DbError};
use gochat_proto::ids::ConversationId;
use gochat_proto::limits::{DEFAULT_ATTACHMENT_MAX_BYTES, DEFAULT_ATTACHMENT_QUOTA_BYTES};
use gochat_proto::topology::MESSAGES;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The search index's database (`<data dir>/messages-search.db`): derived from the messages
/// and built again from them when missing, so backups leave it out.
pub const SEARCH_DB: &str = store::search::DB;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8083);

/// Settings of the messages service.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "messages")]
#[command(next_help_heading = "Messages service")]
pub struct Settings {
    /// Mebibytes of history pages kept in memory. [default: 8]
    #[arg(long, env = "GOCHAT_MESSAGES_CACHE_MIB")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_cache_mib: Option<u64>,

    /// Largest attachment, in bytes. [default: 26214400 (25 MiB)]
    #[arg(long, env = "GOCHAT_ATTACHMENT_MAX_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_max_bytes: Option<u64>,

    /// Bytes one user's attachments may take together, sent or not yet. [default: 1073741824 (1 GiB)]
    #[arg(long, env = "GOCHAT_ATTACHMENT_QUOTA_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_quota_bytes: Option<u64>,

    /// Seconds an uploaded file may wait to be sent before it is removed. [default: 86400 (24 h)]
    #[arg(long, env = "GOCHAT_ATTACHMENT_UNSENT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_unsent_secs: Option<u64>,

    /// Directory of the attachments' files. [default: <data dir>/attachments]
    #[arg(long, env = "GOCHAT_ATTACHMENTS_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments_dir: Option<PathBuf>,
}

/// Cache key of a history page: (conversation, window, limit).
type PageKey = (ConversationId, store::messages::Window, u32);

/// A cached page, as the JSON it is sent as, and the conversation's `last_seq` and
/// `last_change` when it was read. A page is served only while both are still those values:
/// every new message moves `last_seq` and every edit, deletion or reaction `last_change`, so a
/// write invalidates every cached page of its conversation at once, with no window in which a
/// page read before the write could be put back after it.
#[derive(Clone)]
struct CachedPage {
    last_seq: i64,
    last_change: i64,
    last_event: i64,
    body: bytes::Bytes,
}

#[derive(Clone)]
pub struct AppState {
    db: Db,
    /// The search index's database, which the readers of `db` attach to search.
    index: Arc<Path>,
    sessions: Sessions,
    /// Hot history pages (typically the newest page of busy conversations, opened by every tab).
    pages: moka::sync::Cache<PageKey, CachedPage>,
    attachments: Arc<attachments::Attachments>,
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
    let pages = moka::sync::Cache::builder()
        .max_capacity(settings.messages_cache_mib.unwrap_or(8) * 1024 * 1024)
        // Weighed by what the page takes in memory: its JSON, plus the entry's own keep.
        .weigher(|_, page: &CachedPage| u32::try_from(page.body.len() + 128).unwrap_or(u32::MAX))
        .build();
    // A deleted message's text is overwritten where it was, not just unlinked.
    db.write(|w| w.pragma_update(None, "secure_delete", "ON").map_err(DbError::from))
        .await?;
    let index = indexing::open(&runtime, &db).await?;
    let backlog = Arc::new(indexing::Backlog::default());
    runtime.tasks.spawn(indexing::run(
        db.clone(),
        index.clone(),
        backlog.clone(),
        runtime.shutdown.clone(),
    ));
    let files_dir = settings
        .attachments_dir
        .unwrap_or_else(|| runtime.settings.data_dir().join(attachments::DIR));
    let attachments = Arc::new(attachments::Attachments {
        files: attachments::Files::open(&files_dir)?,
        max_bytes: settings.attachment_max_bytes.unwrap_or(DEFAULT_ATTACHMENT_MAX_BYTES),
        quota_bytes: settings
            .attachment_quota_bytes
            .unwrap_or(DEFAULT_ATTACHMENT_QUOTA_BYTES),
        unsent_for: Duration::from_secs(settings.attachment_unsent_secs.unwrap_or(24 * 3600)),
        decoder: attachments::decoder::Decoder::default(),
        sweep: Arc::default(),
    });
    runtime.tasks.spawn(attachments::sweep::run(
        db.clone(),
        attachments.clone(),
        runtime.shutdown.clone(),
    ));
    let sweep = attachments.sweep.clone();
    let state = AppState {
        db,
        index: index.path().into(),
        sessions,
        pages,
        attachments,
    };
    runtime.bus.consume(
        Queue::shared(&MESSAGES, &state.db),
        events::handler(state.db.clone(), sweep, backlog),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    Ok(runtime.api_layers(routes::router(state)))
}
