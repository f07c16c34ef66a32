//! Full-text search of message bodies (SQLite FTS5).
//!
//! Each message is indexed under its number (`num`, which grows with time, so results come
//! newest first by walking the index backwards) with two columns: its conversation's token
//! (`c<num of the conversation>`) and its body, folded (lower case, without accents: the
//! diacritics of Latin, Greek and Cyrillic letters and the vowel points of Hebrew and Arabic;
//! the marks that make up Indic or Thai letters are kept, they are not accents). A query is the
//! caller's words folded the same way, every one required, the last one also as a prefix,
//! restricted to the tokens of the conversations the caller is a member of now: the index
//! intersects both, so a common word in a large database costs no more than the caller's share
//! of it. The index is contentless and deletes securely: a deleted message leaves no text in it.
//!
//! Indexing is off the commit path, and a background drain indexes what waits, a batch per
//! write ([`reindex_some`]), so that the index flushes one segment per batch instead of one per
//! message. What waits: the messages stored since the drain's cursor (`search_cursor`, the
//! highest `num` it indexed; storing a message writes nothing for search) and the messages in
//! `search_backlog` ([`queue`]: edited since, or all of them while a migration rebuilds the
//! index). Until then a search reads the waiting messages themselves: their current bodies,
//! folded and matched by the same tokenizer in a scratch index of the reader's connection, so a
//! message is found the moment it is stored, an edited one by its new words only. A deletion
//! removes the message from the index at once (secure delete) and from the backlog.

use super::messages::message_from;
use gochat_proto::dto::Message;
use gochat_proto::ids::{ConversationId, UserId};
use gochat_proto::limits::MAX_SEARCH_CHARS;
use rusqlite::{Connection, params};
use std::time::{Duration, Instant};
use unicode_normalization::UnicodeNormalization;

/// Characters of context a snippet shows before the first match, and its longest length.
const SNIPPET_LEAD: usize = 40;
const SNIPPET_CHARS: usize = 160;
/// Waiting messages put in the scratch index at a time while a search reads them.
const PENDING_CHUNK: usize = 256;
/// The scratch index of a reader's connection: the same columns' tokenizer as
/// `message_search`, in the connection's temporary schema (allowed on a read-only connection),
/// filled and emptied within one search.
const PENDING_SCHEMA: &str = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_pending USING fts5(
    body, content = '', tokenize = 'unicode61 remove_diacritics 2'
)";

/// Records that message `num` (edited) is to be indexed again with its current body; until the
/// drain has, [`search`] reads it from the backlog.
pub fn queue(c: &Connection, num: i64) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT OR IGNORE INTO search_backlog (num) VALUES (?1)")?
        .execute([num])?;
    Ok(())
}

/// Removes a deleted message from the index now (securely: no trace of its words) and from the
/// backlog, whichever of them holds it.
pub fn remove(c: &Connection, num: i64) -> rusqlite::Result<()> {
    unindex(c, num)?;
    c.prepare_cached("DELETE FROM search_backlog WHERE num = ?1")?
        .execute([num])?;
    Ok(())
}

fn index(c: &Connection, num: i64, conversation_num: i64, body: &str) -> rusqlite::Result<()> {
    if body.trim().is_empty() {
        return Ok(());
    }
    c.prepare_cached("INSERT INTO message_search (rowid, conv, body) VALUES (?1, ?2, ?3)")?
        .execute(params![num, format!("c{conversation_num}"), fold(body)])?;
    Ok(())
}

fn unindex(c: &Connection, num: i64) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
        .execute([num])?;
    Ok(())
}

