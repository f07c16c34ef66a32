//! The notifications table. Plain synchronous functions, run on the database threads.

use gochat_proto::Timestamp;
use gochat_proto::dto::{Notification, NotificationKind, UserRef};
use gochat_proto::ids::{ConversationId, NotificationId, UserId};
use gochat_proto::limits::UNREAD_MENTIONS;
use rusqlite::{Connection, OptionalExtension, Row, params};

pub const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE notifications (
    -- UUIDv7: sorts by creation time, so it is also the page cursor
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    from_id TEXT NOT NULL,
    from_username TEXT NOT NULL,
    preview TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT,
    -- one notification per message and recipient, however often message.stored arrives
    UNIQUE (user_id, conversation_id, seq)
);
CREATE INDEX notifications_by_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id, conversation_id, seq) WHERE read_at IS NULL;
",
    "
-- The notifications of one message (an edit changes their preview, a deletion removes them).
CREATE INDEX notifications_of_message ON notifications (conversation_id, seq);
",
    "
-- Whether the message names its recipient: rows from before were told as plain messages.
ALTER TABLE notifications ADD COLUMN mentioned INTEGER NOT NULL DEFAULT 0;
-- The group's title when the message was stored (NULL in a direct conversation): a push names
-- the group, and the service worker that shows it knows no conversations.
ALTER TABLE notifications ADD COLUMN group_title TEXT;
-- A user's unread mentions: every page lists them (the conversation list's @).
CREATE INDEX notifications_unread_mentions ON notifications (user_id, id DESC) WHERE read_at IS NULL AND mentioned;
",
    "
-- Whether the recipient has read the conversation past the message. Not the notification's
-- read_at: dismissing it in the bell does not read the conversation, and a mention's @ in the
-- conversation list stays until the conversation is read. Rows already read count as seen, so
-- that no old mention comes back.
ALTER TABLE notifications ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;
UPDATE notifications SET seen = 1 WHERE read_at IS NOT NULL;
-- A user's open mentions (not seen): every page lists them (the conversation list's @).
DROP INDEX notifications_unread_mentions;
CREATE INDEX notifications_open_mentions ON notifications (user_id, id DESC) WHERE mentioned AND NOT seen;
-- Notifications dismissed before their conversation was read (read_at, not seen): reading the
-- conversation finds them here. Unread rows are seen with their read, and new ones are unread,
-- so the message path never writes to this index.
CREATE INDEX notifications_dismissed ON notifications (user_id, conversation_id, seq) WHERE read_at IS NOT NULL AND NOT seen;
",
];

const COLUMNS: &str = "id, conversation_id, seq, from_id, from_username, preview, created_at, read_at, mentioned";

/// Stores a notification unless this message already has one for this user; returns the new one.
/// `group_title`: the group's title (none in a direct conversation), kept for its pushes.
pub fn insert(
    c: &Connection,
    user: UserId,
    n: &Notification,
    group_title: Option<&str>,
) -> rusqlite::Result<Option<Notification>> {
    let inserted = c
        .prepare_cached(
            "INSERT OR IGNORE INTO notifications
                 (id, user_id, conversation_id, seq, from_id, from_username, preview, created_at, mentioned, group_title)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            n.id.to_string(),
            user.to_string(),
            n.conversation_id.to_string(),
            n.seq,
            n.from.id.to_string(),
            n.from.username,
            n.preview,
            n.created_at,
            n.mentioned,
            group_title
        ])?;
    Ok((inserted == 1).then(|| n.clone()))
}

/// Removes at most `most` notifications created before `before` (unix milliseconds), read or
/// not, oldest first; returns how many, and per user the ids of those that were unread (open
/// tabs still count them). Ids are UUIDv7, whose text begins with the creation time, so the
/// oldest are the start of the primary key.
pub fn remove_older_than(c: &Connection, before: i64, most: u32) -> rusqlite::Result<(usize, UnreadByUser)> {
    // Below every UUIDv7 of the `before` millisecond (their version digit is 7), above every
    // earlier one.
    let bound = format!("{:08x}-{:04x}-0000-0000-000000000000", before >> 16, before & 0xffff);
    delete_returning_unread(
        c,
        "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE id < ?1 ORDER BY id LIMIT ?2)",
        params![bound, most],
    )
}

