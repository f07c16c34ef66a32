//! The messages of a conversation, numbered 1, 2, 3… by `seq`; their edits, deletions and
//! reactions (each bumps the conversation's change counter); pages of history and of changes.

use super::conversations::{self, Head};
use super::{attachments, search, timeline};
use gochat_proto::Timestamp;
use gochat_proto::dto::{Attachment, ChangesPage, Message, MessagesPage, Reaction};
use gochat_proto::ids::{ClientId, ConversationId, MessageId, UserId};
use gochat_proto::limits::{MAX_REACTIONS, MAX_REACTIONS_IN_ALL, MAX_REACTIONS_PER_MEMBER};
use gochat_proto::validate;
use rusqlite::{Connection, OptionalExtension, Row, Statement, params};

/// Which part of a conversation's history a page covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// The newest messages.
    Newest,
    /// The messages just below this seq.
    Before(i64),
    /// The messages just above this seq.
    After(i64),
}

/// The columns [`message_from`] reads.
const COLUMNS: &str = "conversation_id, seq, num, id, sender_id, client_id, body, sent_at, reply_to_seq, \
                       edited_at, deleted_at, reactions, attachments, change";

/// A message from a row of [`COLUMNS`] (for one row; many rows read [`Columns`]).
pub fn message_from(r: &Row<'_>) -> rusqlite::Result<Message> {
    Columns::of(r.as_ref())?.message(r)
}

/// Where each of [`COLUMNS`] is in a statement's rows. Found by name once per statement: a
/// lookup by name compares the names of the columns before it (SQLite's own, case-insensitive),
/// which, per column of every row of a page, was the largest part of reading one.
struct Columns {
    id: usize,
    conversation_id: usize,
    seq: usize,
    sender_id: usize,
    body: usize,
    sent_at: usize,
    client_id: usize,
    reply_to_seq: usize,
    edited_at: usize,
    deleted_at: usize,
    reactions: usize,
    attachments: usize,
    change: usize,
}

impl Columns {
    fn of(stmt: &Statement<'_>) -> rusqlite::Result<Self> {
        let at = |name| stmt.column_index(name);
        Ok(Self {
            id: at("id")?,
            conversation_id: at("conversation_id")?,
            seq: at("seq")?,
            sender_id: at("sender_id")?,
            body: at("body")?,
            sent_at: at("sent_at")?,
            client_id: at("client_id")?,
            reply_to_seq: at("reply_to_seq")?,
            edited_at: at("edited_at")?,
            deleted_at: at("deleted_at")?,
            reactions: at("reactions")?,
            attachments: at("attachments")?,
            change: at("change")?,
        })
    }

    fn message(&self, r: &Row<'_>) -> rusqlite::Result<Message> {
        Ok(Message {
            id: r.get(self.id)?,
            conversation_id: r.get(self.conversation_id)?,
            seq: r.get(self.seq)?,
            sender_id: r.get(self.sender_id)?,
            body: r.get(self.body)?,
            sent_at: timestamp(r, self.sent_at)?,
            client_id: r.get(self.client_id)?,
            reply_to_seq: r.get(self.reply_to_seq)?,
            edited_at: optional_timestamp(r, self.edited_at)?,
            deleted_at: optional_timestamp(r, self.deleted_at)?,
            reactions: json_column(r, self.reactions)?,
            attachments: json_column::<Vec<Attachment>>(r, self.attachments)?,
        })
    }
}

/// A timestamp column. rusqlite writes them as `2026-12-01 02:25:56.611807916+00:00` and reads
/// them back with a format-string parse (~180 ns); chrono's RFC 3339 parser takes that form in
/// ~20 ns, which a page of history pays for every message. Any other form goes through rusqlite.
fn timestamp(r: &Row<'_>, column: usize) -> rusqlite::Result<Timestamp> {
    let value = r.get_ref(column)?;
    match value.as_str().ok().map(chrono::DateTime::parse_from_rfc3339) {
        Some(Ok(at)) => Ok(at.to_utc()),
        _ => r.get(column),
    }
}

fn optional_timestamp(r: &Row<'_>, column: usize) -> rusqlite::Result<Option<Timestamp>> {
    match r.get_ref(column)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => timestamp(r, column).map(Some),
    }
}

/// A JSON list column; NULL is the empty list.
fn json_column<T: serde::de::DeserializeOwned + Default>(r: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    match r.get_ref(column)?.as_str_or_null()? {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))),
    }
}

