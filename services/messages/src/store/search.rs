//! Full-text search of message bodies (SQLite FTS5).
//!
//! Each message is indexed under its number (`num`, which grows with time, so results come
//! newest first by walking the index backwards) with two columns: its conversation's token
//! (`c<num of the conversation>`) and its body, folded (lower case, without accents: the
//! diacritics of Latin, Greek and Cyrillic letters and the vowel points of Hebrew and Arabic;
//! the marks that make up Indic or Thai letters are kept, they are not accents; compatibility
//! forms such as ligatures and full-width letters as their plain letters, and the few Latin
//! letters with no accent to strip, such as ł, ø or ß, as the letters they are searched by;
//! nothing is transliterated from one script to another). Its words are the runs of letters,
//! digits and the marks that belong with them, and each emoji on its own, whatever its skin tone
//! (see [`words`] and [`emoji_at`]); anything else separates them. A query is the
//! caller's words folded the same way, every one required, the last one also as a prefix,
//! restricted to the tokens of the conversations the caller is a member of now: the index
//! intersects both, so a common word in a large database costs no more than the caller's share
//! of it. A query with no word (punctuation only) finds nothing. The index is contentless and
//! deletes securely: a deleted message leaves no text in it.
//!
//! The index is a database of its own (`messages-search.db`, [`MIGRATIONS`]) with its own
//! writer, so that FTS5's commits (a segment flushed, segments merged: now and then tens of
//! milliseconds) never hold the messages writer, and a message's commit never waits for them.
//! It is derived data: a fresh file is filled again from the messages, which is what a backup
//! restored or a file removed gets.
//!
//! Indexing is off the message path: a background drain (`crate::indexing`) reads what waits
//! from the messages database ([`waiting_batch`]), indexes it in one write of the index's
//! database ([`apply`]) and then takes it off the backlog ([`drained`]). What waits: the
//! messages stored since the index's cursor (`search_cursor`, the highest `num` it indexed;
//! storing a message writes nothing for search) and the messages in `search_backlog` ([`queue`]:
//! edited or deleted since; a row's `version` grows with each change, so one queued again while
//! the drain worked is not taken off). Until then a search reads the waiting messages
//! themselves: their current bodies, folded and matched by the same tokenizer in a scratch index
//! of the reader's connection, so a message is found the moment it is stored, an edited one by
//! its new words only, a deleted one not at all (its words leave the index with the drain's next
//! write, a fraction of a second later).

use super::messages::message_from;
use gochat_proto::dto::Message;
use gochat_proto::ids::{ConversationId, UserId};
use gochat_proto::limits::MAX_SEARCH_CHARS;
use icu_properties::props::{
    BinaryProperty, EmojiModifier, ExtendedPictographic, RegionalIndicator, VariationSelector,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::Path;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The index's database, beside the messages database: `<data dir>/messages-search.db`.
pub const DB: &str = "messages-search";

/// The tokenizer of the index and of the scratch index. [`fold`] alone says what a word is: it
/// gives the words of a text with single spaces between them, so the tokenizer is to split
/// there and nowhere else. Every category of characters is part of a token but the separators
/// (`Z*`), of which `fold`'s spaces are the only ones it leaves. (The default, letters and
/// digits, would split emoji off, cut Indic words at their marks, and judge by SQLite's own
/// Unicode tables, older than Rust's.) Accents are `fold`'s to take off; the letter case the
/// tokenizer folds, `fold` has folded already.
macro_rules! tokenizer {
    () => {
        "unicode61 remove_diacritics 0 categories 'L* N* M* P* S* C*'"
    };
}

/// The index's database. A reader of the messages database attaches it as `search`
/// ([`attach`]).
pub const MIGRATIONS: &[&str] = &[
    // 1: the index (as migration 5 of the messages database left it there) and its cursor.
    "
CREATE VIRTUAL TABLE message_search USING fts5(
    conv, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2'
);
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
CREATE TABLE search_cursor (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    -- every message up to this num is in the index, or in the messages database's search_backlog
    num INTEGER NOT NULL,
    -- the messages database's search_drains once the backlog rows of the index's last write
    -- with any are taken off there (see search::stale)
    drains INTEGER NOT NULL DEFAULT 0
);
INSERT INTO search_cursor (only, num) VALUES (1, 0);
",
    // 2: `fold` also folds compatibility forms and letters such as ł, ø, ß, for bodies and
    // queries alike: what the index holds was folded less, so it is emptied and filled again by
    // the drain (searches read the messages meanwhile). Change `fold`, add a migration like it.
    "
INSERT INTO message_search (message_search) VALUES ('delete-all');
UPDATE search_cursor SET num = 0;
",
    // 3: emoji are words, and `fold` alone says what a word is, the tokenizer splitting only
    // where it put spaces (see `tokenizer!`). A table's tokenizer is chosen when it is created:
    // the index is created again, empty, and filled again by the drain like 2's. Change the
    // tokenizer, add a migration like this one.
    concat!(
        "
DROP TABLE message_search;
CREATE VIRTUAL TABLE message_search USING fts5(
    conv, body,
    content = '', contentless_delete = 1,
    tokenize = \"",
        tokenizer!(),
        "\",
    prefix = '1 2'
);
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
UPDATE search_cursor SET num = 0;
"
    ),
];

/// Characters of context a snippet shows before the first match, and its longest length.
const SNIPPET_LEAD: usize = 40;
const SNIPPET_CHARS: usize = 160;
/// Waiting messages put in the scratch index at a time while a search reads them.
const PENDING_CHUNK: usize = 256;
/// The scratch index of a reader's connection: the same columns' tokenizer as
/// `message_search`, in the connection's temporary schema (allowed on a read-only connection),
/// filled and emptied within one search.
const PENDING_SCHEMA: &str = concat!(
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_pending USING fts5(body, content = '', tokenize = \"",
    tokenizer!(),
    "\")"
);

/// Records that message `num` (edited, or deleted) is to be indexed again with its current body
/// (none, when deleted); until the drain has, [`search`] reads it from the backlog.
pub fn queue(c: &Connection, num: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO search_backlog (num) VALUES (?1) ON CONFLICT (num) DO UPDATE SET version = version + 1",
    )?
    .execute([num])?;
    Ok(())
}

/// Attaches the index's database (at `index`) to a connection of the messages database as
/// `search`, unless it already is, and creates the connection's scratch index: what [`search`]
/// needs. Outside any transaction (SQLite attaches only there).
pub fn attach(c: &Connection, index: &Path) -> rusqlite::Result<()> {
    let attached: bool = c
        .prepare_cached("SELECT count(*) FROM pragma_database_list WHERE name = 'search'")?
        .query_row([], |r| r.get(0))?;
    if !attached {
        c.execute("ATTACH DATABASE ?1 AS search", [index.to_string_lossy()])?;
        c.execute(PENDING_SCHEMA, [])?;
    }
    Ok(())
}

/// Messages for the index, read from the messages database by [`waiting_batch`].
#[derive(Debug, Default)]
pub struct Batch {
    /// `(num, conversation's num, current body)`: `""` for a deleted message, which leaves the
    /// index.
    entries: Vec<(i64, i64, String)>,
    /// The backlog's rows among them, with their versions (see [`drained`]).
    queued: Vec<(i64, i64)>,
    /// The index's cursor once the batch is in.
    pub cursor: i64,
    /// The messages database's `search_drains` when the batch was read.
    drains: i64,
    /// Whether nothing waited beyond the batch when it was read.
    pub last: bool,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether [`drained`] has anything to do for it.
    pub fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }
}

