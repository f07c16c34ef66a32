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
use gochat_proto::ids::UserId;
use gochat_proto::limits::MAX_PAGE;
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
    /// Comma-separated user ids: those users, whoever they are (a former member's name, say).
    ids: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    _user: AuthUser,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Arc<UsersPage>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    if let Some(ids) = &query.ids {
        if !query.q.is_empty() || query.cursor.is_some() || query.limit.is_some() {
            return Err(ApiError::invalid("ids cannot be combined with q, limit or cursor"));
        }
        let ids = parse_ids(ids)?;
        let users = state
            .db
            .read(move |c| directory::by_ids(c, &ids).map_err(DbError::from))
            .await?;
        return Ok(Json(Arc::new(UsersPage {
            users,
            next_cursor: None,
        })));
    }
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

/// `a,b,c`: at most a page of user ids (a repeated one counts once).
fn parse_ids(ids: &str) -> Result<Vec<UserId>, ApiError> {
    let ids: Vec<&str> = ids.split(',').collect();
    if ids.len() > MAX_PAGE as usize {
        return Err(ApiError::invalid(format!("at most {MAX_PAGE} ids")));
    }
    let mut parsed: Vec<UserId> = Vec::with_capacity(ids.len());
    for id in ids {
        let id = id
            .parse()
            .map_err(|_| ApiError::invalid("ids must be user ids, separated by commas"))?;
        if !parsed.contains(&id) {
            parsed.push(id);
        }
    }
    Ok(parsed)
}