/// A list as a JSON column: NULL when empty.
fn to_json_column<T: serde::Serialize>(list: &[T]) -> rusqlite::Result<Option<String>> {
    if list.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(list)
        .map(Some)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// The message `sender` already sent with `client_id`, if any.
pub fn find_by_client(c: &Connection, sender: UserId, client_id: ClientId) -> rusqlite::Result<Option<Message>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
    ))?
    .query_row(params![sender, client_id], message_from)
    .optional()
}

/// The message at `seq`, if there is one.
pub fn get(c: &Connection, conversation: ConversationId, seq: i64) -> rusqlite::Result<Option<Message>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq = ?2"
    ))?
    .query_row(params![conversation, seq], message_from)
    .optional()
}

/// The senders of the messages with a seq in `(after, up_to]` who are members now (one who
/// left hears nothing more of the conversation).
pub fn senders_between(
    c: &Connection,
    conversation: ConversationId,
    after: i64,
    up_to: i64,
) -> rusqlite::Result<Vec<UserId>> {
    c.prepare_cached(
        "SELECT DISTINCT m.sender_id FROM messages m
         JOIN members ON members.conversation_id = m.conversation_id AND members.user_id = m.sender_id
         WHERE m.conversation_id = ?1 AND m.seq > ?2 AND m.seq <= ?3",
    )?
    .query_map(params![conversation, after, up_to], |r| r.get(0))?
    .collect()
}

/// Stores a message with the conversation's next seq; it waits for the search index above the
/// drain's cursor (found at once all the same, see [`search`]). Must run in the write transaction that also checked
/// (sender, client id) is new: the seq is taken and the message inserted together, so seqs
/// have no gaps.
pub fn append(
    c: &Connection,
    conversation: &Head,
    sender: UserId,
    client_id: ClientId,
    body: &str,
    reply_to_seq: Option<i64>,
    sent_at: Timestamp,
) -> rusqlite::Result<Message> {
    let (seq, num): (i64, i64) = c
        .prepare_cached(
            "SELECT last_seq + 1, (SELECT coalesce(max(num), 0) + 1 FROM messages) FROM conversations WHERE id = ?1",
        )?
        .query_row([conversation.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let message = Message {
        id: MessageId::new(),
        conversation_id: conversation.id,
        seq,
        sender_id: sender,
        body: body.to_owned(),
        sent_at,
        client_id,
        reply_to_seq,
        edited_at: None,
        deleted_at: None,
        reactions: Vec::new(),
        attachments: Vec::new(),
    };
    // Inserted first: a repeated (sender, client id) fails here, before anything changed.
    c.prepare_cached(
        "INSERT INTO messages (conversation_id, seq, num, id, sender_id, client_id, body, sent_at, reply_to_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        conversation.id,
        seq,
        num,
        message.id,
        sender,
        client_id,
        message.body,
        sent_at,
        reply_to_seq
    ])?;
    conversations::touch(c, conversation.id, seq, sent_at)?;
    Ok(message)
}

/// Puts the attachments on a message just appended (see [`attachments::link`]).
pub fn set_attachments(c: &Connection, message: &mut Message, list: Vec<Attachment>) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE messages SET attachments = ?3 WHERE conversation_id = ?1 AND seq = ?2")?
        .execute(params![message.conversation_id, message.seq, to_json_column(&list)?])?;
    message.attachments = list;
    Ok(())
}

/// A message changed: the conversation's new change counter and the message as it is now.
pub struct Changed {
    pub message: Message,
    pub change: i64,
}

fn num_of(c: &Connection, conversation: ConversationId, seq: i64) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT num FROM messages WHERE conversation_id = ?1 AND seq = ?2")?
        .query_row(params![conversation, seq], |r| r.get(0))
}

/// Records that a message changed: bumps the counter, stamps the message with it.
fn changed(c: &Connection, conversation: ConversationId, seq: i64) -> rusqlite::Result<Changed> {
    let change = conversations::bump_change(c, conversation)?;
    c.prepare_cached("UPDATE messages SET change = ?3 WHERE conversation_id = ?1 AND seq = ?2")?
        .execute(params![conversation, seq, change])?;
    let message = get(c, conversation, seq)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    Ok(Changed { message, change })
}

