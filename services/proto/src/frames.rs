//! WebSocket frames: one JSON object per text frame, tagged by `type`.

use crate::Timestamp;
use crate::dto::{Conversation, Message, Notification, TimelineEvent, UserRef};
use crate::error::ErrorCode;
use crate::ids::{AttachmentId, ClientId, ConversationId, NotificationId, UserId};
use serde::{Deserialize, Serialize};
#[cfg(feature = "ts")]
use ts_rs::TS;

/// Client → server on `/ws/chat`. Fields a frame does not define are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum ChatClientFrame {
    /// Send a message to a user (`to`) or into a conversation (`conversationId`).
    Send {
        client_id: ClientId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        to: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        conversation_id: Option<ConversationId>,
        /// May be empty when the message carries attachments.
        #[serde(default)]
        body: String,
        /// A seq of the same conversation this message answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional, type = "number"))]
        reply_to_seq: Option<i64>,
        /// Uploads of the sender, each sent once.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[cfg_attr(feature = "ts", ts(as = "Option<Vec<AttachmentId>>", optional))]
        attachment_ids: Vec<AttachmentId>,
    },
    /// Everything up to `seq` reached one of my tabs.
    Delivered {
        conversation_id: ConversationId,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seq: i64,
    },
    /// Everything up to `seq` was on my screen.
    Read {
        conversation_id: ConversationId,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seq: i64,
    },
    Typing {
        conversation_id: ConversationId,
    },
    /// Replace the body of one of my messages.
    Edit {
        conversation_id: ConversationId,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seq: i64,
        body: String,
    },
    /// Delete one of my messages: it keeps its seq, its body and attachments are gone.
    Delete {
        conversation_id: ConversationId,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seq: i64,
    },
    /// Put (`on`) or take back my `emoji` on a message.
    React {
        conversation_id: ConversationId,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seq: i64,
        emoji: String,
        on: bool,
    },
    Ping,
    /// Any `type` this version does not know; answered with an `error` frame.
    #[serde(other)]
    #[cfg_attr(feature = "ts", ts(skip))]
    Unknown,
}

/// Server → client on `/ws/chat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum ChatServerFrame {
    /// The message is recorded durably and will not be lost.
    Accepted {
        client_id: ClientId,
    },
    /// A new message. It also moves its sender's watermarks to its seq (no `receipt` follows).
    Message {
        message: Message,
    },
    /// A message changed (edit, delete, reaction); `change` is the conversation's change
    /// counter after it.
    #[serde(rename = "message.updated")]
    MessageUpdated {
        message: Message,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        change: i64,
    },
    Receipt {
        conversation_id: ConversationId,
        user_id: UserId,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        delivered_seq: i64,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        read_seq: i64,
    },
    Typing {
        conversation_id: ConversationId,
        user_id: UserId,
    },
    /// A conversation I am in was created or changed (title, members, owner), and what happened,
    /// for its timeline.
    Conversation {
        conversation: Conversation,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        event: Option<Box<TimelineEvent>>,
    },
    /// I am no longer a member of this conversation.
    Removed {
        conversation_id: ConversationId,
    },
    /// This socket may have missed frames (the server lost its event feed for a while): catch
    /// up by seq and change counter, as after a reconnect.
    Resync,
    Pong,
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        client_id: Option<ClientId>,
    },
}

/// Server → client on `/ws/notifications`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
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
    fn send_frame_uses_camel_case_and_defaults_its_extras() {
        let json = r#"{"type":"send","clientId":"0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7b","conversationId":"0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7c","body":"hi"}"#;
        let frame: ChatClientFrame = serde_json::from_str(json).unwrap();
        assert!(matches!(
            frame,
            ChatClientFrame::Send {
                to: None,
                conversation_id: Some(_),
                reply_to_seq: None,
                ref attachment_ids,
                ..
            } if attachment_ids.is_empty()
        ));
        let json = r#"{"type":"send","clientId":"0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7b","conversationId":"0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7c","replyToSeq":3,"attachmentIds":["0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7d"]}"#;
        let frame: ChatClientFrame = serde_json::from_str(json).unwrap();
        assert!(matches!(frame, ChatClientFrame::Send { reply_to_seq: Some(3), ref body, .. } if body.is_empty()));
    }

    #[test]
    fn dotted_frame_types() {
        let frame = NotificationServerFrame::NotificationsRead { ids: vec![] };
        assert_eq!(
            serde_json::to_string(&frame).unwrap(),
            r#"{"type":"notifications.read","ids":[]}"#
        );
        let json = serde_json::to_value(ChatServerFrame::Resync).unwrap();
        assert_eq!(json, serde_json::json!({"type": "resync"}));
        let removed = ChatServerFrame::Removed {
            conversation_id: ConversationId::new(),
        };
        assert_eq!(serde_json::to_value(&removed).unwrap()["type"], "removed");
    }

    #[test]
    fn react_frame_parses() {
        let json = r#"{"type":"react","conversationId":"0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7c","seq":2,"emoji":"👍","on":true}"#;
        let frame: ChatClientFrame = serde_json::from_str(json).unwrap();
        assert!(matches!(frame, ChatClientFrame::React { seq: 2, on: true, .. }));
    }
}
