//! The HTTP routes of the messages service.
//!
//! A conversation that does not exist, is not the caller's, or whose id is not an id at all
//! answers 404 `not_found` alike, so nothing reveals whether it exists.
//!
//! - `conversations`: the list, opening a direct conversation, groups and their members.
//! - `history`: pages of messages by seq (cached) and of changes by change counter.
//! - `search`: full-text search over the caller's conversations.
//! - `blocks`: blocking and unblocking users.
//! - `attachments`: uploading files and getting them (and images' thumbnails) back.
//! - `serving`: a stored file as a response: its ETag, `If-None-Match` and byte ranges.

mod attachments;
mod blocks;
mod conversations;
mod history;
mod search;
mod serving;

use crate::AppState;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query};
use axum::routing::{delete, get, post};
use gochat_kit::http::ApiError;
use gochat_proto::ids::ConversationId;

/// Room for a multipart body's boundaries and part headers around the file itself.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    // The one route whose body may be larger than a JSON body: it streams the file to disk.
    let upload_limit = usize::try_from(state.attachments.max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(MULTIPART_OVERHEAD);
    Router::new()
        .route(
            "/api/conversations",
            get(conversations::list).post(conversations::create),
        )
        .route("/api/conversations/{id}", axum::routing::patch(conversations::rename))
        .route("/api/conversations/{id}/members", post(conversations::add_members))
        .route(
            "/api/conversations/{id}/members/{user}",
            delete(conversations::remove_member),
        )
        .route("/api/conversations/{id}/messages", get(history::messages))
        .route("/api/conversations/{id}/changes", get(history::changes))
        .route("/api/search", get(search::search))
        .route("/api/users/blocked", get(blocks::list))
        .route("/api/users/{id}/block", post(blocks::block).delete(blocks::unblock))
        .route(
            "/api/attachments",
            post(attachments::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/attachments/limits", get(attachments::limits))
        .route("/api/attachments/{id}", get(attachments::download))
        .route("/api/attachments/{id}/thumbnail", get(attachments::thumbnail))
        .with_state(state)
}

/// A conversation id from the path; one that is not an id is as unknown as any other.
fn conversation_id(id: &str) -> Result<ConversationId, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound)
}

/// The query string, or 400 with what is wrong in it.
fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| ApiError::invalid(e.body_text()))
}
