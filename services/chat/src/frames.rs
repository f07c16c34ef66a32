//! What each client frame does. The sender is always the socket's verified user.

use crate::AppState;
use axum::extract::ws::Utf8Bytes;
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_proto::error::ErrorCode;
use gochat_proto::events::{MessageDelivered, MessageRead, MessageSent, Typing};
use gochat_proto::frames::{ChatClientFrame, ChatServerFrame};
use gochat_proto::ids::ClientId;
use gochat_proto::limits::MAX_BODY_CHARS;

/// Applies one text frame; returns the reply for this socket, if any.
pub async fn handle(state: &AppState, user: &AuthUser, text: &str) -> Option<Utf8Bytes> {
    let frame = match serde_json::from_str::<ChatClientFrame>(text) {
        Ok(frame) => frame,
        Err(e) => return Some(error_frame("invalid_input", &format!("malformed frame: {e}"), None)),
    };
    match frame {
        ChatClientFrame::Send {
            client_id,
            to,
            conversation_id,
            body,
        } => Some(send(state, user, client_id, to, conversation_id, body).await),
        ChatClientFrame::Delivered { seq, .. } | ChatClientFrame::Read { seq, .. } if seq < 0 => {
            Some(error_frame("invalid_input", "seq must not be negative", None))
        }
        ChatClientFrame::Delivered { conversation_id, seq } => {
            let event = MessageDelivered {
                conversation_id,
                user_id: user.id,
                seq,
            };
            record(state, move |w| w.publish(&event).map(drop)).await
        }
        ChatClientFrame::Read { conversation_id, seq } => {
            let event = MessageRead {
                conversation_id,
                user_id: user.id,
                seq,
            };
            record(state, move |w| w.publish(&event).map(drop)).await
        }
        ChatClientFrame::Typing { conversation_id } => match state.members.of(conversation_id).await {
            Ok(Some(members)) if members.contains(&user.id) => {
                let event = Typing {
                    conversation_id,
                    user_id: user.id,
                    members: members.to_vec(),
                };
                // Ephemeral: if the bus is down the indicator is simply lost.
                state.bus.publish_ephemeral(&event).await;
                None
            }
            Ok(_) => Some(error_frame("not_found", "no such conversation", None)),
            Err(e) => Some(internal(e, None)),
        },
        ChatClientFrame::Ping => Some(encode(&ChatServerFrame::Pong)),
        ChatClientFrame::Unknown => Some(error_frame("invalid_input", "unknown frame type", None)),
    }
}

async fn send(
    state: &AppState,
    user: &AuthUser,
    client_id: ClientId,
    to: Option<gochat_proto::ids::UserId>,
    conversation_id: Option<gochat_proto::ids::ConversationId>,
    body: String,
) -> Utf8Bytes {
    let invalid = |message: &str| error_frame("invalid_input", message, Some(client_id));
    match (to, conversation_id) {
        (Some(_), Some(_)) | (None, None) => return invalid("give either `to` or `conversationId`"),
        (Some(to), None) if to == user.id => return invalid("you cannot message yourself"),
        _ => {}
    }
    if body.trim().is_empty() {
        return invalid("the message is empty");
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return invalid("the message is longer than 4000 characters");
    }
    let event = MessageSent {
        sender_id: user.id,
        sender_username: user.username.clone(),
        client_id,
        to,
        conversation_id,
        body,
        sent_at: chrono::Utc::now(),
    };
    // Committed to the outbox before `accepted`: from here on the message cannot be lost.
    match state
        .db
        .write(move |w| w.publish(&event).map(drop).map_err(DbError::from))
        .await
    {
        Ok(()) => encode(&ChatServerFrame::Accepted { client_id }),
        Err(e) => internal(e, Some(client_id)),
    }
}

async fn record<F>(state: &AppState, f: F) -> Option<Utf8Bytes>
where
    F: FnOnce(&mut gochat_kit::db::Write<'_>) -> rusqlite::Result<()> + Send + 'static,
{
    match state.db.write(move |w| f(w).map_err(DbError::from)).await {
        Ok(()) => None,
        Err(e) => Some(internal(e, None)),
    }
}

fn internal(e: DbError, client_id: Option<ClientId>) -> Utf8Bytes {
    tracing::error!(error = %e, "chat frame failed");
    let frame = ChatServerFrame::Error {
        code: ErrorCode::Internal,
        message: "something went wrong on our side; try again".into(),
        client_id,
    };
    encode(&frame)
}

pub fn error_frame(code: &str, message: &str, client_id: Option<ClientId>) -> Utf8Bytes {
    let code = serde_json::from_value(serde_json::Value::String(code.into())).unwrap_or(ErrorCode::InvalidInput);
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
