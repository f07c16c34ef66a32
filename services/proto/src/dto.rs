//! JSON bodies of the HTTP API, as CONTRACT.md names them.

use crate::Timestamp;
use crate::ids::{AttachmentId, ClientId, ConversationId, MessageId, NotificationId, UserId};
use serde::{Deserialize, Serialize};
#[cfg(feature = "ts")]
use ts_rs::TS;

// ----- auth -----

/// The signed-in user's own profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub role: crate::admin::Role,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct SignupRequest {
    pub email: String,
    pub username: String,
    pub password: String,
    /// Required while the sign-up policy is `invite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub invite_code: Option<String>,
}

/// Sign in by email or by username.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct SigninRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub username: Option<String>,
    pub password: String,
}

/// `POST /api/auth/password`: the signed-in user's new password, with the current one as proof.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/auth/password-reset`: the code of a reset link an admin made, and the new
/// password. Success signs the account in (as sign-in does) and ends its other sessions.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct ResetPasswordRequest {
    pub code: String,
    pub new_password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct UserResponse {
    pub user: User,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct CurrentUserResponse {
    pub current_user: Option<User>,
}

// ----- users -----

/// A name and an id: enough to show who did something.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
}

/// An entry of the user directory, with presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub online: bool,
    pub last_seen_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct UsersPage {
    pub users: Vec<UserSummary>,
    pub next_cursor: Option<String>,
}

/// `GET /api/users/blocked`: the users the caller blocks.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct BlockedUsers {
    pub users: Vec<UserRef>,
}

// ----- messages -----

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3… with no gaps.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    pub sender_id: UserId,
    /// Empty once deleted.
    pub body: String,
    pub sent_at: Timestamp,
    pub client_id: ClientId,
    /// The message of the same conversation this one answers.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub reply_to_seq: Option<i64>,
    #[serde(default)]
    pub edited_at: Option<Timestamp>,
    #[serde(default)]
    pub deleted_at: Option<Timestamp>,
    /// In the order each emoji was first used.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// One emoji on a message and who put it there, in the order they did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct Reaction {
    pub emoji: String,
    pub user_ids: Vec<UserId>,
}

/// An uploaded file. `contentType` is sniffed from its bytes; images have their size in pixels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct Attachment {
    pub id: AttachmentId,
    pub name: String,
    pub content_type: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub height: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct AttachmentResponse {
    pub attachment: Attachment,
}

/// `GET /api/attachments/limits`: how large an upload may be on this server, and how much of
/// the caller's quota their uploads (sent or not) take.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct AttachmentLimits {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub max_bytes: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub quota_bytes: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub used_bytes: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct MessagesPage {
    /// Ascending by `seq`.
    pub messages: Vec<Message>,
    pub has_more: bool,
    /// What happened to the group among these messages (those placed after one of them, and
    /// on the oldest page those before the first), in the order they happened. (Optional for
    /// clients: servers before timeline events sent none.)
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<TimelineEvent>>"))]
    pub events: Vec<TimelineEvent>,
}

/// Something that happened to a group besides its messages, shown in its timeline right after
/// message `afterSeq` (0: before the first). Members see those of the whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct TimelineEvent {
    /// 1, 2, 3… in the conversation, in the order the events happened: what orders them and
    /// tells them apart, since several can happen in the same instant (an owner leaves and
    /// hands the group over). 0 from publishers that predate it.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub num: i64,
    pub kind: TimelineKind,
    /// Who did it (who left, for `left`; the owner before, for `owner_changed`).
    pub actor_id: UserId,
    /// Who was added or removed, or the new owner; empty for the other kinds.
    pub user_ids: Vec<UserId>,
    /// The group's title it was created with or renamed to.
    pub title: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub after_seq: i64,
    pub at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum TimelineKind {
    Created,
    Added,
    Removed,
    Left,
    Renamed,
    /// The group passed to another member (its owner left).
    OwnerChanged,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Left => "left",
            Self::Renamed => "renamed",
            Self::OwnerChanged => "owner_changed",
        }
    }
}

impl std::str::FromStr for TimelineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [
            Self::Created,
            Self::Added,
            Self::Removed,
            Self::Left,
            Self::Renamed,
            Self::OwnerChanged,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("no timeline event kind {s:?}"))
    }
}

/// `GET /api/conversations/{id}/changes?since=<change>`: the messages edited, deleted or
/// reacted to after change `since`, in their current state, ascending by the change that last
/// touched them; `lastChange` is the change counter the page brings the caller up to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct ChangesPage {
    pub messages: Vec<Message>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_change: i64,
    pub has_more: bool,
}

/// `GET /api/search`: newest first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct SearchResult {
    pub message: Message,
    /// A short excerpt of the body around the first match.
    pub snippet: String,
}

// ----- conversations -----

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum ConversationKind {
    Direct,
    Group,
}

/// A conversation as one member sees it (`unread` and `myReadSeq` are that member's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum Conversation {
    Direct(DirectConversation),
    Group(GroupConversation),
}

impl Conversation {
    pub fn id(&self) -> ConversationId {
        match self {
            Self::Direct(c) => c.id,
            Self::Group(c) => c.id,
        }
    }

