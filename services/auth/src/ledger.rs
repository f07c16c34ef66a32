//! The session ledger: every sign-out and every change of an account's access, numbered, so that
//! each service instance's replica (`gochat_kit::auth`) can tell that it missed something and ask
//! for it.
//!
//! - Writers append in the transaction of the change and publish the event with its `seq`.
//! - Every [`HEAD_EVERY`] the head (`epoch`, last `seq`) is announced (`sessions.head`).
//! - A replica that is behind asks (`sessions.replay_requested`); the answer
//!   (`sessions.replayed`) holds what still matters after its cursor: revocations of sessions
//!   that have not expired, and each account's latest access.
//!
//! Both announcements are ephemeral: a lost one is made good by the next head.

use gochat_kit::Runtime;
use gochat_kit::bus::{Bus, Queue, handler};
use gochat_kit::db::{Db, DbError};
use gochat_proto::admin::{AccountAccess, LedgerChange, LedgerEntry, SessionsHead, SessionsReplayed};
use gochat_proto::events::Event;
use gochat_proto::ids::UserId;
use gochat_proto::topology::LEDGER_REQUESTS;
use rusqlite::{Connection, Row, params};
use std::time::Duration;

/// How often the head is announced: the longest a reconnected instance goes unaware of
/// what it missed.
pub const HEAD_EVERY: Duration = Duration::from_secs(2);
/// Most entries in one answer; a replica far behind asks again for the rest.
const REPLAY_BATCH: u32 = 500;

/// Appends a revocation; returns its `seq`.
pub fn revoked(c: &Connection, user: UserId, jti: &str, expires_at: i64) -> rusqlite::Result<i64> {
    c.execute(
        "DELETE FROM ledger WHERE jti IS NOT NULL AND expires_at < unixepoch() - 60",
        [],
    )?;
    c.execute(
        "INSERT INTO ledger (user_id, jti, expires_at) VALUES (?1, ?2, ?3)",
        params![user.to_string(), jti, expires_at],
    )?;
    Ok(c.last_insert_rowid())
}

/// Appends an account's new access (its earlier ones no longer matter); returns its `seq`.
pub fn access(c: &Connection, access: &AccountAccess) -> rusqlite::Result<i64> {
    let user = access.user_id.to_string();
    c.execute("DELETE FROM ledger WHERE jti IS NULL AND user_id = ?1", [&user])?;
    c.execute(
        "INSERT INTO ledger (user_id, disabled, sessions_before) VALUES (?1, ?2, ?3)",
        params![user, access.disabled, access.sessions_before.timestamp()],
    )?;
    Ok(c.last_insert_rowid())
}

/// The ledger's name and last `seq` (of all time, not of what is left after pruning).
pub fn head(c: &Connection) -> rusqlite::Result<SessionsHead> {
    let epoch = c.query_row("SELECT value FROM settings WHERE key = 'ledger_epoch'", [], |r| {
        r.get(0)
    })?;
    let seq = c.query_row(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'ledger'), 0)",
        [],
        |r| r.get(0),
    )?;
    Ok(SessionsHead { epoch, seq })
}

/// What still matters after `after`, up to [`REPLAY_BATCH`] entries.
pub fn replay(c: &Connection, after: i64) -> rusqlite::Result<SessionsReplayed> {
    let head = head(c)?;
    let entries: Vec<LedgerEntry> = c
        .prepare_cached(&format!(
            "SELECT seq, user_id, jti, expires_at, disabled, sessions_before FROM ledger
             WHERE seq > ?1 AND (jti IS NULL OR expires_at > unixepoch())
             ORDER BY seq LIMIT {REPLAY_BATCH}"
        ))?
        .query_map([after], entry)?
        .collect::<Result<_, _>>()?;
    // A full batch ends where it ends; a short one covers everything up to the head.
    let through = match entries.last() {
        Some(last) if entries.len() == REPLAY_BATCH as usize => last.seq,
        _ => head.seq,
    };
    Ok(SessionsReplayed {
        epoch: head.epoch,
        after,
        through,
        entries,
    })
}

fn entry(r: &Row<'_>) -> rusqlite::Result<LedgerEntry> {
    let user_id: String = r.get("user_id")?;
    let user_id: UserId = user_id
        .parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?;
    let time = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    let change = match r.get::<_, Option<String>>("jti")? {
        Some(jti) => LedgerChange::Revoked {
            user_id,
            jti,
            expires_at: time(r.get("expires_at")?),
        },
        None => LedgerChange::Access(AccountAccess {
            user_id,
            disabled: r.get("disabled")?,
            sessions_before: time(r.get("sessions_before")?),
        }),
    };
    Ok(LedgerEntry {
        seq: r.get("seq")?,
        change,
    })
}

