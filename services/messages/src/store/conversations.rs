//! Direct conversations, their two members, and the members' delivered and read watermarks.

use super::id;
use super::messages::message_from;
use gochat_proto::Timestamp;
use gochat_proto::dto::{Conversation, ConversationKind, UserSummary};
use gochat_proto::ids::{ConversationId, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// What routing and authorization need to know of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub id: ConversationId,
    pub members: [UserId; 2],
    pub last_seq: i64,
}

impl Head {
    pub fn has_member(&self, user: UserId) -> bool {
        self.members.contains(&user)
    }

    /// The member who is not `user`.
    pub fn peer_of(&self, user: UserId) -> UserId {
        if self.members[0] == user {
            self.members[1]
        } else {
            self.members[0]
        }
    }
}

/// A member's watermarks after a receipt, and whether the receipt moved them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watermarks {
    pub delivered_seq: i64,
    pub read_seq: i64,
    pub changed: bool,
}

fn ordered(a: UserId, b: UserId) -> (String, String) {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (lo.to_string(), hi.to_string())
}

fn head_from(r: &Row<'_>) -> rusqlite::Result<Head> {
    Ok(Head {
        id: id(r, 0)?,
        members: [id(r, 1)?, id(r, 2)?],
        last_seq: r.get(3)?,
    })
}

pub fn head(c: &Connection, conversation: ConversationId) -> rusqlite::Result<Option<Head>> {
    c.prepare_cached("SELECT id, member_lo, member_hi, last_seq FROM conversations WHERE id = ?1")?
        .query_row([conversation.to_string()], head_from)
        .optional()
}

/// The direct conversation of `a` and `b`, if they have one.
pub fn find_direct(c: &Connection, a: UserId, b: UserId) -> rusqlite::Result<Option<Head>> {
    let (lo, hi) = ordered(a, b);
    c.prepare_cached(
        "SELECT id, member_lo, member_hi, last_seq FROM conversations WHERE member_lo = ?1 AND member_hi = ?2",
    )?
    .query_row([lo, hi], head_from)
    .optional()
}