/// The user read a conversation up to `seq`: its notifications up to there are read and seen
/// (also those the bell dismissed before, which ends their mentions); returns the ids of those
/// that were unread.
pub fn read_up_to(
    c: &Connection,
    user: UserId,
    conversation: ConversationId,
    seq: i64,
    now: Timestamp,
) -> rusqlite::Result<Vec<NotificationId>> {
    let (user, conversation) = (user.to_string(), conversation.to_string());
    // Usually there is nothing to mark (every message's sender comes here, and has read their
    // conversation already): a look-up on the two partial indexes says so for a fraction of
    // what the updates cost, which open temporary tables even when no row matches.
    let pending: bool = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM notifications
                            WHERE user_id = ?1 AND conversation_id = ?2 AND seq <= ?3 AND read_at IS NULL)
                 OR EXISTS (SELECT 1 FROM notifications
                            WHERE user_id = ?1 AND conversation_id = ?2 AND seq <= ?3 AND read_at IS NOT NULL AND NOT seen)",
        )?
        .query_row(params![user, conversation, seq], |r| r.get(0))?;
    if !pending {
        return Ok(Vec::new());
    }
    // Two statements, each on its own partial index: an update's RETURNING cannot tell which
    // rows were unread before it.
    c.prepare_cached(
        "UPDATE notifications SET seen = 1
         WHERE user_id = ?1 AND conversation_id = ?2 AND seq <= ?3 AND read_at IS NOT NULL AND NOT seen",
    )?
    .execute(params![user, conversation, seq])?;
    c.prepare_cached(
        "UPDATE notifications SET read_at = ?4, seen = 1
         WHERE user_id = ?1 AND conversation_id = ?2 AND seq <= ?3 AND read_at IS NULL
         RETURNING id",
    )?
    .query_map(params![user, conversation, seq, now], |r| id(r, 0))?
    .collect()
}

/// `ids` as a JSON array, for `json_each`.
fn id_list(ids: &[UserId]) -> rusqlite::Result<String> {
    serde_json::to_string(ids).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Replaces the preview of a message's notifications (it was edited), those of its conversation's
/// `members` only: one removed from it hears nothing more of it, and keeps what it was told.
pub fn set_preview(
    c: &Connection,
    conversation: ConversationId,
    seq: i64,
    preview: &str,
    members: &[UserId],
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE notifications SET preview = ?3
         WHERE conversation_id = ?1 AND seq = ?2 AND user_id IN (SELECT value FROM json_each(?4))",
    )?
    .execute(params![conversation.to_string(), seq, preview, id_list(members)?])?;
    Ok(())
}

/// An edited message names `named` now: the notifications of its conversation's `members` say a
/// mention only for them. Returns those that stopped saying one: (their user, their id, whether
/// unread).
pub fn set_mentioned(
    c: &Connection,
    conversation: ConversationId,
    seq: i64,
    named: &[UserId],
    members: &[UserId],
) -> rusqlite::Result<Vec<(UserId, NotificationId, bool)>> {
    let mut dropped = Vec::new();
    let mut update = c.prepare_cached(
        "UPDATE notifications SET mentioned = (user_id IN (SELECT value FROM json_each(?3)))
         WHERE conversation_id = ?1 AND seq = ?2 AND user_id IN (SELECT value FROM json_each(?4))
           AND mentioned != (user_id IN (SELECT value FROM json_each(?3)))
         RETURNING user_id, id, mentioned, read_at IS NULL",
    )?;
    let mut rows = update.query(params![
        conversation.to_string(),
        seq,
        id_list(named)?,
        id_list(members)?
    ])?;
    while let Some(row) = rows.next()? {
        if !row.get::<_, bool>(2)? {
            dropped.push((
                id::<UserId>(row, 0)?,
                id::<NotificationId>(row, 1)?,
                row.get::<_, bool>(3)?,
            ));
        }
    }
    Ok(dropped)
}

