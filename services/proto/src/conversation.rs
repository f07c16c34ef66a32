//! A conversation's shared state, from which each member's view is rendered.
//!
//! The messages service owns conversations; it announces a conversation's state in events, and
//! whoever shows it to a member (the REST routes, every chat instance) renders that member's
//! view with [`ConversationState::view_for`]: one way to build a view, wherever it is built.

use crate::Timestamp;
use crate::dto::{
    Conversation, ConversationKind, DirectConversation, GroupConversation, Member, MemberRole, Message, Receipt,
    UserSummary,
};
use crate::ids::{ConversationId, UserId};
use serde::{Deserialize, Serialize};

/// Everything about a conversation that does not depend on who looks at it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationState {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// Groups only.
    pub title: Option<String>,
    /// Groups: the owner first, then by username. Direct: the two members.
    pub members: Vec<MemberState>,
    pub last_message: Option<Message>,
    pub last_seq: i64,
    pub last_change: i64,
}

/// A member, as the conversation knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberState {
    pub id: UserId,
    pub username: String,
    pub role: MemberRole,
    pub online: bool,
    pub last_seen_at: Option<Timestamp>,
    pub delivered_seq: i64,
    pub read_seq: i64,
}

impl ConversationState {
    pub fn member_ids(&self) -> Vec<UserId> {
        self.members.iter().map(|m| m.id).collect()
    }

    pub fn member(&self, user: UserId) -> Option<&MemberState> {
        self.members.iter().find(|m| m.id == user)
    }

    /// The conversation as `me` sees it; `None` when `me` is not a member.
    pub fn view_for(&self, me: UserId) -> Option<Conversation> {
        let mine = self.member(me)?;
        let unread = (self.last_seq - mine.read_seq).max(0);
        Some(match self.kind {
            ConversationKind::Direct => {
                // A direct conversation whose peer left the directory still shows who it was.
                let peer = self.members.iter().find(|m| m.id != me).unwrap_or(mine);
                Conversation::Direct(DirectConversation {
                    id: self.id,
                    peer: UserSummary {
                        id: peer.id,
                        username: peer.username.clone(),
                        online: peer.online,
                        last_seen_at: peer.last_seen_at,
                    },
                    last_message: self.last_message.clone(),
                    last_seq: self.last_seq,
                    unread,
                    my_read_seq: mine.read_seq,
                    peer_delivered_seq: peer.delivered_seq,
                    peer_read_seq: peer.read_seq,
                    last_change: self.last_change,
                })
            }
            ConversationKind::Group => Conversation::Group(GroupConversation {
                id: self.id,
                title: self.title.clone().unwrap_or_default(),
                members: self
                    .members
                    .iter()
                    .map(|m| Member {
                        id: m.id,
                        username: m.username.clone(),
                        role: m.role,
                    })
                    .collect(),
                last_message: self.last_message.clone(),
                last_seq: self.last_seq,
                unread,
                my_read_seq: mine.read_seq,
                receipts: self
                    .members
                    .iter()
                    .map(|m| Receipt {
                        user_id: m.id,
                        delivered_seq: m.delivered_seq,
                        read_seq: m.read_seq,
                    })
                    .collect(),
                last_change: self.last_change,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, role: MemberRole, delivered: i64, read: i64) -> MemberState {
        MemberState {
            id: UserId::new(),
            username: name.into(),
            role,
            online: false,
            last_seen_at: None,
            delivered_seq: delivered,
            read_seq: read,
        }
    }

    #[test]
    fn each_member_sees_their_own_unread_and_a_stranger_nothing() {
        let (a, b) = (
            member("a", MemberRole::Member, 5, 5),
            member("b", MemberRole::Member, 4, 2),
        );
        let (a_id, b_id) = (a.id, b.id);
        let state = ConversationState {
            id: ConversationId::new(),
            kind: ConversationKind::Direct,
            title: None,
            members: vec![a, b],
            last_message: None,
            last_seq: 5,
            last_change: 0,
        };
        let Some(Conversation::Direct(seen_by_b)) = state.view_for(b_id) else {
            panic!("b is a member of a direct conversation")
        };
        assert_eq!(seen_by_b.peer.username, "a");
        assert_eq!(
            (seen_by_b.unread, seen_by_b.my_read_seq, seen_by_b.peer_read_seq),
            (3, 2, 5)
        );
        let Some(Conversation::Direct(seen_by_a)) = state.view_for(a_id) else {
            panic!("a is a member")
        };
        assert_eq!((seen_by_a.unread, seen_by_a.peer_delivered_seq), (0, 4));
        assert_eq!(state.view_for(UserId::new()), None);
    }

    #[test]
    fn a_group_view_lists_members_and_everyones_receipts() {
        let owner = member("owner", MemberRole::Owner, 3, 3);
        let other = member("zed", MemberRole::Member, 3, 1);
        let other_id = other.id;
        let state = ConversationState {
            id: ConversationId::new(),
            kind: ConversationKind::Group,
            title: Some("Family".into()),
            members: vec![owner, other],
            last_message: None,
            last_seq: 3,
            last_change: 7,
        };
        let Some(Conversation::Group(view)) = state.view_for(other_id) else {
            panic!("a group member sees the group")
        };
        assert_eq!(view.title, "Family");
        assert_eq!(view.members[0].role, MemberRole::Owner);
        assert_eq!((view.unread, view.last_change, view.receipts.len()), (2, 7, 2));
        let json = serde_json::to_value(Conversation::Group(view)).unwrap();
        assert_eq!(json["kind"], "group");
        assert_eq!(json["receipts"][1]["readSeq"], 1);
    }
}
