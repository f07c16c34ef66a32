//! WebSocket frames: one JSON object per text frame, tagged by `type`.

use crate::Timestamp;
use crate::dto::{Message, Notification, UserRef};
use crate::error::ErrorCode;
use crate::ids::{ClientId, ConversationId, NotificationId, UserId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Client → server on `/ws/chat`. Fields a frame does not define are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[ts(export)]
pub enum ChatClientFrame {
    /// Send a message to a user (`to`) or into a conversation (`conversationId`).
    Send {
        client_id: ClientId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        to: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        conversation_id: Option<ConversationId>,
        body: String,
    },
    /// Everything up to `seq` reached one of my tabs.
    Delivered {
        conversation_id: ConversationId,
        #[ts(type = "number")]
        seq: i64,
    },
    /// Everything up to `seq` was on my screen.
    Read {
        conversation_id: ConversationId,
        #[ts(type = "number")]
        seq: i64,
    },
    Typing {
        conversation_id: ConversationId,
    },
    Ping,
    /// Any `type` this version does not know; answered with an `error` frame.
    #[serde(other)]
    #[ts(skip)]
    Unknown,
}

/// Server → client on `/ws/chat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[ts(export)]
pub enum ChatServerFrame {
    /// The message is recorded durably and will not be lost.
    Accepted {
        client_id: ClientId,
    },
    Message {
        message: Message,
    },
    Receipt {
        conversation_id: ConversationId,
        user_id: UserId,
        #[ts(type = "number")]
        delivered_seq: i64,
        #[ts(type = "number")]
        read_seq: i64,
    },
    Typing {
        conversation_id: ConversationId,
        user_id: UserId,
    },
    Pong,
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        client_id: Option<ClientId>,
    },
}

/// Server → client on `/ws/notifications`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
#[ts(export)]
pub enum NotificationServerFrame {
    #[serde(rename = "notification")]
    Notification { notification: Notification },
    /// These notifications were read (in any tab): clear them everywhere.
    #[serde(rename = "notifications.read")]
    NotificationsRead { ids: Vec<NotificationId> },
    #[serde(rename = "presence")]
    Presence {
        user_id: UserId,
        username: String,
        online: bool,
        last_seen_at: Option<Timestamp>,
    },
    #[serde(rename = "user.registered")]
    UserRegistered { user: UserRef },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_frame_type_parses_as_unknown() {
        let frame: ChatClientFrame = serde_json::from_str(r#"{"type":"dance","x":1}"#).unwrap();
        assert_eq!(frame, ChatClientFrame::Unknown);
    }

    #[test]
    fn extra_fields_are_ignored() {
        let frame: ChatClientFrame = serde_json::from_str(r#"{"type":"ping","extra":true}"#).unwrap();
        assert_eq!(frame, ChatClientFrame::Ping);
    }

    #[test]
    fn send_frame_uses_camel_case() {
        let json = r#"{"type":"send","clientId":"0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7b","conversationId":"0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7c","body":"hi"}"#;
        let frame: ChatClientFrame = serde_json::from_str(json).unwrap();
        assert!(matches!(
            frame,
            ChatClientFrame::Send {
                to: None,
                conversation_id: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn notifications_read_frame_has_dotted_type() {
        let frame = NotificationServerFrame::NotificationsRead { ids: vec![] };
        assert_eq!(
            serde_json::to_string(&frame).unwrap(),
            r#"{"type":"notifications.read","ids":[]}"#
        );
    }
}
