//! Chat over real WebSockets, all in one process: messages, receipts, duplicates, bad input.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, Socket, closing, connect_ws, send_frame, start_all_in_one};
use futures_util::SinkExt;
use gochat_kit::testing::TestServer;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const WAIT: Duration = Duration::from_secs(10);

async fn connect(server: &TestServer, cookie: Option<&str>, origin: Option<&str>) -> Result<Socket, WsError> {
    connect_ws(&server.url(""), "/ws/chat", cookie, origin).await
}

async fn send(socket: &mut Socket, frame: Value) {
    send_frame(socket, frame).await;
}

async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    common::next_of(socket, kind, WAIT).await
}

struct Person {
    id: String,
    http: Client,
}

async fn person(server: &TestServer, name: &str) -> Person {
    let mut http = Client::new(server);
    let id = http.signup(name).await;
    Person { id, http }
}

impl Person {
    fn cookie(&self) -> Option<&str> {
        self.http.cookie.as_deref()
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn two_users_chat_both_ways_and_every_tab_of_both_sees_each_message_in_seq_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut alice = person(&server, "alice").await;
    let bob = person(&server, "bob").await;
    let mut alice_tab1 = connect(&server, alice.cookie(), None).await.unwrap();
    let mut alice_tab2 = connect(&server, alice.cookie(), None).await.unwrap();
    let mut bob_tab = connect(&server, bob.cookie(), None).await.unwrap();

    // A sender in the frame is ignored: the sender is always the socket's verified user.
    let client_id = new_id();
    send(
        &mut alice_tab1,
        json!({"type": "send", "clientId": client_id, "to": bob.id, "body": "hi bob", "senderId": bob.id}),
    )
    .await;
    assert_eq!(next_of(&mut alice_tab1, "accepted").await["clientId"], client_id);
    let mut conversation = Value::Null;
    for tab in [&mut alice_tab1, &mut alice_tab2, &mut bob_tab] {
        let message = next_of(tab, "message").await["message"].clone();
        assert_eq!(
            (message["seq"].as_i64(), &message["body"], &message["clientId"]),
            (Some(1), &json!("hi bob"), &json!(client_id))
        );
        assert_eq!(message["senderId"], json!(alice.id));
        conversation = message["conversationId"].clone();
    }

    // Bob answers into the conversation; then a burst from both sides.
    send(
        &mut bob_tab,
        json!({"type": "send", "clientId": new_id(), "conversationId": conversation, "body": "hi alice"}),
    )
    .await;
    for i in 0..10 {
        let (tab, who) = if i % 2 == 0 {
            (&mut alice_tab1, "a")
        } else {
            (&mut bob_tab, "b")
        };
        send(
            tab,
            json!({"type": "send", "clientId": new_id(), "conversationId": conversation, "body": format!("{who}{i}")}),
        )
        .await;
    }
    let mut seqs = Vec::new();
    for _ in 0..11 {
        seqs.push(
            next_of(&mut alice_tab2, "message").await["message"]["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(seqs, (2..=12).collect::<Vec<_>>(), "gap-free and in order");

    let (status, page) = alice
        .http
        .get(&format!(
            "/api/conversations/{}/messages?limit=100",
            conversation.as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    let stored: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(stored, (1..=12).collect::<Vec<_>>());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_same_client_id_twice_even_after_a_reconnect_makes_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut alice = person(&server, "alice").await;
    let bob = person(&server, "bob").await;
    let client_id = new_id();
    let frame = json!({"type": "send", "clientId": client_id, "to": bob.id, "body": "once"});
    let mut tab = connect(&server, alice.cookie(), None).await.unwrap();
    send(&mut tab, frame.clone()).await;
    let first = next_of(&mut tab, "message").await["message"].clone();
    drop(tab);
    let mut tab = connect(&server, alice.cookie(), None).await.unwrap();
    send(&mut tab, frame).await;
    assert_eq!(next_of(&mut tab, "accepted").await["clientId"], client_id);
    // The resend is answered with the stored message, not a new one.
    assert_eq!(next_of(&mut tab, "message").await["message"], first);
    let (_, list) = alice.http.get("/api/conversations").await;
    assert_eq!(list["conversations"][0]["lastSeq"], 1);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn receipts_reach_the_sender_and_unread_counts_follow_the_read_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let alice = person(&server, "alice").await;
    let mut bob = person(&server, "bob").await;
    let mut alice_tab = connect(&server, alice.cookie(), None).await.unwrap();
    let mut bob_tab = connect(&server, bob.cookie(), None).await.unwrap();
    for body in ["one", "two", "three"] {
        send(
            &mut alice_tab,
            json!({"type": "send", "clientId": new_id(), "to": bob.id, "body": body}),
        )
        .await;
    }
    let mut conversation = Value::Null;
    for _ in 0..3 {
        conversation = next_of(&mut bob_tab, "message").await["message"]["conversationId"].clone();
    }
    let (_, list) = bob.http.get("/api/conversations").await;
    assert_eq!(
        (
            list["conversations"][0]["unread"].as_i64(),
            list["conversations"][0]["lastSeq"].as_i64()
        ),
        (Some(3), Some(3))
    );

    send(
        &mut bob_tab,
        json!({"type": "delivered", "conversationId": conversation, "seq": 3}),
    )
    .await;
    send(
        &mut bob_tab,
        json!({"type": "read", "conversationId": conversation, "seq": 2}),
    )
    .await;
    send(
        &mut bob_tab,
        json!({"type": "read", "conversationId": conversation, "seq": 1}),
    )
    .await; // lower: no change
    let receipt = loop {
        let receipt = next_of(&mut alice_tab, "receipt").await;
        if receipt["userId"] == json!(bob.id) && receipt["readSeq"] == 2 {
            break receipt;
        }
    };
    assert_eq!(receipt["deliveredSeq"], 3);
    let (_, list) = bob.http.get("/api/conversations").await;
    let c = &list["conversations"][0];
    assert_eq!(
        (c["unread"].as_i64(), c["myReadSeq"].as_i64()),
        (Some(1), Some(2)),
        "{c}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn nobody_reads_or_writes_a_conversation_they_are_not_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let alice = person(&server, "alice").await;
    let bob = person(&server, "bob").await;
    let mut eve = person(&server, "eve").await;
    let mut alice_tab = connect(&server, alice.cookie(), None).await.unwrap();
    send(
        &mut alice_tab,
        json!({"type": "send", "clientId": new_id(), "to": bob.id, "body": "private"}),
    )
    .await;
    let conversation = next_of(&mut alice_tab, "message").await["message"]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, body) = eve
        .http
        .get(&format!("/api/conversations/{conversation}/messages"))
        .await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    let mut eve_tab = connect(&server, eve.cookie(), None).await.unwrap();
    let client_id = new_id();
    send(
        &mut eve_tab,
        json!({"type": "send", "clientId": client_id, "conversationId": conversation, "body": "intrude"}),
    )
    .await;
    let error = next_of(&mut eve_tab, "error").await;
    assert_eq!(error["clientId"], client_id);
    send(&mut eve_tab, json!({"type": "typing", "conversationId": conversation})).await;
    assert_eq!(next_of(&mut eve_tab, "error").await["code"], "not_found");
    server.stop().await.unwrap();
}

/// In one process `accepted` waits for the commit in which the messages service took the
/// message, so it knows a refusal by then: a refused send gets the refusal alone.
#[tokio::test]
async fn a_send_refused_in_one_process_gets_the_refusal_alone() {
    let deployment = common::site::Deployment::all_in_one().await;
    let site = &deployment.site;
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    assert_eq!(
        ann.post(&format!("/api/users/{}/block", ben.id), json!({})).await.0,
        204
    );
    let mut tab = ben.tab(0).await;
    let refused = [
        (new_id(), json!({"to": ann.id}), "forbidden"),
        (new_id(), json!({"conversationId": new_id()}), "not_found"),
    ];
    for (client_id, to, _) in &refused {
        let mut frame = json!({"type": "send", "clientId": client_id, "body": "anyone?"});
        frame.as_object_mut().unwrap().extend(to.as_object().unwrap().clone());
        tab.send(frame).await;
    }
    let marker = new_id();
    tab.send(json!({"type": "send", "clientId": marker, "to": cat.id, "body": "marker"}))
        .await;
    // A socket's answers come in the order of its frames: an `accepted` of a refused send
    // would come before the marker's.
    tab.until("the marker's accepted", |f| {
        f["type"] == "accepted" && f["clientId"] == marker.as_str()
    })
    .await;
    for (client_id, _, code) in &refused {
        let refusal = |f: &Value| f["type"] == "error" && f["clientId"] == client_id.as_str();
        if !tab.log.iter().any(refusal) {
            tab.until("the refusal", refusal).await;
        }
        let error = tab.log.iter().find(|f| refusal(f)).unwrap();
        assert_eq!(error["code"], *code, "{error}");
    }
    let accepted: Vec<&Value> = tab.frames("accepted").iter().map(|f| &f["clientId"]).collect();
    assert_eq!(accepted, [&json!(marker)], "only the stored message is accepted");
}

#[tokio::test]
async fn bad_frames_get_an_error_and_the_socket_stays_open_but_oversize_frames_close_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let alice = person(&server, "alice").await;
    let bob = person(&server, "bob").await;
    let mut tab = connect(&server, alice.cookie(), None).await.unwrap();
    tab.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(next_of(&mut tab, "error").await["code"], "invalid_input");
    send(&mut tab, json!({"type": "dance"})).await;
    assert_eq!(next_of(&mut tab, "error").await["code"], "invalid_input");
    // The frames are JSON text: the same JSON in a binary frame is refused, not acted on.
    let ping = json!({"type": "ping"}).to_string();
    tab.send(Message::Binary(ping.into_bytes().into())).await.unwrap();
    let refused = next_of(&mut tab, "error").await;
    assert_eq!(refused["code"], "invalid_input", "{refused}");
    for bad in [
        json!({"type": "send", "clientId": new_id(), "to": bob.id, "body": "   "}),
        json!({"type": "send", "clientId": new_id(), "to": bob.id, "body": "x".repeat(4001)}),
        json!({"type": "send", "clientId": new_id(), "body": "nowhere"}),
        json!({"type": "send", "clientId": "not-a-uuid", "to": bob.id, "body": "hi"}),
    ] {
        send(&mut tab, bad.clone()).await;
        assert_eq!(next_of(&mut tab, "error").await["code"], "invalid_input", "{bad}");
    }
    // A send that does not parse but has a sound clientId is refused by it (the client shows
    // that message failed), in a few words however much of the frame serde quotes.
    for (field, value) in [("to", json!("not-a-uuid")), ("replyToSeq", json!("9".repeat(15_000)))] {
        let client_id = new_id();
        let mut bad = json!({"type": "send", "clientId": client_id, "to": bob.id, "body": "hi"});
        bad[field] = value;
        send(&mut tab, bad).await;
        let error = next_of(&mut tab, "error").await;
        assert_eq!(
            (&error["code"], &error["clientId"]),
            (&json!("invalid_input"), &json!(client_id)),
            "{field}"
        );
        assert!(
            error["message"].as_str().unwrap().chars().count() < 300,
            "{field}: {error}"
        );
    }
    send(&mut tab, json!({"type": "ping", "extra": "ignored"})).await;
    next_of(&mut tab, "pong").await;

    let huge = json!({"type": "send", "clientId": new_id(), "to": bob.id, "body": "y".repeat(20_000)});
    let _ = tab.send(Message::Text(huge.to_string().into())).await;
    assert_eq!(closing(&mut tab, WAIT).await.map(|(code, _)| code), Some(1009));
    server.stop().await.unwrap();
}

/// The closing handshake of RFC 6455: a tab that closes is answered with a close frame (a
/// browser sees a clean close, not 1006), and a frame that breaks the protocol closes the
/// socket with the code for it: text that is not UTF-8 1007, a reserved opcode or a control
/// frame over 125 bytes 1002.
#[tokio::test]
async fn a_close_is_answered_and_broken_frames_close_with_their_code() {
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let alice = person(&server, "alice").await;
    let mut tab = connect(&server, alice.cookie(), None).await.unwrap();
    let bye = CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    };
    tab.send(Message::Close(Some(bye))).await.unwrap();
    assert_eq!(closing(&mut tab, WAIT).await.map(|(code, _)| code), Some(1000));

    let text = |payload: &[u8]| Frame::message(payload.to_vec(), OpCode::Data(Data::Text), true);
    let broken = [
        (text(b"{\"type\":\"\xff\xfe\"}"), 1007),
        (
            Frame::message(b"{}".to_vec(), OpCode::Data(Data::Reserved(3)), true),
            1002,
        ),
        (Frame::ping(vec![b'p'; 126]), 1002),
    ];
    for (frame, code) in broken {
        let mut tab = connect(&server, alice.cookie(), None).await.unwrap();
        let opcode = frame.header().opcode;
        tab.send(Message::Frame(frame)).await.unwrap();
        let closed = closing(&mut tab, WAIT).await;
        assert_eq!(closed.as_ref().map(|(c, _)| *c), Some(code), "{opcode:?}: {closed:?}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn upgrades_need_an_allowed_origin_and_a_valid_unrevoked_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut alice = person(&server, "alice").await;
    let status = |r: Result<Socket, WsError>| match r {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => 101,
    };
    assert_eq!(
        status(connect(&server, alice.cookie(), Some("https://evil.example")).await),
        403
    );
    assert_eq!(
        status(connect(&server, alice.cookie(), Some("")).await),
        403,
        "no Origin at all"
    );
    assert_eq!(status(connect(&server, None, None).await), 401);
    assert_eq!(status(connect(&server, Some("forged.token.here"), None).await), 401);
    assert_eq!(status(connect(&server, alice.cookie(), None).await), 101);

    let token = alice.http.cookie.clone().unwrap();
    assert_eq!(alice.http.post("/api/auth/signout", json!({})).await.0, 204);
    common::eventually(WAIT, || {
        let server = &server;
        let token = token.clone();
        async move { (status(connect(server, Some(&token), None).await) == 401).then_some(()) }
    })
    .await;
    server.stop().await.unwrap();
}

/// The messages database fills up (capped at its size, which SQLite answers exactly as a full
/// disk): a message sent meanwhile is neither accepted nor delivered, and nothing is refused
/// or dead-lettered; once there is room again it is stored, accepted and delivered without
/// anyone's help. (That a full disk never dead-letters however long it lasts is the kit's
/// unit tests', on a paused clock.)
#[tokio::test]
async fn a_message_sent_while_the_messages_database_is_full_arrives_once_there_is_room() {
    let Full {
        server,
        mut alice_tab,
        mut bob_tab,
        conversation,
        messages,
        _dir,
    } = a_conversation_whose_store_is_full().await;
    // A long body needs pages of its own (overflow pages): it cannot fit.
    let body = "full ".repeat(700);
    let client_id = new_id();
    send(
        &mut alice_tab,
        json!({"type": "send", "clientId": client_id, "conversationId": conversation, "body": body}),
    )
    .await;
    let accepted = tokio::time::timeout(Duration::from_secs(2), next_of(&mut alice_tab, "accepted"));
    assert!(accepted.await.is_err(), "not accepted while full");
    let delivered = tokio::time::timeout(Duration::from_millis(200), next_of(&mut bob_tab, "message"));
    assert!(delivered.await.is_err(), "not delivered while full");

    make_room(&messages).await;
    assert_eq!(next_of(&mut alice_tab, "accepted").await["clientId"], client_id);
    let message = next_of(&mut bob_tab, "message").await["message"].clone();
    assert_eq!((message["seq"].as_i64(), &message["body"]), (Some(2), &json!(body)));
    let dead: i64 = messages
        .read(|c| {
            c.query_row("SELECT count(*) FROM dead_letters", [], |r| r.get(0))
                .map_err(gochat_kit::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(dead, 0);
    server.stop().await.unwrap();
}

/// Backpressure end to end: while the messages database can store nothing, a sender flooding
/// its socket is slowed by TCP itself (chat stops reading a socket that is owed
/// `MAX_IN_FLIGHT` answers, so the flood stays in the sender's buffers instead of queueing in
/// the server); once there is room again every message is stored, accepted and delivered once
/// and in order, without anyone's help.
#[tokio::test]
async fn a_flood_of_sends_that_cannot_be_stored_is_slowed_and_loses_nothing() {
    use futures_util::StreamExt;
    // More than the kernel's socket buffers on both sides hold together (a few MiB).
    const FLOOD: usize = 1000;
    let Full {
        server,
        alice_tab,
        mut bob_tab,
        conversation,
        messages,
        _dir,
    } = a_conversation_whose_store_is_full().await;

    // Frames nearly as large as a frame may be: 4,000 characters of 4 bytes (one word).
    let body = "\u{20000}".repeat(4000);
    let client_ids: Vec<String> = (0..FLOOD).map(|_| new_id()).collect();
    let (mut alice_out, mut alice_in) = alice_tab.split();
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let flood = tokio::spawn({
        let (client_ids, written) = (client_ids.clone(), written.clone());
        async move {
            for client_id in client_ids {
                let frame =
                    json!({"type": "send", "clientId": client_id, "conversationId": conversation, "body": body});
                alice_out.send(Message::Text(frame.to_string().into())).await.unwrap();
                written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let slowed = written.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        slowed < FLOOD && !flood.is_finished(),
        "the sender waits while nothing can be stored ({slowed} of {FLOOD} frames written)"
    );

    // Bob reads as a tab does, or his socket would be closed as stuck.
    let received = tokio::spawn(async move {
        let mut seqs = Vec::new();
        while seqs.len() < FLOOD {
            seqs.push(
                next_of(&mut bob_tab, "message").await["message"]["seq"]
                    .as_i64()
                    .unwrap(),
            );
        }
        // And none written twice before it (a ping's answer is written at once, so this does not
        // wait for a late redelivery; the exact list of seqs above is what shows each once).
        send(&mut bob_tab, json!({"type": "ping"})).await;
        loop {
            let frame = next_of(&mut bob_tab, "").await;
            assert_ne!(frame["type"], "message", "delivered twice: {frame}");
            if frame["type"] == "pong" {
                return seqs;
            }
        }
    });
    make_room(&messages).await;
    let mut accepted = Vec::new();
    while accepted.len() < FLOOD {
        let frame = tokio::time::timeout(WAIT, alice_in.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let frame: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        match frame["type"].as_str() {
            Some("accepted") => accepted.push(frame["clientId"].as_str().unwrap().to_owned()),
            Some("error") => panic!("a send refused: {frame}"),
            _ => {}
        }
    }
    assert_eq!(accepted, client_ids, "every send accepted once, in order");
    flood.await.unwrap();
    let expected: Vec<i64> = (2..).take(FLOOD).collect();
    assert_eq!(
        received.await.unwrap(),
        expected,
        "delivered once each, in order, no gap"
    );
    server.stop().await.unwrap();
}

/// Alice and Bob, a tab each, a conversation with one message, and then the messages database
/// full.
struct Full {
    server: TestServer,
    alice_tab: Socket,
    bob_tab: Socket,
    conversation: Value,
    messages: gochat_kit::db::Db,
    _dir: tempfile::TempDir,
}

async fn a_conversation_whose_store_is_full() -> Full {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let alice = person(&server, "alice").await;
    let bob = person(&server, "bob").await;
    let mut alice_tab = connect(&server, alice.cookie(), None).await.unwrap();
    let mut bob_tab = connect(&server, bob.cookie(), None).await.unwrap();
    send(
        &mut alice_tab,
        json!({"type": "send", "clientId": new_id(), "to": bob.id, "body": "before"}),
    )
    .await;
    next_of(&mut alice_tab, "accepted").await;
    let conversation = next_of(&mut bob_tab, "message").await["message"]["conversationId"].clone();
    let messages = messages_db(&server);
    fill(&messages).await;
    Full {
        server,
        alice_tab,
        bob_tab,
        conversation,
        messages,
        _dir: dir,
    }
}

fn messages_db(server: &TestServer) -> gochat_kit::db::Db {
    server
        .runtime
        .databases()
        .into_iter()
        .find(|db| db.name() == "messages")
        .unwrap()
}

/// Caps the messages database at its size, which SQLite answers exactly as a full disk. Free
/// pages inside the file (the tables a migration dropped) would still take messages: the file
/// is compacted first.
async fn fill(messages: &gochat_kit::db::Db) {
    let vacuum = rusqlite::Connection::open(messages.path()).unwrap();
    vacuum.busy_timeout(Duration::from_secs(5)).unwrap();
    vacuum.execute_batch("VACUUM").unwrap();
    drop(vacuum);
    cap(messages, None).await;
}

/// Room again: the cap lifted.
async fn make_room(messages: &gochat_kit::db::Db) {
    cap(messages, Some(1 << 30)).await;
}

/// `PRAGMA max_page_count` set to `pages`, or to the pages the file has now.
async fn cap(messages: &gochat_kit::db::Db, pages: Option<i64>) {
    messages
        .write(move |w| {
            let pages = match pages {
                Some(pages) => pages,
                None => {
                    let free: i64 = w.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
                    assert_eq!(free, 0, "no free page left to fill");
                    w.query_row("PRAGMA page_count", [], |r| r.get(0))?
                }
            };
            w.pragma_update(None, "max_page_count", pages)?;
            Ok::<_, gochat_kit::db::DbError>(())
        })
        .await
        .unwrap();
}
