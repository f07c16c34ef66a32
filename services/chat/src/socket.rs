//! `GET /ws/chat`: the upgrade and the life of one socket.
//!
//! One task per socket reads frames, writes what the hub queued for it, pings, and notices
//! idleness and shutdown, in one `select!`: no second task and no extra hop per frame.

use crate::AppState;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use gochat_kit::auth::AuthUser;
use gochat_kit::http::ApiError;
use gochat_proto::limits::MAX_FRAME_BYTES;
use std::time::Duration;
use tokio::time::Instant;

/// How often the server pings; the client's pongs (or any frame) keep the socket alive.
const PING_EVERY: Duration = Duration::from_secs(25);
/// Socket buffers: small, because most sockets are idle most of the time (tungstenite's
/// defaults are 128 KiB for reading alone). Frames are at most 16 KiB anyway.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 4 * 1024;

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if !state.origins.is_present_and_allowed(&headers) {
        return ApiError::Forbidden("sockets from this origin are not allowed").into_response();
    }
    let user = match state.sessions.authenticate(&headers) {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_FRAME_BYTES * 8)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| run(socket, user, state))
}

async fn run(mut socket: WebSocket, user: AuthUser, state: AppState) {
    let (id, mut queued) = state.hub.join(user.id, state.queue_len);
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_heard = Instant::now();
    let close = loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    if let Some(reply) = crate::frames::handle(&state, &user, &text).await
                        && socket.send(Message::Text(reply)).await.is_err()
                    {
                        break None;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let reply = crate::frames::error_frame("invalid_input", "send JSON in text frames", None);
                    if socket.send(Message::Text(reply)).await.is_err() {
                        break None;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_heard = Instant::now(),
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(e)) => break too_large(&e).then_some((close_code::SIZE, "frame too large")),
            },
            outgoing = queued.recv() => match outgoing {
                Some(frame) => if socket.send(Message::Text(frame)).await.is_err() { break None },
                None => break Some((close_code::POLICY, "not reading fast enough")),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > state.idle {
                    break Some((close_code::NORMAL, "idle"));
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
            _ = state.shutdown.cancelled() => break Some((close_code::AWAY, "server shutting down")),
        }
    };
    state.hub.leave(user.id, id);
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
}

/// Whether a read failed because the client sent more than the frame limit.
fn too_large(error: &axum::Error) -> bool {
    let text = error.to_string();
    text.contains("too long") || text.contains("too big") || text.contains("Space limit")
}
