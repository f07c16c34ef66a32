//! `GET /ws/notifications`.

use super::{Gateway, IDLE};
use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocket;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use gochat_kit::ws;

pub fn router(gateway: Gateway) -> Router {
    Router::new()
        .route("/ws/notifications", get(upgrade))
        .with_state(gateway)
}

async fn upgrade(State(gateway): State<Gateway>, headers: HeaderMap, upgrade: ws::Upgrade) -> Response {
    let (origins, sessions, hub, tasks) = (
        gateway.origins.clone(),
        gateway.sessions.clone(),
        gateway.hub.clone(),
        gateway.tasks.clone(),
    );
    ws::accept(
        upgrade,
        &headers,
        &origins,
        &sessions,
        &hub,
        &tasks,
        move |socket, user| run(socket, user, gateway),
    )
}

/// Server → client only; a client `{"type":"ping"}` is answered, anything else ignored.
async fn run(socket: WebSocket, mut seat: ws::Seat, gateway: Gateway) {
    let user = seat.user.id;
    if seat.membership.first {
        gateway.presence.holds(user, true);
    }
    ws::serve(socket, &mut seat, IDLE, &gateway.shutdown, |frame| async move {
        // Every frame but a ping is ignored here, a binary one too.
        let ping = matches!(&frame, ws::Incoming::Text(text)
            if serde_json::from_str::<serde_json::Value>(text.as_str()).is_ok_and(|frame| frame["type"] == "ping"));
        if ping {
            ws::Reply::Now(r#"{"type":"pong"}"#.into())
        } else {
            ws::Reply::None
        }
    })
    .await;
    if seat.membership.leave() {
        gateway.presence.holds(user, false);
    }
}
