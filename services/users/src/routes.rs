//! `GET /api/users`.

use crate::AppState;
use crate::directory::{self, Cursor};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, page_limit};
use gochat_proto::dto::UsersPage;
use serde::Deserialize;
use std::sync::Arc;

pub fn router(state: AppState) -> Router {
    Router::new().route("/api/users", get(list)).with_state(state)
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    _user: AuthUser,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Arc<UsersPage>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = page_limit(query.limit)?;
    if query.q.chars().count() > 64 {
        return Err(ApiError::invalid("q is too long"));
    }
    let after = match &query.cursor {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| ApiError::invalid("cursor is not one we gave out"))?),
        None => None,
    };
    let key = (query.q.to_lowercase(), limit, query.cursor.clone());
    let db = state.db.clone();
    let page = state
        .pages
        .try_get_with(key, async move {
            let (users, next) = db
                .read(move |c| directory::page(c, &query.q, limit, after.as_ref()).map_err(DbError::from))
                .await?;
            Ok::<_, DbError>(Arc::new(UsersPage {
                users,
                next_cursor: next.map(|c| c.encode()),
            }))
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(Json(page))
}
