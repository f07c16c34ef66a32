//! The tables of the messages service and their queries. Plain synchronous functions, run on the
//! database threads (the writer for changes, a reader for pages and lists), so each one is tested
//! on an in-memory database.
//!
//! - [`users`]: the replica of the user directory (names and presence), built from events.
//! - [`conversations`]: direct and group conversations, their members, roles and watermarks.
//! - [`messages`]: the messages of a conversation, numbered by `seq`, their edits, deletions and
//!   reactions, and pages of them.
//! - [`search`]: the full-text index of message bodies (a database of its own) and what waits
//!   for it.
//! - [`blocks`]: who blocks whom.
//! - [`attachments`]: uploaded files, sent with a message or waiting to be.
//! - [`timeline`]: what happened to a group besides its messages.
//! - [`mentions`]: whom a message names as `@username`.

pub mod attachments;
pub mod blocks;
pub mod conversations;
pub mod mentions;
pub mod messages;
pub mod search;
pub mod timeline;
pub mod users;

pub const MIGRATIONS: &[&str] = &[
    // 1: direct conversations (v1).
    "
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen_at TEXT
) WITHOUT ROWID;
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    member_lo TEXT NOT NULL,
    member_hi TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    activity_us INTEGER NOT NULL,
    UNIQUE (member_lo, member_hi)
) WITHOUT ROWID;
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
CREATE UNIQUE INDEX messages_dedupe ON messages (sender_id, client_id);
",
    // 2: groups, roles, replies, edits, deletions, reactions, the change counter, search and
    // blocks. Tables are rebuilt (SQLite cannot drop a NOT NULL), keeping every row.
    "
-- users (unchanged): the users this service knows, from user.registered and presence.changed:
-- peers of the conversation list, members that may be added, recipients of a first message.

CREATE TABLE conversations_v2 (
    id TEXT PRIMARY KEY,
    -- a small number naming the conversation in the search index (its token is 'c<num>')
    num INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    -- groups only
    title TEXT,
    -- direct only: the two members in ascending order, unique: one direct conversation per pair
    member_lo TEXT,
    member_hi TEXT,
    created_at TEXT NOT NULL,
    -- seq of the newest message, 0 when there is none; the next message gets last_seq + 1
    last_seq INTEGER NOT NULL DEFAULT 0,
    -- bumped by every edit, deletion and reaction change; a message records the value it got
    last_change INTEGER NOT NULL DEFAULT 0,
    -- time of the newest message, else of creation (unix microseconds): orders the list
    activity_us INTEGER NOT NULL,
    UNIQUE (member_lo, member_hi)
) WITHOUT ROWID;
INSERT INTO conversations_v2 (id, num, kind, member_lo, member_hi, created_at, last_seq, activity_us)
    SELECT id, row_number() OVER (ORDER BY activity_us, id), 'direct', member_lo, member_hi, created_at,
           last_seq, activity_us
    FROM conversations;

-- Members and their watermarks: every seq up to delivered_seq reached one of the member's tabs,
-- every seq up to read_seq was shown. Never above last_seq, never lowered,
-- read_seq <= delivered_seq. A member who leaves loses the row (and sees nothing any more).
CREATE TABLE members_v2 (
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    -- a group has one owner (who adds and removes members); direct members are all 'member'
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
    joined_us INTEGER NOT NULL DEFAULT 0,
    delivered_seq INTEGER NOT NULL DEFAULT 0,
    read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
) WITHOUT ROWID;
INSERT INTO members_v2 (user_id, conversation_id, delivered_seq, read_seq)
    SELECT user_id, conversation_id, delivered_seq, read_seq FROM members;