/// Removes one notification.
pub fn remove(c: &Connection, id: NotificationId) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM notifications WHERE id = ?1")?
        .execute([id.to_string()])?;
    Ok(())
}

/// A group was renamed: its unread notifications' pushes (the catch-up one after a silent
/// disconnect reads the title from here) name it as it is called now, not as it was.
pub fn retitle(c: &Connection, conversation: ConversationId, title: &str) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE notifications SET group_title = ?2
         WHERE conversation_id = ?1 AND read_at IS NULL AND group_title IS NOT ?2",
    )?
    .execute(params![conversation.to_string(), title])?;
    Ok(())
}

/// Removes the notifications of a deleted message; returns, per user, those that were unread.
pub fn remove_message(c: &Connection, conversation: ConversationId, seq: i64) -> rusqlite::Result<UnreadByUser> {
    let (_, unread) = delete_returning_unread(
        c,
        "DELETE FROM notifications WHERE conversation_id = ?1 AND seq = ?2",
        params![conversation.to_string(), seq],
    )?;
    Ok(unread)
}

/// Per user, the ids of their notifications that were removed unread.
pub type UnreadByUser = Vec<(UserId, Vec<NotificationId>)>;

/// Runs `sql`, a `DELETE FROM notifications`, as one statement; returns how many rows it
/// removed, and per user the ids of those that were unread.
fn delete_returning_unread(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<(usize, UnreadByUser)> {
    let removed = c
        .prepare_cached(&format!("{sql} RETURNING user_id, id, read_at IS NULL"))?
        .query_map(params, |r| {
            Ok((id::<UserId>(r, 0)?, id::<NotificationId>(r, 1)?, r.get::<_, bool>(2)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut by_user = std::collections::BTreeMap::<UserId, Vec<NotificationId>>::new();
    for (user, id, _) in removed.iter().filter(|(.., unread)| *unread) {
        by_user.entry(*user).or_default().push(*id);
    }
    Ok((removed.len(), by_user.into_iter().collect()))
}

/// Marks read the given notifications of the user (others' ids are ignored), or all of them:
/// dismissed from the bell, not seen (their conversations are not read, and keep their mentions).
pub fn read(
    c: &Connection,
    user: UserId,
    ids: Option<&[NotificationId]>,
    now: Timestamp,
) -> rusqlite::Result<Vec<NotificationId>> {
    match ids {
        None => c
            .prepare_cached(
                "UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL RETURNING id",
            )?
            .query_map(params![user.to_string(), now], |r| id(r, 0))?
            .collect(),
        Some(ids) => {
            let mut stmt = c.prepare_cached(
                "UPDATE notifications SET read_at = ?3 WHERE id = ?1 AND user_id = ?2 AND read_at IS NULL RETURNING id",
            )?;
            let mut read = Vec::new();
            for n in ids {
                if let Some(id) = stmt
                    .query_row(params![n.to_string(), user.to_string(), now], |r| id(r, 0))
                    .optional()?
                {
                    read.push(id);
                }
            }
            Ok(read)
        }
    }
}

/// The user's notifications, newest first, below `before` when given.
pub fn list(
    c: &Connection,
    user: UserId,
    unread_only: bool,
    limit: u32,
    before: Option<NotificationId>,
) -> rusqlite::Result<Vec<Notification>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE user_id = ?1 AND (?2 = 0 OR read_at IS NULL) AND (?3 IS NULL OR id < ?3)
         ORDER BY id DESC LIMIT {limit}"
    );
    c.prepare_cached(&sql)?
        .query_map(
            params![user.to_string(), unread_only, before.map(|b| b.to_string())],
            notification,
        )?
        .collect()
}

/// Whether a notification is still unread (and not removed with its message).
pub fn is_unread(c: &Connection, id: NotificationId) -> rusqlite::Result<bool> {
    Ok(
        c.prepare_cached("SELECT read_at IS NULL FROM notifications WHERE id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?
            .unwrap_or(false),
    )
}

/// The user's unread notifications created at or after `since`, oldest first (at most 500),
/// each with its group's title (see [`insert`]).
pub fn unread_since(
    c: &Connection,
    user: UserId,
    since: Timestamp,
) -> rusqlite::Result<Vec<(Notification, Option<String>)>> {
    let sql = format!(
        "SELECT {COLUMNS}, group_title FROM notifications
         WHERE user_id = ?1 AND read_at IS NULL AND created_at >= ?2
         ORDER BY id LIMIT 500"
    );
    c.prepare_cached(&sql)?
        .query_map(params![user.to_string(), since], |r| {
            Ok((notification(r)?, r.get("group_title")?))
        })?
        .collect()
}

/// The user's open mentions: notifications that mention them in a conversation they have not
/// read past them yet, dismissed or not; newest first (at most `UNREAD_MENTIONS`).
pub fn open_mentions(c: &Connection, user: UserId) -> rusqlite::Result<Vec<Notification>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE user_id = ?1 AND mentioned AND NOT seen
         ORDER BY id DESC LIMIT {UNREAD_MENTIONS}"
    );
    c.prepare_cached(&sql)?
        .query_map([user.to_string()], notification)?
        .collect()
}

pub fn unread_count(c: &Connection, user: UserId) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL")?
        .query_row([user.to_string()], |r| r.get(0))
}

fn notification(r: &Row<'_>) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: id(r, 0)?,
        kind: NotificationKind::Message,
        conversation_id: id(r, 1)?,
        seq: r.get(2)?,
        from: UserRef {
            id: id(r, 3)?,
            username: r.get(4)?,
        },
        preview: r.get(5)?,
        created_at: r.get(6)?,
        read_at: r.get(7)?,
        mentioned: r.get(8)?,
    })
}

