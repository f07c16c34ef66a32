//! Notifications and presence, all in one process over the in-process bus.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;
mod scenarios;

use common::{Client, Socket, connect_ws, eventually, next_of, send_frame, signed_up, socket};
use gochat_kit::testing::TestServer;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// All in one, with presence timing short enough for a test: beats every second, an instance
/// silent for 2 s is dead.
async fn start(dir: &std::path::Path) -> TestServer {
    let mut settings = common::fast_settings();
    settings.users.presence_timeout_secs = Some(2);
    settings.notifications.presence_heartbeat_secs = Some(1);
    settings.notifications.presence_coalesce_ms = Some(50);
    TestServer::start(TestServer::settings(dir, None), None, |rt| gochat::app(rt, settings))
        .await
        .unwrap()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Closes a socket and waits until the server has let go of it: it answers the close only by
/// dropping the connection, after which it releases the socket without pausing.
async fn close(mut socket: Socket) {
    use futures_util::StreamExt;
    socket.close(None).await.unwrap();
    while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, socket.next()).await {}
}

/// `who` as seen in `viewer`'s user list.
async fn listed(viewer: &mut Client, who: &str) -> Value {
    let (_, body) = viewer.get("/api/users?limit=100").await;
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == who)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn an_offline_recipient_gets_every_message_once_in_order_with_one_notification_each() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    for i in 1..=20 {
        send_frame(
            &mut alice_chat,
            json!({"type": "send", "clientId": new_id(), "to": bob_id, "body": format!("m{i}")}),
        )
        .await;
    }
    let (mut accepted, mut stored) = (0, 0);
    while accepted < 20 || stored < 20 {
        let frame = next_of(&mut alice_chat, "", WAIT).await;
        match frame["type"].as_str() {
            Some("accepted") => accepted += 1,
            Some("message") => stored += 1,
            _ => {}
        }
    }

    // Bob comes back: the list says what he missed, history by seq gives it exactly once.
    let conversation = eventually(WAIT, || {
        let mut bob = Client {
            cookie: bob.cookie.clone(),
            ..Client::new(&server)
        };
        async move {
            let (_, list) = bob.get("/api/conversations").await;
            let c = list["conversations"][0].clone();
            (c["unread"] == 20).then_some(c)
        }
    })
    .await;
    let id = conversation["id"].as_str().unwrap();
    let (_, first) = bob
        .get(&format!("/api/conversations/{id}/messages?after=0&limit=15"))
        .await;
    let (_, rest) = bob
        .get(&format!("/api/conversations/{id}/messages?after=15&limit=15"))
        .await;
    assert_eq!(
        (first["hasMore"].as_bool(), rest["hasMore"].as_bool()),
        (Some(true), Some(false))
    );
    let bodies: Vec<String> = first["messages"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["messages"].as_array().unwrap())
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(bodies, (1..=20).map(|i| format!("m{i}")).collect::<Vec<_>>());

    let notes = eventually(WAIT, || {
        let mut bob = Client {
            cookie: bob.cookie.clone(),
            ..Client::new(&server)
        };
        async move {
            let (_, page) = bob.get("/api/notifications?limit=100").await;
            (page["unreadCount"] == 20).then_some(page)
        }
    })
    .await;
    let seqs: Vec<i64> = notes["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=20).rev().collect::<Vec<_>>(),
        "one per message, newest first"
    );
    assert_eq!(notes["notifications"][0]["from"]["username"], "alice");
    assert_eq!(notes["notifications"][0]["readAt"], Value::Null);

    // Reading the conversation up to 20 reads the notifications, and every tab is told.
    let mut bob_notes = socket(&server, "/ws/notifications", &bob).await;
    let mut bob_chat = socket(&server, "/ws/chat", &bob).await;
    send_frame(&mut bob_chat, json!({"type": "read", "conversationId": id, "seq": 20})).await;
    let read = next_of(&mut bob_notes, "notifications.read", WAIT).await;
    assert_eq!(read["ids"].as_array().unwrap().len(), 20);
    let (_, page) = bob.get("/api/notifications?unread=true").await;
    assert_eq!(
        (
            page["unreadCount"].as_i64(),
            page["notifications"].as_array().unwrap().len()
        ),
        (Some(0), 0)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn notifications_arrive_live_and_only_their_owner_can_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (_, mut eve) = signed_up(&server, "eve").await;
    let mut bob_notes = socket(&server, "/ws/notifications", &bob).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    send_frame(
        &mut alice_chat,
        json!({"type": "send", "clientId": new_id(), "to": bob_id, "body": "ping bob"}),
    )
    .await;
    let pushed = next_of(&mut bob_notes, "notification", WAIT).await["notification"].clone();
    assert_eq!((&pushed["preview"], &pushed["seq"]), (&json!("ping bob"), &json!(1)));

    let (_, evelist) = eve.get("/api/notifications").await;
    assert_eq!(evelist["notifications"], json!([]));
    assert_eq!(
        eve.post("/api/notifications/read", json!({"ids": [pushed["id"]]}))
            .await
            .0,
        204
    );
    assert_eq!(eve.post("/api/notifications/read", json!({"all": true})).await.0, 204);
    let (_, page) = bob.get("/api/notifications").await;
    assert_eq!(page["unreadCount"], 1, "eve changed nothing of bob's");

    for bad in [json!({}), json!({"ids": ["nope"]}), json!({"all": false})] {
        let (status, body) = bob.post("/api/notifications/read", bad.clone()).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_input")),
            "{bad}"
        );
    }
    assert_eq!(
        bob.post("/api/notifications/read", json!({"ids": [pushed["id"]]}))
            .await
            .0,
        204
    );
    assert_eq!(
        next_of(&mut bob_notes, "notifications.read", WAIT).await["ids"],
        json!([pushed["id"]])
    );
    let (status, _) = Client::new(&server).get("/api/notifications").await;
    assert_eq!(status, 401);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn presence_follows_the_last_open_tab_and_new_users_are_announced() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (_, mut alice) = signed_up(&server, "alice").await;
    let (_, bob) = signed_up(&server, "bob").await;
    let mut alice_notes = socket(&server, "/ws/notifications", &alice).await;

    let tab1 = socket(&server, "/ws/notifications", &bob).await;
    let tab2 = socket(&server, "/ws/notifications", &bob).await;
    let online = loop {
        let frame = next_of(&mut alice_notes, "presence", WAIT).await;
        if frame["username"] == "bob" {
            break frame;
        }
    };
    assert_eq!(online["online"], true);
    assert_eq!(listed(&mut alice, "bob").await["online"], true);

    close(tab1).await;
    // Still online with one tab left. Proven by a later presence change through the same path
    // (this instance's claims, the users service, the coalesced pushes): dan coming online
    // after the tab closed. Had bob gone offline, even for a moment until a heartbeat healed
    // it, his last-seen time would be set by then.
    let (_, dan) = signed_up(&server, "dan").await;
    let _dan_tab = socket(&server, "/ws/notifications", &dan).await;
    loop {
        let frame = next_of(&mut alice_notes, "presence", WAIT).await;
        assert!(frame["username"] != "bob", "bob's presence changed: {frame}");
        if frame["username"] == "dan" && frame["online"] == true {
            break;
        }
    }
    let still = listed(&mut alice, "bob").await;
    assert_eq!((&still["online"], &still["lastSeenAt"]), (&json!(true), &Value::Null));

    drop(tab2);
    let offline = loop {
        let frame = next_of(&mut alice_notes, "presence", WAIT).await;
        if frame["username"] == "bob" && frame["online"] == false {
            break frame;
        }
    };
    assert!(offline["lastSeenAt"].is_string(), "{offline}");
    let bob_listed = listed(&mut alice, "bob").await;
    assert_eq!(
        (bob_listed["online"].as_bool(), bob_listed["lastSeenAt"].is_string()),
        (Some(false), true)
    );

    let carol_id = Client::new(&server).signup("carol").await;
    // Dan's registration may be announced after his presence: skip it.
    loop {
        let registered = next_of(&mut alice_notes, "user.registered", WAIT).await;
        if registered["user"]["username"] != "dan" {
            assert_eq!(registered["user"], json!({"id": carol_id, "username": "carol"}));
            break;
        }
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn users_of_an_instance_that_stops_beating_go_offline_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (_, mut alice) = signed_up(&server, "alice").await;
    let (bob_id, _) = signed_up(&server, "bob").await;
    // Another notifications instance claims bob, then crashes: it never beats again.
    let claim = gochat_proto::events::UserOnline {
        user_id: bob_id.parse().unwrap(),
        instance: "crashed-node".into(),
        at: chrono::Utc::now(),
    };
    server.runtime.bus.publish_now(&claim).await.unwrap().await.unwrap();
    eventually(WAIT, || {
        let mut alice = Client {
            cookie: alice.cookie.clone(),
            ..Client::new(&server)
        };
        async move { (listed(&mut alice, "bob").await["online"] == true).then_some(()) }
    })
    .await;
    let gone = eventually(WAIT, || {
        let mut alice = Client {
            cookie: alice.cookie.clone(),
            ..Client::new(&server)
        };
        async move {
            let bob = listed(&mut alice, "bob").await;
            (bob["online"] == false).then_some(bob)
        }
    })
    .await;
    assert!(gone["lastSeenAt"].is_string());
    // This process's own instance keeps beating: alice, connected here, stays online.
    let _alice_tab = socket(&server, "/ws/notifications", &alice).await;
    eventually(WAIT, || {
        let mut alice = Client {
            cookie: alice.cookie.clone(),
            ..Client::new(&server)
        };
        async move { (listed(&mut alice, "alice").await["online"] == true).then_some(()) }
    })
    .await;
    // Longer than the timeout while alice stays connected: an instance that crashes after
    // alice's claim is swept, and a sweep that late would have swept this instance too had
    // it not kept beating. Alice was never offline, so she has no last-seen time.
    let (dave_id, _) = signed_up(&server, "dave").await;
    let claim = gochat_proto::events::UserOnline {
        user_id: dave_id.parse().unwrap(),
        instance: "crashed-later".into(),
        at: chrono::Utc::now(),
    };
    server.runtime.bus.publish_now(&claim).await.unwrap().await.unwrap();
    for online in [true, false] {
        eventually(WAIT, || {
            let mut alice = Client {
                cookie: alice.cookie.clone(),
                ..Client::new(&server)
            };
            async move { (listed(&mut alice, "dave").await["online"] == online).then_some(()) }
        })
        .await;
    }
    let still = listed(&mut alice, "alice").await;
    assert_eq!((&still["online"], &still["lastSeenAt"]), (&json!(true), &Value::Null));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn notification_sockets_refuse_foreign_origins_missing_and_revoked_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (_, mut alice) = signed_up(&server, "alice").await;
    let status = |r: Result<Socket, tokio_tungstenite::tungstenite::Error>| match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => 101,
    };
    let base = server.url("");
    let cookie = alice.cookie.clone();
    assert_eq!(
        status(
            connect_ws(
                &base,
                "/ws/notifications",
                cookie.as_deref(),
                Some("https://evil.example")
            )
            .await
        ),
        403
    );
    assert_eq!(status(connect_ws(&base, "/ws/notifications", None, None).await), 401);
    assert_eq!(
        status(connect_ws(&base, "/ws/notifications", cookie.as_deref(), None).await),
        101
    );
    assert_eq!(alice.post("/api/auth/signout", json!({})).await.0, 204);
    eventually(WAIT, || {
        let (base, cookie) = (base.clone(), cookie.clone());
        async move { (status(connect_ws(&base, "/ws/notifications", cookie.as_deref(), None).await) == 401).then_some(()) }
    })
    .await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn every_socket_gets_its_notifications_and_the_store_answers() {
    let deployment = common::site::Deployment::all_in_one().await;
    scenarios::notifications::every_gateway_pushes_and_the_store_answers(&deployment.site).await;
}

