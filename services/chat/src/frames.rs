//! What each client frame does. The user is always the socket's verified user.
//!
//! Chat checks what it can alone (shapes and sizes, answered at once with an `error` frame)
//! and records the rest for the messages service, which owns conversations and answers a
//! refusal (not a member, not your message) through `message.rejected`.

use crate::AppState;
use crate::socket::Peer;
use axum::extract::ws::Utf8Bytes;
use gochat_kit::db::DbError;
use gochat_kit::record::Outcome;
use gochat_kit::ws::Reply;
use gochat_proto::error::ErrorCode;
use gochat_proto::events::{EventData, MessageDeleted, MessageEdited, MessageReacted, MessageSent, Origin, UserTyping};
use gochat_proto::frames::{ChatClientFrame, ChatServerFrame};
use gochat_proto::ids::ClientId;
use gochat_proto::validate;

/// Answers a binary frame: the protocol's frames are JSON text.
pub fn not_text() -> Reply {
    refuse(
        ErrorCode::InvalidInput,
        "malformed frame: frames are JSON text, not binary",
        None,
    )
}

/// Handles one text frame and says how it is answered.
pub async fn handle(state: &AppState, peer: &Peer, text: &str) -> Reply {
    let frame = match serde_json::from_str::<ChatClientFrame>(text) {
        Ok(frame) => frame,
        Err(e) => return refuse(ErrorCode::InvalidInput, &malformed(&e), client_id_of(text)),
    };
    let user = peer.user.id;
    let origin = || Some(origin_of(state, peer));
    let now = chrono::Utc::now();
    match frame {
        ChatClientFrame::Send {
            client_id,
            to,
            conversation_id,
            body,
            reply_to_seq,
            attachment_ids,
        } => {
            let shape = match (to, conversation_id) {
                (Some(_), Some(_)) | (None, None) => Err("give either `to` or `conversationId`"),
                (Some(to), None) if to == user => Err("you cannot message yourself"),
                _ => Ok(()),
            };
            let checked = shape
                .and_then(|()| validate::body(&body, &attachment_ids))
                .and_then(|()| reply_to_seq.map_or(Ok(()), validate::seq));
            if let Err(reason) = checked {
                return refuse(ErrorCode::InvalidInput, reason, Some(client_id));
            }
            let event = MessageSent {
                sender_id: user,
                sender_username: peer.user.username.clone(),
                client_id,
                to,
                conversation_id,
                body,
                reply_to_seq,
                attachment_ids,
                sent_at: now,
                origin: origin(),
            };
            match state.recorder.record(&event).await {
                Ok(safe) => Reply::Later(Box::pin(async move {
                    match safe.await {
                        Ok(Outcome::Safe) => Some(encode(&ChatServerFrame::Accepted { client_id })),
                        // Refused in the commit that would have stored it (in one process): the
                        // refusal, on its way as `message.rejected`, is the only answer.
                        Ok(Outcome::Refused) => None,
                        Err(e) => Some(internal(e, Some(client_id))),
                    }
                })),
                Err(e) => Reply::Now(internal(e, Some(client_id))),
            }
        }
        ChatClientFrame::Delivered { seq, .. } | ChatClientFrame::Read { seq, .. } if seq < 0 => {
            refuse(ErrorCode::InvalidInput, "seq must not be negative", None)
        }
        ChatClientFrame::Delivered { conversation_id, seq } => {
            state
                .receipts
                .note(user, conversation_id, seq, 0, origin_of(state, peer));
            Reply::None
        }
        ChatClientFrame::Read { conversation_id, seq } => {
            state
                .receipts
                .note(user, conversation_id, seq, seq, origin_of(state, peer));
            Reply::None
        }
        ChatClientFrame::Edit {
            conversation_id,
            seq,
            body,
        } => {
            if let Err(reason) = validate::seq(seq).and_then(|()| validate::edited_body(&body)) {
                return refuse(ErrorCode::InvalidInput, reason, None);
            }
            let event = MessageEdited {
                conversation_id,
                seq,
                user_id: user,
                body,
                at: now,
                origin: origin(),
            };
            record(state, &event).await
        }
        ChatClientFrame::Delete { conversation_id, seq } => {
            if let Err(reason) = validate::seq(seq) {
                return refuse(ErrorCode::InvalidInput, reason, None);
            }
            let event = MessageDeleted {
                conversation_id,
                seq,
                user_id: user,
                at: now,
                origin: origin(),
            };
            record(state, &event).await
        }
        ChatClientFrame::React {
            conversation_id,
            seq,
            emoji,
            on,
        } => {
            let emoji = match validate::seq(seq).and_then(|()| validate::emoji(&emoji)) {
                Ok(emoji) => emoji.to_owned(),
                Err(reason) => return refuse(ErrorCode::InvalidInput, reason, None),
            };
            let event = MessageReacted {
                conversation_id,
                seq,
                user_id: user,
                emoji,
                on,
                at: now,
                origin: origin(),
            };
            record(state, &event).await
        }
        ChatClientFrame::Typing { conversation_id } => {
            if state.typing.contains_key(&(user, conversation_id)) {
                return Reply::None;
            }
            state.typing.insert((user, conversation_id), ());
            // Ephemeral: if the bus is down the indicator is simply lost.
            let event = UserTyping {
                conversation_id,
                user_id: user,
                origin: origin(),
            };
            state.bus.publish_ephemeral(&event).await;
            Reply::None
        }
        ChatClientFrame::Ping => Reply::Now(encode(&ChatServerFrame::Pong)),
        ChatClientFrame::Unknown => refuse(ErrorCode::InvalidInput, "unknown frame type", None),
    }
}

