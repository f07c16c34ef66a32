//! Removes notifications past their time (`GOCHAT_NOTIFICATIONS_KEEP_DAYS`, read or not), so
//! that notifications.db stops growing with every message ever sent: each message leaves one row
//! per recipient, with its preview, under several indexes (at a million messages the file was larger
//! than the messages' own). The bell lists recent activity; the messages stay in their history.
//!
//! Runs at start and every hour, a batch per write so that the writer is never held long. Open
//! tabs hear a removed unread notification as read (`notifications.read`, published by the
//! write that removes it, as for a deleted message's), so that it leaves their count at once.

use super::table;
use gochat_kit::db::{Db, DbError};
use gochat_proto::events::NotificationsRead;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Notifications removed per write.
const BATCH: u32 = 500;
/// How often the old ones are looked for.
const EVERY: Duration = Duration::from_secs(3600);

pub async fn run(db: Db, keep: Duration, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        let before = chrono::Utc::now().timestamp_millis().saturating_sub(keep_ms);
        if let Err(e) = remove_before(&db, before, &shutdown).await {
            tracing::warn!(error = %e, "removing old notifications failed; trying again later");
        }
    }
}

/// Removes every notification created before `before` (unix milliseconds), and tells their
/// users' tabs of the unread ones.
async fn remove_before(db: &Db, before: i64, shutdown: &CancellationToken) -> Result<(), DbError> {
    let mut removed = 0;
    while !shutdown.is_cancelled() {
        let batch = db
            .write(move |w| {
                let (batch, unread) = table::remove_older_than(w, before, BATCH)?;
                for (user_id, ids) in unread {
                    w.publish(&NotificationsRead { user_id, ids })?;
                }
                Ok::<_, DbError>(batch)
            })
            .await?;
        removed += batch;
        if batch < BATCH as usize {
            break;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "removed notifications past their time");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use gochat_kit::config::Synchronous;
    use gochat_kit::outbox::Outbox;
    use gochat_proto::dto::{Notification, NotificationKind, UserRef};
    use gochat_proto::events::{Envelope, Event};
    use gochat_proto::ids::{ConversationId, NotificationId, UserId};

    /// What the write published, in order.
    async fn published(db: &Db) -> Vec<Event> {
        let payloads = db
            .read(|c| {
                let mut stmt = c.prepare("SELECT payload FROM outbox ORDER BY id")?;
                let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
                Ok::<_, DbError>(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
            .unwrap();
        payloads
            .iter()
            .map(|p| serde_json::from_slice::<Envelope>(p).unwrap().event().unwrap())
            .collect()
    }

    /// The write that removes a user's unread notifications tells their tabs (the transactional
    /// outbox), as reading them would; read ones go without a word.
    #[tokio::test]
    async fn removed_unread_notifications_are_told_read_by_the_write_that_removes_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            dir.path(),
            "notifications",
            super::super::MIGRATIONS,
            Synchronous::Normal,
            Outbox::default().sink(),
        )
        .unwrap();
        let (bob, conversation) = (UserId::new(), ConversationId::new());
        let old = chrono::Utc::now() - chrono::Duration::days(100);
        // UUIDv7s of a hundred days ago: the id says when a notification was made.
        let ms = old.timestamp_millis();
        let made_then = |seq: i64| -> NotificationId {
            format!("{:08x}-{:04x}-7000-8000-{seq:012x}", ms >> 16, ms & 0xffff)
                .parse()
                .unwrap()
        };
        let (read, unread) = (made_then(1), made_then(2));
        db.write(move |w| {
            for (seq, id) in [(1, read), (2, unread)] {
                let n = Notification {
                    id,
                    kind: NotificationKind::Message,
                    conversation_id: conversation,
                    seq,
                    from: UserRef {
                        id: UserId::new(),
                        username: "ann".into(),
                    },
                    preview: "hi".into(),
                    created_at: old,
                    read_at: None,
                    mentioned: false,
                };
                table::insert(w, bob, &n, None)?;
            }
            table::read_up_to(w, bob, conversation, 1, chrono::Utc::now())?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        assert!(published(&db).await.is_empty());

        let before = (chrono::Utc::now() - chrono::Duration::days(90)).timestamp_millis();
        remove_before(&db, before, &CancellationToken::new()).await.unwrap();
        let told = NotificationsRead {
            user_id: bob,
            ids: vec![unread],
        };
        assert_eq!(published(&db).await, [Event::NotificationsRead(told)]);
    }
}
