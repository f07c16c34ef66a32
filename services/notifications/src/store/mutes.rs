//! Muted conversations: a member who muted one gets no notifications of its messages (no bell,
//! no browser notification, no Web Push); the conversation itself still shows them unread.
//! A preference of its owner alone, so it lives with the notifications it silences.

use super::Store;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, Path};
use gochat_proto::dto::MutedConversations;
use gochat_proto::ids::{ConversationId, UserId};
use rusqlite::{Connection, params};
use std::collections::HashSet;

pub const MIGRATION: &str = "
CREATE TABLE mutes (
    conversation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- by conversation first: each stored message asks who muted its conversation
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX mutes_by_user ON mutes (user_id);
";

/// How many conversations one user may mute: more than anyone has, few enough that a script
/// muting random ids cannot grow the table without end.
pub const MAX_MUTED: usize = 1000;

pub fn router() -> Router<Store> {
    Router::new()
        .route("/api/notifications/muted", get(list))
        .route("/api/notifications/muted/{id}", put(mute).delete(unmute))
}

async fn list(State(store): State<Store>, me: AuthUser) -> Result<Json<MutedConversations>, ApiError> {
    let conversation_ids = store
        .db
        .read(move |c| muted_by(c, me.id).map_err(DbError::from))
        .await?;
    Ok(Json(MutedConversations { conversation_ids }))
}

async fn mute(State(store): State<Store>, me: AuthUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let conversation = conversation_id(&id)?;
    let stored = store
        .db
        .write(move |w| {
            if muted_by(w, me.id)?.len() >= MAX_MUTED {
                return Ok::<_, DbError>(false);
            }
            w.execute(
                "INSERT OR IGNORE INTO mutes (conversation_id, user_id) VALUES (?1, ?2)",
                params![conversation, me.id],
            )?;
            Ok(true)
        })
        .await?;
    if !stored {
        return Err(ApiError::invalid(format!("at most {MAX_MUTED} muted conversations")));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn unmute(State(store): State<Store>, me: AuthUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let conversation = conversation_id(&id)?;
    store
        .db
        .write(move |w| unmute_in(w, me.id, conversation).map_err(DbError::from))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Not an id: no such conversation (the notifications service does not know memberships, and
/// muting one you are not in silences nothing).
fn conversation_id(id: &str) -> Result<ConversationId, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound)
}

pub fn muted_by(c: &Connection, user: UserId) -> rusqlite::Result<Vec<ConversationId>> {
    c.prepare_cached("SELECT conversation_id FROM mutes WHERE user_id = ?1 ORDER BY conversation_id")?
        .query_map([user], |r| r.get(0))?
        .collect()
}

/// Who muted a conversation.
pub fn muting(c: &Connection, conversation: ConversationId) -> rusqlite::Result<HashSet<UserId>> {
    c.prepare_cached("SELECT user_id FROM mutes WHERE conversation_id = ?1")?
        .query_map([conversation], |r| r.get(0))?
        .collect()
}

pub fn unmute_in(c: &Connection, user: UserId, conversation: ConversationId) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM mutes WHERE conversation_id = ?1 AND user_id = ?2")?
        .execute(params![conversation, user])?;
    Ok(())
}
