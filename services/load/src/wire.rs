//! The frames of `/ws/chat` the load generator sends and reads, by their JSON names in the
//! contract. Only what is measured is read, and a frame of a type it does not know is
//! skipped, so one load generator drives older and newer servers alike (the typed frames of
//! `gochat-proto` are exhaustive and would refuse a newer server's frames).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Client → server.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Outgoing<'a> {
    /// A message into a conversation (the web client always sends with `conversationId`).
    Send {
        client_id: Uuid,
        conversation_id: &'a str,
        body: &'a str,
    },
    /// Everything up to `seq` reached this tab.
    Delivered {
        conversation_id: &'a str,
        seq: i64,
    },
    Ping,
}

impl Outgoing<'_> {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("frames serialize")
    }
}

/// Server → client, as far as the load generator reads it.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Incoming {
    Accepted {
        client_id: Uuid,
    },
    Message {
        message: MessageHead,
    },
    Error {
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        client_id: Option<Uuid>,
    },
    Pong,
    /// The socket may have missed frames: catch up by seq, as after a reconnect.
    Resync,
    /// Receipts, typing, and whatever a newer server adds.
    #[serde(other)]
    Other,
}

/// The part of a stored message that is measured.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageHead {
    pub conversation_id: String,
    pub seq: i64,
    pub sender_id: String,
    pub client_id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_frame_is_what_the_web_client_sends() {
        let id = Uuid::nil();
        let text = Outgoing::Send {
            client_id: id,
            conversation_id: "c1",
            body: "hé",
        }
        .to_text();
        assert_eq!(
            text,
            r#"{"type":"send","clientId":"00000000-0000-0000-0000-000000000000","conversationId":"c1","body":"hé"}"#
        );
        let text = Outgoing::Delivered {
            conversation_id: "c1",
            seq: 7,
        }
        .to_text();
        assert_eq!(text, r#"{"type":"delivered","conversationId":"c1","seq":7}"#);
        assert_eq!(Outgoing::Ping.to_text(), r#"{"type":"ping"}"#);
        assert_eq!(
            serde_json::from_str::<Incoming>(r#"{"type":"pong"}"#).unwrap(),
            Incoming::Pong
        );
    }

    #[test]
    fn a_message_frame_is_read_for_what_is_measured() {
        let text = r#"{"type":"message","message":{"id":"m","conversationId":"c","seq":3,"senderId":"u","body":"x","sentAt":"2026-01-01T00:00:00Z","clientId":"00000000-0000-0000-0000-000000000001","reactions":[]}}"#;
        let Incoming::Message { message } = serde_json::from_str(text).unwrap() else {
            panic!("a message frame")
        };
        assert_eq!(message.seq, 3);
        assert_eq!(message.client_id, Uuid::from_u128(1));
    }

    #[test]
    fn frames_it_does_not_know_are_other() {
        for text in [
            r#"{"type":"receipt","conversationId":"c","userId":"u","deliveredSeq":1,"readSeq":0}"#,
            r#"{"type":"message.updated","message":{}}"#,
        ] {
            assert_eq!(
                serde_json::from_str::<Incoming>(text).unwrap(),
                Incoming::Other,
                "{text}"
            );
        }
    }

    #[test]
    fn a_resync_frame_is_read() {
        assert_eq!(
            serde_json::from_str::<Incoming>(r#"{"type":"resync"}"#).unwrap(),
            Incoming::Resync
        );
    }

    #[test]
    fn an_error_frame_keeps_its_client_id() {
        let text =
            r#"{"type":"error","code":"not_found","message":"no","clientId":"00000000-0000-0000-0000-000000000002"}"#;
        assert_eq!(
            serde_json::from_str::<Incoming>(text).unwrap(),
            Incoming::Error {
                code: "not_found".into(),
                message: "no".into(),
                client_id: Some(Uuid::from_u128(2))
            }
        );
    }
}