    pub fn last_seq(&self) -> i64 {
        match self {
            Self::Direct(c) => c.last_seq,
            Self::Group(c) => c.last_seq,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct DirectConversation {
    pub id: ConversationId,
    pub peer: UserSummary,
    pub last_message: Option<Message>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_seq: i64,
    /// `last_seq - my_read_seq`.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unread: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub my_read_seq: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub peer_delivered_seq: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub peer_read_seq: i64,
    /// The conversation's change counter: bumped by every edit, delete and reaction.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_change: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct GroupConversation {
    pub id: ConversationId,
    pub title: String,
    /// The owner first, then by username.
    pub members: Vec<Member>,
    pub last_message: Option<Message>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_seq: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unread: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub my_read_seq: i64,
    /// Every member's watermarks, the caller's included.
    pub receipts: Vec<Receipt>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_change: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct Member {
    pub id: UserId,
    pub username: String,
    pub role: MemberRole,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum MemberRole {
    Owner,
    Member,
}

/// One member's watermarks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct Receipt {
    pub user_id: UserId,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub delivered_seq: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub read_seq: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct ConversationsResponse {
    pub conversations: Vec<Conversation>,
}

/// `{"peerId"}` opens a direct conversation; `{"title","memberIds"}` creates a group.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct CreateConversationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub peer_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub member_ids: Option<Vec<UserId>>,
}

/// `PATCH /api/conversations/{id}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct RenameConversationRequest {
    pub title: String,
}

/// `POST /api/conversations/{id}/members`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct AddMembersRequest {
    pub user_ids: Vec<UserId>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct ConversationResponse {
    pub conversation: Conversation,
}

// ----- notifications -----

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum NotificationKind {
    Message,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub conversation_id: ConversationId,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    pub from: UserRef,
    pub preview: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
    /// Whether the message names its recipient (`@username`, in a group): the bell and Web Push
    /// say "mentioned you", and the conversation list marks the conversation. Absent (false) in
    /// what was stored or sent before mentions were told.
    #[serde(default)]
    pub mentioned: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct NotificationsPage {
    /// Newest first.
    pub notifications: Vec<Notification>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unread_count: i64,
    /// The caller's notifications that mention them in a conversation they have not read past
    /// them yet (dismissing a notification does not end its mention; reading the conversation
    /// does), newest first (at most [`crate::limits::UNREAD_MENTIONS`]), whatever the page: the
    /// conversation list marks their conversations with "@" however many newer notifications
    /// bury them.
    #[serde(default)]
    pub unread_mentions: Vec<Notification>,
}

/// `{"ids":[...]}` or `{"all":true}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct MarkNotificationsRead {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub ids: Option<Vec<NotificationId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub all: Option<bool>,
}

/// `GET /api/notifications/muted`: the conversations whose messages notify me of nothing.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct MutedConversations {
    pub conversation_ids: Vec<ConversationId>,
}

// ----- push to closed tabs (Web Push) -----

/// `GET /api/push/key`: the server's VAPID public key, for `PushManager.subscribe`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct PushKey {
    /// Uncompressed P-256 point (65 bytes), base64url without padding.
    pub public_key: String,
}

/// The keys of a browser's push subscription (`PushSubscription.toJSON().keys`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct PushSubscriptionKeys {
    /// The browser's P-256 public key (65 bytes, uncompressed), base64url.
    pub p256dh: String,
    /// The browser's authentication secret (16 bytes), base64url.
    pub auth: String,
}

/// `POST /api/push/subscriptions`: where this browser receives pushes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct PushSubscriptionRequest {
    pub endpoint: String,
    pub keys: PushSubscriptionKeys,
}

/// `DELETE /api/push/subscriptions`: this browser no longer wants pushes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct PushUnsubscribeRequest {
    pub endpoint: String,
}

/// What a push carries (encrypted for the browser): a new message for a user who had no open
/// `/ws/notifications` socket. The service worker shows it and opens the conversation on click.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct PushMessage {
    pub kind: NotificationKind,
    pub conversation_id: ConversationId,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    pub from: UserRef,
    pub preview: String,
    /// Whether the message names the recipient: the notification then says "mentioned you".
    #[serde(default)]
    pub mentioned: bool,
    /// The group's title (as renamed since the message, none in a direct conversation): the
    /// worker has no list of conversations to name it from.
    #[serde(default)]
    pub group_title: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timeline_kinds_are_stored_by_their_wire_names() {
        let kinds = [
            TimelineKind::Created,
            TimelineKind::Added,
            TimelineKind::Removed,
            TimelineKind::Left,
            TimelineKind::Renamed,
            TimelineKind::OwnerChanged,
        ];
        for kind in kinds {
            assert_eq!(json!(kind), json!(kind.as_str()));
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
        assert!("owner".parse::<TimelineKind>().is_err());
    }

    #[test]
    fn a_timeline_event_from_a_publisher_before_their_numbers_has_number_0() {
        let event: TimelineEvent = serde_json::from_value(json!({
            "kind": "left", "actorId": UserId::new(), "userIds": [], "title": null,
            "afterSeq": 3, "at": "2026-12-02T10:00:00Z",
        }))
        .expect("decodes");
        assert_eq!((event.num, event.kind, event.after_seq), (0, TimelineKind::Left, 3));
    }
}