-- A deleted message keeps its row and seq; its body becomes '' and its reactions and
-- attachments go, so its text is gone from the database, not hidden.
CREATE TABLE messages_v2 (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    -- the message's number in this database, in the order messages were stored: the search
    -- index's rowid, so search results come newest first by it
    num INTEGER NOT NULL UNIQUE,
    id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    reply_to_seq INTEGER,
    edited_at TEXT,
    deleted_at TEXT,
    -- JSON [{emoji, userIds}] in the order each emoji was first used; NULL when there is none
    reactions TEXT,
    -- JSON [Attachment]; NULL when there is none
    attachments TEXT,
    -- the conversation's last_change when this message last changed; 0 if it never did
    change INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
INSERT INTO messages_v2 (conversation_id, seq, num, id, sender_id, client_id, body, sent_at)
    SELECT conversation_id, seq, row_number() OVER (ORDER BY sent_at, conversation_id, seq), id, sender_id,
           client_id, body, sent_at
    FROM messages;

DROP TABLE messages;
DROP TABLE members;
DROP TABLE conversations;
ALTER TABLE conversations_v2 RENAME TO conversations;
ALTER TABLE members_v2 RENAME TO members;
ALTER TABLE messages_v2 RENAME TO messages;
CREATE INDEX members_of_conversation ON members (conversation_id);
-- A resent (sender, clientId) never makes a second message.
CREATE UNIQUE INDEX messages_dedupe ON messages (sender_id, client_id);
-- What changed in a conversation since a given change (catch-up).
CREATE INDEX messages_changed ON messages (conversation_id, change) WHERE change > 0;

-- Bodies of messages that are not deleted, for search. Contentless: the text is stored once (in
-- messages) and a deleted message's entry is removed from the index.
CREATE VIRTUAL TABLE message_search USING fts5(
    conv, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO message_search (rowid, conv, body)
    SELECT m.num, 'c' || c.num, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id;

-- blocker blocks blocked: blocked cannot message blocker in their direct conversation.
CREATE TABLE blocks (
    blocker TEXT NOT NULL,
    blocked TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (blocker, blocked)
) WITHOUT ROWID;
",
    // 3: the search index holds folded bodies (accents ignored in every script, not only
    // Latin) and deletes securely (no trace of a deleted message's words). It is rebuilt: the
    // messages to index wait in search_backlog, which the service drains in the background.
    "
DROP TABLE message_search;
CREATE VIRTUAL TABLE message_search USING fts5(
    conv, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
CREATE TABLE search_backlog (num INTEGER PRIMARY KEY);
INSERT INTO search_backlog (num) SELECT num FROM messages WHERE deleted_at IS NULL;
",
    // 4: attachments. A row is one upload; its bytes are a file of the attachments directory
    // named by their SHA-256, so the same bytes uploaded twice are stored once.
    "
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    uploader_id TEXT NOT NULL,
    -- the name the uploader gave, cleaned (no directories, no control characters)
    name TEXT NOT NULL,
    -- sniffed from the bytes, never the uploader's word
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    -- images that decoded: their upright size in pixels, and the type of their thumbnail (a
    -- file beside the original, '<sha256>.thumb')
    width INTEGER,
    height INTEGER,
    thumbnail_type TEXT,
    -- lower-case hex SHA-256 of the bytes: the file's name
    sha256 TEXT NOT NULL,
    -- unix seconds
    uploaded_at INTEGER NOT NULL,
    -- the message that carries it (messages.attachments lists it too); NULL while unsent
    conversation_id TEXT REFERENCES conversations (id),
    seq INTEGER
) WITHOUT ROWID;
CREATE INDEX attachments_by_uploader ON attachments (uploader_id);
CREATE INDEX attachments_by_content ON attachments (sha256);
CREATE INDEX attachments_of_message ON attachments (conversation_id, seq) WHERE conversation_id IS NOT NULL;
CREATE INDEX attachments_unsent ON attachments (uploaded_at) WHERE conversation_id IS NULL;
-- Files no row names any more: removed from disk once the removal of their last row committed
-- (a removal rolled back must not lose a file that is still named).
CREATE TABLE attachment_garbage (sha256 TEXT PRIMARY KEY) WITHOUT ROWID;
",
    // 5: the search index also keeps the first one and two letters of every word. A query's
    // last word matches as a prefix, and a short one ("an", or the "s" of "it's") merged the
    // lists of every word it begins: 10-30 ms at a million messages, under 3 ms with these
    // (the index is about twice the size). Rebuilt in the background as in 3.
    "
DROP TABLE message_search;
CREATE VIRTUAL TABLE message_search USING fts5(
    conv, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2'
);
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
INSERT OR IGNORE INTO search_backlog (num) SELECT num FROM messages WHERE deleted_at IS NULL;
",
    // 6: a message stored is no longer queued in search_backlog (a page of the log per
    // message): the drain indexes every message above its cursor, the highest num it indexed.
    // What the backlog holds stays there (a rebuild's messages, edits).
    "
CREATE TABLE search_cursor (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    -- every message up to this num is in the index, or in search_backlog
    num INTEGER NOT NULL
);
INSERT INTO search_cursor (only, num) SELECT 1, coalesce(max(num), 0) FROM messages;
",
    // 7: the outbox without AUTOINCREMENT, a page of the log less per message (see the kit).
    gochat_kit::db::OUTBOX_WITHOUT_AUTOINCREMENT,
    // 8: a group's timeline events (created, members added or removed, left, renamed).
    "
CREATE TABLE timeline (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    -- 1, 2, 3... in the conversation: the order they happened in
    num INTEGER NOT NULL,
    -- shown right after this message (the newest when it happened; 0: before the first)
    after_seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('created', 'added', 'removed', 'left', 'renamed')),
    actor_id TEXT NOT NULL,
    -- those added or removed, space-separated
    user_ids TEXT NOT NULL DEFAULT '',
    title TEXT,
    PRIMARY KEY (conversation_id, num)
) WITHOUT ROWID;
CREATE INDEX timeline_placed ON timeline (conversation_id, after_seq);
",
    // 9: the timeline also says who became a group's owner (kind 'owner_changed'). The table is
    // rebuilt (SQLite cannot change a CHECK), keeping every row.
    "
CREATE TABLE timeline_v9 (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    -- 1, 2, 3... in the conversation: the order they happened in
    num INTEGER NOT NULL,
    -- shown right after this message (the newest when it happened; 0: before the first)
    after_seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('created', 'added', 'removed', 'left', 'renamed', 'owner_changed')),
    actor_id TEXT NOT NULL,
    -- those added or removed, or the new owner, space-separated
    user_ids TEXT NOT NULL DEFAULT '',
    title TEXT,
    PRIMARY KEY (conversation_id, num)
) WITHOUT ROWID;
INSERT INTO timeline_v9 (conversation_id, num, after_seq, at, kind, actor_id, user_ids, title)
    SELECT conversation_id, num, after_seq, at, kind, actor_id, user_ids, title FROM timeline;
