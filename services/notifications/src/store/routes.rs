//! `GET /api/notifications`, `POST /api/notifications/read`.

use super::Store;
use super::table;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, page_limit};
use gochat_proto::dto::{MarkNotificationsRead, NotificationsPage};
use gochat_proto::events::NotificationsRead;
use gochat_proto::ids::NotificationId;
use serde::Deserialize;

pub fn router() -> Router<Store> {
    Router::new()
        .route("/api/notifications", get(list))
        .route("/api/notifications/read", post(mark_read))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    unread: bool,
    limit: Option<u32>,
    before: Option<String>,
}

async fn list(
    State(store): State<Store>,
    user: AuthUser,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<NotificationsPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = page_limit(query.limit)?;
    let before = match query.before.as_deref() {
        Some(id) => Some(
            id.parse::<NotificationId>()
                .map_err(|_| ApiError::invalid("before must be a notification id"))?,
        ),
        None => None,
    };
    let page = store
        .db
        .read(move |c| {
            let notifications = table::list(c, user.id, query.unread, limit, before)?;
            let unread_count = table::unread_count(c, user.id)?;
            let unread_mentions = table::open_mentions(c, user.id)?;
            Ok::<_, DbError>(NotificationsPage {
                notifications,
                unread_count,
                unread_mentions,
            })
        })
        .await?;
    Ok(Json(page))
}

async fn mark_read(
    State(store): State<Store>,
    user: AuthUser,
    Json(req): Json<MarkNotificationsRead>,
) -> Result<StatusCode, ApiError> {
    let ids = match (req.ids, req.all) {
        (Some(ids), None | Some(false)) if ids.len() <= 1000 => Some(ids),
        (None, Some(true)) => None,
        _ => {
            return Err(ApiError::invalid(
                r#"send {"ids":[...]} (at most 1000) or {"all":true}"#,
            ));
        }
    };
    store
        .db
        .write(move |w| {
            let read = table::read(w, user.id, ids.as_deref(), chrono::Utc::now())?;
            if !read.is_empty() {
                w.publish(&NotificationsRead {
                    user_id: user.id,
                    ids: read,
                })?;
            }
            Ok::<_, DbError>(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