/// Replaces a message's body and queues it for re-indexing (found by its new words only from
/// now, see [`search`]); `None` when the body is already that.
pub fn edit(
    c: &Connection,
    conversation: &Head,
    seq: i64,
    body: &str,
    at: Timestamp,
) -> rusqlite::Result<Option<Changed>> {
    let updated = c
        .prepare_cached(
            "UPDATE messages SET body = ?3, edited_at = ?4
             WHERE conversation_id = ?1 AND seq = ?2 AND body <> ?3 AND deleted_at IS NULL",
        )?
        .execute(params![conversation.id, seq, body, at])?;
    if updated == 0 {
        return Ok(None);
    }
    search::queue(c, num_of(c, conversation.id, seq)?)?;
    changed(c, conversation.id, seq).map(Some)
}

/// Deletes a message: its seq stays, its body, reactions and attachments go (their files once
/// no other upload names them), and so does its entry in the search index (with the drain's
/// next write; searches skip it from now on). `None` when it was already deleted.
pub fn delete(
    c: &Connection,
    conversation: ConversationId,
    seq: i64,
    at: Timestamp,
) -> rusqlite::Result<Option<Changed>> {
    let updated = c
        .prepare_cached(
            "UPDATE messages SET body = '', reactions = NULL, attachments = NULL, deleted_at = ?3
             WHERE conversation_id = ?1 AND seq = ?2 AND deleted_at IS NULL",
        )?
        .execute(params![conversation, seq, at])?;
    if updated == 0 {
        return Ok(None);
    }
    search::queue(c, num_of(c, conversation, seq)?)?;
    attachments::remove_of_message(c, conversation, seq)?;
    changed(c, conversation, seq).map(Some)
}

/// Puts (`on`) or takes back `user`'s `emoji` on a message that is not deleted; `None` when
/// that changes nothing.
pub fn react(
    c: &Connection,
    conversation: ConversationId,
    seq: i64,
    user: UserId,
    emoji: &str,
    on: bool,
) -> rusqlite::Result<Option<Changed>> {
    let Some(message) = get(c, conversation, seq)? else {
        return Ok(None);
    };
    if message.deleted_at.is_some() {
        return Ok(None);
    }
    let mut reactions = in_one_form(message.reactions);
    if !toggle(&mut reactions, user, emoji, on) {
        return Ok(None);
    }
    c.prepare_cached("UPDATE messages SET reactions = ?3 WHERE conversation_id = ?1 AND seq = ?2")?
        .execute(params![conversation, seq, to_json_column(&reactions)?])?;
    changed(c, conversation, seq).map(Some)
}

/// `reactions` with each emoji in its one form (see [`validate::emoji`]), those stored before
/// reactions were kept so ("❤" beside "❤️") merged into it, so that either is taken back.
pub fn in_one_form(reactions: Vec<Reaction>) -> Vec<Reaction> {
    let mut merged: Vec<Reaction> = Vec::with_capacity(reactions.len());
    for reaction in reactions {
        let emoji = validate::emoji(&reaction.emoji).map_or(reaction.emoji, str::to_owned);
        match merged.iter_mut().find(|r| r.emoji == emoji) {
            Some(into) => {
                for user in reaction.user_ids {
                    if !into.user_ids.contains(&user) {
                        into.user_ids.push(user);
                    }
                }
            }
            None => merged.push(Reaction {
                emoji,
                user_ids: reaction.user_ids,
            }),
        }
    }
    merged
}

/// Why `user` may not add `emoji` to a message with these `reactions`, if they may not: a
/// message has at most [`MAX_REACTIONS`] different ones, [`MAX_REACTIONS_PER_MEMBER`] of them
/// from one member, [`MAX_REACTIONS_IN_ALL`] in all. Adding one already there changes nothing
/// and is never refused.
pub fn reaction_refused(reactions: &[Reaction], user: UserId, emoji: &str) -> Option<String> {
    let with_emoji = reactions.iter().find(|r| r.emoji == emoji);
    if with_emoji.is_some_and(|r| r.user_ids.contains(&user)) {
        return None;
    }
    if with_emoji.is_none() && reactions.len() >= MAX_REACTIONS {
        return Some(format!("a message has at most {MAX_REACTIONS} different reactions"));
    }
    let mine = reactions.iter().filter(|r| r.user_ids.contains(&user)).count();
    if mine >= MAX_REACTIONS_PER_MEMBER {
        return Some(format!(
            "you can add at most {MAX_REACTIONS_PER_MEMBER} reactions to a message"
        ));
    }
    // Members come and go, and those who left keep their reactions.
    let in_all: usize = reactions.iter().map(|r| r.user_ids.len()).sum();
    (in_all >= MAX_REACTIONS_IN_ALL).then(|| "this message has all the reactions it can hold".to_owned())
}