/// Indexes the messages waiting (see the module's documentation), the backlog first, then
/// those stored since the cursor, oldest first, with their current bodies, replacing what the
/// index held for them, until none wait or `budget` is spent; returns whether none wait.
pub fn reindex_some(c: &Connection, budget: Duration) -> rusqlite::Result<bool> {
    let started = Instant::now();
    // Checked after each message: a slice indexes one at least.
    let spent = || started.elapsed() >= budget;
    let mut queued = c.prepare_cached(
        "SELECT m.num, c.num, m.body FROM search_backlog b
         JOIN messages m ON m.num = b.num JOIN conversations c ON c.id = m.conversation_id
         ORDER BY b.num",
    )?;
    let mut rows = queued.query([])?;
    // Backlog rows up to here are done with (a row of a message gone is simply dropped).
    let mut done_up_to = i64::MAX;
    while let Some(row) = rows.next()? {
        let num = row.get(0)?;
        reindex(c, num, row.get(1)?, row.get_ref(2)?.as_str()?)?;
        if spent() {
            done_up_to = num;
            break;
        }
    }
    drop(rows);
    c.prepare_cached("DELETE FROM search_backlog WHERE num <= ?1")?
        .execute([done_up_to])?;
    if done_up_to != i64::MAX {
        // Counting what is left would cost more than the slice itself during a rebuild (a
        // million rows): at worst the next slice finds nothing.
        return Ok(false);
    }
    let cursor = cursor(c)?;
    let mut stored = c.prepare_cached(
        "SELECT m.num, c.num, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.num > ?1 ORDER BY m.num",
    )?;
    let mut rows = stored.query([cursor])?;
    let mut indexed_up_to = cursor;
    while let Some(row) = rows.next()? {
        let num = row.get(0)?;
        // Not in the index yet, unless an edit of it was drained from the backlog since it was
        // stored (this slice or an earlier one).
        reindex(c, num, row.get(1)?, row.get_ref(2)?.as_str()?)?;
        indexed_up_to = num;
        if spent() {
            break;
        }
    }
    drop(rows);
    if indexed_up_to > cursor {
        c.prepare_cached("UPDATE search_cursor SET num = ?1")?
            .execute([indexed_up_to])?;
    }
    Ok(indexed_up_to == last_num(c)?)
}

/// Replaces what the index holds for message `num` with `body`.
fn reindex(c: &Connection, num: i64, conversation_num: i64, body: &str) -> rusqlite::Result<()> {
    unindex(c, num)?;
    index(c, num, conversation_num, body)
}

/// The highest `num` the drain indexed: every message up to it is in the index or the backlog.
fn cursor(c: &Connection) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT num FROM search_cursor")?
        .query_row([], |r| r.get(0))
}

fn last_num(c: &Connection) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT coalesce(max(num), 0) FROM messages")?
        .query_row([], |r| r.get(0))
}

/// How many messages wait to be indexed (an edit above the cursor counted once).
pub fn backlog_len(c: &Connection) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "SELECT (SELECT count(*) FROM search_backlog WHERE num <= (SELECT num FROM search_cursor))
              + (SELECT count(*) FROM messages WHERE num > (SELECT num FROM search_cursor) AND deleted_at IS NULL)",
    )?
    .query_row([], |r| r.get(0))
}

/// The words of a query, folded as the index folds bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms(Vec<String>);

impl Terms {
    /// `q` must have 1 to [`MAX_SEARCH_CHARS`] characters and at least one word.
    pub fn parse(q: &str) -> Result<Self, &'static str> {
        let chars = q.chars().count();
        if q.trim().is_empty() || chars > MAX_SEARCH_CHARS {
            return Err("q must have 1 to 200 characters");
        }
        let words: Vec<String> = words(&fold(q)).map(|(_, w)| w.to_owned()).collect();
        if words.is_empty() {
            return Err("q has no words to search for");
        }
        Ok(Self(words))
    }

    /// The FTS5 expression: every word (quoted, so nothing in it is query syntax), the last
    /// one also as a prefix.
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

    fn matches(&self, word: &str) -> bool {
        let folded = fold(word);
        let last = self.0.len() - 1;
        self.0
            .iter()
            .enumerate()
            .any(|(i, t)| folded == *t || (i == last && folded.starts_with(t.as_str())))
    }
}

