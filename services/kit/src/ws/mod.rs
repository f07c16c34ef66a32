//! WebSockets shared by the chat and notifications services: the upgrade checks, the limits,
//! the hub of open sockets, and the life of one socket.
//!
//! One task per socket reads frames, writes what the hub queued for it, pings, and notices
//! idleness and shutdown, in one `select!`: no second task and no extra hop per frame.
//!
//! Frames are handled in order; a frame whose answer takes time (a message waiting to be made
//! durable) is answered later, in order, while the next frames are already handled. At most
//! [`MAX_IN_FLIGHT`] answers may be outstanding: beyond that the socket is not read, so a fast
//! sender is slowed by TCP itself instead of queueing work in the server.

mod hub;

pub use hub::{Budget, Hub, Limits, Membership, Queued, TooManySockets};

use crate::auth::{AuthUser, SessionEnd, Sessions};
use crate::http::{ApiError, Origins};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseCode, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesOrdered;
use futures_util::{FutureExt, SinkExt, StreamExt};
use gochat_proto::limits::MAX_FRAME_BYTES;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often the server pings; the client's pongs (or any frame) keep the socket alive.
const PING_EVERY: Duration = Duration::from_secs(25);
/// Socket buffers: small, because most sockets are idle most of the time (tungstenite's
/// defaults are 128 KiB for reading alone). The read buffer is allocated with the socket and
/// kept for its life, and is also the most one read takes: 1 KiB holds a typical frame (a few
/// hundred bytes), and a larger one (up to [`MAX_FRAME_BYTES`]) takes a few reads. The write
/// buffer size is not an allocation but how much is gathered before writing.
const READ_BUFFER: usize = 1024;
const WRITE_BUFFER: usize = 4 * 1024;
/// The close code of a socket whose session ended (the client then asks who it is).
const SESSION_ENDED: u16 = 4001;
/// How long a socket the server closes waits for the client's close in reply (RFC 6455,
/// 7.1.1): a connection dropped right after the close frame is reset by whatever the client
/// still writes (a pong, a frame), and the client sees that instead of the close frame.
/// Bounded, because a client that stopped reading never replies; a stopping server waits no
/// longer than this for its sockets.
const CLOSE_REPLY_WAIT: Duration = Duration::from_secs(1);
/// Answers a socket may owe at once (see the module's documentation).
pub const MAX_IN_FLIGHT: usize = 32;
/// Most frames written to a socket with one flush.
const MAX_COALESCED: usize = 64;

/// A frame a client sent: the protocol's are text (JSON); a binary one is none of them, and the
/// service answers it as it answers a malformed frame.
pub enum Incoming {
    Text(Utf8Bytes),
    Binary,
}

/// How a frame is answered.
pub enum Reply {
    /// Not at all.
    None,
    /// At once.
    Now(Utf8Bytes),
    /// When the future resolves (if it resolves to a frame); answers go out in the order of
    /// the frames.
    Later(BoxFuture<'static, Option<Utf8Bytes>>),
}

/// An accepted socket: who it is, its place in the hub, and when its session ends.
pub struct Seat {
    pub user: AuthUser,
    pub membership: Membership,
    ended: BoxFuture<'static, SessionEnd>,
}

/// A socket upgrade as its route takes it: a request that is not one (no `Upgrade` header, a
/// WebSocket version other than 13) gets the JSON error every route answers, not axum's text.
pub type Upgrade = Result<WebSocketUpgrade, WebSocketUpgradeRejection>;

/// Answers a socket upgrade: 400 when it is not one, 403 without an allowed `Origin`, 401 without a valid, unrevoked
/// session cookie, 429 when the user already holds as many sockets as `hub` allows (all
/// checked before upgrading). Otherwise the socket joins `hub` before the upgrade is answered,
/// so nothing pushed once the client sees the socket open is missed; it is upgraded with
/// GoChat's frame limit and small buffers, and `serve` runs it, tracked by `tasks` so a
/// stopping process waits for its sockets to close with 1001.
pub fn accept<F, Fut>(
    upgrade: Upgrade,
    headers: &HeaderMap,
    origins: &Origins,
    sessions: &Sessions,
    hub: &Arc<Hub>,
    tasks: &TaskTracker,
    serve: F,
) -> Response
where
    F: FnOnce(WebSocket, Seat) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(not_one) => return ApiError::InvalidInput(not_one.body_text()).into_response(),
    };
    if !origins.is_present_and_allowed(headers) {
        return ApiError::Forbidden("sockets from this origin are not allowed").into_response();
    }
    let user = match sessions.authenticate(headers) {
        Ok(user) => user,
        Err(refused) => return refused.into_response(),
    };
    let Ok(membership) = hub.join(user.id) else {
        return ApiError::RateLimited {
            retry_after: Duration::from_secs(5),
        }
        .into_response();
    };
    let seat = Seat {
        ended: Box::pin(sessions.ended(&user)),
        user,
        membership,
    };
    let tasks = tasks.clone();
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_FRAME_BYTES * 8)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| tasks.track_future(serve(socket, seat)))
}