fn id<T: std::str::FromStr>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    r.get_ref(i)?
        .as_str()?
        .parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        for m in MIGRATIONS {
            c.execute_batch(m).unwrap();
        }
        c
    }

    fn note(conversation: ConversationId, seq: i64, from: UserId) -> Notification {
        Notification {
            id: NotificationId::new(),
            kind: NotificationKind::Message,
            conversation_id: conversation,
            seq,
            from: UserRef {
                id: from,
                username: "alice".into(),
            },
            preview: format!("message {seq}"),
            created_at: chrono::Utc::now(),
            read_at: None,
            mentioned: false,
        }
    }

    #[test]
    fn one_notification_per_message_and_reading_a_conversation_reads_them_up_to_seq() {
        let c = db();
        let (bob, eve, alice) = (UserId::new(), UserId::new(), UserId::new());
        let conv = ConversationId::new();
        for seq in 1..=3 {
            assert!(insert(&c, bob, &note(conv, seq, alice), None).unwrap().is_some());
        }
        assert!(
            insert(&c, bob, &note(conv, 2, alice), None).unwrap().is_none(),
            "same message again"
        );
        assert_eq!(unread_count(&c, bob).unwrap(), 3);
        let read_now = read_up_to(&c, bob, conv, 2, chrono::Utc::now()).unwrap();
        assert_eq!(read_now.len(), 2);
        assert_eq!(unread_count(&c, bob).unwrap(), 1);
        let newest_first: Vec<i64> = list(&c, bob, false, 10, None).unwrap().iter().map(|n| n.seq).collect();
        assert_eq!(newest_first, [3, 2, 1]);
        let unread: Vec<i64> = list(&c, bob, true, 10, None).unwrap().iter().map(|n| n.seq).collect();
        assert_eq!(unread, [3]);

        // Eve cannot read Bob's notifications by id.
        let bobs = list(&c, bob, true, 10, None).unwrap();
        assert!(
            read(&c, eve, Some(&[bobs[0].id]), chrono::Utc::now())
                .unwrap()
                .is_empty()
        );
        assert_eq!(unread_count(&c, bob).unwrap(), 1);
        assert_eq!(read(&c, bob, None, chrono::Utc::now()).unwrap(), [bobs[0].id]);
    }

    /// A notification made at unix millisecond `at`, as its UUIDv7 id says.
    fn note_at(conversation: ConversationId, seq: i64, at: i64) -> Notification {
        let id = format!("{:08x}-{:04x}-7000-8000-{seq:012x}", at >> 16, at & 0xffff);
        Notification {
            id: id.parse().unwrap(),
            ..note(conversation, seq, UserId::new())
        }
    }

    #[test]
    fn notifications_older_than_the_bound_go_oldest_first_read_or_not() {
        let c = db();
        let (bob, conv) = (UserId::new(), ConversationId::new());
        let day: i64 = 86_400_000;
        let now = 1_790_000_000_000;
        for (seq, at) in [
            (1, now - 100 * day),
            (2, now - 91 * day),
            (3, now - day - 1),
            (4, now - day),
            (5, now),
        ] {
            insert(&c, bob, &note_at(conv, seq, at), None).unwrap();
        }
        read_up_to(&c, bob, conv, 1, chrono::Utc::now()).unwrap();
        let seqs =
            |c: &Connection| -> Vec<i64> { list(c, bob, false, 10, None).unwrap().iter().map(|n| n.seq).collect() };
        assert_eq!(
            remove_older_than(&c, now - 90 * day, 1).unwrap().0,
            1,
            "at most as many as asked"
        );
        assert_eq!(seqs(&c), [5, 4, 3, 2]);
        assert_eq!(remove_older_than(&c, now - 90 * day, 10).unwrap().0, 1, "unread too");
        assert_eq!(
            remove_older_than(&c, now - day, 10).unwrap().0,
            1,
            "up to the millisecond, not it"
        );
        assert_eq!(seqs(&c), [5, 4]);
        assert_eq!(unread_count(&c, bob).unwrap(), 2);
    }

    /// Open tabs count unread notifications until told otherwise: a removal of old ones says,
    /// per user, which unread ones it removed; the read ones they already heard of.
    #[test]
    fn removing_old_notifications_returns_each_users_unread_ones_not_the_read() {
        let c = db();
        let (bob, eve, ann) = (UserId::new(), UserId::new(), UserId::new());
        let conv = ConversationId::new();
        let day: i64 = 86_400_000;
        let now = 1_790_000_000_000;
        let stored = |user, seq, at| {
            let n = note_at(conv, seq, at);
            insert(&c, user, &n, None).unwrap();
            n.id
        };
        stored(bob, 1, now - 100 * day);
        let bob_unread = vec![stored(bob, 2, now - 99 * day), stored(bob, 3, now - 95 * day)];
        let eve_unread = vec![stored(eve, 4, now - 98 * day)];
        stored(ann, 5, now - 97 * day);
        let kept = stored(bob, 6, now);
        read_up_to(&c, bob, conv, 1, chrono::Utc::now()).unwrap();
        read(&c, ann, None, chrono::Utc::now()).unwrap();

        let (removed, mut unread) = remove_older_than(&c, now - 90 * day, 10).unwrap();
        assert_eq!(removed, 5, "read or not");
        // In no particular order.
        unread.sort();
        unread.iter_mut().for_each(|(_, ids)| ids.sort());
        let mut told = vec![(bob, bob_unread), (eve, eve_unread)];
        told.sort();
        assert_eq!(unread, told, "each user's unread ones, not bob's nor ann's read ones");
        let left: Vec<_> = [bob, eve, ann]
            .iter()
            .flat_map(|u| list(&c, *u, false, 10, None).unwrap())
            .map(|n| n.id)
            .collect();
        assert_eq!(left, [kept]);
    }

    #[test]
    fn pages_continue_below_the_cursor() {
        let c = db();
        let (bob, alice) = (UserId::new(), UserId::new());
        let conv = ConversationId::new();
        for seq in 1..=5 {
            insert(&c, bob, &note(conv, seq, alice), None).unwrap();
        }
        let first = list(&c, bob, false, 2, None).unwrap();
        let second = list(&c, bob, false, 2, Some(first[1].id)).unwrap();
        let seqs: Vec<i64> = first.iter().chain(&second).map(|n| n.seq).collect();
        assert_eq!(seqs, [5, 4, 3, 2]);
    }

    #[test]
    fn open_mentions_are_listed_however_many_notifications_came_after_them() {
        let c = db();
        let (bob, alice) = (UserId::new(), UserId::new());
        let (group, other) = (ConversationId::new(), ConversationId::new());
        let mention = Notification {
            mentioned: true,
            ..note(group, 1, alice)
        };
        insert(&c, bob, &mention, Some("Team")).unwrap();
        for seq in 1..=60 {
            insert(&c, bob, &note(other, seq, alice), None).unwrap();
        }
        let page = list(&c, bob, false, 50, None).unwrap();
        assert!(page.iter().all(|n| !n.mentioned), "the mention is below the page");
        assert_eq!(open_mentions(&c, bob).unwrap(), std::slice::from_ref(&mention));
        assert!(open_mentions(&c, alice).unwrap().is_empty());

        let since = mention.created_at;
        let pushed = unread_since(&c, bob, since).unwrap();
        assert_eq!(pushed[0], (mention, Some("Team".to_owned())));
        assert_eq!(pushed[1].1, None, "a direct conversation's has no group title");

        read_up_to(&c, bob, group, 1, chrono::Utc::now()).unwrap();
        assert!(open_mentions(&c, bob).unwrap().is_empty());
    }

    /// Dismissing notifications (by id or all) reads them, and the bell's count with them, but
    /// the conversation is not read: its mention stays open until the conversation is read past
    /// it, which also ends a dismissed one; a later mention stays open.
    #[test]
    fn a_mention_stays_open_through_dismissals_until_its_conversation_is_read_past_it() {
        let c = db();
        let (bob, alice) = (UserId::new(), UserId::new());
        let group = ConversationId::new();
        let mention = |seq| Notification {
            mentioned: true,
            ..note(group, seq, alice)
        };
        let (first, second, third) = (mention(1), note(group, 2, alice), mention(3));
        for n in [&first, &second, &third] {
            insert(&c, bob, n, Some("Team")).unwrap();
        }
        let open = |c: &Connection| -> Vec<i64> { open_mentions(c, bob).unwrap().iter().map(|n| n.seq).collect() };

        assert_eq!(
            read(&c, bob, Some(&[first.id]), chrono::Utc::now()).unwrap(),
            [first.id]
        );
        assert_eq!(read(&c, bob, None, chrono::Utc::now()).unwrap(), [second.id, third.id]);
        assert_eq!(unread_count(&c, bob).unwrap(), 0, "the bell is cleared");
        assert_eq!(open(&c), [3, 1], "the conversation is not read");

        assert!(
            read_up_to(&c, bob, group, 2, chrono::Utc::now()).unwrap().is_empty(),
            "nothing newly read"
        );
        assert_eq!(open(&c), [3]);
        read_up_to(&c, bob, group, 3, chrono::Utc::now()).unwrap();
        assert!(open(&c).is_empty());
    }

    /// Reading a conversation (and first asking whether anything is to be read) and listing open
    /// mentions each take their partial index, not a scan of the user's notifications.
    #[test]
    fn reads_and_open_mentions_use_their_indexes() {
        let c = db();
        let plan = |sql: &str| -> String {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let dismissed = plan(
            "UPDATE notifications SET seen = 1
             WHERE user_id = 'u' AND conversation_id = 'c' AND seq <= 5 AND read_at IS NOT NULL AND NOT seen",
        );
        assert!(dismissed.contains("notifications_dismissed"), "{dismissed}");
        let pending = plan(
            "SELECT EXISTS (SELECT 1 FROM notifications
                            WHERE user_id = 'u' AND conversation_id = 'c' AND seq <= 5 AND read_at IS NULL)
                 OR EXISTS (SELECT 1 FROM notifications
                            WHERE user_id = 'u' AND conversation_id = 'c' AND seq <= 5 AND read_at IS NOT NULL AND NOT seen)",
        );
        assert!(
            pending.contains("notifications_unread") && pending.contains("notifications_dismissed"),
            "{pending}"
        );
        let open = plan(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = 'u' AND mentioned AND NOT seen ORDER BY id DESC LIMIT 500"
        ));
        assert!(
            open.contains("notifications_open_mentions") && !open.contains("TEMP B-TREE"),
            "{open}"
        );
    }
}
