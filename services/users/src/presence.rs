//! Presence: a user is online while some notifications instance holds a socket of theirs.
//!
//! Instances claim users (`user.online`), release them (`user.offline`) and beat
//! (`presence.heartbeat`, listing the users they hold, so a lost claim heals at the next beat).
//! An instance whose beats stop is presumed dead and its claims are dropped by the sweeper, so
//! a crashed node does not leave its users online forever. Every transition of a user between
//! online and offline is written (last seen on going offline, not on every beat) and announced
//! as `presence.changed` through the outbox.

use crate::directory;
use gochat_kit::db::Write;
use gochat_proto::events::PresenceChanged;
use gochat_proto::ids::UserId;
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeSet;

pub const MIGRATION: &str = "
CREATE TABLE presence_claims (
    user_id TEXT NOT NULL,
    instance TEXT NOT NULL,
    PRIMARY KEY (user_id, instance)
) WITHOUT ROWID;
CREATE INDEX presence_claims_by_instance ON presence_claims (instance);
CREATE TABLE presence_instances (
    instance TEXT PRIMARY KEY,
    -- unix milliseconds of the last heartbeat or claim
    last_beat INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Applies a claim; returns whether any user's presence changed.
pub fn claim(w: &mut Write<'_>, user: UserId, instance: &str, now_ms: i64) -> rusqlite::Result<bool> {
    touch(w, instance, now_ms)?;
    w.execute(
        "INSERT OR IGNORE INTO presence_claims (user_id, instance) VALUES (?1, ?2)",
        params![user.to_string(), instance],
    )?;
    settle(w, [user])
}

pub fn release(w: &mut Write<'_>, user: UserId, instance: &str) -> rusqlite::Result<bool> {
    w.execute(
        "DELETE FROM presence_claims WHERE user_id = ?1 AND instance = ?2",
        params![user.to_string(), instance],
    )?;
    settle(w, [user])
}

/// An instance is alive and holds exactly `users`.
pub fn heartbeat(w: &mut Write<'_>, instance: &str, users: &[UserId], now_ms: i64) -> rusqlite::Result<bool> {
    touch(w, instance, now_ms)?;
    let held: BTreeSet<UserId> = users.iter().copied().collect();
    let claimed = claims_of(w, instance)?;
    for user in held.difference(&claimed) {
        w.execute(
            "INSERT OR IGNORE INTO presence_claims (user_id, instance) VALUES (?1, ?2)",
            params![user.to_string(), instance],
        )?;
    }
    for user in claimed.difference(&held) {
        w.execute(
            "DELETE FROM presence_claims WHERE user_id = ?1 AND instance = ?2",
            params![user.to_string(), instance],
        )?;
    }
    settle(w, held.symmetric_difference(&claimed).copied().collect::<Vec<_>>())
}

/// Drops the claims of instances silent since `cutoff_ms`; returns whether presence changed.
pub fn sweep(w: &mut Write<'_>, cutoff_ms: i64) -> rusqlite::Result<bool> {
    let silent: Vec<String> = w
        .prepare_cached("SELECT instance FROM presence_instances WHERE last_beat < ?1")?
        .query_map([cutoff_ms], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut affected = Vec::new();
    for instance in silent {
        tracing::warn!(instance, "presence instance stopped beating; its users go offline");
        affected.extend(claims_of(w, &instance)?);
        w.execute("DELETE FROM presence_claims WHERE instance = ?1", [&instance])?;
        w.execute("DELETE FROM presence_instances WHERE instance = ?1", [&instance])?;
    }
    settle(w, affected)
}

fn touch(w: &Write<'_>, instance: &str, now_ms: i64) -> rusqlite::Result<()> {
    w.execute(
        "INSERT INTO presence_instances (instance, last_beat) VALUES (?1, ?2)
         ON CONFLICT (instance) DO UPDATE SET last_beat = excluded.last_beat",
        params![instance, now_ms],
    )?;
    Ok(())
}

fn claims_of(w: &Write<'_>, instance: &str) -> rusqlite::Result<BTreeSet<UserId>> {
    w.prepare_cached("SELECT user_id FROM presence_claims WHERE instance = ?1")?
        .query_map([instance], |r| r.get::<_, String>(0))?
        .map(|id| Ok(id?.parse().ok()))
        .filter_map(|id: rusqlite::Result<Option<UserId>>| id.transpose())
        .collect()
}

/// Brings each user's `online` in line with their claims; announces every transition.
pub fn settle(w: &mut Write<'_>, users: impl IntoIterator<Item = UserId>) -> rusqlite::Result<bool> {
    let mut changed = false;
    for user in users {
        let id = user.to_string();
        let current: Option<(bool, String)> = w
            .prepare_cached("SELECT online, username FROM users WHERE id = ?1")?
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // A claim may arrive before the user's registration; the directory row comes later.
        let Some((was_online, username)) = current else {
            continue;
        };
        let online: bool = w.query_row(
            "SELECT EXISTS(SELECT 1 FROM presence_claims WHERE user_id = ?1)",
            [&id],
            |r| r.get(0),
        )?;
        if online == was_online {
            continue;
        }
        let last_seen_at = (!online).then(chrono::Utc::now);
        directory::set_presence(w, user, online, last_seen_at)?;
        let last_seen_at = directory::last_seen(w, user)?;
        w.publish(&PresenceChanged {
            user_id: user,
            username,
            online,
            last_seen_at,
        })?;
        changed = true;
    }
    Ok(changed)
}
