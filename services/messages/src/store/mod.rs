//! The tables of the messages service and their queries. Plain synchronous functions, run on the
//! database threads (the writer for changes, a reader for pages and lists), so each one is tested
//! on an in-memory database.
//!
//! - [`users`]: the replica of the user directory (names and presence), built from events.
//! - [`conversations`]: direct conversations, their members and the members' watermarks.
//! - [`messages`]: the messages of a conversation, numbered by `seq`, and pages of them.

pub mod conversations;
pub mod messages;
pub mod users;

use rusqlite::Row;
use std::str::FromStr;

pub const MIGRATIONS: &[&str] = &["
-- The users this service knows, from user.registered and presence.changed: peers of the
-- conversation list, and the recipients a message may be sent to.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen_at TEXT
) WITHOUT ROWID;

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    -- the two members in ascending order, unique: one direct conversation per pair of users
    member_lo TEXT NOT NULL,
    member_hi TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- seq of the newest message, 0 when there is none; the next message gets last_seq + 1
    last_seq INTEGER NOT NULL DEFAULT 0,
    -- time of the newest message, else of creation (unix microseconds): orders the list
    activity_us INTEGER NOT NULL,
    UNIQUE (member_lo, member_hi)
) WITHOUT ROWID;

-- Watermarks: every seq up to delivered_seq reached one of the member's tabs, every seq up to
-- read_seq was shown. Never above last_seq, never lowered, read_seq <= delivered_seq.
CREATE TABLE members (
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    delivered_seq INTEGER NOT NULL DEFAULT 0,
    read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
) WITHOUT ROWID;
CREATE INDEX members_of_conversation ON members (conversation_id);

CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    sender_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
-- A resent (sender, clientId) never makes a second message.
CREATE UNIQUE INDEX messages_dedupe ON messages (sender_id, client_id);
"];

/// Reads an id column (UUID text) into its typed id.
fn id<T>(row: &Row<'_>, index: usize) -> rusqlite::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    row.get_ref(index)?
        .as_str()?
        .parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e)))
}

#[cfg(test)]
pub(crate) fn test_db() -> rusqlite::Connection {
    let c = rusqlite::Connection::open_in_memory().expect("an in-memory database opens");
    c.pragma_update(None, "foreign_keys", "ON")
        .expect("foreign keys can be enabled");
    c.execute_batch(MIGRATIONS[0]).expect("the migrations apply");
    c
}