DROP TABLE timeline;
ALTER TABLE timeline_v9 RENAME TO timeline;
CREATE INDEX timeline_placed ON timeline (conversation_id, after_seq);
",
    // 10: the search index moves to a database of its own (`messages-search.db`, see
    // `search`), where it is built again from the messages; what waits for it (edits and
    // deletions) stays here, each row with a version.
    "
DROP TABLE message_search;
DROP TABLE search_cursor;
DROP TABLE search_backlog;
CREATE TABLE search_backlog (
    num INTEGER PRIMARY KEY,
    -- grows each time the message is queued again (see search::drained)
    version INTEGER NOT NULL DEFAULT 0
);
-- How many times rows were taken off the backlog: the index records it too, so that an index
-- that does not belong with this database is told (see search::stale).
CREATE TABLE search_drains (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    count INTEGER NOT NULL
);
INSERT INTO search_drains (only, count) VALUES (1, 0);
",
];

#[cfg(test)]
pub(crate) fn migrations() -> rusqlite_migration::Migrations<'static> {
    rusqlite_migration::Migrations::new(MIGRATIONS.iter().map(|sql| rusqlite_migration::M::up(sql)).collect())
}

/// An empty in-memory database with the kit's tables, as the service's migrations find one.
#[cfg(test)]
pub(crate) fn bare_db() -> rusqlite::Connection {
    let c = rusqlite::Connection::open_in_memory().expect("an in-memory database opens");
    gochat_kit::db::kit_tables(&c).expect("the kit's tables are created");
    c
}

#[cfg(test)]
pub(crate) fn test_db() -> rusqlite::Connection {
    let mut c = bare_db();
    migrations().to_latest(&mut c).expect("the migrations apply");
    c.pragma_update(None, "foreign_keys", "ON")
        .expect("foreign keys can be enabled");
    c
}