/// Adds or removes `user` under `emoji`, keeping first-use order; false when nothing changed.
fn toggle(reactions: &mut Vec<Reaction>, user: UserId, emoji: &str, on: bool) -> bool {
    let at = reactions.iter().position(|r| r.emoji == emoji);
    match (at, on) {
        (Some(i), true) if reactions[i].user_ids.contains(&user) => false,
        (Some(i), true) => {
            reactions[i].user_ids.push(user);
            true
        }
        (None, true) => {
            reactions.push(Reaction {
                emoji: emoji.to_owned(),
                user_ids: vec![user],
            });
            true
        }
        (Some(i), false) => {
            let before = reactions[i].user_ids.len();
            reactions[i].user_ids.retain(|u| *u != user);
            if reactions[i].user_ids.is_empty() {
                reactions.remove(i);
                return true;
            }
            reactions[i].user_ids.len() != before
        }
        (None, false) => false,
    }
}

/// Up to `limit` messages of `window`, ascending by seq, as of the conversation's `last_seq`
/// (later messages are left out, so a page depends only on its arguments). `has_more`: more
/// messages exist beyond the page in its direction (below it for `Newest` and `Before`).
pub fn page(c: &Connection, head: &Head, window: Window, limit: u32) -> rusqlite::Result<MessagesPage> {
    let (conversation, last_seq) = (head.id, head.last_seq);
    let bound = match window {
        Window::Newest => last_seq,
        Window::Before(seq) => seq.min(last_seq + 1),
        Window::After(seq) => seq,
    };
    let mut stmt = c.prepare_cached(&page_sql(window, limit))?;
    let columns = Columns::of(&stmt)?;
    let message = |r: &Row<'_>| columns.message(r);
    let rows = match window {
        Window::After(_) => stmt.query_map(params![conversation, bound, last_seq], message),
        _ => stmt.query_map(params![conversation, bound], message),
    }?;
    let mut messages = rows.collect::<Result<Vec<_>, _>>()?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    if !matches!(window, Window::After(_)) {
        messages.reverse();
    }
    // The timeline events placed among these messages; the oldest page also has those before
    // its first message (a group's creation, at least). A page after message `seq` also has
    // those placed right after `seq`: its reader holds that message, but an event that came
    // after it while the reader was away (no frame) is known only from here. The reader may
    // have it already (from the frame, or the page that ended at `seq`): clients keep it once.
    let (from, to) = match window {
        Window::After(seq) => (seq.max(0), messages.last().map_or(last_seq, |m| m.seq)),
        _ => match (messages.first(), messages.last()) {
            (Some(first), Some(last)) => (if has_more { first.seq } else { 0 }, last.seq),
            _ if has_more => (1, 0),
            _ => (0, last_seq),
        },
    };
    let events = timeline::between(c, conversation, from, to)?;
    Ok(MessagesPage {
        messages,
        has_more,
        events,
    })
}

/// The statement of a [`page`]: one more row than `limit`, to tell whether there are more. The
/// limit is written into the statement, not bound: SQLite prepares a statement again each time a
/// bound LIMIT (its query plan depends on it) is given a value, which was a fifth of a page's cost.
fn page_sql(window: Window, limit: u32) -> String {
    let rows = u64::from(limit) + 1;
    let range = match window {
        Window::Newest => "seq <= ?2 ORDER BY seq DESC",
        Window::Before(_) => "seq < ?2 ORDER BY seq DESC",
        Window::After(_) => "seq > ?2 AND seq <= ?3 ORDER BY seq",
    };
    format!("SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 AND {range} LIMIT {rows}")
}

