//! Removes notifications past their time (`GOCHAT_NOTIFICATIONS_KEEP_DAYS`, read or not), so
//! that notifications.db stops growing with every message ever sent: each message leaves one row
//! per recipient, with its preview, under several indexes (at a million messages the file was larger
//! than the messages' own). The bell lists recent activity; the messages stay in their history.
//!
//! Runs at start and every hour, a batch per write so that the writer is never held long. Tabs
//! are not told: a removed unread notification leaves their count at the next page.

use super::table;
use gochat_kit::db::{Db, DbError};
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

/// Removes every notification created before `before` (unix milliseconds).
async fn remove_before(db: &Db, before: i64, shutdown: &CancellationToken) -> Result<(), DbError> {
    let mut removed = 0;
    while !shutdown.is_cancelled() {
        let batch = db
            .write(move |w| table::remove_older_than(w, before, BATCH).map_err(DbError::from))
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
