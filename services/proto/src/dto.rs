//! JSON bodies of the HTTP API, as CONTRACT.md names them.

use crate::Timestamp;
use crate::ids::{ClientId, ConversationId, MessageId, NotificationId, UserId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

// ----- auth -----

/// The signed-in user's own profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SignupRequest {
    pub email: String,
    pub username: String,
    pub password: String,
}

/// Sign in by email or by username.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SigninRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UserResponse {
    pub user: User,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CurrentUserResponse {
    pub current_user: Option<User>,
}

// ----- users -----

/// A name and an id: enough to show who did something.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
}

/// An entry of the user directory, with presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub online: bool,
    pub last_seen_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UsersPage {
    pub users: Vec<UserSummary>,
    pub next_cursor: Option<String>,
}

// ----- conversations and messages -----

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3… with no gaps.
    #[ts(type = "number")]
    pub seq: i64,
    pub sender_id: UserId,
    pub body: String,
    pub sent_at: Timestamp,
    pub client_id: ClientId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConversationKind {
    Direct,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub peer: UserSummary,
    pub last_message: Option<Message>,
    #[ts(type = "number")]
    pub last_seq: i64,
    /// `last_seq - my_read_seq`.
    #[ts(type = "number")]
    pub unread: i64,
    #[ts(type = "number")]
    pub my_read_seq: i64,
    #[ts(type = "number")]
    pub peer_delivered_seq: i64,
    #[ts(type = "number")]
    pub peer_read_seq: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConversationsResponse {
    pub conversations: Vec<Conversation>,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CreateConversationRequest {
    pub peer_id: UserId,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConversationResponse {
    pub conversation: Conversation,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MessagesPage {
    /// Ascending by `seq`.
    pub messages: Vec<Message>,
    pub has_more: bool,
}

// ----- notifications -----

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NotificationKind {
    Message,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub conversation_id: ConversationId,
    #[ts(type = "number")]
    pub seq: i64,
    pub from: UserRef,
    pub preview: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NotificationsPage {
    /// Newest first.
    pub notifications: Vec<Notification>,
    #[ts(type = "number")]
    pub unread_count: i64,
}

/// `{"ids":[...]}` or `{"all":true}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MarkNotificationsRead {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ids: Option<Vec<NotificationId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub all: Option<bool>,
}
