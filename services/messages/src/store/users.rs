//! The replica of the user directory: who exists, their name and presence.

use gochat_proto::dto::{UserRef, UserSummary};
use gochat_proto::events::PresenceChanged;
use gochat_proto::ids::UserId;
use rusqlite::{Connection, OptionalExtension, params};

/// `user.registered`: a new user (or the real name of one first seen as a message sender).
pub fn registered(c: &Connection, id: UserId, username: &str) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO users (id, username) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username",
    )?
    .execute(params![id, username])?;
    Ok(())
}

/// `presence.changed`: the user's aggregated presence (it carries the name too, so it also
/// creates a user whose registration has not arrived yet).
pub fn presence(c: &Connection, e: &PresenceChanged) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO users (id, username, online, last_seen_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET
             username = excluded.username, online = excluded.online, last_seen_at = excluded.last_seen_at",
    )?
    .execute(params![e.user_id, e.username, e.online, e.last_seen_at])?;
    Ok(())
}

/// Records a user known from a verified token (a sender, a caller) unless already known.
/// `username` may be empty when unknown; `user.registered` fills it in.
pub fn ensure(c: &Connection, id: UserId, username: &str) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT OR IGNORE INTO users (id, username) VALUES (?1, ?2)")?
        .execute(params![id, username])?;
    Ok(())
}

pub fn find(c: &Connection, id: UserId) -> rusqlite::Result<Option<UserSummary>> {
    c.prepare_cached("SELECT username, online, last_seen_at FROM users WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(UserSummary {
                id,
                username: r.get("username")?,
                online: r.get("online")?,
                last_seen_at: r.get("last_seen_at")?,
            })
        })
        .optional()
}

/// The user's name and id; an unknown user gets an empty name rather than an error.
pub fn user_ref(c: &Connection, id: UserId) -> rusqlite::Result<UserRef> {
    let username = find(c, id)?.map(|u| u.username).unwrap_or_default();
    Ok(UserRef { id, username })
}

/// Which of `ids` are unknown.
pub fn unknown(c: &Connection, ids: &[UserId]) -> rusqlite::Result<Vec<UserId>> {
    let mut stmt = c.prepare_cached("SELECT 1 FROM users WHERE id = ?1")?;
    let mut missing = Vec::new();
    for id in ids {
        if !stmt.exists([id])? {
            missing.push(*id);
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_db;

    #[test]
    fn placeholder_is_named_by_registration_and_presence_updates_it() {
        let c = test_db();
        let id = UserId::new();
        ensure(&c, id, "").unwrap();
        ensure(&c, id, "ignored").unwrap();
        assert_eq!(find(&c, id).unwrap().unwrap().username, "");
        registered(&c, id, "alice").unwrap();
        assert_eq!(user_ref(&c, id).unwrap().username, "alice");
        let seen = chrono::Utc::now();
        presence(
            &c,
            &PresenceChanged {
                user_id: id,
                username: "alice".into(),
                online: false,
                last_seen_at: Some(seen),
            },
        )
        .unwrap();
        let user = find(&c, id).unwrap().unwrap();
        assert!(!user.online);
        assert_eq!(user.last_seen_at, Some(seen));
        assert!(find(&c, UserId::new()).unwrap().is_none());
    }
}
