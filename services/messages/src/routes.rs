//! `GET/POST /api/conversations` and `GET /api/conversations/{id}/messages`.
//!
//! A conversation that does not exist, is not the caller's, or whose id is not an id at all
//! answers 404 `not_found` alike, so nothing reveals whether it exists.

use crate::store::messages::{self, Window};
use crate::store::{conversations, users};
use crate::{AppState, CachedPage};
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, page_limit};
use gochat_proto::dto::{ConversationResponse, ConversationsResponse, CreateConversationRequest, MessagesPage};
use gochat_proto::events::ConversationCreated;
use gochat_proto::ids::ConversationId;
use serde::Deserialize;
use std::sync::Arc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/conversations", get(list).post(create))
        .route("/api/conversations/{id}/messages", get(history))
        .with_state(state)
}

async fn list(State(state): State<AppState>, me: AuthUser) -> Result<Json<ConversationsResponse>, ApiError> {
    let conversations = state
        .db
        .read(move |c| conversations::list(c, me.id).map_err(DbError::from))
        .await?;
    Ok(Json(ConversationsResponse { conversations }))
}

/// Opens (or finds) the caller's direct conversation with `peerId`: 201 when created, 200 when
/// it existed.
async fn create(
    State(state): State<AppState>,
    me: AuthUser,
    Json(request): Json<CreateConversationRequest>,
) -> Result<(StatusCode, Json<ConversationResponse>), ApiError> {
    let peer = request.peer_id;
    if peer == me.id {
        return Err(ApiError::invalid("you cannot open a conversation with yourself"));
    }
    let opened = state
        .db
        .write(move |w| {
            if users::find(w, peer)?.is_none() {
                return Ok(None);
            }
            users::ensure(w, me.id, &me.username)?;
            let (head, created) = conversations::get_or_create_direct(w, me.id, peer, chrono::Utc::now())?;
            if created {
                w.publish(&ConversationCreated {
                    conversation_id: head.id,
                    members: head.members.to_vec(),
                })?;
            }
            let view = conversations::view(w, head.id, me.id)?;
            Ok::<_, DbError>(view.map(|conversation| (created, conversation)))
        })
        .await?;
    let (created, conversation) = opened.ok_or(ApiError::NotFound)?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ConversationResponse { conversation })))
}

#[derive(Deserialize)]
struct HistoryQuery {
    before: Option<i64>,
    after: Option<i64>,
    limit: Option<u32>,
}

/// A page of history by `seq` cursor; with neither cursor, the newest page.
async fn history(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Arc<MessagesPage>>, ApiError> {
    let conversation: ConversationId = id.parse().map_err(|_| ApiError::NotFound)?;
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = page_limit(query.limit)?;
    let window = match (query.before, query.after) {
        (None, None) => Window::Newest,
        (Some(before), None) => Window::Before(before),
        (None, Some(after)) => Window::After(after),
        (Some(_), Some(_)) => return Err(ApiError::invalid("give before or after, not both")),
    };
    // Membership and the current last seq: one primary-key lookup, every time, so a cached page
    // is never shown to a non-member nor served once a newer message exists.
    let head = state
        .db
        .read(move |c| conversations::head(c, conversation).map_err(DbError::from))
        .await?;
    let head = head.filter(|h| h.has_member(me.id)).ok_or(ApiError::NotFound)?;
    let key = (conversation, window, limit);
    if let Some(cached) = state.pages.get(&key).filter(|p| p.last_seq == head.last_seq) {
        return Ok(Json(cached.page));
    }
    let last_seq = head.last_seq;
    let page = state
        .db
        .read(move |c| messages::page(c, conversation, last_seq, window, limit).map_err(DbError::from))
        .await?;
    let page = Arc::new(page);
    state.pages.insert(
        key,
        CachedPage {
            last_seq,
            page: page.clone(),
        },
    );
    Ok(Json(page))
}
