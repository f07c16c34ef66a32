//! The user directory. Plain synchronous functions, run on the database threads.

use gochat_proto::dto::UserSummary;
use gochat_proto::ids::UserId;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

pub const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    -- lower-cased: search and order ignore letter case
    username_key TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen_at TEXT
);
CREATE INDEX users_listing ON users (online DESC, username_key, id);
",
    crate::presence::MIGRATION,
    crate::presence::DROP_STORED_CLAIMS,
];

/// Where a page ends: the sort key of its last row. Opaque to clients (base64 JSON).
#[derive(Serialize, Deserialize)]
pub struct Cursor {
    online: bool,
    key: String,
    id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        gochat_kit::http::encode_cursor(self)
    }

    pub fn decode(s: &str) -> Option<Self> {
        gochat_kit::http::decode_cursor(s)
    }
}

pub fn insert(c: &Connection, id: UserId, username: &str, registered_at: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO users (id, username, username_key, registered_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO NOTHING",
        params![id.to_string(), username, username.to_lowercase(), registered_at],
    )?;
    Ok(())
}

pub fn set_presence(
    c: &Connection,
    id: UserId,
    online: bool,
    last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE users SET online = ?2, last_seen_at = coalesce(?3, last_seen_at) WHERE id = ?1",
        params![id.to_string(), online, last_seen_at],
    )?;
    Ok(())
}

/// The users stored as online.
pub fn online_users(c: &Connection) -> rusqlite::Result<std::collections::BTreeSet<UserId>> {
    c.prepare_cached("SELECT id FROM users WHERE online = 1")?
        .query_map([], |r| r.get::<_, String>(0))?
        .map(|id| {
            id?.parse()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
        })
        .collect()
}

pub fn last_seen(c: &Connection, id: UserId) -> rusqlite::Result<Option<chrono::DateTime<chrono::Utc>>> {
    c.query_row("SELECT last_seen_at FROM users WHERE id = ?1", [id.to_string()], |r| {
        r.get(0)
    })
}

/// One page of users whose name starts with `prefix`: online first, then by name. Returns the
/// page and the cursor of the next one.
pub fn page(
    c: &Connection,
    prefix: &str,
    limit: u32,
    after: Option<&Cursor>,
) -> rusqlite::Result<(Vec<UserSummary>, Option<Cursor>)> {
    let prefix = prefix.to_lowercase();
    // Usernames are ASCII from [a-z0-9_.-]; '~' sorts after all of them, closing the range.
    let prefix_end = format!("{prefix}~");
    let (online, key, id) = match after {
        Some(c) => (i64::from(c.online), c.key.as_str(), c.id.as_str()),
        None => (2, "", ""),
    };
    // The limit is written in: SQLite prepares a statement again whenever a bound LIMIT changes.
    let rows = u64::from(limit) + 1;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT id, username, online, last_seen_at, username_key FROM users
         WHERE username_key >= ?1 AND username_key < ?2
           AND (online < ?3 OR (online = ?3 AND (username_key, id) > (?4, ?5)))
         ORDER BY online DESC, username_key, id
         LIMIT {rows}"
    ))?;
    let mut rows = stmt
        .query_map(params![prefix, prefix_end, online, key, id], |r| {
            Ok((
                summary(r)?,
                Cursor {
                    online: r.get(2)?,
                    key: r.get(4)?,
                    id: r.get(0)?,
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|(_, cursor)| Cursor {
            online: cursor.online,
            key: cursor.key.clone(),
            id: cursor.id.clone(),
        })
    } else {
        None
    };
    Ok((rows.into_iter().map(|(summary, _)| summary).collect(), next))
}

/// The users of `ids` the directory has, in the order asked; unknown ids are left out.
pub fn by_ids(c: &Connection, ids: &[UserId]) -> rusqlite::Result<Vec<UserSummary>> {
    let mut stmt = c.prepare_cached("SELECT id, username, online, last_seen_at FROM users WHERE id = ?1")?;
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(user) = stmt.query_row([id.to_string()], summary).optional()? {
            users.push(user);
        }
    }
    Ok(users)
}

/// A row whose first four columns are id, username, online, last_seen_at.
fn summary(r: &rusqlite::Row) -> rusqlite::Result<UserSummary> {
    let id: String = r.get(0)?;
    Ok(UserSummary {
        id: id
            .parse()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))?,
        username: r.get(1)?,
        online: r.get(2)?,
        last_seen_at: r.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c
    }

    #[test]
    fn pages_cover_every_user_once_in_order_and_prefix_filters() {
        let c = db();
        let names = ["bob", "Alice", "alina", "carol", "al", "dave"];
        for n in names {
            insert(&c, UserId::new(), n, "2026-01-01T00:00:00Z").unwrap();
        }
        c.execute("UPDATE users SET online = 1 WHERE username = 'dave'", [])
            .unwrap();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = page(&c, "", 2, cursor.as_ref()).unwrap();
            seen.extend(page.into_iter().map(|u| u.username));
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ["dave", "al", "Alice", "alina", "bob", "carol"]);
        let (page, next) = page(&c, "AL", 10, None).unwrap();
        assert_eq!(
            page.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
            ["al", "Alice", "alina"]
        );
        assert!(next.is_none());
    }
}