/// Reads at most `most` messages waiting for the index (see the module's documentation), the
/// backlog first, then those stored above `cursor` (the index's), oldest first, with their
/// current bodies. On the messages database.
pub fn waiting_batch(c: &Connection, cursor: i64, most: usize) -> rusqlite::Result<Batch> {
    let mut batch = Batch {
        cursor,
        drains: c
            .prepare_cached("SELECT count FROM search_drains")?
            .query_row([], |r| r.get(0))?,
        ..Batch::default()
    };
    let most = i64::try_from(most).unwrap_or(i64::MAX);
    // A row of a message gone (there is none today) is simply taken off. The limits are written
    // in: SQLite prepares a statement again whenever a bound LIMIT changes.
    let mut queued = c.prepare_cached(&format!(
        "SELECT b.num, b.version, c.num, coalesce(m.body, '') FROM search_backlog b
         LEFT JOIN messages m ON m.num = b.num LEFT JOIN conversations c ON c.id = m.conversation_id
         ORDER BY b.num LIMIT {most}"
    ))?;
    let mut rows = queued.query([])?;
    while let Some(row) = rows.next()? {
        let num = row.get(0)?;
        batch.queued.push((num, row.get(1)?));
        batch
            .entries
            .push((num, row.get::<_, Option<i64>>(2)?.unwrap_or(0), row.get(3)?));
    }
    drop(rows);
    let mut stored = c.prepare_cached(&format!(
        "SELECT m.num, c.num, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.num > ?1 ORDER BY m.num LIMIT {most}"
    ))?;
    let mut rows = stored.query([cursor])?;
    while (batch.entries.len() as i64) < most
        && let Some(row) = rows.next()?
    {
        batch.cursor = row.get(0)?;
        batch.entries.push((batch.cursor, row.get(1)?, row.get(2)?));
    }
    batch.last = (batch.entries.len() as i64) < most;
    Ok(batch)
}

/// Puts `batch` in the index, replacing what it held for those messages, and moves its cursor.
/// On the index's database.
pub fn apply(c: &Connection, batch: &Batch) -> rusqlite::Result<()> {
    for (num, conversation_num, body) in &batch.entries {
        c.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
            .execute([num])?;
        if !body.trim().is_empty() {
            c.prepare_cached("INSERT INTO message_search (rowid, conv, body) VALUES (?1, ?2, ?3)")?
                .execute(params![num, format!("c{conversation_num}"), fold(body)])?;
        }
    }
    c.prepare_cached("UPDATE search_cursor SET num = ?1 WHERE num < ?1")?
        .execute([batch.cursor])?;
    if batch.has_queued() {
        c.prepare_cached("UPDATE search_cursor SET drains = ?1")?
            .execute([batch.drains + 1])?;
    }
    Ok(())
}

/// Takes the backlog's rows of `batch`, now in the index, off the backlog, unless they were
/// queued again since it was read. On the messages database.
pub fn drained(c: &Connection, batch: &Batch) -> rusqlite::Result<()> {
    if !batch.has_queued() {
        return Ok(());
    }
    let mut delete = c.prepare_cached("DELETE FROM search_backlog WHERE num = ?1 AND version = ?2")?;
    for (num, version) in &batch.queued {
        delete.execute([num, version])?;
    }
    c.prepare_cached("UPDATE search_drains SET count = ?1")?
        .execute([batch.drains + 1])?;
    Ok(())
}

/// The index's cursor. On the index's database.
pub fn cursor(c: &Connection) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT num FROM search_cursor")?
        .query_row([], |r| r.get(0))
}

/// How far the index and the messages database have come together: the highest `num` indexed
/// or stored, and how many times the backlog was drained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub num: i64,
    pub drains: i64,
}

/// The index's progress. On the index's database.
pub fn indexed_progress(c: &Connection) -> rusqlite::Result<Progress> {
    progress(c, "SELECT num, drains FROM search_cursor")
}

/// The messages database's progress. On the messages database.
pub fn stored_progress(c: &Connection) -> rusqlite::Result<Progress> {
    progress(
        c,
        "SELECT (SELECT coalesce(max(num), 0) FROM messages), (SELECT count FROM search_drains)",
    )
}

fn progress(c: &Connection, sql: &str) -> rusqlite::Result<Progress> {
    c.prepare_cached(sql)?.query_row([], |r| {
        Ok(Progress {
            num: r.get(0)?,
            drains: r.get(1)?,
        })
    })
}

/// Whether an index does not belong with its messages database, which then was put back to
/// another state than the index's (a copy, a backup, a replica) or the index was: its cursor
/// is above the messages' highest `num` (the index holds messages that are not there, or other
/// ones under their numbers), or its drains are not the messages' or one more (a drain commits
/// to the index, then takes its backlog rows off: in between the index is one ahead), so an
/// edit or a deletion may be missing from it.
pub fn stale(index: Progress, messages: Progress) -> bool {
    index.num > messages.num || index.drains < messages.drains || index.drains > messages.drains + 1
}

/// Empties the index and its cursor, to be filled again from the messages database, whose
/// drains it takes. On the index's database.
pub fn reset(c: &Connection, messages: Progress) -> rusqlite::Result<()> {
    c.execute("INSERT INTO message_search (message_search) VALUES ('delete-all')", [])?;
    c.execute("UPDATE search_cursor SET num = 0, drains = ?1", [messages.drains])?;
    Ok(())
}

/// How many messages wait to be indexed above the index's `cursor`, and in the backlog. On the
/// messages database.
pub fn backlog_len(c: &Connection, cursor: i64) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "SELECT (SELECT count(*) FROM search_backlog WHERE num <= ?1)
              + (SELECT count(*) FROM messages WHERE num > ?1 AND deleted_at IS NULL)",
    )?
    .query_row([cursor], |r| r.get(0))
}

/// The words of a query, folded as the index folds bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms(Vec<String>);

impl Terms {
    /// `q` must have 1 to [`MAX_SEARCH_CHARS`] characters, not only spaces. It may have no word
    /// (punctuation only): such terms find nothing.
    pub fn parse(q: &str) -> Result<Self, &'static str> {
        let chars = q.chars().count();
        if q.trim().is_empty() || chars > MAX_SEARCH_CHARS {
            return Err("q must have 1 to 200 characters");
        }
        Ok(Self(words(q).into_iter().map(|(_, word)| word).collect()))
    }

    /// The FTS5 expression: every word (quoted, so nothing in it is query syntax), the last
    /// one also as a prefix. Not for terms without a word, which FTS5 has no expression for.
    fn expression(&self) -> String {
        let last = self.0.len() - 1;
        let words: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("\"{w}\"*")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect();
        words.join(" AND ")
    }

    /// Whether a word (folded) is one of the terms, or starts with the last.
    fn matches(&self, word: &str) -> bool {
        self.0.iter().any(|term| term == word) || self.0.last().is_some_and(|last| word.starts_with(last.as_str()))
    }
}

/// One page of results: messages newest first, and the cursor of the next page.
#[derive(Default)]
pub struct Found {
    pub messages: Vec<(Message, String)>,
    pub next: Option<Cursor>,
}

/// Where a page of results ended: its last message, by its place in its conversation, which the
/// caller was shown. Not by its `num`: numbers are server-wide, and how far they moved between
/// two searches would tell how many messages everyone stored meanwhile. Opaque to clients
/// (base64 JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cursor {
    conversation_id: ConversationId,
    seq: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        gochat_kit::http::encode_cursor(self)
    }

    pub fn decode(s: &str) -> Option<Self> {
        gochat_kit::http::decode_cursor(s)
    }

    /// The `num` of its message, where the next page starts below, if `user` is a member of its
    /// conversation now: a cursor of any other conversation is not one [`search`] gave them,
    /// and telling where its message lies among theirs would say when it was sent.
    pub fn num(&self, c: &Connection, user: UserId) -> rusqlite::Result<Option<i64>> {
        c.prepare_cached(
            "SELECT m.num FROM messages m
             JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?3
             WHERE m.conversation_id = ?1 AND m.seq = ?2",
        )?
        .query_row(params![self.conversation_id, self.seq, user], |r| r.get(0))
        .optional()
    }

    /// The cursor of message `num` (deleted or not: its place stays).
    fn of(c: &Connection, num: i64) -> rusqlite::Result<Self> {
        c.prepare_cached("SELECT conversation_id, seq FROM messages WHERE num = ?1")?
            .query_row([num], |r| {
                Ok(Self {
                    conversation_id: r.get(0)?,
                    seq: r.get(1)?,
                })
            })
    }
}

