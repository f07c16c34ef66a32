//! `POST/DELETE /api/users/{id}/block` and `GET /api/users/blocked`. Served by the messages
//! service, which enforces blocks on what it stores (the ingress routes these paths here).

use crate::AppState;
use crate::store::{blocks, users};
use axum::extract::State;
use axum::http::StatusCode;
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, Path};
use gochat_proto::dto::BlockedUsers;
use gochat_proto::ids::UserId;

fn user_id(id: &str, me: &AuthUser) -> Result<UserId, ApiError> {
    let id: UserId = id.parse().map_err(|_| ApiError::NotFound)?;
    if id == me.id {
        return Err(ApiError::invalid("you cannot block yourself"));
    }
    Ok(id)
}

pub async fn block(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let blocked = user_id(&id, &me)?;
    let known = state
        .db
        .write(move |w| {
            if users::find(w, blocked)?.is_none() {
                return Ok::<_, DbError>(false);
            }
            blocks::block(w, me.id, blocked, chrono::Utc::now())?;
            Ok(true)
        })
        .await?;
    if !known {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unblock(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let blocked = user_id(&id, &me)?;
    state
        .db
        .write(move |w| blocks::unblock(w, me.id, blocked).map_err(DbError::from))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list(State(state): State<AppState>, me: AuthUser) -> Result<Json<BlockedUsers>, ApiError> {
    let users = state
        .db
        .read(move |c| blocks::blocked_by(c, me.id).map_err(DbError::from))
        .await?;
    Ok(Json(BlockedUsers { users }))
}