/// Serves one socket until it closes: `on_frame` handles each text or binary frame, in order,
/// and says how to answer it; frames the hub queued for it are written as they come; a socket silent
/// for `idle` is closed, and so is one whose session ends (signed out, account disabled,
/// expired: 4001). Frames beyond the user's budget are read later, not refused. The socket
/// stays in the hub until the caller leaves it.
pub async fn serve<F, Fut>(
    mut socket: WebSocket,
    seat: &mut Seat,
    idle: Duration,
    shutdown: &CancellationToken,
    mut on_frame: F,
) where
    F: FnMut(Incoming) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let Seat { membership, ended, .. } = seat;
    let budget = membership.budget.clone();
    let queued = &mut membership.queue;
    // Pinged three times within `idle`, at most every 25 s: a client that answers pings is never
    // idle, however short `idle` is set.
    let ping_every = PING_EVERY.min(idle / 3).max(Duration::from_millis(100));
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let mut last_heard = Instant::now();
    let mut owed: FuturesOrdered<BoxFuture<'static, Option<Utf8Bytes>>> = FuturesOrdered::new();
    // Set while the user's frame budget is spent: nothing is read until then.
    let mut paced: Option<Instant> = None;
    // Made once: built anew in the loop it would put a waiter in the token's `Notify`, which
    // every socket shares, and take it out again, at each of the socket's wake-ups.
    let stopping = shutdown.cancelled();
    tokio::pin!(stopping);
    let close = loop {
        tokio::select! {
            _ = tokio::time::sleep_until(paced.unwrap_or_else(Instant::now)), if paced.is_some() => paced = None,
            incoming = socket.recv(), if owed.len() < MAX_IN_FLIGHT && paced.is_none() => match incoming {
                Some(Ok(frame @ (Message::Text(_) | Message::Binary(_)))) => {
                    let frame = match frame {
                        Message::Text(text) => Incoming::Text(text),
                        _ => Incoming::Binary,
                    };
                    last_heard = Instant::now();
                    if let Err(until) = budget.take() {
                        paced = Some(until);
                    }
                    // Boxed: the handler's future is large (a message's whole path), and held
                    // inline it would be part of every socket's task, idle ones included.
                    let answer = match Box::pin(on_frame(frame)).await {
                        Reply::None => None,
                        // Behind answers still owed, an immediate one waits its turn.
                        Reply::Now(frame) if !owed.is_empty() => {
                            owed.push_back(Box::pin(std::future::ready(Some(frame))));
                            None
                        }
                        Reply::Now(frame) => Some(frame),
                        Reply::Later(pending) => {
                            owed.push_back(pending);
                            None
                        }
                    };
                    if let Some(frame) = answer
                        && socket.send(Message::Text(frame)).await.is_err()
                    {
                        break None;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_heard = Instant::now(),
                // The reply to the client's close is queued: flushed, the handshake completes
                // (dropped unsent, every tab that closed saw 1006).
                Some(Ok(Message::Close(_))) => {
                    // Bounded: a client that closes and stops reading must not hold the task.
                    let _ = tokio::time::timeout(PING_EVERY, socket.flush()).await;
                    break None;
                }
                None => break None,
                Some(Err(e)) => break read_failure(&e),
            },
            Some(answer) = owed.next(), if !owed.is_empty() => {
                if write_ready(&mut socket, answer, &mut owed, queued).await.is_err() {
                    break None;
                }
            }
            outgoing = queued.recv() => match outgoing {
                Some(frame) => if write_ready(&mut socket, Some(Utf8Bytes::clone(&frame)), &mut owed, queued).await.is_err() { break None },
                None => break Some((close_code::POLICY, "not reading fast enough")),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > idle {
                    break Some((close_code::NORMAL, "idle"));
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
            end = &mut *ended => break Some((SESSION_ENDED, end.reason())),
            _ = &mut stopping => break Some((close_code::AWAY, "server shutting down")),
        }
    };
    if let Some((code, reason)) = close {
        // The send is bounded too: a client that stopped reading can hold the close frame's write.
        let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, close_handshake(&mut socket, code, reason)).await;
    }
}

/// The server's side of the closing handshake: sends the close frame, then reads, discarding
/// what the client sent meanwhile, until the client's close answers it; dropping the socket
/// then closes the connection.
async fn close_handshake(socket: &mut WebSocket, code: CloseCode, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    while let Some(Ok(frame)) = socket.recv().await {
        if matches!(frame, Message::Close(_)) {
            break;
        }
    }
}

/// Writes `first` and whatever else is ready for the socket (answers owed in order, frames the
/// hub queued) with one flush: a burst of frames costs one write to the socket, not one each.
async fn write_ready(
    socket: &mut WebSocket,
    first: Option<Utf8Bytes>,
    owed: &mut FuturesOrdered<BoxFuture<'static, Option<Utf8Bytes>>>,
    queued: &mut tokio::sync::mpsc::Receiver<Queued>,
) -> Result<(), axum::Error> {
    let mut frames = 0;
    if let Some(frame) = first {
        socket.feed(Message::Text(frame)).await?;
        frames += 1;
    }
    while frames < MAX_COALESCED {
        let next = match owed.next().now_or_never() {
            Some(Some(answer)) => answer,
            _ => match queued.try_recv() {
                Ok(frame) => Some(Utf8Bytes::clone(&frame)),
                Err(_) => break,
            },
        };
        if let Some(frame) = next {
            socket.feed(Message::Text(frame)).await?;
            frames += 1;
        }
    }
    socket.flush().await
}

/// How a socket whose read failed is closed (RFC 6455, 7.4.1): more than the frame limit 1009,
/// text that is not UTF-8 1007, any other breach of the protocol 1002; a connection that broke
/// gets no close frame. axum hides tungstenite's error type: its text tells them apart.
fn read_failure(error: &axum::Error) -> Option<(CloseCode, &'static str)> {
    let text = error.to_string();
    if text.contains("without closing handshake") {
        None
    } else if text.contains("protocol error") {
        // A control frame over 125 bytes included: it is "too big" for the protocol, not the limit.
        Some((close_code::PROTOCOL, "protocol error"))
    } else if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
        Some((close_code::SIZE, "frame too large"))
    } else if text.contains("UTF-8") {
        Some((close_code::INVALID, "text that is not UTF-8"))
    } else {
        None
    }
}
