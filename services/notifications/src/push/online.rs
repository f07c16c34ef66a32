//! Who is online, as the users service announces it (`presence.changed`): a user with an open
//! `/ws/notifications` socket on any gateway gets notifications there, not pushes.

use gochat_proto::Timestamp;
use gochat_proto::events::PresenceChanged;
use gochat_proto::ids::UserId;
use rusqlite::{Connection, OptionalExtension, params};

pub const MIGRATION: &str = "
CREATE TABLE presence (
    user_id TEXT PRIMARY KEY,
    online INTEGER NOT NULL,
    -- With online, orders one user's changes: going offline moves last_seen_at forward and
    -- going online keeps it, so (last_seen_at, online) only grows; an older change arriving
    -- late (a redelivery) is recognised and ignored.
    last_seen_at TEXT
) WITHOUT ROWID;
";

/// Applies a change unless a later one is already known; returns whether it was applied.
pub fn apply(c: &Connection, e: &PresenceChanged) -> rusqlite::Result<bool> {
    let known: Option<(bool, Option<Timestamp>)> = c
        .prepare_cached("SELECT online, last_seen_at FROM presence WHERE user_id = ?1")?
        .query_row([e.user_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((online, last_seen_at)) = known
        && (last_seen_at, online) >= (e.last_seen_at, e.online)
    {
        return Ok(false);
    }
    c.prepare_cached(
        "INSERT INTO presence (user_id, online, last_seen_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET online = excluded.online, last_seen_at = excluded.last_seen_at",
    )?
    .execute(params![e.user_id.to_string(), e.online, e.last_seen_at])?;
    Ok(true)
}

/// Whether the user holds a socket somewhere; a user never seen online is not.
pub fn is_online(c: &Connection, user: UserId) -> rusqlite::Result<bool> {
    Ok(c.prepare_cached("SELECT online FROM presence WHERE user_id = ?1")?
        .query_row([user.to_string()], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn change(user: UserId, online: bool, last_seen_secs: Option<i64>) -> PresenceChanged {
        PresenceChanged {
            user_id: user,
            username: "bob".into(),
            online,
            last_seen_at: last_seen_secs.map(|s| chrono::DateTime::from_timestamp(s, 0).unwrap()),
        }
    }

    #[test]
    fn a_late_older_change_does_not_undo_a_newer_one() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATION).unwrap();
        let bob = UserId::new();
        assert!(!is_online(&c, bob).unwrap());
        assert!(apply(&c, &change(bob, true, None)).unwrap());
        assert!(apply(&c, &change(bob, false, Some(100))).unwrap());
        assert!(apply(&c, &change(bob, true, Some(100))).unwrap());
        assert!(is_online(&c, bob).unwrap());
        // Redeliveries of the earlier changes.
        assert!(!apply(&c, &change(bob, false, Some(100))).unwrap());
        assert!(!apply(&c, &change(bob, true, None)).unwrap());
        assert!(is_online(&c, bob).unwrap());
        assert!(apply(&c, &change(bob, false, Some(200))).unwrap());
        assert!(!is_online(&c, bob).unwrap());
    }
}