/// The direct conversation of `a` and `b`, created if they have none; true when created.
/// The caller checks that `a` and `b` differ and exist.
pub fn get_or_create_direct(c: &Connection, a: UserId, b: UserId, now: Timestamp) -> rusqlite::Result<(Head, bool)> {
    if let Some(existing) = find_direct(c, a, b)? {
        return Ok((existing, false));
    }
    let id = ConversationId::new();
    let (lo, hi) = ordered(a, b);
    c.prepare_cached(
        "INSERT INTO conversations (id, member_lo, member_hi, created_at, activity_us) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id.to_string(), lo, hi, now, now.timestamp_micros()])?;
    let mut add = c.prepare_cached("INSERT INTO members (user_id, conversation_id) VALUES (?1, ?2)")?;
    for member in [&lo, &hi] {
        add.execute(params![member, id.to_string()])?;
    }
    let members = if a <= b { [a, b] } else { [b, a] };
    Ok((
        Head {
            id,
            members,
            last_seq: 0,
        },
        true,
    ))
}

/// Moves `user`'s watermarks up to `delivered` and `read` (clamped to the conversation's last
/// seq; lower values change nothing; a read is also a delivery). `None` when `user` is not a
/// member.
pub fn advance(
    c: &Connection,
    conversation: ConversationId,
    user: UserId,
    delivered: i64,
    read: i64,
) -> rusqlite::Result<Option<Watermarks>> {
    let current = c
        .prepare_cached(
            "SELECT m.delivered_seq, m.read_seq, c.last_seq FROM members m
             JOIN conversations c ON c.id = m.conversation_id
             WHERE m.user_id = ?1 AND m.conversation_id = ?2",
        )?
        .query_row([user.to_string(), conversation.to_string()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })
        .optional()?;
    let Some((old_delivered, old_read, last_seq)) = current else {
        return Ok(None);
    };
    let read_seq = old_read.max(read.min(last_seq));
    let delivered_seq = old_delivered.max(delivered.min(last_seq)).max(read_seq);
    let changed = (delivered_seq, read_seq) != (old_delivered, old_read);
    if changed {
        c.prepare_cached(
            "UPDATE members SET delivered_seq = ?3, read_seq = ?4 WHERE user_id = ?1 AND conversation_id = ?2",
        )?
        .execute(params![
            user.to_string(),
            conversation.to_string(),
            delivered_seq,
            read_seq
        ])?;
    }
    Ok(Some(Watermarks {
        delivered_seq,
        read_seq,
        changed,
    }))
}

/// Columns of a conversation as `me` sees it; the last message's columns follow from index 9.
const VIEW: &str = "
SELECT c.id, c.last_seq, me.read_seq, peer.delivered_seq, peer.read_seq,
       peer.user_id, coalesce(u.username, ''), coalesce(u.online, 0), u.last_seen_at,
       m.id, m.conversation_id, m.seq, m.sender_id, m.body, m.sent_at, m.client_id
FROM members me
JOIN conversations c ON c.id = me.conversation_id
JOIN members peer ON peer.conversation_id = me.conversation_id AND peer.user_id <> me.user_id
LEFT JOIN users u ON u.id = peer.user_id
LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
WHERE me.user_id = ?1";

fn view_from(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    let last_seq: i64 = r.get(1)?;
    let my_read_seq: i64 = r.get(2)?;
    let last_message = match r.get_ref(9)?.as_str_or_null()? {
        Some(_) => Some(message_from(r, 9)?),
        None => None,
    };
    Ok(Conversation {
        id: id(r, 0)?,
        kind: ConversationKind::Direct,
        peer: UserSummary {
            id: id(r, 5)?,
            username: r.get(6)?,
            online: r.get(7)?,
            last_seen_at: r.get(8)?,
        },
        last_message,
        last_seq,
        unread: last_seq - my_read_seq,
        my_read_seq,
        peer_delivered_seq: r.get(3)?,
        peer_read_seq: r.get(4)?,
    })
}

/// `conversation` as `me` sees it; `None` when it does not exist or `me` is not a member.
pub fn view(c: &Connection, conversation: ConversationId, me: UserId) -> rusqlite::Result<Option<Conversation>> {
    c.prepare_cached(&format!("{VIEW} AND me.conversation_id = ?2"))?
        .query_row([me.to_string(), conversation.to_string()], view_from)
        .optional()
}

/// Every conversation of `me`, most recent activity first.
pub fn list(c: &Connection, me: UserId) -> rusqlite::Result<Vec<Conversation>> {
    c.prepare_cached(&format!("{VIEW} ORDER BY c.activity_us DESC, c.id DESC"))?
        .query_map([me.to_string()], view_from)?
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{messages, test_db, users};
    use gochat_proto::ids::ClientId;

    fn user(c: &Connection, name: &str) -> UserId {
        let id = UserId::new();
        users::registered(c, id, name).unwrap();
        id
    }

    #[test]
    fn one_direct_conversation_per_pair_whoever_starts_it() {
        let c = test_db();
        let (a, b) = (user(&c, "a"), user(&c, "b"));
        let (first, created) = get_or_create_direct(&c, a, b, chrono::Utc::now()).unwrap();
        assert!(created);
        let (second, created) = get_or_create_direct(&c, b, a, chrono::Utc::now()).unwrap();
        assert!(!created);
        assert_eq!(first, second);
        assert_eq!(head(&c, first.id).unwrap(), Some(first));
        assert!(first.has_member(a) && first.has_member(b));
        assert_eq!(first.peer_of(a), b);
        // The unique pair holds even against a direct insert.
        let (lo, hi) = ordered(a, b);
        let dup = c.execute(
            "INSERT INTO conversations (id, member_lo, member_hi, created_at, activity_us) VALUES ('x', ?1, ?2, '', 0)",
            [lo, hi],
        );
        assert!(dup.is_err());
    }

    #[test]
    fn watermarks_are_clamped_monotonic_and_read_implies_delivered() {
        let c = test_db();
        let (a, b, stranger) = (user(&c, "a"), user(&c, "b"), user(&c, "s"));
        let (conv, _) = get_or_create_direct(&c, a, b, chrono::Utc::now()).unwrap();
        for _ in 0..5 {
            messages::append(&c, conv.id, a, ClientId::new(), "hi", chrono::Utc::now()).unwrap();
        }
        let w = advance(&c, conv.id, b, 2, 0).unwrap().unwrap();
        assert_eq!((w.delivered_seq, w.read_seq, w.changed), (2, 0, true));
        let w = advance(&c, conv.id, b, 0, 4).unwrap().unwrap();
        assert_eq!((w.delivered_seq, w.read_seq, w.changed), (4, 4, true));
        let w = advance(&c, conv.id, b, 3, 1).unwrap().unwrap();
        assert_eq!((w.delivered_seq, w.read_seq, w.changed), (4, 4, false));
        let w = advance(&c, conv.id, b, 0, 1000).unwrap().unwrap();
        assert_eq!((w.delivered_seq, w.read_seq, w.changed), (5, 5, true));
        assert_eq!(advance(&c, conv.id, stranger, 1, 1).unwrap(), None);
        assert_eq!(advance(&c, ConversationId::new(), a, 1, 1).unwrap(), None);
    }

    #[test]
    fn list_shows_peer_last_message_and_unread_newest_activity_first() {
        let c = test_db();
        let (a, b, d) = (user(&c, "a"), user(&c, "b"), user(&c, "d"));
        let t0 = chrono::Utc::now();
        let (ab, _) = get_or_create_direct(&c, a, b, t0).unwrap();
        let (ad, _) = get_or_create_direct(&c, a, d, t0 + chrono::Duration::seconds(1)).unwrap();
        assert_eq!(
            list(&c, a).unwrap().iter().map(|v| v.id).collect::<Vec<_>>(),
            [ad.id, ab.id]
        );
        let view_ad = view(&c, ad.id, a).unwrap().unwrap();
        assert_eq!((view_ad.last_message, view_ad.last_seq, view_ad.unread), (None, 0, 0));

        messages::append(&c, ab.id, b, ClientId::new(), "one", t0 + chrono::Duration::seconds(2)).unwrap();
        let last = messages::append(&c, ab.id, b, ClientId::new(), "two", t0 + chrono::Duration::seconds(3)).unwrap();
        advance(&c, ab.id, a, 1, 1).unwrap();
        let listed = list(&c, a).unwrap();
        assert_eq!(listed.iter().map(|v| v.id).collect::<Vec<_>>(), [ab.id, ad.id]);
        let first = &listed[0];
        assert_eq!(first.peer.username, "b");
        assert_eq!(first.last_message.as_ref(), Some(&last));
        assert_eq!((first.last_seq, first.my_read_seq, first.unread), (2, 1, 1));
        let seen_by_b = view(&c, ab.id, b).unwrap().unwrap();
        assert_eq!(
            (
                seen_by_b.peer.username.as_str(),
                seen_by_b.peer_read_seq,
                seen_by_b.peer_delivered_seq
            ),
            ("a", 1, 1)
        );
        assert_eq!(view(&c, ab.id, d).unwrap(), None);
    }
}
