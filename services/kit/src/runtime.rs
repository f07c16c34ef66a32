//! What a service is given to run: the bus, the signing keys, the shared settings, and the
//! shutdown token with the tracker of its background tasks. One `Runtime` serves one service
//! binary, or all services of the all-in-one binary.

use crate::auth::{Keys, Sessions};
use crate::bus::Bus;
use crate::config::CommonSettings;
use crate::db::Db;
use crate::http::{Origins, TrustedProxies, origin_guard};
use crate::outbox::Outbox;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use gochat_proto::limits::MAX_JSON_BODY_BYTES;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

#[derive(Clone)]
pub struct Runtime {
    pub bus: Bus,
    pub keys: Arc<Keys>,
    pub settings: Arc<CommonSettings>,
    /// Names this process's fan-out queues.
    pub instance: Arc<str>,
    pub origins: Origins,
    /// Cancelled to stop: servers stop accepting, sockets close, consumers stop.
    pub shutdown: CancellationToken,
    /// Background tasks (consumers, relays) that must finish before the process exits.
    pub tasks: TaskTracker,
    databases: Arc<Mutex<Vec<Db>>>,
}

impl Runtime {
    pub fn new(
        settings: CommonSettings,
        bus: Bus,
        keys: Keys,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Self {
        let origins = Origins::new(settings.allowed_origins(), TrustedProxies::from_settings(&settings));
        crate::listener::configure(crate::listener::Limits::from_settings(&settings.connections));
        crate::db::limit_memory(settings.sqlite_memory_bytes());
        Self {
            bus,
            keys: Arc::new(keys),
            instance: settings.instance_id().into(),
            origins,
            settings: Arc::new(settings),
            shutdown,
            tasks,
            databases: Arc::default(),
        }
    }

    /// Opens the service's database in the data directory (owner-only, see [`crate::private`])
    /// and starts its outbox relay.
    pub fn open_db(&self, name: &str, migrations: &[&'static str]) -> anyhow::Result<Db> {
        crate::private::database(&self.settings.data_dir(), name)?;
        // Every log line about this database (migrations, the relay) names it.
        let span = tracing::info_span!("database", db = name);
        let outbox = Outbox::default();
        let db = span.in_scope(|| {
            Db::open(
                &self.settings.data_dir(),
                name,
                migrations,
                self.settings.synchronous(),
                outbox.sink(),
            )
        })?;
        let relay = outbox.relay(db.clone(), self.bus.clone(), self.shutdown.clone());
        self.tasks.spawn(self.bus.track_publisher(relay.instrument(span)));
        self.tasks
            .spawn(forget_old_deliveries(db.clone(), self.shutdown.clone()));
        self.databases.lock().expect("databases lock poisoned").push(db.clone());
        Ok(db)
    }

    /// Token verification for `service`, following revocations into `db`.
    pub async fn sessions(&self, service: &str, db: &Db) -> anyhow::Result<Sessions> {
        Sessions::start(
            self.keys.clone(),
            db,
            &self.bus,
            service,
            &self.instance,
            &self.tasks,
            self.shutdown.clone(),
        )
        .await
    }

    /// Every database opened through this runtime (for readiness and backups).
    pub fn databases(&self) -> Vec<Db> {
        self.databases.lock().expect("databases lock poisoned").clone()
    }

    /// The layers every API router gets: body limit and body timeout, Origin guard, headers
    /// that keep answers out of caches, request metrics.
    pub fn api_layers(&self, router: Router) -> Router {
        let limits = crate::listener::Limits::from_settings(&self.settings.connections);
        crate::http::json_method_not_allowed(router)
            .layer(axum::middleware::map_response(uncached))
            .layer(axum::middleware::from_fn_with_state(self.origins.clone(), origin_guard))
            .layer(DefaultBodyLimit::max(MAX_JSON_BODY_BYTES))
            // A body that stops halfway would hold its request (and its connection) for good.
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.body_timeout))
            .layer(axum::middleware::from_fn(crate::ops::track_requests))
    }
}

/// An API answer is someone's own data: no cache keeps it (a shared proxy, the browser's disk)
/// unless its route says otherwise (attachments do), and its type is never sniffed.
async fn uncached(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    response
}

/// How long a consumer remembers an applied event id. Brokers redeliver within minutes; a week
/// covers any outage worth surviving without letting the inbox grow forever.
const INBOX_RETENTION_SECS: i64 = 7 * 24 * 3600;

/// Prunes the inbox once an hour.
async fn forget_old_deliveries(db: Db, shutdown: CancellationToken) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = hourly.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        let pruned = db
            .write(|w| -> Result<usize, crate::db::DbError> {
                Ok(w.execute(
                    "DELETE FROM inbox WHERE applied_at < unixepoch() - ?1",
                    [INBOX_RETENTION_SECS],
                )?)
            })
            .await;
        if let Err(e) = pruned {
            tracing::warn!(db = db.name(), error = %e, "inbox pruning failed");
        }
    }
}
