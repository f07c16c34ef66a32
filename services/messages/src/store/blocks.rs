//! Who blocks whom. While A blocks B, B cannot message A in their direct conversation nor open
//! it again, nor put A in a group (create one with A, add A to one); groups they already share
//! are not affected.

use gochat_proto::Timestamp;
use gochat_proto::dto::UserRef;
use gochat_proto::ids::UserId;
use rusqlite::{Connection, params};

/// `blocker` blocks `blocked` (again: no change).
pub fn block(c: &Connection, blocker: UserId, blocked: UserId, at: Timestamp) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT OR IGNORE INTO blocks (blocker, blocked, at) VALUES (?1, ?2, ?3)")?
        .execute(params![blocker, blocked, at])?;
    Ok(())
}

pub fn unblock(c: &Connection, blocker: UserId, blocked: UserId) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM blocks WHERE blocker = ?1 AND blocked = ?2")?
        .execute(params![blocker, blocked])?;
    Ok(())
}

pub fn blocks(c: &Connection, blocker: UserId, blocked: UserId) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM blocks WHERE blocker = ?1 AND blocked = ?2")?
        .exists(params![blocker, blocked])
}

/// Whether any of `users` blocks `user`.
pub fn any_blocks(c: &Connection, users: &[UserId], user: UserId) -> rusqlite::Result<bool> {
    for &blocker in users {
        if blocks(c, blocker, user)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The users `blocker` blocks, by name.
pub fn blocked_by(c: &Connection, blocker: UserId) -> rusqlite::Result<Vec<UserRef>> {
    c.prepare_cached(
        "SELECT b.blocked, coalesce(u.username, '') AS username FROM blocks b LEFT JOIN users u ON u.id = b.blocked
         WHERE b.blocker = ?1 ORDER BY username, b.blocked",
    )?
    .query_map([blocker], |r| {
        Ok(UserRef {
            id: r.get("blocked")?,
            username: r.get("username")?,
        })
    })?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{test_db, users};

    #[test]
    fn blocking_is_one_way_and_idempotent() {
        let c = test_db();
        let (a, b) = (UserId::new(), UserId::new());
        users::registered(&c, b, "bob").unwrap();
        block(&c, a, b, chrono::Utc::now()).unwrap();
        block(&c, a, b, chrono::Utc::now()).unwrap();
        assert!(blocks(&c, a, b).unwrap());
        assert!(!blocks(&c, b, a).unwrap());
        assert_eq!(
            blocked_by(&c, a).unwrap(),
            [UserRef {
                id: b,
                username: "bob".into()
            }]
        );
        unblock(&c, a, b).unwrap();
        assert!(!blocks(&c, a, b).unwrap());
        assert!(blocked_by(&c, a).unwrap().is_empty());
    }
}
