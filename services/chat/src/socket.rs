//! `GET /ws/chat`.

use crate::AppState;
use axum::extract::State;
use axum::extract::ws::WebSocket;
use axum::http::HeaderMap;
use axum::response::Response;
use gochat_kit::auth::AuthUser;
use gochat_kit::ws::{self, Incoming};

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: ws::Upgrade) -> Response {
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

/// Who is on the other end of a socket, and which socket it is.
pub struct Peer {
    pub user: AuthUser,
    /// The socket's id in the hub, named in the origin of what it sends.
    pub socket: u64,
}

async fn run(socket: WebSocket, mut seat: ws::Seat, state: AppState) {
    let peer = Peer {
        user: seat.user.clone(),
        socket: seat.membership.id,
    };
    let (state_ref, peer_ref) = (&state, &peer);
    ws::serve(
        socket,
        &mut seat,
        state.idle,
        &state.shutdown,
        move |frame| async move {
            match frame {
                Incoming::Text(text) => crate::frames::handle(state_ref, peer_ref, &text).await,
                Incoming::Binary => crate::frames::not_text(),
            }
        },
    )
    .await;
    seat.membership.leave();
}
