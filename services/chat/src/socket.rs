//! `GET /ws/chat`.

use crate::AppState;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use gochat_kit::auth::AuthUser;
use gochat_kit::ws;

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    let (origins, sessions, tasks) = (state.origins.clone(), state.sessions.clone(), state.tasks.clone());
    ws::accept(upgrade, &headers, &origins, &sessions, &tasks, move |socket, user| {
        run(socket, user, state)
    })
}

async fn run(socket: WebSocket, user: AuthUser, state: AppState) {
    let joined = state.hub.join(user.id, state.queue_len);
    let (state_ref, user_ref) = (&state, &user);
    ws::serve(
        socket,
        joined.queue,
        state.idle,
        &state.shutdown,
        move |text| async move { crate::frames::handle(state_ref, user_ref, &text).await },
    )
    .await;
    state.hub.leave(user.id, joined.id);
}