/// The messages changed after change `since`, by the change that last touched them, up to
/// `limit` of them; `last_change` is where the caller is after applying them.
pub fn changes(c: &Connection, conversation: &Head, since: i64, limit: u32) -> rusqlite::Result<ChangesPage> {
    // The limit is written in, as in `page_sql`.
    let rows = u64::from(limit) + 1;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 AND change > ?2 ORDER BY change LIMIT {rows}"
    ))?;
    let columns = Columns::of(&stmt)?;
    let mut messages = stmt
        .query_map(params![conversation.id, since], |r| {
            Ok((r.get::<_, i64>(columns.change)?, columns.message(r)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    let last_change = if has_more {
        messages.last().map_or(since, |(change, _)| *change)
    } else {
        conversation.last_change.max(since)
    };
    Ok(ChangesPage {
        messages: messages.into_iter().map(|(_, m)| m).collect(),
        last_change,
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head of `conversation` as a reader that saw only its first `last_seq` messages.
    fn at(c: &Connection, conversation: ConversationId, last_seq: i64) -> Head {
        Head {
            last_seq,
            ..conversations::head(c, conversation).unwrap().unwrap()
        }
    }
    use crate::store::{conversations, test_db, users};

    /// Reactions stored before emoji were kept in one form merge into it: "❤" is "❤️".
    #[test]
    fn reactions_stored_in_another_form_merge_into_its_one_form() {
        let (ann, ben) = (UserId::new(), UserId::new());
        let stored = vec![
            Reaction {
                emoji: "❤".into(),
                user_ids: vec![ann],
            },
            Reaction {
                emoji: "👍".into(),
                user_ids: vec![ben],
            },
            Reaction {
                emoji: "❤️".into(),
                user_ids: vec![ben, ann],
            },
        ];
        let mut reactions = in_one_form(stored);
        let hearts: Vec<_> = reactions
            .iter()
            .map(|r| (r.emoji.as_str(), r.user_ids.clone()))
            .collect();
        assert_eq!(hearts, [("❤️", vec![ann, ben]), ("👍", vec![ben])]);
        assert!(toggle(&mut reactions, ann, "❤️", false), "taken back");
        assert_eq!(reactions[0].user_ids, [ben]);
    }

    /// Twenty different reactions at most, five of them from one member, 1,280 in all; one
    /// already added is never refused (adding it again changes nothing), and removing always goes.
    #[test]
    fn reactions_are_bounded_per_message_and_per_member() {
        let emoji = |i: usize| char::from_u32(0x1F600 + i as u32).unwrap().to_string();
        let members: Vec<UserId> = (0..4).map(|_| UserId::new()).collect();
        let mut reactions = Vec::new();
        for (i, member) in members.iter().enumerate() {
            for j in 0..MAX_REACTIONS_PER_MEMBER {
                let e = emoji(i * MAX_REACTIONS_PER_MEMBER + j);
                assert_eq!(reaction_refused(&reactions, *member, &e), None);
                assert!(toggle(&mut reactions, *member, &e, true));
            }
        }
        assert_eq!(reactions.len(), MAX_REACTIONS);
        let newcomer = UserId::new();
        assert_eq!(
            reaction_refused(&reactions, newcomer, &emoji(99)).as_deref(),
            Some("a message has at most 20 different reactions")
        );
        assert_eq!(
            reaction_refused(&reactions, newcomer, &emoji(0)),
            None,
            "joining one is fine"
        );
        assert_eq!(
            reaction_refused(&reactions, members[0], &emoji(7)).as_deref(),
            Some("you can add at most 5 reactions to a message")
        );
        assert_eq!(
            reaction_refused(&reactions, members[0], &emoji(0)),
            None,
            "already added"
        );
        assert!(toggle(&mut reactions, members[0], &emoji(0), false));
        assert_eq!(reaction_refused(&reactions, members[0], &emoji(99)), None);

        // Members who left keep their reactions: the ids on a message are bounded in all.
        let mut crowded = vec![Reaction {
            emoji: emoji(0),
            user_ids: (0..MAX_REACTIONS_IN_ALL).map(|_| UserId::new()).collect(),
        }];
        assert_eq!(
            reaction_refused(&crowded, newcomer, &emoji(0)).as_deref(),
            Some("this message has all the reactions it can hold")
        );
        crowded[0].user_ids.pop();
        assert_eq!(reaction_refused(&crowded, newcomer, &emoji(0)), None);
    }

    fn conversation_with(c: &Connection, n: usize) -> (Head, UserId, UserId) {
        let (a, b) = (UserId::new(), UserId::new());
        users::registered(c, a, "a").unwrap();
        users::registered(c, b, "b").unwrap();
        let (conv, _) = conversations::get_or_create_direct(c, a, b, chrono::Utc::now()).unwrap();
        for i in 0..n {
            let sender = if i % 2 == 0 { a } else { b };
            append(
                c,
                &conv,
                sender,
                ClientId::new(),
                &format!("m{}", i + 1),
                None,
                chrono::Utc::now(),
            )
            .unwrap();
        }
        (conversations::head(c, conv.id).unwrap().unwrap(), a, b)
    }

    #[test]
    fn timestamps_read_back_as_written_and_in_every_form_rusqlite_reads() {
        let c = Connection::open_in_memory().unwrap();
        let read = |sql: &str, value: &dyn rusqlite::ToSql| {
            c.query_row(sql, [value], |r| Ok((timestamp(r, 0)?, optional_timestamp(r, 1)?)))
                .unwrap()
        };
        let at = |text: &str| text.parse::<Timestamp>().unwrap();
        // What rusqlite writes takes the fast parse.
        let text: String = c.query_row("SELECT ?1", [chrono::Utc::now()], |r| r.get(0)).unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(&text).is_ok(), "{text}");
        for written in [
            chrono::Utc::now(),
            at("2026-12-01T02:25:56Z"),
            at("1999-12-31T23:59:59.000000001Z"),
        ] {
            assert_eq!(read("SELECT ?1, NULL", &written), (written, None));
            assert_eq!(read("SELECT ?1, ?1", &written), (written, Some(written)));
        }
        for (stored, meant) in [
            ("2026-12-01T02:25:56.5Z", "2026-12-01T02:25:56.5Z"),
            ("2026-12-01 04:25:56+02:00", "2026-12-01T02:25:56Z"),
            ("2026-12-01 02:25:56", "2026-12-01T02:25:56Z"),
        ] {
            assert_eq!(read("SELECT ?1, ?1", &stored).1, Some(at(meant)), "{stored}");
        }
        assert_eq!(read("SELECT ?1, NULL", &1_764_555_956).0, at("2025-12-01T02:25:56Z"));
    }

    fn seqs(page: &MessagesPage) -> Vec<i64> {
        page.messages.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn seq_counts_up_per_conversation_and_client_id_finds_the_message() {
        let c = test_db();
        let (conv, a, _) = conversation_with(&c, 3);
        let (other, ..) = conversation_with(&c, 1);
        let client = ClientId::new();
        let m = append(&c, &conv, a, client, "again", Some(2), chrono::Utc::now()).unwrap();
        assert_eq!((m.seq, m.reply_to_seq), (4, Some(2)));
        assert_eq!(find_by_client(&c, a, client).unwrap(), Some(m.clone()));
        assert_eq!(find_by_client(&c, UserId::new(), client).unwrap(), None);
        assert!(
            append(&c, &conv, a, client, "dup", None, chrono::Utc::now()).is_err(),
            "the unique index refuses a repeat"
        );
        assert_eq!(conversations::head(&c, conv.id).unwrap().unwrap().last_seq, 4);
        assert_eq!(
            page(&c, &at(&c, other.id, 1), Window::Newest, 10).unwrap().messages[0].seq,
            1
        );
    }

    #[test]
    fn pages_walk_back_and_forth_covering_each_message_once() {
        let c = test_db();
        let (conv, ..) = conversation_with(&c, 23);
        let newest = page(&c, &at(&c, conv.id, 23), Window::Newest, 10).unwrap();
        assert_eq!(seqs(&newest), (14..=23).collect::<Vec<_>>());
        assert!(newest.has_more);

        let mut back = seqs(&newest);
        let mut cursor = newest.messages[0].seq;
        loop {
            let p = page(&c, &at(&c, conv.id, 23), Window::Before(cursor), 10).unwrap();
            back.splice(0..0, seqs(&p));
            if !p.has_more {
                break;
            }
            cursor = p.messages[0].seq;
        }
        assert_eq!(back, (1..=23).collect::<Vec<_>>());

        let mut forth = Vec::new();
        let mut cursor = 0;
        loop {
            let p = page(&c, &at(&c, conv.id, 23), Window::After(cursor), 7).unwrap();
            forth.extend(seqs(&p));
            if !p.has_more {
                break;
            }
            cursor = p.messages.last().unwrap().seq;
        }
        assert_eq!(forth, (1..=23).collect::<Vec<_>>());
    }

    #[test]
    fn each_timeline_event_comes_with_the_page_of_the_message_it_follows_and_only_that_one() {
        use gochat_proto::dto::TimelineKind;
        let c = test_db();
        let (conv, a, b) = conversation_with(&c, 0);
        let record = |kind, users: &[UserId]| {
            super::timeline::record(&c, conv.id, kind, a, users, None, chrono::Utc::now())
                .unwrap()
                .unwrap()
        };
        assert_eq!(record(TimelineKind::Created, &[b]).after_seq, 0);
        let empty = page(&c, &at(&c, conv.id, 0), Window::Newest, 10).unwrap();
        assert_eq!(empty.events.len(), 1, "a group without messages shows its creation");
        let mut after = Vec::new();
        for i in 1..=23 {
            let head = conversations::head(&c, conv.id).unwrap().unwrap();
            append(
                &c,
                &head,
                a,
                ClientId::new(),
                &format!("m{i}"),
                None,
                chrono::Utc::now(),
            )
            .unwrap();
            if [3, 13, 14, 23].contains(&i) {
                after.push(record(TimelineKind::Added, &[UserId::new()]).after_seq);
            }
        }
        assert_eq!(after, [3, 13, 14, 23]);
        let placed = |p: &MessagesPage| p.events.iter().map(|e| e.after_seq).collect::<Vec<_>>();

        // Back from the newest: 14..=23, 4..=13, 1..=3 (with what came before the first message).
        let newest = page(&c, &at(&c, conv.id, 23), Window::Newest, 10).unwrap();
        assert_eq!(placed(&newest), [14, 23]);
        let middle = page(&c, &at(&c, conv.id, 23), Window::Before(14), 10).unwrap();
        assert_eq!(placed(&middle), [13]);
        let oldest = page(&c, &at(&c, conv.id, 23), Window::Before(4), 10).unwrap();
        assert_eq!(placed(&oldest), [0, 3]);
        // Forth from the start: each once again.
        let mut forth = Vec::new();
        let mut cursor = 0;
        loop {
            let p = page(&c, &at(&c, conv.id, 23), Window::After(cursor), 7).unwrap();
            forth.extend(placed(&p));
            if !p.has_more {
                break;
            }
            cursor = p.messages.last().unwrap().seq;
        }
        // The event at a cursor (14) comes again with the page after it; clients keep it once.
        assert_eq!(forth, [0, 3, 13, 14, 14, 23]);
        assert_eq!(super::timeline::last_event(&c, conv.id).unwrap(), 5);
        assert_eq!(newest.events[1].user_ids.len(), 1);
    }

    #[test]
    fn an_event_after_the_newest_message_reaches_a_reader_catching_up_after_it() {
        use gochat_proto::dto::TimelineKind;
        let c = test_db();
        let (conv, a, _) = conversation_with(&c, 5);
        // The reader holds 1..=5; while it is away (no frame), someone is added, then more is said.
        let event = |kind| {
            super::timeline::record(&c, conv.id, kind, a, &[UserId::new()], None, chrono::Utc::now())
                .unwrap()
                .unwrap()
        };
        assert_eq!(event(TimelineKind::Added).after_seq, 5);
        let placed = |p: &MessagesPage| p.events.iter().map(|e| e.after_seq).collect::<Vec<_>>();
        let nothing_new = page(&c, &at(&c, conv.id, 5), Window::After(5), 10).unwrap();
        assert_eq!(placed(&nothing_new), [5], "caught up with no message since");
        let head = conversations::head(&c, conv.id).unwrap().unwrap();
        append(&c, &head, a, ClientId::new(), "m6", None, chrono::Utc::now()).unwrap();
        let caught_up = page(&c, &at(&c, conv.id, 6), Window::After(5), 10).unwrap();
        assert_eq!((seqs(&caught_up), placed(&caught_up)), (vec![6], vec![5]));
    }

    #[test]
    fn reading_pages_does_not_prepare_their_statement_again() {
        let c = test_db();
        let (conv, ..) = conversation_with(&c, 30);
        for cursor in [10, 20, 30] {
            page(&c, &at(&c, conv.id, 30), Window::Before(cursor), 5).unwrap();
        }
        let stmt = c.prepare_cached(&page_sql(Window::Before(0), 5)).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[test]
    fn pages_ignore_messages_after_last_seq_and_out_of_range_cursors() {
        let c = test_db();
        let (conv, ..) = conversation_with(&c, 5);
        let conv = conv.id;
        assert_eq!(
            seqs(&page(&c, &at(&c, conv, 3), Window::Newest, 10).unwrap()),
            [1, 2, 3]
        );
        assert_eq!(
            seqs(&page(&c, &at(&c, conv, 3), Window::Before(100), 10).unwrap()),
            [1, 2, 3]
        );
        let after = page(&c, &at(&c, conv, 3), Window::After(1), 10).unwrap();
        assert_eq!((seqs(&after), after.has_more), (vec![2, 3], false));
        let after = page(&c, &at(&c, conv, 5), Window::After(1), 2).unwrap();
        assert_eq!((seqs(&after), after.has_more), (vec![2, 3], true));
        let empty = page(&c, &at(&c, conv, 5), Window::Before(1), 10).unwrap();
        assert_eq!((empty.messages.len(), empty.has_more), (0, false));
        let empty = page(&c, &at(&c, conv, 5), Window::After(5), 10).unwrap();
        assert_eq!((empty.messages.len(), empty.has_more), (0, false));
        assert_eq!(seqs(&page(&c, &at(&c, conv, 5), Window::After(-3), 2).unwrap()), [1, 2]);
    }

    #[test]
    fn senders_between_names_the_senders_who_are_still_members() {
        let c = test_db();
        let (a, b, d) = (UserId::new(), UserId::new(), UserId::new());
        let group = conversations::create_group(&c, a, "g", &[b, d], chrono::Utc::now()).unwrap();
        for sender in [a, b, d, b] {
            let head = conversations::head(&c, group.id).unwrap().unwrap();
            append(&c, &head, sender, ClientId::new(), "hi", None, chrono::Utc::now()).unwrap();
        }
        let mut all = senders_between(&c, group.id, 0, 4).unwrap();
        all.sort();
        let mut expected = vec![a, b, d];
        expected.sort();
        assert_eq!(all, expected);
        assert_eq!(senders_between(&c, group.id, 2, 3).unwrap(), [d]);
        conversations::remove_member(&c, group.id, b).unwrap();
        assert!(!senders_between(&c, group.id, 0, 4).unwrap().contains(&b));
        assert!(senders_between(&c, group.id, 3, 4).unwrap().is_empty());
    }

    #[test]
    fn edits_deletes_and_reactions_bump_the_change_counter_and_changes_replay_them() {
        let c = test_db();
        let (conv, a, b) = conversation_with(&c, 4);
        let now = chrono::Utc::now();
        let edited = edit(&c, &conv, 1, "m1, better", now).unwrap().unwrap();
        assert_eq!((edited.change, edited.message.edited_at), (1, Some(now)));
        assert!(
            edit(&c, &conv, 1, "m1, better", now).unwrap().is_none(),
            "same body: no change"
        );

        let reacted = react(&c, conv.id, 2, a, "👍", true).unwrap().unwrap();
        assert_eq!(reacted.change, 2);
        react(&c, conv.id, 2, b, "👍", true).unwrap().unwrap();
        react(&c, conv.id, 2, b, "🎉", true).unwrap().unwrap();
        assert!(react(&c, conv.id, 2, b, "🎉", true).unwrap().is_none(), "twice is once");
        let now_reactions = get(&c, conv.id, 2).unwrap().unwrap().reactions;
        assert_eq!(now_reactions[0].user_ids, [a, b]);
        assert_eq!(now_reactions[1].emoji, "🎉");
        react(&c, conv.id, 2, b, "🎉", false).unwrap().unwrap();
        assert_eq!(get(&c, conv.id, 2).unwrap().unwrap().reactions.len(), 1);

        let deleted = delete(&c, conv.id, 2, now).unwrap().unwrap();
        assert_eq!(deleted.message.body, "");
        assert!(deleted.message.reactions.is_empty());
        assert!(delete(&c, conv.id, 2, now).unwrap().is_none());
        assert!(
            react(&c, conv.id, 2, a, "👍", true).unwrap().is_none(),
            "a deleted message takes no reaction"
        );
        assert!(edit(&c, &conv, 2, "back", now).unwrap().is_none(), "nor an edit");

        let head = conversations::head(&c, conv.id).unwrap().unwrap();
        let all = changes(&c, &head, 0, 10).unwrap();
        assert_eq!(all.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!((all.last_change, all.has_more), (head.last_change, false));
        let first = changes(&c, &head, 0, 1).unwrap();
        assert_eq!((first.messages[0].seq, first.last_change, first.has_more), (1, 1, true));
        assert!(changes(&c, &head, head.last_change, 10).unwrap().messages.is_empty());
    }
}
