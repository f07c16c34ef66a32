//! Conversations (direct and group), their members and roles, and the members' delivered and
//! read watermarks.

use super::messages;
use gochat_proto::Timestamp;
use gochat_proto::conversation::{ConversationState, MemberState};
use gochat_proto::dto::{Conversation, ConversationKind, MemberRole};
use gochat_proto::ids::{ConversationId, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// What routing and authorization need to know of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub id: ConversationId,
    /// Its number in this database (its search token).
    pub num: i64,
    pub kind: ConversationKind,
    pub last_seq: i64,
    pub last_change: i64,
}

/// A member's watermarks after a receipt, before it, and whether the receipt moved them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watermarks {
    pub delivered_seq: i64,
    pub read_seq: i64,
    pub old_delivered_seq: i64,
    pub old_read_seq: i64,
}

impl Watermarks {
    pub fn changed(&self) -> bool {
        (self.delivered_seq, self.read_seq) != (self.old_delivered_seq, self.old_read_seq)
    }
}

const HEAD: &str = "SELECT id, num, kind, last_seq, last_change FROM conversations";

fn head_from(r: &Row<'_>) -> rusqlite::Result<Head> {
    Ok(Head {
        id: r.get("id")?,
        num: r.get("num")?,
        kind: kind_from(r.get_ref("kind")?.as_str()?),
        last_seq: r.get("last_seq")?,
        last_change: r.get("last_change")?,
    })
}

fn kind_from(kind: &str) -> ConversationKind {
    if kind == "group" {
        ConversationKind::Group
    } else {
        ConversationKind::Direct
    }
}

fn role_from(role: &str) -> MemberRole {
    if role == "owner" {
        MemberRole::Owner
    } else {
        MemberRole::Member
    }
}

fn role_name(role: MemberRole) -> &'static str {
    match role {
        MemberRole::Owner => "owner",
        MemberRole::Member => "member",
    }
}

fn ordered(a: UserId, b: UserId) -> (UserId, UserId) {
    if a <= b { (a, b) } else { (b, a) }
}

pub fn head(c: &Connection, conversation: ConversationId) -> rusqlite::Result<Option<Head>> {
    c.prepare_cached(&format!("{HEAD} WHERE id = ?1"))?
        .query_row([conversation], head_from)
        .optional()
}

/// `user`'s role in `conversation`; `None` when they are not a member.
pub fn role(c: &Connection, conversation: ConversationId, user: UserId) -> rusqlite::Result<Option<MemberRole>> {
    c.prepare_cached("SELECT role FROM members WHERE user_id = ?1 AND conversation_id = ?2")?
        .query_row(params![user, conversation], |r| Ok(role_from(r.get_ref(0)?.as_str()?)))
        .optional()
}

/// The conversation, when `user` is one of its members.
pub fn head_for(c: &Connection, conversation: ConversationId, user: UserId) -> rusqlite::Result<Option<Head>> {
    if role(c, conversation, user)?.is_none() {
        return Ok(None);
    }
    head(c, conversation)
}

/// Every member of a conversation.
pub fn member_ids(c: &Connection, conversation: ConversationId) -> rusqlite::Result<Vec<UserId>> {
    c.prepare_cached("SELECT user_id FROM members WHERE conversation_id = ?1")?
        .query_map([conversation], |r| r.get(0))?
        .collect()
}

