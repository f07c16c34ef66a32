//! The store: the single writer of notifications.db. It consumes the durable
//! `notifications.events` queue, serves the REST routes, announces new and read notifications
//! to the gateways, and hands pushes for offline users to Web Push.
//!
//! Layout
//! - `table`: the notifications table.
//! - `events`: the shared consumer (notifications from stored, edited and deleted messages,
//!   read from receipts, presence and ended sessions for Web Push).
//! - `routes`: `GET /api/notifications`, `POST /api/notifications/read`.
//! - `mutes`: muted conversations and their routes.
//! - `expiry`: removes notifications past their time.

mod events;
mod expiry;
mod mutes;
mod routes;
pub mod table;

use crate::Settings;
use crate::push::{self, Push};
use axum::extract::FromRef;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::bus::Queue;
use gochat_kit::db::{Db, DbError};
use gochat_kit::http::Origins;
use gochat_proto::topology::NOTIFICATIONS;
use std::sync::Arc;
use std::time::Duration;

/// Migrations of notifications.db, in order.
const MIGRATIONS: &[&str] = &[
    table::MIGRATIONS[0],
    table::MIGRATIONS[1],
    push::SUBSCRIPTIONS_MIGRATION,
    push::PRESENCE_MIGRATION,
    mutes::MIGRATION,
    push::SUBSCRIPTION_SESSIONS_MIGRATION,
    table::MIGRATIONS[2],
    table::MIGRATIONS[3],
];

#[derive(Clone)]
pub struct Store {
    pub db: Db,
    pub sessions: Sessions,
    pub origins: Origins,
    pub push: Arc<Push>,
}

impl FromRef<Store> for Sessions {
    fn from_ref(store: &Store) -> Self {
        store.sessions.clone()
    }
}

/// How long the store's consumer waits for more events to apply with one: nobody waits on a
/// notification within milliseconds (messages reach sockets through chat), and in a quiet
/// conversation this turns a transaction per message into one per few dozen.
const GATHER: Duration = Duration::from_millis(20);

/// Days a notification is kept by default.
const KEEP_DAYS: u64 = 90;

/// Opens notifications.db.
pub async fn open(runtime: &Runtime) -> anyhow::Result<Db> {
    let db = runtime.open_db("notifications", MIGRATIONS)?;
    // Notifications keep message previews: a deleted message's text is overwritten, not unlinked.
    db.write(|w| w.pragma_update(None, "secure_delete", "ON").map_err(DbError::from))
        .await?;
    Ok(db)
}

/// Starts the consumer and Web Push; returns the REST routes.
pub fn build(runtime: &Runtime, db: Db, sessions: Sessions, settings: &Settings) -> anyhow::Result<axum::Router> {
    let push = Push::start(runtime, db.clone(), sessions.clone(), settings)?;
    let keep_days = settings.notifications_keep_days.unwrap_or(KEEP_DAYS);
    if keep_days > 0 {
        let keep = Duration::from_secs(keep_days.saturating_mul(86_400));
        runtime
            .tasks
            .spawn(expiry::run(db.clone(), keep, runtime.shutdown.clone()));
    }
    runtime.bus.consume(
        Queue::shared(&NOTIFICATIONS, &db).gathering(GATHER),
        events::store_handler(db.clone(), push.clone()),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    let store = Store {
        db,
        sessions,
        origins: runtime.origins.clone(),
        push,
    };
    Ok(routes::router()
        .merge(mutes::router())
        .merge(push::routes::router())
        .with_state(store))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use gochat_kit::config::Synchronous;
    use gochat_kit::outbox::Outbox;
    use gochat_proto::ids::{ConversationId, NotificationId, UserId};

    fn open(dir: &std::path::Path, migrations: &[&'static str]) -> Db {
        Db::open(
            dir,
            "notifications",
            migrations,
            Synchronous::Normal,
            Outbox::default().sink(),
        )
        .unwrap()
    }

    /// A database written before mentions were told keeps its notifications, each a plain
    /// message (not a mention) without a group title.
    #[tokio::test]
    async fn notifications_from_before_mentions_are_plain_messages() {
        let dir = tempfile::tempdir().unwrap();
        let (bob, conversation) = (UserId::new(), ConversationId::new());
        let before = open(dir.path(), &MIGRATIONS[..MIGRATIONS.len() - 2]);
        before
            .write(move |w| {
                w.execute(
                    "INSERT INTO notifications
                         (id, user_id, conversation_id, seq, from_id, from_username, preview, created_at)
                     VALUES (?1, ?2, ?3, 1, ?4, 'ann', 'hi @bob', '2026-01-01T00:00:00Z')",
                    (
                        NotificationId::new().to_string(),
                        bob.to_string(),
                        conversation.to_string(),
                        UserId::new().to_string(),
                    ),
                )
                .map_err(DbError::from)
            })
            .await
            .unwrap();
        drop(before);

        let db = open(dir.path(), MIGRATIONS);
        let (listed, mentions, pushed) = db
            .read(move |c| {
                let since = chrono::DateTime::UNIX_EPOCH;
                Ok::<_, DbError>((
                    table::list(c, bob, false, 10, None)?,
                    table::open_mentions(c, bob)?,
                    table::unread_since(c, bob, since)?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!listed[0].mentioned);
        assert!(mentions.is_empty());
        assert_eq!(pushed, [(listed[0].clone(), None)]);
    }

    /// A database written before mentions followed the conversation's read: an unread mention
    /// stays open, one already read (dismissed or its conversation read, the database cannot
    /// tell) does not come back.
    #[tokio::test]
    async fn mentions_read_before_seen_was_kept_stay_ended() {
        let dir = tempfile::tempdir().unwrap();
        let (bob, conversation) = (UserId::new(), ConversationId::new());
        let (unread, read) = (NotificationId::new(), NotificationId::new());
        let before = open(dir.path(), &MIGRATIONS[..MIGRATIONS.len() - 1]);
        before
            .write(move |w| {
                for (id, seq, read_at) in [(read, 1, Some("2026-01-01T00:01:00Z")), (unread, 2, None)] {
                    w.execute(
                        "INSERT INTO notifications
                             (id, user_id, conversation_id, seq, from_id, from_username, preview, created_at, read_at, mentioned)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'ann', 'hi @bob', '2026-01-01T00:00:00Z', ?6, 1)",
                        (
                            id.to_string(),
                            bob.to_string(),
                            conversation.to_string(),
                            seq,
                            UserId::new().to_string(),
                            read_at,
                        ),
                    )?;
                }
                Ok::<_, DbError>(())
            })
            .await
            .unwrap();
        drop(before);

        let db = open(dir.path(), MIGRATIONS);
        let open_mentions = |db: Db| async move {
            db.read(move |c| {
                let open = table::open_mentions(c, bob)?;
                Ok::<_, DbError>(open.iter().map(|n| n.id).collect::<Vec<_>>())
            })
            .await
        };
        assert_eq!(open_mentions(db.clone()).await.unwrap(), [unread]);
        db.write(move |w| {
            table::read_up_to(w, bob, conversation, 2, chrono::Utc::now())?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        assert!(open_mentions(db.clone()).await.unwrap().is_empty());
    }
}