/// Searches the conversations `user` is a member of now (or only `conversation`, which the
/// caller checked is one of them), below the message number `before` when given: the index,
/// and the messages still waiting for it, merged newest first. `c` is a connection of the
/// messages database with the index attached ([`attach`]).
pub fn search(
    c: &Connection,
    user: UserId,
    terms: &Terms,
    conversation: Option<ConversationId>,
    before: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Found> {
    if terms.0.is_empty() {
        return Ok(Found::default());
    }
    // Read only; dropping it rolls the scratch index back too. Each database's snapshot is
    // taken at its first read: the messages database's first (the members, below), the index's
    // next (its cursor). So the index is at least as new as the backlog read: a message the
    // drain took off the backlog before it was read is in the index as drained, one queued is
    // read from the messages themselves, and the index's entries of messages stored after the
    // messages' snapshot are skipped when they are loaded.
    let _snapshot = c.unchecked_transaction()?;
    let tokens: Vec<String> = c
        .prepare_cached(
            "SELECT 'c' || c.num FROM members m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.user_id = ?1 AND (?2 IS NULL OR c.id = ?2)",
        )?
        .query_map(params![user, conversation], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if tokens.is_empty() {
        return Ok(Found::default());
    }
    let before = before.unwrap_or(i64::MAX);
    let wanted = limit as usize + 1;
    let cursor: i64 = c
        .prepare_cached("SELECT num FROM search.search_cursor")?
        .query_row([], |r| r.get(0))?;
    // Above the cursor the index holds nothing or (an edit drained before the cursor moved) what
    // the messages stored since are read for anyway.
    let mut nums = indexed(c, &tokens, terms, before.min(cursor + 1), wanted)?;
    // A waiting message older than a full page of indexed ones cannot make the page.
    let floor = if nums.len() == wanted { nums[wanted - 1] } else { 0 };
    nums.extend(waiting(c, user, conversation, terms, cursor, (floor, before), wanted)?);
    nums.sort_unstable_by(|a, b| b.cmp(a));
    nums.truncate(wanted);
    let more = nums.len() > limit as usize;
    let nums = &nums[..nums.len().min(limit as usize)];
    // Not deleted: one deleted since the index's snapshot is still in the index.
    let mut load = c.prepare_cached(
        "SELECT conversation_id, seq, num, id, sender_id, client_id, body, sent_at, reply_to_seq, edited_at,
                deleted_at, reactions, attachments, change
         FROM messages WHERE num = ?1 AND deleted_at IS NULL",
    )?;
    let mut messages = Vec::with_capacity(nums.len());
    for num in nums {
        let Some(message) = load.query_row([num], message_from).optional()? else {
            continue;
        };
        let snippet = snippet(&message.body, terms);
        messages.push((message, snippet));
    }
    let next = match nums.last() {
        Some(&last) if more => Some(Cursor::of(c, last)?),
        _ => None,
    };
    Ok(Found { next, messages })
}

/// The newest `wanted` indexed messages below `before` that match, in the conversations of
/// `tokens`; those waiting are left to [`waiting`], which reads their current bodies (an edited
/// message's entry still holds its old words until the drain). The caller bounds `before` by
/// the cursor: above it the index holds only entries that [`waiting`] reads anyway.
fn indexed(c: &Connection, tokens: &[String], terms: &Terms, before: i64, wanted: usize) -> rusqlite::Result<Vec<i64>> {
    let query = format!("conv : ({}) AND body : ({})", tokens.join(" OR "), terms.expression());
    // The limit is written in: SQLite prepares a statement again whenever a bound LIMIT changes.
    c.prepare_cached(&format!(
        "SELECT rowid FROM search.message_search WHERE message_search MATCH ?1 AND rowid < ?2
           AND NOT EXISTS (SELECT 1 FROM main.search_backlog b WHERE b.num = message_search.rowid)
         ORDER BY rowid DESC LIMIT {wanted}"
    ))?
    .query_map(params![query, before], |r| r.get(0))?
    .collect()
}

/// The newest `wanted` waiting messages between `floor` and `before` (both excluded) that
/// match, in the conversations `user` is a member of (or only `conversation`), not deleted:
/// those stored since `cursor`, then those in the backlog below it, newest first throughout.
/// Their current bodies, folded as the index folds them, go through the scratch index a chunk
/// at a time, so they are matched by the very tokenizer and query of the index.
fn waiting(
    c: &Connection,
    user: UserId,
    conversation: Option<ConversationId>,
    terms: &Terms,
    cursor: i64,
    (floor, before): (i64, i64),
    wanted: usize,
) -> rusqlite::Result<Vec<i64>> {
    // CROSS JOIN: the messages (a range of `num`) are read first, each member row looked up.
    let stored = c.prepare_cached(
        "SELECT m.num, m.body FROM messages m
         CROSS JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?1
         WHERE m.num > ?3 AND m.num < ?4 AND m.deleted_at IS NULL
           AND (?2 IS NULL OR m.conversation_id = ?2)
         ORDER BY m.num DESC",
    )?;
    // CROSS JOIN here too: left to itself, SQLite's planner reads every message of the user's
    // conversations, looks each up in the backlog and sorts what it found, instead of reading a
    // range of the backlog, which is mostly empty (at a million messages a rare word's search
    // took 2.5 ms at the median that way, 2.2 ms this way).
    let queued = c.prepare_cached(
        "SELECT m.num, m.body FROM search_backlog b
         CROSS JOIN messages m ON m.num = b.num
         CROSS JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?1
         WHERE b.num > ?3 AND b.num < ?4 AND m.deleted_at IS NULL
           AND (?2 IS NULL OR m.conversation_id = ?2)
         ORDER BY b.num DESC",
    )?;
    let mut scratch = Scratch {
        c,
        insert: c.prepare_cached("INSERT INTO temp.search_pending (rowid, body) VALUES (?1, ?2)")?,
        expression: terms.expression(),
        chunk: 0,
        found: Vec::new(),
    };
    // Every message stored since the cursor is newer than every one below it.
    let ranges = [(floor.max(cursor), before), (floor, before.min(cursor + 1))];
    for (mut candidates, (above, below)) in [stored, queued].into_iter().zip(ranges) {
        let mut rows = candidates.query(params![user, conversation, above, below])?;
        while let Some(row) = rows.next()? {
            scratch.add(row.get(0)?, row.get_ref(1)?.as_str()?)?;
            // Candidates come newest first: once a page is full, older ones cannot make it.
            if scratch.found.len() >= wanted {
                return Ok(scratch.found);
            }
        }
    }
    scratch.match_chunk()?;
    Ok(scratch.found)
}

/// Waiting messages put through the scratch index, [`PENDING_CHUNK`] at a time.
struct Scratch<'c> {
    c: &'c Connection,
    insert: rusqlite::CachedStatement<'c>,
    expression: String,
    /// Messages in the scratch index now.
    chunk: usize,
    /// Those that matched so far.
    found: Vec<i64>,
}

impl Scratch<'_> {
    fn add(&mut self, num: i64, body: &str) -> rusqlite::Result<()> {
        if body.trim().is_empty() {
            return Ok(());
        }
        self.insert.execute(params![num, fold(body)])?;
        self.chunk += 1;
        if self.chunk == PENDING_CHUNK {
            self.match_chunk()?;
        }
        Ok(())
    }

    /// Matches the messages in the scratch index, and empties it.
    fn match_chunk(&mut self) -> rusqlite::Result<()> {
        if self.chunk == 0 {
            return Ok(());
        }
        self.found.extend(
            self.c
                .prepare_cached("SELECT rowid FROM temp.search_pending WHERE search_pending MATCH ?1")?
                .query_map([&self.expression], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        );
        self.c
            .prepare_cached("INSERT INTO temp.search_pending (search_pending) VALUES ('delete-all')")?
            .execute([])?;
        self.chunk = 0;
        Ok(())
    }
}

/// The words of `text`, folded, each with the byte offset in `text` of what it was folded from
/// (see [`each_word`]).
fn words(text: &str) -> Vec<(usize, String)> {
    let mut words = Vec::new();
    each_word(text, |at, word| words.push((at, word.to_owned())));
    words
}

/// `text` as the index holds it: its words ([`each_word`]) with a space between each two, where
/// the index's tokenizer splits them (see [`tokenizer!`]). The index holds what this returns: a
/// change needs a migration that rebuilds it (see [`MIGRATIONS`]).
fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    each_word(text, |_, word| {
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.push_str(word);
    });
    folded
}

