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
use std::sync::atomic::Ordering;

/// What a cached page costs in memory, roughly: its users and their names.
pub fn weight(page: &UsersPage) -> u32 {
    let users: usize = page.users.iter().map(|u| 96 + u.username.len()).sum();
    u32::try_from(users + 128).unwrap_or(u32::MAX)
}

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
    // Only first pages are cached (see `PageKey`), by what they hold.
    let key = query.cursor.is_none().then(|| (query.q.to_lowercase(), limit));
    let after = match &query.cursor {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| ApiError::invalid("cursor is not one we gave out"))?),
        None => None,
    };
    // Read before the page is: a change after this makes the page read now stale at once.
    let version = state.version.load(Ordering::Acquire);
    if let Some((_, page)) = key
        .as_ref()
        .and_then(|k| state.pages.get(k))
        .filter(|(v, _)| *v == version)
    {
        return Ok(Json(page));
    }
    let (users, next) = state
        .db
        .read(move |c| directory::page(c, &query.q, limit, after.as_ref()).map_err(DbError::from))
        .await?;
    let page = Arc::new(UsersPage {
        users,
        next_cursor: next.map(|c| c.encode()),
    });
    if let Some(key) = key {
        state.pages.insert(key, (version, page.clone()));
    }
    Ok(Json(page))
}
