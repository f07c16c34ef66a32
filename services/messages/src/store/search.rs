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

use super::messages::message_from;
use gochat_proto::dto::Message;
use gochat_proto::ids::{ConversationId, UserId};
use gochat_proto::limits::MAX_SEARCH_CHARS;
use rusqlite::{Connection, params};
use unicode_normalization::UnicodeNormalization;

/// Characters of context a snippet shows before the first match, and its longest length.
const SNIPPET_LEAD: usize = 40;
const SNIPPET_CHARS: usize = 160;
/// Messages indexed per write when an older database's index is rebuilt.
const REINDEX_BATCH: i64 = 2000;

pub fn index(c: &Connection, num: i64, conversation_num: i64, body: &str) -> rusqlite::Result<()> {
    if body.trim().is_empty() {
        return Ok(());
    }
    c.prepare_cached("INSERT INTO message_search (rowid, conv, body) VALUES (?1, ?2, ?3)")?
        .execute(params![num, format!("c{conversation_num}"), fold(body)])?;
    Ok(())
}

pub fn unindex(c: &Connection, num: i64) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
        .execute([num])?;
    Ok(())
}

/// Indexes up to a batch of the messages waiting in `search_backlog` (left there by the
/// migration that rebuilt the index); returns how many remain.
pub fn reindex_some(c: &Connection) -> rusqlite::Result<i64> {
    let waiting: Vec<(i64, i64, String)> = c
        .prepare_cached(
            "SELECT m.num, c.num, m.body FROM search_backlog b
             JOIN messages m ON m.num = b.num JOIN conversations c ON c.id = m.conversation_id
             ORDER BY b.num LIMIT ?1",
        )?
        .query_map([REINDEX_BATCH], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (num, conversation_num, body) in &waiting {
        unindex(c, *num)?;
        index(c, *num, *conversation_num, body)?;
    }
    let last = waiting.last().map_or(i64::MAX, |(num, ..)| *num);
    c.prepare_cached("DELETE FROM search_backlog WHERE num <= ?1")?
        .execute([last])?;
    c.prepare_cached("SELECT count(*) FROM search_backlog")?
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
/// caller checked is one of them), below the message number `before` when given.
pub fn search(
    c: &Connection,
    user: UserId,
    terms: &Terms,
    conversation: Option<ConversationId>,
    before: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Found> {
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
    let query = format!("conv : ({}) AND body : ({})", tokens.join(" OR "), terms.expression());
    let nums: Vec<i64> = c
        .prepare_cached(
            "SELECT rowid FROM message_search WHERE message_search MATCH ?1 AND rowid < ?2
             ORDER BY rowid DESC LIMIT ?3",
        )?
        .query_map(params![query, before.unwrap_or(i64::MAX), i64::from(limit) + 1], |r| {
            r.get(0)
        })?
        .collect::<rusqlite::Result<_>>()?;
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
    use crate::store::{conversations, messages, test_db, users};
    use gochat_proto::ids::ClientId;

    struct World {
        c: Connection,
        a: UserId,
        b: UserId,
        ab: ConversationId,
    }

    fn world(bodies: &[&str]) -> World {
        let c = test_db();
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