/// Muting a conversation silences its notifications (no bell, no socket frame) for the one who
/// muted it, until they unmute; their other conversations still notify.
#[tokio::test]
async fn a_muted_conversation_notifies_nothing_until_unmuted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (_, carol) = signed_up(&server, "carol").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (_, mut eve) = signed_up(&server, "eve").await;
    let mut bob_notes = socket(&server, "/ws/notifications", &bob).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    let mut carol_chat = socket(&server, "/ws/chat", &carol).await;
    async fn say(chat: &mut Socket, to: &str, body: &str) {
        send_frame(
            chat,
            json!({"type": "send", "clientId": new_id(), "to": to, "body": body}),
        )
        .await;
        next_of(chat, "message", WAIT).await;
    }

    say(&mut alice_chat, &bob_id, "before").await;
    let first = next_of(&mut bob_notes, "notification", WAIT).await["notification"].clone();
    let conversation = first["conversationId"].as_str().unwrap().to_owned();
    let muted = format!("/api/notifications/muted/{conversation}");
    for _ in 0..2 {
        assert_eq!(bob.request("PUT", &muted, None, HeaderMap::new()).await.0, 204);
    }
    assert_eq!(
        bob.get("/api/notifications/muted").await,
        (200, json!({"conversationIds": [conversation]}))
    );
    assert_eq!(
        eve.get("/api/notifications/muted").await.1,
        json!({"conversationIds": []})
    );

    // Alice's message is stored before carol's, and the store takes them in that order: the next
    // notification bob gets is carol's.
    say(&mut alice_chat, &bob_id, "while muted").await;
    say(&mut carol_chat, &bob_id, "from carol").await;
    let next = next_of(&mut bob_notes, "notification", WAIT).await;
    assert_eq!(next["notification"]["preview"], "from carol");
    let (_, page) = bob.get("/api/notifications").await;
    let previews: Vec<&str> = page["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["preview"].as_str().unwrap())
        .collect();
    assert_eq!(
        (previews, &page["unreadCount"]),
        (vec!["from carol", "before"], &json!(2))
    );

    for _ in 0..2 {
        assert_eq!(bob.request("DELETE", &muted, None, HeaderMap::new()).await.0, 204);
    }
    say(&mut alice_chat, &bob_id, "after").await;
    assert_eq!(
        next_of(&mut bob_notes, "notification", WAIT).await["notification"]["preview"],
        "after"
    );
    server.stop().await.unwrap();
}