/// A group's title (`None` for a direct conversation).
pub fn title(c: &Connection, conversation: ConversationId) -> rusqlite::Result<Option<String>> {
    Ok(c.prepare_cached("SELECT title FROM conversations WHERE id = ?1")?
        .query_row([conversation], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The other member of a direct conversation (`None` for a group).
pub fn peer_of(c: &Connection, conversation: ConversationId, user: UserId) -> rusqlite::Result<Option<UserId>> {
    c.prepare_cached("SELECT member_lo, member_hi FROM conversations WHERE id = ?1 AND kind = 'direct'")?
        .query_row([conversation], |r| {
            let (lo, hi): (UserId, UserId) = (r.get(0)?, r.get(1)?);
            Ok(if lo == user { hi } else { lo })
        })
        .optional()
}

/// The direct conversation of `a` and `b`, if they have one.
pub fn find_direct(c: &Connection, a: UserId, b: UserId) -> rusqlite::Result<Option<Head>> {
    let (lo, hi) = ordered(a, b);
    c.prepare_cached(&format!("{HEAD} WHERE member_lo = ?1 AND member_hi = ?2"))?
        .query_row([lo, hi], head_from)
        .optional()
}

fn insert(
    c: &Connection,
    kind: ConversationKind,
    title: Option<&str>,
    pair: Option<(UserId, UserId)>,
    now: Timestamp,
) -> rusqlite::Result<Head> {
    let id = ConversationId::new();
    let num: i64 = c
        .prepare_cached("SELECT coalesce(max(num), 0) + 1 FROM conversations")?
        .query_row([], |r| r.get(0))?;
    let kind_name = match kind {
        ConversationKind::Direct => "direct",
        ConversationKind::Group => "group",
    };
    c.prepare_cached(
        "INSERT INTO conversations (id, num, kind, title, member_lo, member_hi, created_at, activity_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        id,
        num,
        kind_name,
        title,
        pair.map(|p| p.0),
        pair.map(|p| p.1),
        now,
        now.timestamp_micros()
    ])?;
    Ok(Head {
        id,
        num,
        kind,
        last_seq: 0,
        last_change: 0,
    })
}

fn add(
    c: &Connection,
    conversation: ConversationId,
    user: UserId,
    role: MemberRole,
    now: Timestamp,
) -> rusqlite::Result<bool> {
    let added = c
        .prepare_cached(
            "INSERT OR IGNORE INTO members (user_id, conversation_id, role, joined_us) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![user, conversation, role_name(role), now.timestamp_micros()])?;
    Ok(added == 1)
}

/// The direct conversation of `a` and `b`, created if they have none; true when created.
/// The caller checks that `a` and `b` differ and exist.
pub fn get_or_create_direct(c: &Connection, a: UserId, b: UserId, now: Timestamp) -> rusqlite::Result<(Head, bool)> {
    if let Some(existing) = find_direct(c, a, b)? {
        return Ok((existing, false));
    }
    let head = insert(c, ConversationKind::Direct, None, Some(ordered(a, b)), now)?;
    for member in [a, b] {
        add(c, head.id, member, MemberRole::Member, now)?;
    }
    Ok((head, true))
}

/// A new group owned by `owner`, with `others` as members. The caller checks the title, that
/// the others exist, and the size.
pub fn create_group(
    c: &Connection,
    owner: UserId,
    title: &str,
    others: &[UserId],
    now: Timestamp,
) -> rusqlite::Result<Head> {
    let head = insert(c, ConversationKind::Group, Some(title), None, now)?;
    add(c, head.id, owner, MemberRole::Owner, now)?;
    for other in others {
        add(c, head.id, *other, MemberRole::Member, now)?;
    }
    Ok(head)
}

/// Renames a group; false when the title was already that.
pub fn rename(c: &Connection, conversation: ConversationId, title: &str) -> rusqlite::Result<bool> {
    let changed = c
        .prepare_cached("UPDATE conversations SET title = ?2 WHERE id = ?1 AND title IS NOT ?2")?
        .execute(params![conversation, title])?;
    Ok(changed == 1)
}

/// Adds members to a group; returns those who were not members yet. A newcomer sees the whole
/// history but has none of it to catch up on: their watermarks start at the newest message, so
/// the group is not "5,000 unread" to them, nor opened at its first message.
pub fn add_members(
    c: &Connection,
    conversation: ConversationId,
    users: &[UserId],
    now: Timestamp,
) -> rusqlite::Result<Vec<UserId>> {
    let mut added = Vec::new();
    for user in users {
        if add(c, conversation, *user, MemberRole::Member, now)? {
            c.prepare_cached(
                "UPDATE members SET delivered_seq = c.last_seq, read_seq = c.last_seq
                 FROM (SELECT last_seq FROM conversations WHERE id = ?2) AS c
                 WHERE user_id = ?1 AND conversation_id = ?2",
            )?
            .execute(params![user, conversation])?;
            added.push(*user);
        }
    }
    Ok(added)
}

/// What removing a member changed besides the membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Removal {
    /// The member who became the group's owner because its owner left (none when a member left,
    /// or nobody is left), for the timeline to say so.
    pub new_owner: Option<UserId>,
}

/// Removes a member; `None` when they were not one. When the owner of a group leaves, the
/// member who joined first becomes its owner, so a group always has one while it has members.
pub fn remove_member(c: &Connection, conversation: ConversationId, user: UserId) -> rusqlite::Result<Option<Removal>> {
    let Some(role) = role(c, conversation, user)? else {
        return Ok(None);
    };
    c.prepare_cached("DELETE FROM members WHERE user_id = ?1 AND conversation_id = ?2")?
        .execute(params![user, conversation])?;
    let new_owner = if role == MemberRole::Owner {
        c.prepare_cached(
            "UPDATE members SET role = 'owner'
             WHERE conversation_id = ?1 AND user_id = (
                 SELECT user_id FROM members WHERE conversation_id = ?1 ORDER BY joined_us, user_id LIMIT 1)
             RETURNING user_id",
        )?
        .query_row([conversation], |r| r.get(0))
        .optional()?
    } else {
        None
    };
    Ok(Some(Removal { new_owner }))
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
        .query_row(params![user, conversation], |r| {
            Ok((
                r.get::<_, i64>("delivered_seq")?,
                r.get::<_, i64>("read_seq")?,
                r.get::<_, i64>("last_seq")?,
            ))
        })
        .optional()?;
    let Some((old_delivered, old_read, last_seq)) = current else {
        return Ok(None);
    };
    let read_seq = old_read.max(read.min(last_seq));
    let delivered_seq = old_delivered.max(delivered.min(last_seq)).max(read_seq);
    let marks = Watermarks {
        delivered_seq,
        read_seq,
        old_delivered_seq: old_delivered,
        old_read_seq: old_read,
    };
    if marks.changed() {
        c.prepare_cached(
            "UPDATE members SET delivered_seq = ?3, read_seq = ?4 WHERE user_id = ?1 AND conversation_id = ?2",
        )?
        .execute(params![user, conversation, delivered_seq, read_seq])?;
    }
    Ok(Some(marks))
}

/// Bumps the conversation's change counter; returns its new value.
pub fn bump_change(c: &Connection, conversation: ConversationId) -> rusqlite::Result<i64> {
    c.prepare_cached("UPDATE conversations SET last_change = last_change + 1 WHERE id = ?1 RETURNING last_change")?
        .query_row([conversation], |r| r.get(0))
}

/// The conversation's state as every member sees it, or `None` when it does not exist.
pub fn state(c: &Connection, conversation: ConversationId) -> rusqlite::Result<Option<ConversationState>> {
    let row = c
        .prepare_cached("SELECT kind, title, last_seq, last_change FROM conversations WHERE id = ?1")?
        .query_row([conversation], |r| {
            Ok((
                kind_from(r.get_ref("kind")?.as_str()?),
                r.get::<_, Option<String>>("title")?,
                r.get::<_, i64>("last_seq")?,
                r.get::<_, i64>("last_change")?,
            ))
        })
        .optional()?;
    let Some((kind, title, last_seq, last_change)) = row else {
        return Ok(None);
    };
    let members = c
        .prepare_cached(
            "SELECT m.user_id, coalesce(u.username, '') AS username, m.role, coalesce(u.online, 0) AS online,
                    u.last_seen_at, m.delivered_seq, m.read_seq
             FROM members m LEFT JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = ?1
             ORDER BY m.role = 'owner' DESC, username, m.user_id",
        )?
        .query_map([conversation], |r| {
            Ok(MemberState {
                id: r.get("user_id")?,
                username: r.get("username")?,
                role: role_from(r.get_ref("role")?.as_str()?),
                online: r.get("online")?,
                last_seen_at: r.get("last_seen_at")?,
                delivered_seq: r.get("delivered_seq")?,
                read_seq: r.get("read_seq")?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let last_message = if last_seq > 0 {
        messages::get(c, conversation, last_seq)?
    } else {
        None
    };
    Ok(Some(ConversationState {
        id: conversation,
        kind,
        title,
        members,
        last_message,
        last_seq,
        last_change,
    }))
}

/// `conversation` as `me` sees it; `None` when it does not exist or `me` is not a member.
pub fn view(c: &Connection, conversation: ConversationId, me: UserId) -> rusqlite::Result<Option<Conversation>> {
    Ok(state(c, conversation)?.and_then(|s| s.view_for(me)))
}

/// Every conversation of `me`, most recent activity first.
pub fn list(c: &Connection, me: UserId) -> rusqlite::Result<Vec<Conversation>> {
    let ids = c
        .prepare_cached(
            "SELECT c.id FROM members me JOIN conversations c ON c.id = me.conversation_id
             WHERE me.user_id = ?1 ORDER BY c.activity_us DESC, c.id DESC",
        )?
        .query_map([me], |r| r.get::<_, ConversationId>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut views = Vec::with_capacity(ids.len());
    for id in ids {
        views.extend(view(c, id, me)?);
    }
    Ok(views)
}

/// Marks the conversation active now (a new message), for the list's order.
pub fn touch(c: &Connection, conversation: ConversationId, seq: i64, at: Timestamp) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE conversations SET last_seq = ?2, activity_us = max(activity_us, ?3) WHERE id = ?1")?
        .execute(params![conversation, seq, at.timestamp_micros()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{messages, test_db, users};
    use gochat_proto::dto::Conversation as View;
    use gochat_proto::ids::ClientId;

    fn user(c: &Connection, name: &str) -> UserId {
        let id = UserId::new();
        users::registered(c, id, name).unwrap();
        id
    }

    fn say_at(c: &Connection, conversation: ConversationId, sender: UserId, body: &str, at: Timestamp) -> i64 {
        let head = head(c, conversation).unwrap().unwrap();
        messages::append(c, &head, sender, ClientId::new(), body, None, at)
            .unwrap()
            .seq
    }

    fn say(c: &Connection, conversation: ConversationId, sender: UserId, body: &str) -> i64 {
        say_at(c, conversation, sender, body, chrono::Utc::now())
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
        assert_eq!(peer_of(&c, first.id, a).unwrap(), Some(b));
        assert_eq!(role(&c, first.id, b).unwrap(), Some(MemberRole::Member));
        // The unique pair holds even against a direct insert.
        let (lo, hi) = ordered(a, b);
        let dup = c.execute(
            "INSERT INTO conversations (id, num, kind, member_lo, member_hi, created_at, activity_us)
             VALUES ('x', 99, 'direct', ?1, ?2, '', 0)",
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
            say(&c, conv.id, a, "hi");
        }
        let w = advance(&c, conv.id, b, 2, 0).unwrap().unwrap();
        assert_eq!((w.delivered_seq, w.read_seq, w.changed()), (2, 0, true));
        let w = advance(&c, conv.id, b, 0, 4).unwrap().unwrap();
        assert_eq!(
            (w.delivered_seq, w.read_seq, w.old_delivered_seq, w.changed()),
            (4, 4, 2, true)
        );
        let w = advance(&c, conv.id, b, 3, 1).unwrap().unwrap();
        assert_eq!((w.delivered_seq, w.read_seq, w.changed()), (4, 4, false));
        let w = advance(&c, conv.id, b, 0, 1000).unwrap().unwrap();
        assert_eq!((w.delivered_seq, w.read_seq, w.changed()), (5, 5, true));
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
            list(&c, a).unwrap().iter().map(View::id).collect::<Vec<_>>(),
            [ad.id, ab.id]
        );

        say_at(&c, ab.id, b, "one", t0 + chrono::Duration::seconds(2));
        say_at(&c, ab.id, b, "two", t0 + chrono::Duration::seconds(3));
        advance(&c, ab.id, a, 1, 1).unwrap();
        let listed = list(&c, a).unwrap();
        assert_eq!(listed.iter().map(View::id).collect::<Vec<_>>(), [ab.id, ad.id]);
        let View::Direct(first) = &listed[0] else {
            panic!("direct")
        };
        assert_eq!(first.peer.username, "b");
        assert_eq!(first.last_message.as_ref().map(|m| m.body.as_str()), Some("two"));
        assert_eq!((first.last_seq, first.my_read_seq, first.unread), (2, 1, 1));
        let Some(View::Direct(seen_by_b)) = view(&c, ab.id, b).unwrap() else {
            panic!("b is a member")
        };
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

    #[test]
    fn a_member_added_to_a_group_has_its_history_to_read_but_nothing_unread() {
        let c = test_db();
        let (owner, dan) = (user(&c, "owner"), user(&c, "dan"));
        let group = create_group(&c, owner, "Family", &[], chrono::Utc::now()).unwrap();
        for _ in 0..3 {
            say(&c, group.id, owner, "before dan");
        }
        assert_eq!(add_members(&c, group.id, &[dan], chrono::Utc::now()).unwrap(), [dan]);
        let Some(View::Group(seen_by_dan)) = view(&c, group.id, dan).unwrap() else {
            panic!("dan is a member")
        };
        assert_eq!(
            (seen_by_dan.last_seq, seen_by_dan.my_read_seq, seen_by_dan.unread),
            (3, 3, 0)
        );
        say(&c, group.id, owner, "after dan");
        let Some(View::Group(seen_by_dan)) = view(&c, group.id, dan).unwrap() else {
            panic!("dan is a member")
        };
        assert_eq!(seen_by_dan.unread, 1);
    }

    #[test]
    fn a_group_has_an_owner_members_and_keeps_an_owner_when_it_leaves() {
        let c = test_db();
        let (owner, b, d, e) = (user(&c, "owner"), user(&c, "bea"), user(&c, "dan"), user(&c, "eve"));
        let group = create_group(&c, owner, "Family", &[d, b], chrono::Utc::now()).unwrap();
        assert_eq!(group.kind, ConversationKind::Group);
        let state = state(&c, group.id).unwrap().unwrap();
        let names: Vec<_> = state.members.iter().map(|m| m.username.as_str()).collect();
        assert_eq!(names, ["owner", "bea", "dan"], "owner first, then by name");
        assert_eq!(state.title.as_deref(), Some("Family"));

        assert!(rename(&c, group.id, "Fam").unwrap());
        assert!(!rename(&c, group.id, "Fam").unwrap(), "same title changes nothing");
        assert_eq!(add_members(&c, group.id, &[e, b], chrono::Utc::now()).unwrap(), [e]);
        assert_eq!(member_ids(&c, group.id).unwrap().len(), 4);

        let removal = remove_member(&c, group.id, owner).unwrap();
        assert_eq!(remove_member(&c, group.id, owner).unwrap(), None);
        let owners: Vec<_> = state_of(&c, group.id)
            .members
            .into_iter()
            .filter(|m| m.role == MemberRole::Owner)
            .map(|m| m.id)
            .collect();
        assert_eq!(owners.len(), 1, "a group keeps exactly one owner");
        assert_eq!(
            removal,
            Some(Removal {
                new_owner: Some(owners[0])
            }),
            "and says who it is"
        );
        assert_eq!(
            remove_member(&c, group.id, e).unwrap(),
            Some(Removal { new_owner: None }),
            "a member leaving hands nothing over"
        );
        let next = remove_member(&c, group.id, owners[0])
            .unwrap()
            .and_then(|r| r.new_owner);
        assert_eq!(
            remove_member(&c, group.id, next.expect("someone left to own it")).unwrap(),
            Some(Removal { new_owner: None }),
            "nobody is left to own it"
        );
        assert_eq!(view(&c, group.id, owner).unwrap(), None, "a former member sees nothing");
        assert!(
            find_direct(&c, b, d).unwrap().is_none(),
            "a group is not a direct conversation"
        );
    }

    fn state_of(c: &Connection, id: ConversationId) -> ConversationState {
        state(c, id).unwrap().unwrap()
    }
}
