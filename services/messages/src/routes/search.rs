//! `GET /api/search?q=&conversationId=&limit=&cursor=`.

use super::query;
use crate::AppState;
use crate::store::conversations;
use crate::store::search::{self, Cursor, Terms};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json};
use gochat_proto::dto::{SearchResult, SearchResults};
use gochat_proto::ids::ConversationId;
use gochat_proto::limits::{DEFAULT_SEARCH_PAGE, MAX_SEARCH_PAGE};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    q: Option<String>,
    conversation_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The caller's messages matching every word of `q`, newest first, in the conversations they
/// are a member of now (or in one of them).
pub async fn search(
    State(state): State<AppState>,
    me: AuthUser,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    let q = query(q)?;
    let terms = Terms::parse(q.q.as_deref().unwrap_or_default()).map_err(ApiError::invalid)?;
    let limit = q.limit.unwrap_or(DEFAULT_SEARCH_PAGE);
    if !(1..=MAX_SEARCH_PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1 to {MAX_SEARCH_PAGE}")));
    }
    let cursor = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(Cursor::decode(cursor).ok_or_else(not_given)?),
    };
    let conversation = match q.conversation_id.as_deref() {
        None | Some("") => None,
        Some(id) => Some(id.parse::<ConversationId>().map_err(|_| ApiError::NotFound)?),
    };
    let index = state.index.clone();
    let found = state
        .db
        .read(move |c| -> Result<Result<_, ApiError>, DbError> {
            search::attach(c, &index)?;
            if let Some(id) = conversation
                && conversations::role(c, id, me.id)?.is_none()
            {
                return Ok(Err(ApiError::NotFound));
            }
            let before = match &cursor {
                None => None,
                Some(cursor) => match cursor.num(c, me.id)? {
                    Some(num) => Some(num),
                    None => return Ok(Err(not_given())),
                },
            };
            Ok(Ok(search::search(c, me.id, &terms, conversation, before, limit)?))
        })
        .await??;
    Ok(Json(SearchResults {
        results: found
            .messages
            .into_iter()
            .map(|(message, snippet)| SearchResult { message, snippet })
            .collect(),
        next_cursor: found.next.map(|cursor| cursor.encode()),
    }))
}

/// The answer to a cursor this route did not give the caller (or not for what they are now).
fn not_given() -> ApiError {
    ApiError::invalid("cursor is not one this route gave")
}