/// One page of results: messages newest first, and the cursor of the next page.
pub struct Found {
    pub messages: Vec<(Message, String)>,
    pub next: Option<i64>,
}

/// Searches the conversations `user` is a member of now (or only `conversation`, which the
/// caller checked is one of them), below the message number `before` when given: the index,
/// and the messages still waiting for it, merged newest first.
pub fn search(
    c: &Connection,
    user: UserId,
    terms: &Terms,
    conversation: Option<ConversationId>,
    before: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Found> {
    // Outside the snapshot below, so that it is created once per connection, not per search.
    c.prepare_cached(PENDING_SCHEMA)?.execute([])?;
    // One snapshot for the index and the backlog: a batch drained between two reads would be
    // in neither. Read only; dropping it rolls the scratch index back too.
    let _snapshot = c.unchecked_transaction()?;
    let tokens: Vec<String> = c
        .prepare_cached(
            "SELECT 'c' || c.num FROM members m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.user_id = ?1 AND (?2 IS NULL OR c.id = ?2)",
        )?
        .query_map(params![user, conversation], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if tokens.is_empty() {
        return Ok(Found {
            messages: Vec::new(),
            next: None,
        });
    }
    let before = before.unwrap_or(i64::MAX);
    let wanted = limit as usize + 1;
    let cursor = cursor(c)?;
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
    let mut load = c.prepare_cached(
        "SELECT conversation_id, seq, num, id, sender_id, client_id, body, sent_at, reply_to_seq, edited_at,
                deleted_at, reactions, attachments, change
         FROM messages WHERE num = ?1",
    )?;
    let mut messages = Vec::with_capacity(nums.len());
    for num in nums {
        let message = load.query_row([num], message_from)?;
        let snippet = snippet(&message.body, terms);
        messages.push((message, snippet));
    }
    Ok(Found {
        next: more.then(|| nums.last().copied()).flatten(),
        messages,
    })
}

/// The newest `wanted` indexed messages below `before` that match, in the conversations of
/// `tokens`; those waiting are left to [`waiting`], which reads their current bodies (an edited
/// message's entry still holds its old words until the drain). The caller bounds `before` by
/// the cursor: above it the index holds only entries that [`waiting`] reads anyway.
fn indexed(c: &Connection, tokens: &[String], terms: &Terms, before: i64, wanted: usize) -> rusqlite::Result<Vec<i64>> {
    let query = format!("conv : ({}) AND body : ({})", tokens.join(" OR "), terms.expression());
    // The limit is written in: SQLite prepares a statement again whenever a bound LIMIT changes.
    c.prepare_cached(&format!(
        "SELECT rowid FROM message_search WHERE message_search MATCH ?1 AND rowid < ?2
           AND NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.num = message_search.rowid)
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

/// The words of `text` (runs of letters and digits, as the index's tokenizer sees them) with
/// their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

/// Lower case, without accents (see the module's documentation).
fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_accent(*c))
        .nfc()
        .flat_map(char::to_lowercase)
        .collect()
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
    let start = words(body).find(|(_, w)| terms.matches(w)).map_or(0, |(at, _)| at);
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

    struct World {
        c: Connection,
        a: UserId,
        b: UserId,
        ab: ConversationId,
    }

    fn world(bodies: &[&str]) -> World {
        world_in(test_db(), bodies)
    }

    fn world_in(c: Connection, bodies: &[&str]) -> World {
        let (a, b) = (UserId::new(), UserId::new());
        users::registered(&c, a, "a").unwrap();
        users::registered(&c, b, "b").unwrap();
        let (head, _) = conversations::get_or_create_direct(&c, a, b, chrono::Utc::now()).unwrap();
        for body in bodies {
            let head = conversations::head(&c, head.id).unwrap().unwrap();
            messages::append(&c, &head, a, ClientId::new(), body, None, chrono::Utc::now()).unwrap();
        }
        World { c, a, b, ab: head.id }
    }

    fn bodies(found: &Found) -> Vec<&str> {
        found.messages.iter().map(|(m, _)| m.body.as_str()).collect()
    }

    fn find(w: &World, user: UserId, q: &str) -> Found {
        search(&w.c, user, &Terms::parse(q).unwrap(), None, None, 10).unwrap()
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
        let rest = search(&w.c, w.a, &Terms::parse("apple").unwrap(), None, first.next, 2).unwrap();
        assert_eq!((bodies(&rest), rest.next), (vec!["apple 1"], None));
    }

    /// Runs the background drain to the end, as the service does after a commit.
    fn drain(w: &World) {
        assert!(reindex_some(&w.c, Duration::MAX).unwrap());
        assert_eq!(backlog_len(&w.c).unwrap(), 0);
    }

    /// What the index itself holds for `q`, backlog aside.
    fn in_index(w: &World, q: &str) -> Vec<i64> {
        let query = format!("body : ({})", Terms::parse(q).unwrap().expression());
        w.c.prepare("SELECT rowid FROM message_search WHERE message_search MATCH ?1")
            .unwrap()
            .query_map([query], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_message_just_stored_is_found_before_the_drain_ran_and_after() {
        let w = world(&["Le café est prêt", "tea time"]);
        assert_eq!(backlog_len(&w.c).unwrap(), 2, "stored, not indexed");
        assert!(in_index(&w, "cafe").is_empty());
        assert_eq!(bodies(&find(&w, w.a, "cafe")), ["Le café est prêt"]);
        assert_eq!(bodies(&find(&w, w.b, "CAFÉ pr")), ["Le café est prêt"]);
        assert!(bodies(&find(&w, w.a, "caf est")).is_empty(), "the same prefix rule");
        drain(&w);
        assert_eq!(in_index(&w, "cafe"), [1]);
        assert_eq!(bodies(&find(&w, w.a, "cafe")), ["Le café est prêt"]);
        assert!(bodies(&find(&w, w.a, "caf est")).is_empty());
    }

    /// A slice whose budget is spent stops after one message at least, leaves the rest
    /// waiting (and found by searches all the same), and the next slice goes on from there.
    #[test]
    fn a_drain_slice_stops_at_its_budget_and_the_next_goes_on() {
        let w = world(&["apple one", "apple two", "apple three"]);
        for (slice, left) in [(1, 2), (2, 1)] {
            assert!(!reindex_some(&w.c, Duration::ZERO).unwrap(), "slice {slice}");
            assert_eq!(backlog_len(&w.c).unwrap(), left);
            assert_eq!(in_index(&w, "apple").len(), 3 - left as usize);
            assert_eq!(
                bodies(&find(&w, w.a, "apple")),
                ["apple three", "apple two", "apple one"]
            );
        }
        assert!(
            reindex_some(&w.c, Duration::ZERO).unwrap(),
            "the last message, and none waits"
        );
        assert_eq!(backlog_len(&w.c).unwrap(), 0);
        assert_eq!(in_index(&w, "apple"), [1, 2, 3]);
    }

    #[test]
    fn the_index_rebuilt_with_word_starts_finds_what_the_old_one_did_and_no_deleted_message() {
        // A database as migration 4 left it, one message deleted (migration 5 drops its index,
        // whatever it held).
        let mut c = super::super::bare_db();
        migrations().to_version(&mut c, 4).unwrap();
        let mut w = world_in(c, &["it's sunny", "see you soon", "gone"]);
        messages::delete(&w.c, w.ab, 3, chrono::Utc::now()).unwrap();

        migrations().to_latest(&mut w.c).unwrap();
        assert_eq!(
            backlog_len(&w.c).unwrap(),
            2,
            "every message still there waits for the new index"
        );
        let found_as_before = |w: &World| {
            assert_eq!(bodies(&find(w, w.b, "s")), ["see you soon", "it's sunny"]);
            assert_eq!(bodies(&find(w, w.a, "it's su")), ["it's sunny"]);
            assert!(bodies(&find(w, w.a, "gone")).is_empty());
        };
        found_as_before(&w);
        drain(&w);
        found_as_before(&w);
        assert_eq!(in_index(&w, "s"), [1, 2], "in the index itself");
    }

    /// Before the cursor (migration 6) every message stored was queued in the backlog: what
    /// waits there is still found and drained, and what is stored after waits above the cursor.
    #[test]
    fn a_backlog_from_before_the_cursor_is_drained_and_new_messages_wait_above_it() {
        let mut c = super::super::bare_db();
        migrations().to_version(&mut c, 5).unwrap();
        let mut w = world_in(c, &["apple one", "apple two"]);
        w.c.execute_batch("INSERT INTO search_backlog (num) SELECT num FROM messages")
            .unwrap();
        migrations().to_latest(&mut w.c).unwrap();
        assert_eq!(cursor(&w.c).unwrap(), 2);
        assert_eq!(backlog_len(&w.c).unwrap(), 2);
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::append(
            &w.c,
            &head,
            w.b,
            ClientId::new(),
            "apple three",
            None,
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(backlog_len(&w.c).unwrap(), 3);
        let all = ["apple three", "apple two", "apple one"];
        assert_eq!(bodies(&find(&w, w.a, "apple")), all);
        drain(&w);
        assert_eq!(in_index(&w, "apple"), [1, 2, 3]);
        assert_eq!(cursor(&w.c).unwrap(), 3);
        assert_eq!(bodies(&find(&w, w.a, "apple")), all);
    }

    /// An edit of a message the drain has not reached yet is in the backlog too; a slice that
    /// indexed it from there and stopped before the cursor moved leaves it in the index above
    /// the cursor: found once all the same, by its new words.
    #[test]
    fn an_edit_of_a_message_above_the_cursor_is_found_once() {
        let w = world(&["apple draft"]);
        let head = conversations::head(&w.c, w.ab).unwrap().unwrap();
        messages::edit(&w.c, &head, 1, "apple final", chrono::Utc::now()).unwrap();
        assert_eq!(bodies(&find(&w, w.a, "apple")), ["apple final"]);
        assert!(!reindex_some(&w.c, Duration::ZERO).unwrap(), "the backlog's slice");
        assert_eq!((in_index(&w, "final"), cursor(&w.c).unwrap()), (vec![1], 0));
        assert_eq!(bodies(&find(&w, w.a, "apple")), ["apple final"]);
        assert!(bodies(&find(&w, w.a, "draft")).is_empty());
        assert!(reindex_some(&w.c, Duration::ZERO).unwrap(), "the cursor's slice");
        assert_eq!((in_index(&w, "apple"), cursor(&w.c).unwrap()), (vec![1], 1));
        assert_eq!(bodies(&find(&w, w.a, "apple")), ["apple final"]);
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
        let second = search(&w.c, w.a, &terms, Some(w.ab), first.next, 2).unwrap();
        assert_eq!(
            (bodies(&second), second.next),
            (vec!["apple 2", "apple 1 edited"], None)
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
        assert!(bodies(&find(&w, w.a, "secret")).is_empty());
        assert!(in_index(&w, "secret").is_empty(), "removed from the index at once");
        assert_eq!(backlog_len(&w.c).unwrap(), 0, "and from the backlog");
        drain(&w);
        assert!(bodies(&find(&w, w.a, "secret")).is_empty());
        assert!(in_index(&w, "secret").is_empty() && in_index(&w, "plan").is_empty());
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
            next = page.next;
            if next.is_none() {
                break;
            }
        }
        assert_eq!(seen, many.len());
        assert_eq!(bodies(&find(&w, w.a, "7 note")), ["note 7"]);
    }

    #[test]
    fn queries_are_bounded_and_need_words() {
        assert!(Terms::parse("").is_err());
        assert!(Terms::parse("  ").is_err());
        assert!(Terms::parse("!!! ???").is_err());
        assert!(Terms::parse(&"a".repeat(201)).is_err());
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
    }
}
