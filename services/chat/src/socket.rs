//! `GET /ws/chat`.

use crate::AppState;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use gochat_kit::auth::AuthUser;
use gochat_kit::ws;

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    match ws::authorize(&state.origins, &state.sessions, &headers) {
        // Tracked, so a stopping process waits for its sockets to close with 1001.
        Ok(user) => {
            let tasks = state.tasks.clone();
            ws::with_limits(upgrade).on_upgrade(move |socket| tasks.track_future(run(socket, user, state)))
        }
        Err(refused) => refused.into_response(),
    }
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