/// Announces the head and answers replay requests until the runtime stops.
pub fn serve(runtime: &Runtime, db: &Db) {
    let (bus, answering) = (runtime.bus.clone(), db.clone());
    runtime.bus.consume(
        Queue::fanout("auth", &runtime.instance, "ledger", LEDGER_REQUESTS),
        handler(move |envelope| {
            let (bus, db) = (bus.clone(), answering.clone());
            async move {
                if let Event::SessionsReplayRequested(request) = envelope.event()? {
                    let answer = db
                        .read(move |c| replay(c, request.after).map_err(DbError::from))
                        .await?;
                    // A request about another ledger goes unanswered: the next head tells the
                    // replica to follow this one.
                    if answer.epoch == request.epoch {
                        bus.publish_ephemeral(&answer).await;
                    }
                }
                Ok(())
            }
        }),
        &runtime.tasks,
        runtime.shutdown.clone(),
    );
    runtime
        .tasks
        .spawn(announce(db.clone(), runtime.bus.clone(), runtime.shutdown.clone()));
}

async fn announce(db: Db, bus: Bus, shutdown: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(HEAD_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        match db.read(|c| head(c).map_err(DbError::from)).await {
            Ok(head) => bus.publish_ephemeral(&head).await,
            Err(e) => tracing::warn!(error = %e, "cannot read the session ledger's head"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        let steps = crate::store::MIGRATIONS
            .iter()
            .map(|m| rusqlite_migration::M::up(m))
            .collect();
        rusqlite_migration::Migrations::new(steps).to_latest(&mut c).unwrap();
        c
    }

    fn later(secs: i64) -> i64 {
        chrono::Utc::now().timestamp() + secs
    }

    #[test]
    fn replay_leaves_out_expired_sessions_and_superseded_access() {
        let c = db();
        let (ann, bob) = (UserId::new(), UserId::new());
        let now = chrono::Utc::now();
        let disabled = AccountAccess {
            user_id: ann,
            disabled: true,
            sessions_before: now,
        };
        assert_eq!(revoked(&c, bob, "live", later(3600)).unwrap(), 1);
        assert_eq!(access(&c, &disabled).unwrap(), 2);
        assert_eq!(revoked(&c, bob, "expired", later(-10)).unwrap(), 3);
        let enabled = AccountAccess {
            disabled: false,
            ..disabled
        };
        assert_eq!(access(&c, &enabled).unwrap(), 4);

        let all = replay(&c, 0).unwrap();
        assert_eq!((all.after, all.through), (0, 4));
        let seqs: Vec<i64> = all.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 4]);
        assert!(matches!(&all.entries[1].change, LedgerChange::Access(a) if !a.disabled && a.user_id == ann));

        let tail = replay(&c, 1).unwrap();
        assert_eq!(tail.entries.len(), 1);
        assert_eq!(tail.through, 4);
        assert_eq!(head(&c).unwrap().seq, 4);
        assert_eq!(head(&c).unwrap().epoch.len(), 32);
    }

    #[test]
    fn the_head_never_goes_back_when_entries_are_pruned() {
        let c = db();
        let user = UserId::new();
        revoked(&c, user, "a", later(-3600)).unwrap();
        revoked(&c, user, "b", later(-3600)).unwrap();
        // Appending prunes what expired; the head stays at the last number handed out.
        revoked(&c, user, "c", later(3600)).unwrap();
        assert_eq!(head(&c).unwrap().seq, 3);
        assert_eq!(replay(&c, 0).unwrap().entries.len(), 1);
    }

    #[test]
    fn a_long_ledger_comes_in_batches() {
        let c = db();
        let user = UserId::new();
        for i in 0..(REPLAY_BATCH + 3) {
            revoked(&c, user, &format!("j{i}"), later(3600)).unwrap();
        }
        let first = replay(&c, 0).unwrap();
        assert_eq!(first.entries.len(), REPLAY_BATCH as usize);
        assert_eq!(first.through, i64::from(REPLAY_BATCH));
        let rest = replay(&c, first.through).unwrap();
        assert_eq!(rest.entries.len(), 3);
        assert_eq!(rest.through, i64::from(REPLAY_BATCH) + 3);
    }
}