/// Calls `each` with every word of `text`, folded, and the byte offset in `text` of what it was
/// folded from: each emoji on its own ([`emoji_at`]), and the words of the runs of letters
/// between them ([`letter_words`]). Anything else separates words.
fn each_word(text: &str, mut each: impl FnMut(usize, &str)) {
    let mut word = String::new();
    // Where the run of letters being read started, while one is.
    let mut letters = None;
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        word.clear();
        let emoji = emoji_at(&text[at..], &mut word);
        if emoji.is_none() && in_word(c) {
            letters.get_or_insert(at);
            at += c.len_utf8();
            continue;
        }
        if let Some(from) = letters.take() {
            letter_words(&text[from..at], |letters| each(from, letters));
        }
        match emoji {
            Some(len) => {
                each(at, &word);
                at += len;
            }
            None => at += c.len_utf8(),
        }
    }
    if let Some(from) = letters {
        letter_words(&text[from..], |letters| each(from, letters));
    }
}

/// Whether `c` belongs to a word: a letter, a digit or a mark, as folded.
fn is_letter(c: char) -> bool {
    c.is_alphanumeric() || (!c.is_ascii() && is_combining_mark(c))
}

/// Whether `c` belongs to a word as written: a letter, a digit or a mark, or a form that folds to
/// some ("㎏" is "kg").
fn in_word(c: char) -> bool {
    is_letter(c) || (!c.is_ascii() && c.nfkd().any(is_letter))
}

/// Calls `each` with the words of a run of letters: the run folded, split where folding made
/// other characters of some letters ("½" is "1⁄2").
fn letter_words(letters: &str, mut each: impl FnMut(&str)) {
    if letters.is_ascii() {
        // Nothing to fold but the case, and nothing to split.
        each(&letters.to_ascii_lowercase());
    } else {
        fold_letters(letters)
            .split(|c| !is_letter(c))
            .filter(|word| !word.is_empty())
            .for_each(each);
    }
}

/// Lower case, without accents (see the module's documentation) nor variation selectors (a
/// glyph's choice). The compatibility decomposition (NFKD) turns ligatures, full-width and other
/// look-alike forms into their plain letters besides separating accents.
fn fold_letters(letters: &str) -> String {
    let mut folded = String::with_capacity(letters.len());
    for c in letters
        .nfkd()
        .filter(|c| !is_accent(*c) && !VariationSelector::for_char(*c))
        .nfc()
        .flat_map(char::to_lowercase)
    {
        match plain_letters(c) {
            Some(letters) => folded.push_str(letters),
            None => folded.push(c),
        }
    }
    folded
}

/// The mark that makes a key of `0`-`9`, `#` or `*` a keycap (1️⃣).
const KEYCAP: char = '\u{20E3}';

/// The emoji `text` starts with, if it does: its length in `text`, with the word it is found by
/// written to `word`.
/// - A pictograph (Unicode's `Extended_Pictographic`: what emoji are drawn from, ©, ™, ★, ♥ and
///   ↔ among them, and the code points kept for emoji to come), without the skin tone or the
///   presentation (as text or as emoji) it was given: "👍" finds "👍🏽", "❤" finds "❤️". The
///   tags that make 🏴 a subdivision's flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿) stay with it. A zero-width joiner
///   separates: a ZWJ sequence (👩‍🚀) is the words of its parts.
/// - A flag: two regional indicators, one word, so that 🇫🇷 does not find 🇷🇫 (one alone is a
///   word all the same).
/// - A keycap: its key and the keycap mark, "1⃣" (not the digit, nor `#` or `*`, which are not
///   words).
///
/// Other symbols (→, €, °, ✓) separate words, as punctuation does.
fn emoji_at(text: &str, word: &mut String) -> Option<usize> {
    let first = text.chars().next()?;
    let rest = &text[first.len_utf8()..];
    match first {
        '0'..='9' | '#' | '*' => {
            let after = rest.strip_prefix('\u{FE0F}').unwrap_or(rest).strip_prefix(KEYCAP)?;
            word.extend([first, KEYCAP]);
            Some(text.len() - after.len())
        }
        c if c.is_ascii() => None,
        c if RegionalIndicator::for_char(c) => {
            let second = rest.chars().next().filter(|c| RegionalIndicator::for_char(*c));
            let len = c.len_utf8() + second.map_or(0, char::len_utf8);
            word.push_str(&text[..len]);
            Some(len)
        }
        c if ExtendedPictographic::for_char(c) => {
            // In lower case as the tokenizer folds it (Ⓜ is the one with a case).
            word.extend(c.to_lowercase());
            let mut len = c.len_utf8();
            for c in rest.chars() {
                if is_tag(c) {
                    word.push(c);
                } else if !EmojiModifier::for_char(c) && !VariationSelector::for_char(c) {
                    break;
                }
                len += c.len_utf8();
            }
            Some(len)
        }
        _ => None,
    }
}

/// The tag characters (invisible Latin letters and digits, and their end) that name a
/// subdivision after 🏴.
fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0020}'..='\u{E007F}')
}

/// Latin letters (lower case) that no decomposition takes an accent off, as the plain letters
/// people type for them: those with a stroke or a slash, and those that are two letters; and
/// the one letter in lower case that the index's tokenizer folds further.
fn plain_letters(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' => "l",       // Polish
        'ø' => "o",       // Danish, Norwegian
        'đ' | 'ð' => "d", // South Slavic; Icelandic, Faroese
        'ħ' => "h",       // Maltese
        'ŧ' => "t",       // Sámi
        'ı' => "i",       // Turkish, Azerbaijani dotless i
        'æ' => "ae",
        'œ' => "oe",
        'ß' => "ss",
        'þ' => "th",
        // Not Latin: Greek's final sigma is its sigma, as the index's tokenizer folds it too.
        'ς' => "σ",
        _ => return None,
    })
}