/// A muted group still notifies the member its message names as `@username` (any case, a
/// trailing full stop aside), and only them: not a mention of someone else, an e-mail address
/// or a name in code.
#[tokio::test]
async fn a_mention_reaches_its_member_through_a_mute() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (_, mut alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (carol_id, carol) = signed_up(&server, "carol").await;
    let (status, created) = alice
        .post(
            "/api/conversations",
            json!({"title": "Trio", "memberIds": [bob_id, carol_id]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let group = created["conversation"]["id"].as_str().unwrap().to_owned();
    let muted = format!("/api/notifications/muted/{group}");
    assert_eq!(bob.request("PUT", &muted, None, HeaderMap::new()).await.0, 204);
    let mut bob_notes = socket(&server, "/ws/notifications", &bob).await;
    let mut carol_notes = socket(&server, "/ws/notifications", &carol).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    for body in [
        "hello all",
        "@carol look",
        "mail bob@example.com",
        "`@bob` in code",
        "@alice herself",
        "ask @Bob. please",
    ] {
        send_frame(
            &mut alice_chat,
            json!({"type": "send", "clientId": new_id(), "conversationId": group, "body": body}),
        )
        .await;
        next_of(&mut alice_chat, "message", WAIT).await;
    }
    // The store takes the messages in order: the first notification bob gets is the mention.
    let first = next_of(&mut bob_notes, "notification", WAIT).await;
    assert_eq!(first["notification"]["preview"], "ask @Bob. please");
    let (_, page) = bob.get("/api/notifications").await;
    assert_eq!(page["unreadCount"], 1, "{page}");
    // Carol, who muted nothing, is notified of every message, hers or not.
    for expected in ["hello all", "@carol look", "mail bob@example.com"] {
        let note = next_of(&mut carol_notes, "notification", WAIT).await;
        assert_eq!(note["notification"]["preview"], expected);
    }
    server.stop().await.unwrap();
}

/// `user`'s notifications page once `ready` holds for it: the store applies what a socket
/// sent a moment later.
async fn page_once(server: &TestServer, user: &Client, ready: impl Fn(&Value) -> bool) -> Value {
    let ready = &ready;
    eventually(WAIT, || {
        let mut user = Client {
            cookie: user.cookie.clone(),
            ..Client::new(server)
        };
        async move {
            let (_, page) = user.get("/api/notifications").await;
            ready(&page).then_some(page)
        }
    })
    .await
}

/// Alice, Bob and Carol signed up, and the group "Team" Alice made of them: Alice, Bob with his
/// id, Carol, and the group's id.
async fn team(server: &TestServer) -> (Client, (String, Client), Client, String) {
    let (_, mut alice) = signed_up(server, "alice").await;
    let (bob_id, bob) = signed_up(server, "bob").await;
    let (carol_id, carol) = signed_up(server, "carol").await;
    let (status, created) = alice
        .post(
            "/api/conversations",
            json!({"title": "Team", "memberIds": [bob_id, carol_id]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let group = created["conversation"]["id"].as_str().unwrap().to_owned();
    (alice, (bob_id, bob), carol, group)
}

/// A notification says whether its message mentions its member: true only for the member a
/// group's message names, false for the others and in a direct conversation (where nothing is a
/// mention). Every page lists the member's mentions until they read the group, dismissed in the
/// bell or not.
#[tokio::test]
async fn a_notification_says_whom_it_mentions() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (alice, (bob_id, mut bob), mut carol, group) = team(&server).await;
    let mut bob_notes = socket(&server, "/ws/notifications", &bob).await;
    let mut carol_notes = socket(&server, "/ws/notifications", &carol).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    for frame in [
        json!({"conversationId": group, "body": "@bob can you look?"}),
        json!({"to": bob_id, "body": "@bob in private"}),
    ] {
        let mut frame = frame;
        frame["type"] = json!("send");
        frame["clientId"] = json!(new_id());
        send_frame(&mut alice_chat, frame).await;
        next_of(&mut alice_chat, "message", WAIT).await;
    }

    let told = |note: &Value| (note["preview"].clone(), note["mentioned"].clone());
    let in_group = next_of(&mut bob_notes, "notification", WAIT).await["notification"].clone();
    assert_eq!(told(&in_group), (json!("@bob can you look?"), json!(true)));
    let direct = next_of(&mut bob_notes, "notification", WAIT).await["notification"].clone();
    assert_eq!(told(&direct), (json!("@bob in private"), json!(false)));
    let carols = next_of(&mut carol_notes, "notification", WAIT).await["notification"].clone();
    assert_eq!(told(&carols), (json!("@bob can you look?"), json!(false)));

    let (_, page) = bob.get("/api/notifications").await;
    let listed: Vec<(Value, Value)> = page["notifications"].as_array().unwrap().iter().map(told).collect();
    assert_eq!(
        listed,
        [
            (json!("@bob in private"), json!(false)),
            (json!("@bob can you look?"), json!(true))
        ]
    );
    assert_eq!(page["unreadMentions"], json!([in_group]));
    assert_eq!(carol.get("/api/notifications").await.1["unreadMentions"], json!([]));

    // Bob dismisses every notification in the bell: it is cleared, but he has not read the
    // group, so his mention is still listed (read now).
    assert_eq!(bob.post("/api/notifications/read", json!({"all": true})).await.0, 204);
    let read = next_of(&mut bob_notes, "notifications.read", WAIT).await;
    assert_eq!(read["ids"].as_array().map(Vec::len), Some(2));
    let (_, page) = bob.get("/api/notifications").await;
    let mentions = page["unreadMentions"].as_array().unwrap();
    assert_eq!(page["unreadCount"], json!(0));
    assert_eq!(mentions.len(), 1);
    assert_eq!(
        (&mentions[0]["id"], mentions[0]["readAt"].is_string()),
        (&in_group["id"], true)
    );

    // Bob reads the group: no page lists his mention any more.
    let mut bob_chat = socket(&server, "/ws/chat", &bob).await;
    send_frame(
        &mut bob_chat,
        json!({"type": "read", "conversationId": group, "seq": in_group["seq"]}),
    )
    .await;
    let page = page_once(&server, &bob, |page| page["unreadMentions"] == json!([])).await;
    assert_eq!(page["unreadCount"], json!(0));
    server.stop().await.unwrap();
}

/// An edit changes whom a message names, and its notifications follow: one that reached a
/// member only through the mention (they mute the group) goes with it, and their tabs hear it
/// as read; a member who does not mute keeps theirs, no longer a mention; a name written back in
/// makes it one again.
#[tokio::test]
async fn an_edit_that_takes_a_mention_out_takes_it_out_of_the_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (alice, (_, mut bob), mut carol, group) = team(&server).await;
    let muted = format!("/api/notifications/muted/{group}");
    assert_eq!(bob.request("PUT", &muted, None, HeaderMap::new()).await.0, 204);
    let mut bob_notes = socket(&server, "/ws/notifications", &bob).await;
    let mut carol_notes = socket(&server, "/ws/notifications", &carol).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    let sent = json!({"type": "send", "clientId": new_id(), "conversationId": group, "body": "@bob @carol look"});
    send_frame(&mut alice_chat, sent).await;
    let seq = next_of(&mut alice_chat, "message", WAIT).await["message"]["seq"].clone();
    let bobs = next_of(&mut bob_notes, "notification", WAIT).await["notification"].clone();
    let carols = next_of(&mut carol_notes, "notification", WAIT).await["notification"].clone();
    assert_eq!((&bobs["mentioned"], &carols["mentioned"]), (&json!(true), &json!(true)));

    let edit = |body: &str| json!({"type": "edit", "conversationId": group, "seq": seq, "body": body});
    send_frame(&mut alice_chat, edit("look")).await;
    // Bob muted the group: without the mention, the notification goes, read in his tabs.
    let read = next_of(&mut bob_notes, "notifications.read", WAIT).await;
    assert_eq!(read["ids"], json!([bobs["id"]]));
    let (_, page) = bob.get("/api/notifications").await;
    assert_eq!(
        (&page["notifications"], &page["unreadMentions"], &page["unreadCount"]),
        (&json!([]), &json!([]), &json!(0))
    );
    // Carol did not: hers stays, unread, no longer a mention.
    let (_, page) = carol.get("/api/notifications").await;
    let listed = &page["notifications"][0];
    assert_eq!(
        (
            &listed["preview"],
            &listed["mentioned"],
            &page["unreadMentions"],
            &page["unreadCount"]
        ),
        (&json!("look"), &json!(false), &json!([]), &json!(1))
    );

    send_frame(&mut alice_chat, edit("@carol look again")).await;
    let page = page_once(&server, &carol, |page| {
        page["unreadMentions"].as_array().map(Vec::len) == Some(1)
    })
    .await;
    assert_eq!(page["notifications"][0]["mentioned"], json!(true));
    // Bob's is not back: an edit does not notify (his mute holds for what was never a mention of him).
    assert_eq!(bob.get("/api/notifications").await.1["notifications"], json!([]));
    server.stop().await.unwrap();
}

/// A member removed from a group hears nothing more of it, its notifications included: an edit
/// after the removal changes the preview (and mention) of the members' notifications, not of
/// the one the removed member keeps.
#[tokio::test]
async fn an_edit_after_a_removal_does_not_reach_the_removed_members_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (mut alice, (_, bob), mut carol, group) = team(&server).await;
    let carol_id = carol.get("/api/auth/currentuser").await.1["currentUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    let sent = json!({"type": "send", "clientId": new_id(), "conversationId": group, "body": "before"});
    send_frame(&mut alice_chat, sent).await;
    let seq = next_of(&mut alice_chat, "message", WAIT).await["message"]["seq"].clone();
    let previews = |page: &Value| page["notifications"][0]["preview"].clone();
    page_once(&server, &carol, |page| previews(page) == json!("before")).await;

    let removal = format!("/api/conversations/{group}/members/{carol_id}");
    assert_eq!(alice.request("DELETE", &removal, None, HeaderMap::new()).await.0, 204);
    let edit = json!({"type": "edit", "conversationId": group, "seq": seq, "body": "after, @carol"});
    send_frame(&mut alice_chat, edit).await;
    // Bob's shows the edit; the store applies events in order, so Carol's was considered too.
    page_once(&server, &bob, |page| previews(page) == json!("after, @carol")).await;
    let (_, page) = carol.get("/api/notifications").await;
    let kept = &page["notifications"][0];
    assert_eq!(
        (&kept["preview"], &kept["mentioned"]),
        (&json!("before"), &json!(false))
    );
    server.stop().await.unwrap();
}

/// Bad mutes get a clear answer and store nothing: not an id, no session, a foreign origin, and
/// more conversations than anyone has.
#[tokio::test]
async fn bad_mutes_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (_, mut bob) = signed_up(&server, "bob").await;
    let id = || uuid::Uuid::now_v7().to_string();
    assert_eq!(
        bob.request("PUT", "/api/notifications/muted/nope", None, HeaderMap::new())
            .await
            .0,
        404
    );
    let path = format!("/api/notifications/muted/{}", id());
    assert_eq!(
        Client::new(&server)
            .request("PUT", &path, None, HeaderMap::new())
            .await
            .0,
        401
    );
    let mut foreign = HeaderMap::new();
    foreign.insert("origin", HeaderValue::from_static("https://evil.example"));
    assert_eq!(bob.request("PUT", &path, None, foreign).await.0, 403);
    assert_eq!(
        bob.get("/api/notifications/muted").await.1,
        json!({"conversationIds": []})
    );

    for _ in 0..1000 {
        assert_eq!(
            bob.request(
                "PUT",
                &format!("/api/notifications/muted/{}", id()),
                None,
                HeaderMap::new()
            )
            .await
            .0,
            204
        );
    }
    let (status, _, body) = bob.request("PUT", &path, None, HeaderMap::new()).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid_input")));
    let (_, list) = bob.get("/api/notifications/muted").await;
    assert_eq!(list["conversationIds"].as_array().unwrap().len(), 1000);
    server.stop().await.unwrap();
}
