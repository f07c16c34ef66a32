//! What one user can make a chat server do: a bounded number of sockets, typing that is
//! coalesced and never costs anyone their socket, frames beyond the budget read later.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, Socket, closing, connect_ws, send_frame, start_all_in_one_with};
use futures_util::StreamExt;
use gochat_kit::testing::TestServer;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

async fn connect(server: &TestServer, cookie: &str) -> Socket {
    connect_ws(&server.url(""), "/ws/chat", Some(cookie), None)
        .await
        .unwrap()
}

/// Every frame that arrives until `until` accepts one, in order (the last included).
async fn frames_until(socket: &mut Socket, mut until: impl FnMut(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    tokio::time::timeout(WAIT, async {
        loop {
            match socket.next().await.expect("socket open").expect("frame") {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    let done = until(&frame);
                    seen.push(frame);
                    if done {
                        return;
                    }
                }
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    })
    .await
    .expect("the awaited frame in time");
    seen
}

#[tokio::test]
async fn a_user_holds_a_bounded_number_of_sockets_and_others_are_unaffected() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::fast_settings();
    settings.chat.chat_sockets_per_user = Some(4);
    let server = start_all_in_one_with(dir.path(), settings).await;
    let mut greedy = Client::new(&server);
    greedy.signup("greedy").await;
    let cookie = greedy.cookie.clone().unwrap();
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect(&server, &cookie).await);
    }
    let refused = connect_ws(&server.url(""), "/ws/chat", Some(&cookie), None).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("a fifth socket must be refused with 429, got {other:?}"),
    }
    let mut other = Client::new(&server);
    other.signup("other").await;
    let _theirs = connect(&server, other.cookie.as_deref().unwrap()).await;

    // Closing one frees its place.
    let mut closing = held.pop().unwrap();
    closing.close(None).await.unwrap();
    common::eventually(WAIT, || async {
        connect_ws(&server.url(""), "/ws/chat", Some(&cookie), None).await.ok()
    })
    .await;
}

/// A socket is closed after `GOCHAT_CHAT_IDLE_SECS` without a frame, pongs included; a client
/// that answers the server's pings is never idle, even with the setting below the 25 s between
/// pings (the server then pings more often).
#[tokio::test]
async fn a_client_that_answers_pings_is_never_idle_and_a_silent_one_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::fast_settings();
    settings.chat.chat_idle_secs = Some(2);
    let server = start_all_in_one_with(dir.path(), settings).await;
    let mut ann = Client::new(&server);
    ann.signup("ann").await;
    let mut socket = connect(&server, ann.cookie.as_deref().unwrap()).await;
    // Reading answers the pings (tungstenite pongs as it reads): open past twice the setting.
    let mut pings = 0;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Ping(_))) => pings += 1,
                other => panic!("only pings while the client answers them, got {other:?}"),
            }
        }
    })
    .await;
    assert!(pings >= 3, "pinged within the idle time: {pings} pings in 5 s");
    // Not read (so no pong) for longer than the setting: closed as idle. (The client may fail
    // writing the pong of a ping read before the close frame, to a connection already gone.)
    tokio::time::sleep(Duration::from_secs(4)).await;
    let closed = closing(&mut socket, WAIT).await;
    assert!(
        closed.is_none() || closed == Some((1000, "idle".to_owned())),
        "{closed:?}"
    );
}

#[tokio::test]
async fn a_typing_flood_reaches_the_peer_once_per_period_and_never_closes_their_socket() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_all_in_one(dir.path(), None, None).await;
    let mut mallory = Client::new(&server);
    mallory.signup("mallory").await;
    let mut victim = Client::new(&server);
    let victim_id = victim.signup("victim").await;
    let mut theirs = connect(&server, victim.cookie.as_deref().unwrap()).await;
    let mut flooder = connect(&server, mallory.cookie.as_deref().unwrap()).await;

    send_frame(
        &mut flooder,
        json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "to": victim_id, "body": "hi"}),
    )
    .await;
    let first = common::next_of(&mut theirs, "message", WAIT).await;
    let conversation = first["message"]["conversationId"].clone();
    let flood = std::time::Instant::now();
    for _ in 0..500 {
        send_frame(&mut flooder, json!({"type": "typing", "conversationId": conversation})).await;
    }
    let marker = uuid::Uuid::new_v4().to_string();
    send_frame(
        &mut flooder,
        json!({"type": "send", "clientId": marker, "conversationId": conversation, "body": "marker"}),
    )
    .await;
    let seen = frames_until(&mut theirs, |f| {
        f["type"] == "message" && f["message"]["clientId"] == marker
    })
    .await;
    let typing = seen.iter().filter(|f| f["type"] == "typing").count();
    // One per 2-second period the flood lasted (one, unless the machine is very slow).
    let periods = 1 + flood.elapsed().as_secs() as usize / 2;
    assert!(
        (1..=periods).contains(&typing),
        "500 typing frames reached the peer {typing} times"
    );
}

#[tokio::test]
async fn frames_beyond_the_budget_are_answered_later_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::fast_settings();
    settings.chat.chat_frames_per_second = Some(20);
    let server = start_all_in_one_with(dir.path(), settings).await;
    let mut user = Client::new(&server);
    user.signup("chatty").await;
    let mut socket = connect(&server, user.cookie.as_deref().unwrap()).await;
    for _ in 0..60 {
        send_frame(&mut socket, json!({"type": "ping"})).await;
    }
    let mut pongs = 0;
    let seen = frames_until(&mut socket, |f| {
        pongs += usize::from(f["type"] == "pong");
        pongs == 60
    })
    .await;
    assert!(seen.iter().all(|f| f["type"] == "pong"), "{seen:?}");
}

/// RFC 6455, 7.1.1: a server that closes a socket (here the session ended, 4001) waits for the
/// client's close before it drops the connection. A client still writing when the close frame
/// arrives (a pong, a frame of its own) must then read that close frame, not a reset.
#[tokio::test]
async fn a_socket_the_server_closes_waits_for_the_clients_close() {
    use futures_util::SinkExt;
    use tokio_tungstenite::MaybeTlsStream;
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_all_in_one(dir.path(), None, None).await;
    let mut ann = Client::new(&server);
    ann.signup("ann").await;
    let mut socket = connect(&server, ann.cookie.as_deref().unwrap()).await;
    assert_eq!(ann.post("/api/auth/signout", json!({})).await.0, 204);
    // The close frame has arrived (nothing else is sent this early), unread.
    let MaybeTlsStream::Plain(tcp) = socket.get_ref() else {
        panic!("plain TCP")
    };
    tokio::time::timeout(WAIT, tcp.readable()).await.unwrap().unwrap();
    // Frames crossing the close: discarded, but the connection holds (a server that had
    // dropped it would reset it at the first, and the second would fail).
    send_frame(&mut socket, json!({"type": "ping"})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    socket
        .send(Message::Close(None))
        .await
        .expect("the connection still open");
    assert_eq!(closing(&mut socket, WAIT).await.map(|(code, _)| code), Some(4001));
    // The handshake complete, the server ends the connection.
    assert!(tokio::time::timeout(WAIT, socket.next()).await.unwrap().is_none());
    server.stop().await.unwrap();
}