fn origin_of(state: &AppState, peer: &Peer) -> Origin {
    Origin {
        instance: state.instance.to_string(),
        socket: peer.socket,
    }
}

/// Records an event that gets no answer unless it cannot be recorded.
async fn record<E: EventData>(state: &AppState, event: &E) -> Reply {
    match state.recorder.record(event).await {
        Ok(safe) => Reply::Later(Box::pin(async move { safe.await.err().map(|e| internal(e, None)) })),
        Err(e) => Reply::Now(internal(e, None)),
    }
}

/// What a frame that did not parse is told: serde's account, cut short (it quotes what it could
/// not take, which may be most of the frame).
fn malformed(e: &serde_json::Error) -> String {
    const MOST_CHARS: usize = 200;
    let text = e.to_string();
    match text.char_indices().nth(MOST_CHARS) {
        Some((end, _)) => format!("malformed frame: {}…", &text[..end]),
        None => format!("malformed frame: {text}"),
    }
}

/// The `clientId` of a `send` that did not parse, when that much of it is sound: its refusal
/// then names the message, which the client shows as failed instead of waiting on it.
fn client_id_of(text: &str) -> Option<ClientId> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Named {
        r#type: String,
        client_id: ClientId,
    }
    serde_json::from_str::<Named>(text)
        .ok()
        .filter(|named| named.r#type == "send")
        .map(|named| named.client_id)
}

fn refuse(code: ErrorCode, message: &str, client_id: Option<ClientId>) -> Reply {
    Reply::Now(error_frame(code, message, client_id))
}

fn internal(e: DbError, client_id: Option<ClientId>) -> Utf8Bytes {
    if e.is_unavailable() {
        tracing::warn!(error = %e, "chat frame failed: storage unavailable");
        return error_frame(
            ErrorCode::Unavailable,
            "the server cannot store anything right now (its storage is full or failing); try again later",
            client_id,
        );
    }
    tracing::error!(error = %e, "chat frame failed");
    error_frame(
        ErrorCode::Internal,
        "something went wrong on our side; try again",
        client_id,
    )
}

pub fn error_frame(code: ErrorCode, message: &str, client_id: Option<ClientId>) -> Utf8Bytes {
    encode(&ChatServerFrame::Error {
        code,
        message: message.into(),
        client_id,
    })
}

/// Serializes a frame once; the bytes are shared by every socket it goes to.
pub fn encode(frame: &ChatServerFrame) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(frame).expect("server frames serialize"))
}
