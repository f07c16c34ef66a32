//! The users service: the directory of users with presence and last seen.
//!
//! Layout
//! - `directory`: the table and its queries (prefix search, keyset pagination).
//! - `events`: the consumer that builds the directory from `user.registered` and presence from
//!   claims and heartbeats.
//! - `presence`: per-(user, instance) claims kept in memory, silent instances swept, transitions
//!   written and announced (nothing is written while nobody's presence changes).
//! - `routes`: `GET /api/users`, with first pages cached in moka by the directory's version.
//!
//! Single writer of its SQLite file: run one instance.

mod directory;
mod events;
mod presence;
mod routes;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::Queue;
use gochat_kit::db::Db;
use gochat_proto::dto::UsersPage;
use gochat_proto::ids::UserId;
use gochat_proto::topology::USERS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8082);

/// Settings of the users service.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "users")]
#[command(next_help_heading = "Users service")]
pub struct Settings {
    /// Mebibytes of user-list first pages kept in memory. [default: 4]
    #[arg(long, env = "GOCHAT_USERS_CACHE_MIB")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_cache_mib: Option<u64>,

    /// Seconds without a heartbeat after which a notifications instance's users go offline.
    /// [default: 30]
    #[arg(long, env = "GOCHAT_PRESENCE_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_timeout_secs: Option<u64>,
}

/// Cache key of a first page: (lower-cased prefix, limit). Pages after a cursor are not cached:
/// a cursor can name any position, so caching them would let anyone fill the cache.
type PageKey = (String, u32);

#[derive(Clone)]
pub struct AppState {
    db: Db,
    sessions: Sessions,
    /// First pages of the directory (per prefix), bounded in bytes, each with the directory's
    /// version it was read at: served only while that is still the version, so no page is ever
    /// stale, not even one whose read raced a change.
    pages: moka::sync::Cache<PageKey, (u64, Arc<UsersPage>)>,
    /// The directory's version: bumped by every change that shows in a page.
    version: Arc<std::sync::atomic::AtomicU64>,
    /// Which instance holds which users: memory only, restated by every heartbeat.
    liveness: Arc<Mutex<presence::Liveness>>,
    /// The users stored as online: read once at start, then kept by every committed write, so
    /// the sweeper compares it with `liveness` without reading the database (an idle read still
    /// touches the WAL index).
    stored_online: Arc<Mutex<BTreeSet<UserId>>>,
}

impl AppState {
    /// Every cached page is out of date from now on.
    fn directory_changed(&self) {
        self.version.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.pages.invalidate_all();
    }

    /// Writes the presence of `users` as `liveness` has it now; whether anything changed.
    async fn settle(&self, users: Vec<UserId>) -> Result<bool, gochat_kit::db::DbError> {
        let liveness = self.liveness.clone();
        let written = self
            .db
            .write(move |w| Ok::<_, gochat_kit::db::DbError>(presence::settle(w, users, &liveness)?))
            .await?;
        self.stored(&written);
        Ok(!written.is_empty())
    }

    /// Records committed presence transitions.
    fn stored(&self, written: &[(UserId, bool)]) {
        let mut stored = self.stored_online.lock().expect("stored presence lock poisoned");
        for (user, online) in written {
            if *online {
                stored.insert(*user);
            } else {
                stored.remove(user);
            }
        }
    }
}

impl axum::extract::FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

pub async fn build(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    let db = runtime.open_db("users", directory::MIGRATIONS)?;
    let sessions = runtime.sessions("users", &db).await?;
    let pages = moka::sync::Cache::builder()
        .max_capacity(settings.users_cache_mib.unwrap_or(4) * 1024 * 1024)
        .weigher(|_, (_, page): &(u64, Arc<UsersPage>)| routes::weight(page))
        .build();
    let stored_online = db
        .read(|c| directory::online_users(c).map_err(gochat_kit::db::DbError::from))
        .await?;
    let state = AppState {
        db,
        sessions,
        pages,
        version: Arc::default(),
        liveness: Arc::default(),
        stored_online: Arc::new(Mutex::new(stored_online)),
    };
    runtime.bus.consume(
        Queue::shared(&USERS, &state.db),
        events::handler(state.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    let timeout = Duration::from_secs(settings.presence_timeout_secs.unwrap_or(30).max(1));
    runtime
        .tasks
        .spawn(sweep_silent_instances(state.clone(), timeout, runtime.shutdown.clone()));
    Ok(runtime.api_layers(routes::router(state)))
}

/// Every third of the timeout, drops the claims of instances that stopped beating, and brings
/// the stored presence in line with memory (after a restart, users stored online whom no
/// instance restated go offline; a write that failed is made again).
async fn sweep_silent_instances(state: AppState, timeout: Duration, shutdown: CancellationToken) {
    // The first sweep waits a whole timeout: after a restart of this service, the heartbeats
    // queued meanwhile must be read before any instance is judged silent.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + timeout, timeout / 3);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        let cutoff = chrono::Utc::now().timestamp_millis() - timeout.as_millis() as i64;
        let (swept, live) = {
            let mut liveness = state.liveness.lock().expect("liveness lock poisoned");
            (liveness.sweep(cutoff), liveness.online_users())
        };
        let stored = state
            .stored_online
            .lock()
            .expect("stored presence lock poisoned")
            .clone();
        let users: BTreeSet<UserId> = swept
            .into_iter()
            .chain(stored.symmetric_difference(&live).copied())
            .collect();
        if users.is_empty() {
            continue;
        }
        match state.settle(users.into_iter().collect()).await {
            Ok(true) => state.directory_changed(),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "presence sweep failed"),
        }
    }
}
