//! Removes what nobody needs any more: uploads never sent within `unsent_for` (rows, then
//! files), and the files of deleted messages' attachments once no row names them.
//!
//! Runs every `unsent_for / 24` (an hour by default; at least every second, at most every
//! hour), and whenever a deleted message had attachments. A file is removed only after the
//! removal of its last row committed (it is read from `attachment_garbage` on a reader, which
//! sees committed data only), and on the writer, so an upload of the same bytes, which places
//! its file on the writer too, either comes first and keeps the file or comes after and puts
//! it back.

use super::Attachments;
use crate::store::attachments;
use gochat_kit::db::{Db, DbError};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Rows or files removed per write, so the writer is never held long.
const BATCH: u32 = 200;

pub async fn run(db: Db, attachments: Arc<Attachments>, shutdown: CancellationToken) {
    let period = (attachments.unsent_for / 24).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = attachments.sweep.notified() => {}
            () = shutdown.cancelled() => return,
        }
        if let Err(e) = sweep(&db, &attachments).await {
            tracing::warn!(error = %e, "removing old attachments failed; trying again later");
        }
    }
}

/// One pass: unsent uploads past their time, then unnamed files.
pub async fn sweep(db: &Db, attachments: &Attachments) -> Result<(), DbError> {
    let unsent_for = i64::try_from(attachments.unsent_for.as_secs()).unwrap_or(i64::MAX);
    let before = chrono::Utc::now().timestamp().saturating_sub(unsent_for);
    loop {
        let removed = db
            .write(move |w| attachments::remove_unsent_before(w, before, BATCH).map_err(DbError::from))
            .await?;
        if removed > 0 {
            tracing::info!(removed, "removed uploads that were never sent");
        }
        if removed < BATCH as usize {
            break;
        }
    }
    loop {
        let garbage = db
            .read(|c| attachments::garbage(c, BATCH).map_err(DbError::from))
            .await?;
        if garbage.is_empty() {
            return Ok(());
        }
        let files = attachments.files.clone();
        db.write(move |w| -> Result<(), DbError> {
            for sha256 in &garbage {
                if attachments::collect_garbage(w, sha256)?
                    && let Err(e) = files.remove(sha256)
                {
                    tracing::warn!(error = %e, sha256, "an attachment's file could not be removed");
                }
            }
            Ok(())
        })
        .await?;
    }
}