/// Marks that only accent a letter: the combining diacritics (Latin, Greek, Cyrillic and their
/// extensions), Hebrew points and Arabic vowel marks.
fn is_accent(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{05BF}'
        | '\u{05C1}'..='\u{05C2}'
        | '\u{05C4}'..='\u{05C5}'
        | '\u{05C7}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06ED}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// A short excerpt of `body` around its first matching word.
pub fn snippet(body: &str, terms: &Terms) -> String {
    let start = words(body)
        .into_iter()
        .find(|(_, word)| terms.matches(word))
        .map_or(0, |(at, _)| at);
    let lead: usize = body[..start].chars().rev().take(SNIPPET_LEAD).map(char::len_utf8).sum();
    let from = start - lead;
    // Start at a word boundary when the lead cut one.
    let from = if from > 0 {
        body[from..]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
            .map_or(from, |(i, c)| (from + i + c.len_utf8()).min(start))
    } else {
        0
    };
    let text: String = body[from..].chars().take(SNIPPET_CHARS).collect();
    let cut = text.len() < body.len() - from;
    let mut out = String::with_capacity(text.len() + 6);
    if from > 0 {
        out.push('…');
    }
    out.push_str(text.trim());
    if cut {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{conversations, messages, migrations, test_db, users};
    use gochat_proto::ids::ClientId;

    /// A messages database (in memory) and the index's (a file, attached to it as the
    /// service's readers attach it).
    struct World {
        c: Connection,
        /// The index's database on a connection of its own, as the drain writes it.
        index: Connection,
        _dir: tempfile::TempDir,
        a: UserId,
        b: UserId,
        ab: ConversationId,
    }

    fn world(bodies: &[&str]) -> World {
        world_in(test_db(), MIGRATIONS.len(), bodies)
    }

    /// The index's migrations, as the service applies them when it opens the index.
    fn index_migrations() -> rusqlite_migration::Migrations<'static> {
        rusqlite_migration::Migrations::new(MIGRATIONS.iter().map(|sql| rusqlite_migration::M::up(sql)).collect())
    }

    /// A world on the messages database `c`, with the index's database as migration
    /// `index_version` left it.
    fn world_in(c: Connection, index_version: usize, bodies: &[&str]) -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.db");
        let mut index = Connection::open(&path).unwrap();
        index_migrations().to_version(&mut index, index_version).unwrap();
        attach(&c, &path).unwrap();
        attach(&c, &path).unwrap(); // once is enough: the second finds it attached
        let (a, b) = (UserId::new(), UserId::new());
        users::registered(&c, a, "a").unwrap();
        users::registered(&c, b, "b").unwrap();
        let (head, _) = conversations::get_or_create_direct(&c, a, b, chrono::Utc::now()).unwrap();
        for body in bodies {
            let head = conversations::head(&c, head.id).unwrap().unwrap();
            messages::append(&c, &head, a, ClientId::new(), body, None, chrono::Utc::now()).unwrap();
        }
        World {
            c,
            index,
            _dir: dir,
            a,
            b,
            ab: head.id,
        }
    }

    fn bodies(found: &Found) -> Vec<&str> {
        found.messages.iter().map(|(m, _)| m.body.as_str()).collect()
    }

    fn find(w: &World, user: UserId, q: &str) -> Found {
        search(&w.c, user, &Terms::parse(q).unwrap(), None, None, 10).unwrap()
    }

    /// Where the page after `found` starts, for `user`, as the route reads its cursor.
    fn below(w: &World, user: UserId, found: &Found) -> Option<i64> {
        found
            .next
            .as_ref()
            .map(|cursor| cursor.num(&w.c, user).unwrap().unwrap())
    }

    #[test]
    fn every_word_whole_except_the_last_which_is_a_prefix_accents_and_case_ignored() {
        let w = world(&["Le café est prêt", "cafeteria tomorrow", "CAFE au lait", "tea time"]);
        assert_eq!(
            bodies(&find(&w, w.a, "cafe")),
            ["CAFE au lait", "cafeteria tomorrow", "Le café est prêt"]
        );
        assert_eq!(bodies(&find(&w, w.b, "café pret")), ["Le café est prêt"]);
        assert!(
            bodies(&find(&w, w.a, "caf est")).is_empty(),
            "only the last word is a prefix"
        );
        assert_eq!(
            bodies(&find(&w, w.a, "prêt café")),
            ["Le café est prêt"],
            "AND, in any order"
        );
        assert!(
            bodies(&find(&w, UserId::new(), "cafe")).is_empty(),
            "a stranger finds nothing"
        );
    }

    #[test]
    fn accents_are_ignored_in_every_script_that_has_them() {
        let texts = ["ΟΔΟΣ Αθηνάς", "Привет ёлка", "שָׁלוֹם עולם", "ﻣَﺮْﺣَﺒﺎً", "Crème brûlée"];
        let w = world(&texts);
        for (body, word) in texts.iter().zip(["αθηνας", "елка", "שלום", "ﻣﺮﺣﺒﺎ", "creme brulee"])
        {
            assert_eq!(bodies(&find(&w, w.a, word)), [*body], "{word}");
        }
    }

    /// Letters that carry a stroke or a slash rather than a separate accent, letters that are
    /// two (æ, ß), ligatures and full-width forms are found by their plain letters, whether
    /// waiting for the index or in it; no script is transliterated.
    #[test]
    fn letters_and_forms_without_an_accent_to_strip_are_folded_too() {
        let texts = [
            "Łódź",
            "Søren",
            "Đorđe",
            "Ærø",
            "Ǆemal",
            "ﬁnance",
            "Ｆｕｌｌｗｉｄｔｈ",
            "Straße",
            "Þórður",
            "Œuvre",
            "Việt Nam",
            "ПРИВЕТ",
        ];
        let queries = [
            ("lodz", "Łódź"),
            ("łodz", "Łódź"),
            ("ŁÓDŹ", "Łódź"),
            ("soren", "Søren"),
            ("SØREN", "Søren"),
            ("dorde", "Đorđe"),
            ("aero", "Ærø"),
            ("ærø", "Ærø"),
            ("dzemal", "Ǆemal"),
            ("džemal", "Ǆemal"),
            ("finance", "ﬁnance"),
            ("fullwidth", "Ｆｕｌｌｗｉｄｔｈ"),
            ("strasse", "Straße"),
            ("STRASSE", "Straße"),
            ("thordur", "Þórður"),
            ("oeuvre", "Œuvre"),
            ("viet", "Việt Nam"),
            ("привет", "ПРИВЕТ"),
        ];
        let w = world(&texts);
        let found_by_their_plain_letters = |w: &World| {
            for (q, body) in queries {
                assert_eq!(bodies(&find(w, w.a, q)), [body], "{q}");
            }
            assert!(bodies(&find(w, w.a, "privet")).is_empty(), "Cyrillic stays Cyrillic");
        };
        found_by_their_plain_letters(&w);
        drain(&w);
        found_by_their_plain_letters(&w);
        assert_eq!(
            snippet("ﬁnance report", &Terms::parse("finance").unwrap()),
            "ﬁnance report"
        );
    }

    /// Migration 2 of the index: an index filled by the folding before (accents only) is
    /// emptied when it opens, its messages found from the messages database meanwhile, and
    /// indexed again by the folding of now.
    #[test]
    fn an_index_built_by_the_old_folding_is_rebuilt() {
        let mut w = world_in(test_db(), 1, &["Łódź tonight", "Straße"]);
        let conversation: i64 =
            w.c.query_row("SELECT num FROM conversations", [], |r| r.get(0))
                .unwrap();
        // What the drain of the folding before left in the index.
        let conv = format!("c{conversation}");
        w.index
            .execute(
                "INSERT INTO message_search (rowid, conv, body) VALUES (1, ?1, 'łodz tonight'), (2, ?1, 'straße')",
                [&conv],
            )
            .unwrap();
        w.index.execute("UPDATE search_cursor SET num = 2", []).unwrap();
        assert_eq!(waiting_now(&w), 0);

        index_migrations().to_latest(&mut w.index).unwrap();
        assert_eq!(waiting_now(&w), 2, "every message waits for the index again");
        assert_eq!(bodies(&find(&w, w.a, "lodz")), ["Łódź tonight"]);
        assert_eq!(bodies(&find(&w, w.a, "strasse")), ["Straße"]);
        drain(&w);
        assert_eq!((in_index(&w, "lodz"), in_index(&w, "strasse")), (vec![1], vec![2]));
        assert_eq!(in_index(&w, "tonight"), [1], "once");
        assert_eq!(bodies(&find(&w, w.a, "lodz")), ["Łódź tonight"]);
    }

    /// Migration 3 of the index: an index tokenized as before (emoji were separators, and so
    /// were the marks inside Indic words) is made again with the tokenizer of now when it opens,
    /// its messages found from the messages database meanwhile, and indexed again.
    #[test]
    fn an_index_built_by_the_tokenizer_before_is_rebuilt() {
        let mut w = world_in(test_db(), 2, &["great👍 tonight", "नमस्ते दुनिया"]);
        drain(&w);
        assert_eq!(in_index(&w, "tonight"), [1], "what the drain left in the index before");

        index_migrations().to_latest(&mut w.index).unwrap();
        assert_eq!(waiting_now(&w), 2, "every message waits for the index again");
        assert!(in_index(&w, "tonight").is_empty());
        let found_by_emoji_and_whole_words = |w: &World| {
            assert_eq!(bodies(&find(w, w.a, "👍")), ["great👍 tonight"]);
            assert_eq!(bodies(&find(w, w.a, "नमस्ते")), ["नमस्ते दुनिया"]);
        };
        found_by_emoji_and_whole_words(&w);
        drain(&w);
        found_by_emoji_and_whole_words(&w);
        assert_eq!((in_index(&w, "👍"), in_index(&w, "नमस्ते")), (vec![1], vec![2]));
        let secure: i64 = w
            .index
            .query_row(
                "SELECT v FROM message_search_config WHERE k = 'secure-delete'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(secure, 1, "the index made again still deletes securely");
    }

    #[test]
    fn a_word_as_written_is_found_in_every_script() {
        let texts = ["नमस्ते दुनिया", "ΟΔΟΣ Αθηνάς", "สวัสดีครับ ทุกคน", "Привет ёлка", "שָׁלוֹם עולם"];
        let w = world(&texts);
        for (body, word) in texts.iter().zip(["दुनिया", "Αθηνάς", "ทุกคน", "ёлка", "שָׁלוֹם"])
        {
            assert_eq!(bodies(&find(&w, w.a, word)), [*body], "{word}");
        }
    }

    #[test]
    fn edits_are_found_by_their_new_text_and_deletes_not_at_all() {
        let w = world(&["first draft", "keep me"]);
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::edit(&w.c, &head, 1, "final version", chrono::Utc::now()).unwrap();
        assert!(bodies(&find(&w, w.a, "draft")).is_empty());
        assert_eq!(bodies(&find(&w, w.a, "final")), ["final version"]);
        messages::delete(&w.c, w.ab, 2, chrono::Utc::now()).unwrap();
        assert!(bodies(&find(&w, w.a, "keep")).is_empty());
    }

    #[test]
    fn pages_go_newest_first_and_continue_below_the_cursor() {
        let w = world(&["apple 1", "apple 2", "apple 3", "pear"]);
        let first = search(&w.c, w.a, &Terms::parse("apple").unwrap(), Some(w.ab), None, 2).unwrap();
        assert_eq!(bodies(&first), ["apple 3", "apple 2"]);
        let rest = search(
            &w.c,
            w.a,
            &Terms::parse("apple").unwrap(),
            None,
            below(&w, w.a, &first),
            2,
        )
        .unwrap();
        assert_eq!((bodies(&rest), &rest.next), (vec!["apple 1"], &None));
        let cursor = first.next.unwrap();
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor.clone()));
        assert_eq!(
            cursor.num(&w.c, UserId::new()).unwrap(),
            None,
            "not a cursor of a stranger's"
        );
    }

    /// One batch of the background drain, of at most `most` messages, as the service runs it
    /// (read, indexed, taken off the backlog); returns how many it indexed and whether nothing
    /// waited beyond them.
    fn drain_some(w: &World, most: usize) -> (usize, bool) {
        let batch = waiting_batch(&w.c, cursor(&w.index).unwrap(), most).unwrap();
        apply(&w.index, &batch).unwrap();
        drained(&w.c, &batch).unwrap();
        (batch.entries.len(), batch.last)
    }

    /// Runs the background drain to the end, as the service does after a commit.
    fn drain(w: &World) {
        assert!(drain_some(w, usize::MAX).1);
        assert_eq!(waiting_now(w), 0);
    }

    fn waiting_now(w: &World) -> i64 {
        backlog_len(&w.c, cursor(&w.index).unwrap()).unwrap()
    }

    /// What the index itself holds for `q`, backlog aside.
    fn in_index(w: &World, q: &str) -> Vec<i64> {
        let query = format!("body : ({})", Terms::parse(q).unwrap().expression());
        w.index
            .prepare("SELECT rowid FROM message_search WHERE message_search MATCH ?1")
            .unwrap()
            .query_map([query], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_message_just_stored_is_found_before_the_drain_ran_and_after() {
        let w = world(&["Le café est prêt", "tea time"]);
        assert_eq!(waiting_now(&w), 2, "stored, not indexed");
        assert!(in_index(&w, "cafe").is_empty());
        assert_eq!(bodies(&find(&w, w.a, "cafe")), ["Le café est prêt"]);
        assert_eq!(bodies(&find(&w, w.b, "CAFÉ pr")), ["Le café est prêt"]);
        assert!(bodies(&find(&w, w.a, "caf est")).is_empty(), "the same prefix rule");
        drain(&w);
        assert_eq!(in_index(&w, "cafe"), [1]);
        assert_eq!(bodies(&find(&w, w.a, "cafe")), ["Le café est prêt"]);
        assert!(bodies(&find(&w, w.a, "caf est")).is_empty());
    }

    /// A batch stops at its size, leaves the rest waiting (and found by searches all the
    /// same), and the next batch goes on from there.
    #[test]
    fn a_drain_batch_stops_at_its_size_and_the_next_goes_on() {
        let w = world(&["apple one", "apple two", "apple three"]);
        for (batch, left) in [(1, 2), (2, 1), (3, 0)] {
            assert_eq!(drain_some(&w, 1), (1, false), "batch {batch}");
            assert_eq!(waiting_now(&w), left);
            assert_eq!(in_index(&w, "apple").len(), 3 - left as usize);
            assert_eq!(
                bodies(&find(&w, w.a, "apple")),
                ["apple three", "apple two", "apple one"]
            );
        }
        assert_eq!(drain_some(&w, 1), (0, true), "none waits");
        assert_eq!(in_index(&w, "apple"), [1, 2, 3]);
    }

    /// Migration 10 moves the index to its own database: what the old one held is dropped with
    /// its backlog and cursor, and every message is found all the same, then indexed again in the
    /// new one, but a deleted one.
    #[test]
    fn the_index_moved_to_its_own_database_finds_what_the_old_one_did() {
        let mut c = super::super::bare_db();
        migrations().to_version(&mut c, 9).unwrap();
        let mut w = world_in(c, MIGRATIONS.len(), &["it's sunny", "see you soon", "gone", "apple"]);
        w.c.execute_batch(
            "UPDATE messages SET body = '', deleted_at = '2026-01-01T00:00:00Z' WHERE seq = 3;
             INSERT INTO message_search (rowid, conv, body) VALUES (3, 'c1', 'gone');
             INSERT INTO search_backlog (num) VALUES (1);
             UPDATE search_cursor SET num = 4;",
        )
        .unwrap();

        migrations().to_latest(&mut w.c).unwrap();
        assert_eq!(waiting_now(&w), 3, "every message still there waits for the new index");
        let found_as_before = |w: &World| {
            assert_eq!(bodies(&find(w, w.b, "s")), ["see you soon", "it's sunny"]);
            assert_eq!(bodies(&find(w, w.a, "it's su")), ["it's sunny"]);
            assert!(bodies(&find(w, w.a, "gone")).is_empty());
        };
        found_as_before(&w);
        drain(&w);
        found_as_before(&w);
        assert_eq!(in_index(&w, "s"), [1, 2], "in the index itself");
        assert_eq!(cursor(&w.index).unwrap(), 4);
    }

    /// An index reset is emptied and filled again; searches find what the messages hold
    /// meanwhile.
    #[test]
    fn an_index_reset_is_filled_again_and_searched_meanwhile() {
        let w = world(&["apple one", "apple two"]);
        drain(&w);
        reset(&w.index, stored_progress(&w.c).unwrap()).unwrap();
        assert_eq!((in_index(&w, "apple"), cursor(&w.index).unwrap()), (vec![], 0));
        assert_eq!(bodies(&find(&w, w.a, "apple")), ["apple two", "apple one"]);
        drain(&w);
        assert_eq!(in_index(&w, "apple"), [1, 2]);
    }

    /// The index belongs with its messages database while both have come as far; a drain
    /// between its two writes leaves the index one drain ahead, which the next drain settles.
    /// Put back to another state, either one is told.
    #[test]
    fn an_index_that_does_not_belong_with_its_messages_is_told() {
        let w = world(&["apple draft", "pear"]);
        let together = |w: &World| !stale(indexed_progress(&w.index).unwrap(), stored_progress(&w.c).unwrap());
        assert!(together(&w), "both new");
        drain(&w);
        let before_the_edit = indexed_progress(&w.index).unwrap();
        assert!(together(&w));
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::edit(&w.c, &head, 1, "apple final", chrono::Utc::now()).unwrap();
        let batch = waiting_batch(&w.c, cursor(&w.index).unwrap(), usize::MAX).unwrap();
        apply(&w.index, &batch).unwrap();
        assert!(together(&w), "indexed, not yet taken off the backlog (a crash there)");
        drained(&w.c, &batch).unwrap();
        assert!(together(&w));
        assert_eq!(waiting_now(&w), 0);

        // The index as it was before the edit was drained (a copy of the file): it would still
        // find the draft.
        let set = |num: i64, drains: i64| {
            w.index
                .execute("UPDATE search_cursor SET num = ?1, drains = ?2", [num, drains])
                .unwrap();
        };
        set(before_the_edit.num, before_the_edit.drains);
        assert!(!together(&w), "an index behind its messages");
        let stored = stored_progress(&w.c).unwrap();
        set(stored.num, stored.drains + 2);
        assert!(!together(&w), "an index ahead of its messages");
        set(stored.num + 1, stored.drains);
        assert!(!together(&w), "an index of messages that are not there");
        set(stored.num, stored.drains);
        assert!(together(&w));
    }

    /// An edit of a message the drain has not reached yet is in the backlog too; a batch that
    /// indexed it from there and stopped before the cursor moved leaves it in the index above
    /// the cursor: found once all the same, by its new words.
    #[test]
    fn an_edit_of_a_message_above_the_cursor_is_found_once() {
        let w = world(&["apple draft"]);
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::edit(&w.c, &head, 1, "apple final", chrono::Utc::now()).unwrap();
        assert_eq!(bodies(&find(&w, w.a, "apple")), ["apple final"]);
        assert_eq!(drain_some(&w, 1), (1, false), "the backlog's batch");
        assert_eq!((in_index(&w, "final"), cursor(&w.index).unwrap()), (vec![1], 0));
        assert_eq!(bodies(&find(&w, w.a, "apple")), ["apple final"]);
        assert!(bodies(&find(&w, w.a, "draft")).is_empty());
        assert_eq!(drain_some(&w, 1), (1, false), "the cursor's batch");
        assert_eq!((in_index(&w, "apple"), cursor(&w.index).unwrap()), (vec![1], 1));
        assert_eq!(bodies(&find(&w, w.a, "apple")), ["apple final"]);
    }

    /// An edit made while the drain indexes the one before stays queued (its row's version
    /// moved), so the index ends with the newest words.
    #[test]
    fn an_edit_queued_again_while_the_drain_works_is_not_taken_off() {
        let w = world(&["first draft"]);
        drain(&w);
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::edit(&w.c, &head, 1, "second take", chrono::Utc::now()).unwrap();
        let batch = waiting_batch(&w.c, cursor(&w.index).unwrap(), usize::MAX).unwrap();
        messages::edit(&w.c, &head, 1, "third time", chrono::Utc::now()).unwrap();
        apply(&w.index, &batch).unwrap();
        drained(&w.c, &batch).unwrap();
        assert_eq!(in_index(&w, "take"), [1], "the batch's words are in");
        assert_eq!(waiting_now(&w), 1, "the newer edit still waits");
        assert!(bodies(&find(&w, w.a, "take")).is_empty());
        assert_eq!(bodies(&find(&w, w.a, "third")), ["third time"]);
        drain(&w);
        assert_eq!((in_index(&w, "take"), in_index(&w, "third")), (vec![], vec![1]));
    }

    #[test]
    fn results_from_the_index_and_the_backlog_merge_newest_first_across_pages() {
        let w = world(&["apple 1", "apple 2", "pear"]);
        drain(&w);
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::append(&w.c, &head, w.b, ClientId::new(), "apple 4", None, chrono::Utc::now()).unwrap();
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::append(&w.c, &head, w.a, ClientId::new(), "apple 5", None, chrono::Utc::now()).unwrap();
        // An edit of an indexed message waits in the backlog too: found by its new place only once.
        messages::edit(&w.c, &head, 1, "apple 1 edited", chrono::Utc::now()).unwrap();
        let terms = Terms::parse("apple").unwrap();
        let first = search(&w.c, w.a, &terms, None, None, 2).unwrap();
        assert_eq!(bodies(&first), ["apple 5", "apple 4"]);
        let second = search(&w.c, w.a, &terms, Some(w.ab), below(&w, w.a, &first), 2).unwrap();
        assert_eq!(
            (bodies(&second), &second.next),
            (vec!["apple 2", "apple 1 edited"], &None)
        );
        drain(&w);
        let all = search(&w.c, w.a, &terms, None, None, 10).unwrap();
        assert_eq!(bodies(&all), ["apple 5", "apple 4", "apple 2", "apple 1 edited"]);
    }

    #[test]
    fn an_edit_waiting_in_the_backlog_is_found_by_its_new_words_only() {
        // Edited before and after its first indexing, and again while waiting.
        let w = world(&["first draft", "second draft"]);
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::edit(&w.c, &head, 1, "final version", chrono::Utc::now()).unwrap();
        assert_eq!(bodies(&find(&w, w.a, "draft")), ["second draft"]);
        assert_eq!(bodies(&find(&w, w.a, "final")), ["final version"]);
        drain(&w);
        messages::edit(&w.c, &head, 2, "second take", chrono::Utc::now()).unwrap();
        assert_eq!(in_index(&w, "draft"), [2], "the index still has the old words...");
        assert!(
            bodies(&find(&w, w.a, "draft")).is_empty(),
            "...which search does not use"
        );
        assert_eq!(bodies(&find(&w, w.a, "take")), ["second take"]);
        messages::edit(&w.c, &head, 2, "second thought", chrono::Utc::now()).unwrap();
        assert!(bodies(&find(&w, w.a, "take")).is_empty());
        assert_eq!(bodies(&find(&w, w.a, "thought")), ["second thought"]);
        drain(&w);
        assert!(in_index(&w, "draft").is_empty() && in_index(&w, "take").is_empty());
        assert_eq!(bodies(&find(&w, w.a, "second")), ["second thought"]);
        assert_eq!(bodies(&find(&w, w.a, "final")), ["final version"]);
    }

    #[test]
    fn a_delete_waiting_in_the_backlog_is_never_found_and_leaves_the_index_without_trace() {
        let w = world(&["keep me", "secret plan", "another secret"]);
        drain(&w);
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        // Deleted while still waiting (never indexed), while an edit waits, and once indexed.
        messages::append(
            &w.c,
            &head,
            w.a,
            ClientId::new(),
            "fresh secret",
            None,
            chrono::Utc::now(),
        )
        .unwrap();
        messages::edit(&w.c, &head, 3, "edited secret", chrono::Utc::now()).unwrap();
        assert_eq!(
            bodies(&find(&w, w.a, "secret")),
            ["fresh secret", "edited secret", "secret plan"]
        );
        for seq in [4, 3, 2] {
            messages::delete(&w.c, w.ab, seq, chrono::Utc::now()).unwrap();
        }
        assert!(bodies(&find(&w, w.a, "secret")).is_empty(), "never found once deleted");
        assert_eq!(in_index(&w, "secret"), [2, 3], "in the index until the drain...");
        drain(&w);
        assert!(bodies(&find(&w, w.a, "secret")).is_empty());
        assert!(
            in_index(&w, "secret").is_empty() && in_index(&w, "plan").is_empty(),
            "...and out of it after"
        );
        assert_eq!(bodies(&find(&w, w.a, "keep")), ["keep me"]);
    }

    #[test]
    fn a_non_member_never_sees_backlog_messages() {
        let w = world(&["private words", "more private words"]);
        let c = UserId::new();
        users::registered(&w.c, c, "c").unwrap();
        let (ac, _) = conversations::get_or_create_direct(&w.c, w.a, c, chrono::Utc::now()).unwrap();
        let ac = conversations::head(&w.c, ac.id).unwrap().unwrap();
        messages::append(
            &w.c,
            &ac,
            c,
            ClientId::new(),
            "private to a and c",
            None,
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(bodies(&find(&w, c, "private")), ["private to a and c"]);
        assert!(bodies(&find(&w, UserId::new(), "private")).is_empty());
        assert_eq!(
            bodies(&search(&w.c, w.a, &Terms::parse("private").unwrap(), Some(w.ab), None, 10).unwrap()),
            ["more private words", "private words"],
            "only the conversation asked for"
        );
        assert_eq!(bodies(&find(&w, w.a, "private")).len(), 3);
    }

    #[test]
    fn many_waiting_messages_are_matched_a_chunk_at_a_time() {
        let many: Vec<String> = (0..PENDING_CHUNK * 2 + 10).map(|i| format!("note {i}")).collect();
        let w = world(&many.iter().map(String::as_str).collect::<Vec<_>>());
        let terms = Terms::parse("note").unwrap();
        let mut seen = 0;
        let mut next = None;
        loop {
            let page = search(&w.c, w.a, &terms, None, next, 50).unwrap();
            seen += page.messages.len();
            next = below(&w, w.a, &page);
            if next.is_none() {
                break;
            }
        }
        assert_eq!(seen, many.len());
        assert_eq!(bodies(&find(&w, w.a, "7 note")), ["note 7"]);
    }

    /// Each emoji is a word of its own, found by itself whatever its skin tone or its
    /// presentation selector, whether waiting for the index or in it; a ZWJ sequence by each of
    /// its parts; a flag only by itself; a keycap by its key in a keycap.
    #[test]
    fn emoji_are_words_of_their_own() {
        let texts = [
            "great👍",
            "👍👍 done",
            "thumbs 👍🏽 up",
            "love it ❤️",
            "the family 👨‍👩‍👧 came",
            "vive la 🇫🇷!",
            "🇷🇫 backwards",
            "press 1️⃣ then #️⃣",
            "Acme™ ©2026",
        ];
        let queries: [(&str, &[&str]); 20] = [
            ("👍", &["thumbs 👍🏽 up", "👍👍 done", "great👍"]),
            ("👍🏿", &["thumbs 👍🏽 up", "👍👍 done", "great👍"]),
            ("👍🏽 up", &["thumbs 👍🏽 up"]),
            ("great", &["great👍"]),
            ("👍great", &["great👍"]),
            ("❤", &["love it ❤️"]),
            ("❤️", &["love it ❤️"]),
            ("❤\u{FE0E}", &["love it ❤️"]),
            ("👨‍👩‍👧", &["the family 👨‍👩‍👧 came"]),
            ("👧 family", &["the family 👨‍👩‍👧 came"]),
            ("👩‍👩‍👦", &[]),
            ("🇫🇷", &["vive la 🇫🇷!"]),
            ("🇷🇫", &["🇷🇫 backwards"]),
            ("🇫🇷🇷🇫", &[]),
            ("1️⃣", &["press 1️⃣ then #️⃣"]),
            ("#️⃣ press", &["press 1️⃣ then #️⃣"]),
            ("acme", &["Acme™ ©2026"]),
            ("™", &["Acme™ ©2026"]),
            ("© 2026", &["Acme™ ©2026"]),
            ("🎉", &[]),
        ];
        let w = world(&texts);
        let found_by_their_emoji = |w: &World| {
            for (q, expected) in queries {
                assert_eq!(bodies(&find(w, w.a, q)), expected, "{q}");
            }
        };
        found_by_their_emoji(&w);
        drain(&w);
        found_by_their_emoji(&w);
        assert_eq!(in_index(&w, "👍"), [1, 2, 3], "in the index itself");
    }

    /// The words of a query are the words the index's tokenizer takes from the same text, folded
    /// (both the index and the scratch index of waiting messages hold what the tokenizer makes
    /// of `fold`'s output): emoji and symbols, marks inside words, compatibility forms.
    #[test]
    fn the_words_of_a_query_are_the_tokens_of_the_index() {
        let w = world(&[]);
        let tokens = |text: &str| -> Vec<String> {
            w.c.execute(
                "INSERT INTO temp.search_pending (rowid, body) VALUES (1, ?1)",
                [fold(text)],
            )
            .unwrap();
            w.c.execute_batch(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.pending_terms USING fts5vocab(temp, search_pending, instance)",
            )
            .unwrap();
            let terms =
                w.c.prepare("SELECT term FROM temp.pending_terms ORDER BY offset")
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
            w.c.execute(
                "INSERT INTO temp.search_pending (search_pending) VALUES ('delete-all')",
                [],
            )
            .unwrap();
            terms
        };
        for text in [
            "great👍🏽, thanks!",
            "👍👍👍",
            "🇫🇷🇩🇪🇮",
            "👨‍👩‍👧‍👦 and 🏳️‍🌈 and 👩🏽‍🚀",
            "🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴",
            "1️⃣2️⃣ #️⃣ *️⃣ 42",
            "Acme™ ©2026 ® ℹ️ Ⓜ️",
            "a→b ★ ♥️ ♪ ☐ ✓ ✔️ € 5°",
            "5㎏ ½ ﬁnance Ｆｕｌｌ ㈱",
            "नमस्ते दुनिया",
            "สวัสดีครับ ทุกคน",
            "ΟΔΟΣ Αθηνάς שָׁלוֹם ﻣَﺮْﺣَﺒﺎً",
            "می‌خواهم",
            "x\u{FE0F}y \u{1F3FD} \u{200D} \u{FE0F}",
            "e\u{0301}te\u{0301}",
        ] {
            let words = Terms::parse(text).map(|t| t.0).unwrap_or_default();
            assert_eq!(words, tokens(text), "{text}");
        }
        // Every character of the planes in use (letters of every script, symbols, emoji) and the
        // tags, alone, before a letter and after one.
        for block in (0..0x20).chain([0xE0]) {
            let text: String = (block * 0x1000..(block + 1) * 0x1000)
                .filter_map(char::from_u32)
                .flat_map(|c| [c, ' ', 'x', c, ' ', c, 'x', ' '])
                .collect();
            let words: Vec<String> = words(&text).into_iter().map(|(_, word)| word).collect();
            assert!(words == tokens(&text), "from U+{:X}", block * 0x1000);
        }
    }

    #[test]
    fn queries_are_bounded_and_may_have_no_word_which_finds_nothing() {
        assert!(Terms::parse("").is_err());
        assert!(Terms::parse("  ").is_err());
        assert!(Terms::parse(&"a".repeat(201)).is_err());
        let w = world(&["!!! ???", "\u{1F3FD}"]);
        for q in ["!!! ???", "-", "\u{1F3FD}", "\u{200D}\u{FE0F}"] {
            assert_eq!(Terms::parse(q), Ok(Terms(Vec::new())), "{q}");
            assert!(bodies(&find(&w, w.a, q)).is_empty(), "{q}");
        }
        assert_eq!(
            Terms::parse("great👍🏽!").unwrap(),
            Terms(["great", "👍"].map(String::from).to_vec())
        );
        assert_eq!(
            Terms::parse("Éclair, \"quoted\"* OR NEAR(x)").unwrap(),
            Terms(["eclair", "quoted", "or", "near", "x"].map(String::from).to_vec()),
            "query syntax is only words"
        );
    }

    #[test]
    fn snippets_show_the_match_with_a_little_context() {
        let terms = Terms::parse("needle").unwrap();
        let long = format!("{} the Needle is here {}", "hay ".repeat(40), "straw ".repeat(60));
        let s = snippet(&long, &terms);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("the Needle is here"), "{s}");
        assert!(s.chars().count() <= SNIPPET_CHARS + 2);
        assert_eq!(snippet("a needle", &terms), "a needle");
        let party = format!("{} and then 🎉🎉 at last {}", "wait ".repeat(40), "cake ".repeat(60));
        let s = snippet(&party, &Terms::parse("🎉").unwrap());
        assert!(s.starts_with('…') && s.contains("and then 🎉🎉 at last"), "{s}");
        let s = snippet(&party.replace("🎉🎉", "👍🏽"), &Terms::parse("👍").unwrap());
        assert!(s.starts_with('…') && s.contains("and then 👍🏽 at last"), "{s}");
    }
}
