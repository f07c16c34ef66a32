//! `GET /api/conversations/{id}/messages` (pages by seq) and
//! `GET /api/conversations/{id}/changes` (what changed since a change counter value).

use super::{conversation_id, query};
use crate::store::messages::{self, Window};
use crate::store::{conversations, timeline};
use crate::{AppState, CachedPage, PageKey};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, Path, page_limit};
use gochat_proto::dto::{ChangesPage, MessagesPage};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct HistoryQuery {
    before: Option<i64>,
    after: Option<i64>,
    limit: Option<u32>,
}

/// A page of history by `seq` cursor; with neither cursor, the newest page. Pages are cached as
/// the JSON they are sent as, keyed by what they hold (the cursor clamped to the history), and
/// served only while the conversation's last seq, change counter and timeline are what they were.
///
/// Membership, the conversation's head, the cache and (on a miss) the page are looked at in one
/// read on this worker ([`gochat_kit::db::Db::read_here`]): all of them are lookups by primary
/// key, and a trip to a reader thread would cost more than the queries.
pub async fn messages(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let conversation = conversation_id(&id)?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    // A seq is 1 or more: `before=1` is the empty start of a history and `after=0` all of it,
    // so a smaller cursor is a client's mistake, said as one rather than guessed at.
    if q.before.is_some_and(|before| before < 1) || q.after.is_some_and(|after| after < 0) {
        return Err(ApiError::invalid("before is 1 or more, after 0 or more"));
    }
    let pages = state.pages.clone();
    let found = state.db.read_here(move |c| -> Result<Found, ApiError> {
        // Membership and the current last seq: looked up every time, so a cached page is
        // never shown to a non-member nor served once the conversation moved on.
        let head = conversations::head_for(c, conversation, me.id)
            .map_err(DbError::from)?
            .ok_or(ApiError::NotFound)?;
        let window = match (q.before, q.after) {
            (None, None) => Window::Newest,
            // Every cursor beyond the history names the same page.
            (Some(before), None) => Window::Before(before.clamp(1, head.last_seq + 1)),
            (None, Some(after)) => Window::After(after.clamp(0, head.last_seq)),
            (Some(_), Some(_)) => return Err(ApiError::invalid("give before or after, not both")),
        };
        let last_event = timeline::last_event(c, conversation).map_err(DbError::from)?;
        let key = (conversation, window, limit);
        let fresh =
            |p: &CachedPage| (p.last_seq, p.last_change, p.last_event) == (head.last_seq, head.last_change, last_event);
        if let Some(cached) = pages.get(&key).filter(fresh) {
            return Ok(Found::Cached(cached.body));
        }
        let page = messages::page(c, &head, window, limit).map_err(DbError::from)?;
        Ok(Found::Read {
            page,
            key,
            head,
            last_event,
        })
    })?;
    let body = match found {
        Found::Cached(body) => body,
        Found::Read {
            page,
            key,
            head,
            last_event,
        } => {
            let body = bytes::Bytes::from(serde_json::to_vec(&page).map_err(anyhow::Error::from)?);
            state.pages.insert(
                key,
                CachedPage {
                    last_seq: head.last_seq,
                    last_change: head.last_change,
                    last_event,
                    body: body.clone(),
                },
            );
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// What the reader found for a page.
enum Found {
    /// The page as it was sent before, still fresh.
    Cached(bytes::Bytes),
    /// The page read now, to be sent and cached under `key`.
    Read {
        page: MessagesPage,
        key: PageKey,
        head: conversations::Head,
        last_event: i64,
    },
}

#[derive(Deserialize)]
pub struct ChangesQuery {
    since: Option<i64>,
    limit: Option<u32>,
}

/// The messages edited, deleted or reacted to after change `since` (default 0), in their
/// current state: how a tab that was away catches up on changes, as it catches up on new
/// messages by seq.
pub async fn changes(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    q: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<ChangesPage>, ApiError> {
    let conversation = conversation_id(&id)?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let since = q.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::invalid("since is 0 or more"));
    }
    // A range of an index, bounded by the limit: read here, as a page of history.
    let page = state
        .db
        .read_here(move |c| {
            let Some(head) = conversations::head_for(c, conversation, me.id)? else {
                return Ok(None);
            };
            messages::changes(c, &head, since, limit)
                .map(Some)
                .map_err(DbError::from)
        })?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(page))
}
