//! `/api/notifications` and `/ws/notifications`.

use crate::{AppState, IDLE, store};
use axum::Router;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, page_limit};
use gochat_kit::ws;
use gochat_proto::dto::{MarkNotificationsRead, NotificationsPage};
use gochat_proto::events::NotificationsRead;
use gochat_proto::ids::NotificationId;
use serde::Deserialize;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/notifications", get(list))
        .route("/api/notifications/read", post(mark_read))
        .route("/ws/notifications", get(upgrade))
        .with_state(state)
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    unread: bool,
    limit: Option<u32>,
    before: Option<String>,
}

async fn list(
    State(state): State<AppState>,
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
    let page = state
        .db
        .read(move |c| {
            let notifications = store::list(c, user.id, query.unread, limit, before)?;
            let unread_count = store::unread_count(c, user.id)?;
            Ok::<_, DbError>(NotificationsPage {
                notifications,
                unread_count,
            })
        })
        .await?;
    Ok(Json(page))
}

async fn mark_read(
    State(state): State<AppState>,
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
    state
        .db
        .write(move |w| {
            let read = store::read(w, user.id, ids.as_deref(), chrono::Utc::now())?;
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

async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    let (origins, sessions, hub, tasks) = (
        state.origins.clone(),
        state.sessions.clone(),
        state.hub.clone(),
        state.tasks.clone(),
    );
    ws::accept(
        upgrade,
        &headers,
        &origins,
        &sessions,
        &hub,
        &tasks,
        move |socket, user| run(socket, user, state),
    )
}

/// Server → client only; a client `{"type":"ping"}` is answered, anything else ignored.
async fn run(socket: WebSocket, mut seat: ws::Seat, state: AppState) {
    let user = seat.user.id;
    if seat.membership.first {
        state.presence.holds(user, true);
    }
    ws::serve(socket, &mut seat, IDLE, &state.shutdown, |text| async move {
        let ping = serde_json::from_str::<serde_json::Value>(text.as_str()).is_ok_and(|frame| frame["type"] == "ping");
        if ping {
            ws::Reply::Now(r#"{"type":"pong"}"#.into())
        } else {
            ws::Reply::None
        }
    })
    .await;
    if seat.membership.leave() {
        state.presence.holds(user, false);
    }
}
