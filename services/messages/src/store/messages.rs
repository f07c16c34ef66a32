//! The messages of a conversation, numbered 1, 2, 3… by `seq`, and pages of them.

use super::id;
use gochat_proto::Timestamp;
use gochat_proto::dto::{Message, MessagesPage};
use gochat_proto::ids::{ClientId, ConversationId, MessageId, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

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

/// The columns [`message_from`] reads, in its order.
const COLUMNS: &str = "id, conversation_id, seq, sender_id, body, sent_at, client_id";

/// A message from the row's columns `at..at + 7`, in the order of [`COLUMNS`].
pub fn message_from(r: &Row<'_>, at: usize) -> rusqlite::Result<Message> {
    Ok(Message {
        id: id(r, at)?,
        conversation_id: id(r, at + 1)?,
        seq: r.get(at + 2)?,
        sender_id: id(r, at + 3)?,
        body: r.get(at + 4)?,
        sent_at: r.get(at + 5)?,
        client_id: id(r, at + 6)?,
    })
}

/// The message `sender` already sent with `client_id`, if any.
pub fn find_by_client(c: &Connection, sender: UserId, client_id: ClientId) -> rusqlite::Result<Option<Message>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
    ))?
    .query_row([sender.to_string(), client_id.to_string()], |r| message_from(r, 0))
    .optional()
}

/// Stores a message with the conversation's next seq. Must run in the write transaction that
/// also checked (sender, client id) is new: the seq is taken and the message inserted together,
/// so seqs have no gaps.
pub fn append(
    c: &Connection,
    conversation: ConversationId,
    sender: UserId,
    client_id: ClientId,
    body: &str,
    sent_at: Timestamp,
) -> rusqlite::Result<Message> {
    let seq: i64 = c
        .prepare_cached("SELECT last_seq + 1 FROM conversations WHERE id = ?1")?
        .query_row([conversation.to_string()], |r| r.get(0))?;
    let message = Message {
        id: MessageId::new(),
        conversation_id: conversation,
        seq,
        sender_id: sender,
        body: body.to_owned(),
        sent_at,
        client_id,
    };
    // Inserted first: a repeated (sender, client id) fails here, before anything changed.
    c.prepare_cached(&format!(
        "INSERT INTO messages ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(params![
        message.id.to_string(),
        conversation.to_string(),
        seq,
        sender.to_string(),
        message.body,
        sent_at,
        client_id.to_string(),
    ])?;
    c.prepare_cached("UPDATE conversations SET last_seq = ?2, activity_us = max(activity_us, ?3) WHERE id = ?1")?
        .execute(params![conversation.to_string(), seq, sent_at.timestamp_micros()])?;
    Ok(message)
}

/// Up to `limit` messages of `window`, ascending by seq, as of the conversation's `last_seq`
/// (later messages are left out, so a page depends only on its arguments). `has_more`: more
/// messages exist beyond the page in its direction (below it for `Newest` and `Before`).
pub fn page(
    c: &Connection,
    conversation: ConversationId,
    last_seq: i64,
    window: Window,
    limit: u32,
) -> rusqlite::Result<MessagesPage> {
    let (sql, bound) = match window {
        Window::Newest => ("seq <= ?2 ORDER BY seq DESC", last_seq),
        Window::Before(seq) => ("seq < ?2 ORDER BY seq DESC", seq.min(last_seq + 1)),
        Window::After(seq) => ("seq > ?2 AND seq <= ?4 ORDER BY seq", seq),
    };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 AND {sql} LIMIT ?3"
    ))?;
    let mut args = vec![
        rusqlite::types::Value::Text(conversation.to_string()),
        bound.into(),
        (i64::from(limit) + 1).into(),
    ];
    if matches!(window, Window::After(_)) {
        args.push(last_seq.into());
    }
    let mut messages = stmt
        .query_map(rusqlite::params_from_iter(args), |r| message_from(r, 0))?
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    if !matches!(window, Window::After(_)) {
        messages.reverse();
    }
    Ok(MessagesPage { messages, has_more })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{conversations, test_db, users};

    fn conversation_with(c: &Connection, n: usize) -> (ConversationId, UserId, UserId) {
        let (a, b) = (UserId::new(), UserId::new());
        users::registered(c, a, "a").unwrap();
        users::registered(c, b, "b").unwrap();
        let (conv, _) = conversations::get_or_create_direct(c, a, b, chrono::Utc::now()).unwrap();
        for i in 0..n {
            let sender = if i % 2 == 0 { a } else { b };
            append(
                c,
                conv.id,
                sender,
                ClientId::new(),
                &format!("m{}", i + 1),
                chrono::Utc::now(),
            )
            .unwrap();
        }
        (conv.id, a, b)
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
        let m = append(&c, conv, a, client, "again", chrono::Utc::now()).unwrap();
        assert_eq!(m.seq, 4);
        assert_eq!(find_by_client(&c, a, client).unwrap(), Some(m.clone()));
        assert_eq!(find_by_client(&c, UserId::new(), client).unwrap(), None);
        assert!(
            append(&c, conv, a, client, "dup", chrono::Utc::now()).is_err(),
            "the unique index refuses a repeat"
        );
        assert_eq!(conversations::head(&c, conv).unwrap().unwrap().last_seq, 4);
        assert_eq!(page(&c, other, 1, Window::Newest, 10).unwrap().messages[0].seq, 1);
    }

    #[test]
    fn pages_walk_back_and_forth_covering_each_message_once() {
        let c = test_db();
        let (conv, ..) = conversation_with(&c, 23);
        let newest = page(&c, conv, 23, Window::Newest, 10).unwrap();
        assert_eq!(seqs(&newest), (14..=23).collect::<Vec<_>>());
        assert!(newest.has_more);

        let mut back = seqs(&newest);
        let mut cursor = newest.messages[0].seq;
        loop {
            let p = page(&c, conv, 23, Window::Before(cursor), 10).unwrap();
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
            let p = page(&c, conv, 23, Window::After(cursor), 7).unwrap();
            forth.extend(seqs(&p));
            if !p.has_more {
                break;
            }
            cursor = p.messages.last().unwrap().seq;
        }
        assert_eq!(forth, (1..=23).collect::<Vec<_>>());
    }

    #[test]
    fn pages_ignore_messages_after_last_seq_and_out_of_range_cursors() {
        let c = test_db();
        let (conv, ..) = conversation_with(&c, 5);
        assert_eq!(seqs(&page(&c, conv, 3, Window::Newest, 10).unwrap()), [1, 2, 3]);
        assert_eq!(seqs(&page(&c, conv, 3, Window::Before(100), 10).unwrap()), [1, 2, 3]);
        let after = page(&c, conv, 3, Window::After(1), 10).unwrap();
        assert_eq!((seqs(&after), after.has_more), (vec![2, 3], false));
        let after = page(&c, conv, 5, Window::After(1), 2).unwrap();
        assert_eq!((seqs(&after), after.has_more), (vec![2, 3], true));
        let empty = page(&c, conv, 5, Window::Before(1), 10).unwrap();
        assert_eq!((empty.messages.len(), empty.has_more), (0, false));
        let empty = page(&c, conv, 5, Window::After(5), 10).unwrap();
        assert_eq!((empty.messages.len(), empty.has_more), (0, false));
        assert_eq!(seqs(&page(&c, conv, 5, Window::After(-3), 2).unwrap()), [1, 2]);
    }
}
